"""Hand-written Dagster jobs for the from_dagster_job tests (importable by reference)."""

from dagster import Config, ConfigurableResource, In, Nothing, Out, Output, RetryPolicy, job, op


class Multiplier(ConfigurableResource):  # type: ignore[misc]
    factor: int = 3


class ScaleConfig(Config):  # type: ignore[misc]
    offset: int = 5


@op
def source() -> int:
    return 2


@op(out={"low": Out(), "high": Out()})
def split(source: int) -> tuple[int, int]:
    return source, source * 10


@op
def add_offset(config: ScaleConfig, low: int) -> int:
    return low + config.offset


@op(required_resource_keys={"multiplier"})
def scale(context, high: int) -> int:  # type: ignore[no-untyped-def]
    return high * context.resources.multiplier.factor


@op
def gather(first: int, second: int, rest: list[int]) -> dict[str, object]:
    return {"first": first, "second": second, "rest": sorted(rest)}


@op(ins={"after": In(Nothing)})
def cleanup() -> str:
    return "clean"


@job(resource_defs={"multiplier": Multiplier()})
def numbers_job() -> None:
    low, high = split(source())
    a = add_offset(low)
    b = scale(high)
    total = gather(a, b, [a, b])
    cleanup(after=total)


@op
def threshold() -> int:
    return 7


@op(out={"big": Out(is_required=False), "small": Out(is_required=False)})
def route(threshold: int):  # type: ignore[no-untyped-def]
    if threshold > 5:
        yield Output(threshold, "big")
    else:
        yield Output(threshold, "small")


@op
def handle_big(big: int) -> str:
    return f"big {big}"


@op
def handle_small(small: int) -> str:
    return f"small {small}"


@job
def branching_job() -> None:
    big, small = route(threshold())
    handle_big(big)
    handle_small(small)


@op
def greeting(name: str = "world") -> str:
    return f"hello {name}"


@op
def shout(greeting: str) -> str:
    return greeting.upper()


@job
def greeting_job() -> None:
    shout(greeting())


_ATTEMPTS: dict[str, int] = {}


@op(retry_policy=RetryPolicy(max_retries=2))
def flaky_op() -> int:
    key = "flaky"
    _ATTEMPTS[key] = _ATTEMPTS.get(key, 0) + 1
    if _ATTEMPTS[key] % 2 == 1:
        raise RuntimeError("first attempt fails")
    return 42


@job
def retry_job() -> None:
    flaky_op()
