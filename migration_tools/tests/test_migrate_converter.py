"""Converter behaviour in detail: options, data flow, what is left as TODO and reported, and a
property test: generated Prefect flows compute the same after migration."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from graflow_migrate import InvalidSourceError, MigrationError, migrate_source
from graflow_migrate._options import translate_retries
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def convert(code: str, frontend: str = "prefect") -> tuple[str, Any]:
    result = migrate_source(textwrap.dedent(code), frontend, path="flow.py")
    compile(result.code, "out.py", "exec")
    return result.code, result.report


def run_module(code: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "migrated_under_test"}
    exec(compile(code, "migrated_under_test.py", "exec"), namespace)
    return namespace


# -- retries -----------------------------------------------------------------------------------


def test_retry_schedules() -> None:
    assert translate_retries("3", None).kwargs == [("max_retries", "3")]
    constant = translate_retries("2", [5.0])
    assert constant.kwargs[0][1] == (
        "RetryPolicy(max_retries=2, initial_interval=5, backoff_factor=1, max_interval=5)"
    )
    geometric = translate_retries("3", [1.0, 2.0, 4.0], retries_value=3)
    assert geometric.lossy is None
    assert "backoff_factor=2," in geometric.kwargs[0][1]
    odd = translate_retries("3", [1.0, 5.0, 30.0], retries_value=3)
    assert odd.lossy is not None and "not geometric" in odd.lossy
    exp = translate_retries("4", None, exponential_base=10.0, retries_value=4)
    assert "initial_interval=10, backoff_factor=2, max_interval=80" in exp.kwargs[0][1]
    assert translate_retries("1", [2.0], jitter=True).lossy is not None


def test_task_options_become_graflow_options() -> None:
    code, report = convert(
        """
        from prefect import flow, task
        from prefect.tasks import exponential_backoff

        @task(name="fetch-it", retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=2),
              timeout_seconds=9, tags=["a"])
        def fetch(url: str) -> str:
            return url

        @flow
        def f(url: str = "u"):
            return fetch(url)
        """
    )
    assert '@task(\n    id="fetch-it",' in code
    assert "initial_interval=2, backoff_factor=2, max_interval=8" in code
    assert "timeout=9" in code
    assert "prefect" not in code
    assert [f.construct for f in report.findings] == ["@task(tags=...)"]
    ns = run_module(code)
    assert ns["f"]("x") == "x"
    assert ns["fetch"].func("y") == "y"


# -- data flow -----------------------------------------------------------------------------------


def test_matching_names_give_plain_instances_and_others_small_tasks() -> None:
    code, _ = convert(
        """
        from prefect import flow, task

        @task
        def fetch(n: int) -> list[int]:
            return list(range(n))

        @task
        def total(fetch: list[int], bonus: int = 0) -> int:
            return sum(fetch) + bonus

        @task
        def double(value: int) -> int:
            return value * 2

        @flow
        def f(n: int = 4):
            rows = fetch(n)
            s = total(rows)
            return double(s) + n
        """
    )
    assert 'fetch_task = fetch(task_id="fetch")' in code
    # total's parameter is named after the task 'fetch': keyword resolution does it
    assert 'total_task = total(task_id="total")' in code
    # double's parameter 'value' is fed by 's': a small task reads the result
    assert "def double_task(" in code and "return double.func(s)" in code
    ns = run_module(code)
    assert ns["f"]() == 16 and ns["f"](n=3) == 9


def test_defaults_of_tasks_are_not_overridden_by_flow_parameters() -> None:
    code, _ = convert(
        """
        from prefect import flow, task

        @task
        def scale(x: int, factor: int = 10) -> int:
            return x * factor

        @flow
        def f(x: int = 2, factor: int = 3):
            return scale(x)
        """
    )
    assert run_module(code)["f"]() == 20  # Prefect uses the task's default, not the parameter


def test_submit_map_wait_for_and_result() -> None:
    code, report = convert(
        """
        from prefect import flow, task, unmapped

        @task
        def inc(x: int, by: int) -> int:
            return x + by

        @task
        def side() -> str:
            return "side"

        @task
        def gather(values: list[int], other: int) -> int:
            return sum(values) * 100 + other

        @flow
        def f(xs: list[int] = [1, 2, 3]):
            a = inc.submit(1, 1)
            b = side.submit(wait_for=[a])
            many = inc.map(xs, unmapped(10))
            return gather(many, a.result()), b.result()
        """
    )
    assert "ctx.next_task(parallel(*tasks))" in code
    ns = run_module(code)
    assert ns["f"]() == ((11 + 12 + 13) * 100 + 2, "side")
    assert ns["f"](xs=[5]) == (1502, "side")
    assert ns["f"](xs=[]) == (2, "side")
    assert any(f.construct == "inc per item" for f in report.findings)


def test_for_loop_and_list_comprehension_of_submits() -> None:
    code, _ = convert(
        """
        from prefect import flow, task

        SEEN = []

        @task
        def record(item: str) -> str:
            SEEN.append(item)
            return item.upper()

        @flow
        def f(items: list[str] = ["a", "b", "c"]):
            for item in items:
                record(item)
            ups = [record.submit(i) for i in items]
            return ups
        """
    )
    ns = run_module(code)
    assert ns["f"]() == ["A", "B", "C"]
    assert ns["SEEN"][:3] == ["a", "b", "c"]  # the loop keeps its order


def test_if_on_a_task_result_and_on_a_parameter() -> None:
    code, _ = convert(
        """
        from prefect import flow, task

        @task
        def check(n: int) -> bool:
            return n > 5

        @task
        def big(n: int) -> str:
            return f"big {n}"

        @task
        def small(n: int) -> str:
            return f"small {n}"

        @flow
        def f(n: int = 3, loud: bool = False):
            ok = check(n)
            if ok:
                label = big(n)
            elif loud:
                label = small(n * 100)
            else:
                label = small(n)
            return label
        """
    )
    ns = run_module(code)
    assert ns["f"]() == "small 3"
    assert ns["f"](n=9) == "big 9"
    assert ns["f"](loud=True) == "small 300"


# -- what is not converted ---------------------------------------------------------------------


def test_unconvertible_flow_stays_with_todo_and_prefect_import() -> None:
    code, report = convert(
        """
        from prefect import flow, task

        @task
        def step(i: int) -> int:
            return i

        @flow
        def f(n: int = 3):
            i = 0
            while i < n:
                i = step(i) + 1
            return i
        """
    )
    assert "# TODO(graflow-migrate): flow not converted: task calls inside a while" in code
    assert "@flow\ndef f(" in code
    assert (
        "from prefect import flow" in code and "# TODO(graflow-migrate): still uses prefect" in code
    )
    assert "from graflow_core import task" in code
    todos = [f for f in report.findings if f.severity == "todo"]
    assert {f.construct for f in todos} >= {"while statement with task calls", "@flow f"}
    assert all(f.line > 0 for f in todos)


def test_async_and_unknown_apis_are_reported() -> None:
    code, report = convert(
        """
        import prefect
        from prefect import flow, task

        @task
        async def fetch() -> int:
            return 1

        @task(cache_key_fn=lambda *a: "k", on_failure=[print])
        def plain(x: int) -> int:
            return x

        @flow
        def f():
            return plain.fn(2)

        if __name__ == "__main__":
            f.serve(name="nightly")
            print(prefect.__version__)
        """
    )
    constructs = {f.construct for f in report.findings}
    assert {
        "async def fetch",
        "@task(cache_key_fn=...)",
        "@task(on_failure=...)",
        "f.serve",
    } <= constructs
    assert "plain.func(2)" in code
    assert "# TODO(graflow-migrate): f.serve: Prefect flow/task API" in code


def test_logger_becomes_logging() -> None:
    code, _ = convert(
        """
        from prefect import flow, get_run_logger, task

        @task
        def t() -> int:
            get_run_logger().info("hi")
            return 1

        @flow
        def f():
            logger = get_run_logger()
            x = t()
            logger.info("got %s", x)
            return x
        """
    )
    assert "get_run_logger" not in code
    assert code.count("logging.getLogger(__name__)") == 2
    assert "import logging\n" in code
    assert run_module(code)["f"]() == 1


def test_comments_and_other_code_are_kept_byte_for_byte() -> None:
    source = textwrap.dedent(
        """
        # header comment
        import os  # why os
        from prefect import flow, task

        CONSTANT = {  # odd   formatting stays
            "a":1,
        }


        def helper( x ):   # not a task
            return x


        @task
        def t(x: int) -> int:
            # inside
            return helper( x )


        @flow
        def f(x: int = 1):
            return t(x)
        """
    )
    code, _ = convert(source)
    for fragment in (
        "# header comment",
        "import os  # why os",
        'CONSTANT = {  # odd   formatting stays\n    "a":1,\n}',
        "def helper( x ):   # not a task",
        "    # inside\n    return helper( x )",
    ):
        assert fragment in code


def test_invalid_python_raises_invalid_source_error() -> None:
    with pytest.raises(InvalidSourceError) as info:
        migrate_source("def f(:\n  pass\n", "prefect", path="bad.py")
    assert info.value.line == 1 and str(info.value).startswith("bad.py:1:")
    with pytest.raises(MigrationError, match="unknown front end"):
        migrate_source("x = 1\n", "luigi")


def test_airflow_unsupported_operator_becomes_a_todo_task() -> None:
    code, report = convert(
        """
        from datetime import datetime
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.providers.standard.operators.python import PythonOperator

        def hello() -> str:
            return "hi"

        with DAG("d", start_date=datetime(2024, 1, 1), schedule=None) as dag:
            a = PythonOperator(task_id="a", python_callable=hello, trigger_rule="all_done")
            b = BashOperator(task_id="b", bash_command="echo hi")
            a >> b
        """,
        "airflow",
    )
    assert "raise NotImplementedError(\"BashOperator 'b' was not migrated\")" in code
    constructs = {f.construct: f.severity for f in report.findings}
    assert constructs["BashOperator"] == "todo"
    assert constructs["PythonOperator(trigger_rule=...)"] == "todo"
    assert "airflow" not in code.split("def hello")[0]


def test_airflow_long_timeouts_and_retry_caps_keep_every_digit() -> None:
    code, _report = convert(
        """
        from datetime import datetime, timedelta
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.python import PythonOperator

        def hello() -> str:
            return "hi"

        with DAG("d", start_date=datetime(2024, 1, 1), schedule=None) as dag:
            a = PythonOperator(
                task_id="a",
                python_callable=hello,
                retries=2,
                retry_delay=timedelta(seconds=10),
                retry_exponential_backoff=True,
                max_retry_delay=timedelta(seconds=2345678),
                execution_timeout=timedelta(seconds=1234567),
            )
        """,
        "airflow",
    )
    assert "timeout=1234567" in code
    assert "max_interval=2345678" in code
    assert "e+06" not in code


# -- property: generated flows compute the same after migration -------------------------------

_STUB = """
class _Future:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def _resolve(value):
    if isinstance(value, list):
        return [_resolve(v) for v in value]
    return value.value if isinstance(value, _Future) else value


class _Task:
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args, **kwargs):
        return self.fn(*map(_resolve, args), **{k: _resolve(v) for k, v in kwargs.items()})

    def submit(self, *args, **kwargs):
        return _Future(self(*args, **kwargs))

    def map(self, items, *static):
        return [self.submit(item, *(s.value for s in static)) for item in _resolve(items)]


class unmapped:
    def __init__(self, value):
        self.value = _resolve(value)


def task(fn=None, **options):
    return _Task(fn) if fn is not None else _Task


def flow(fn=None, **options):
    return fn if fn is not None else (lambda f: f)
"""


@st.composite
def flows(draw: Any) -> str:
    arities = draw(st.lists(st.integers(1, 3), min_size=1, max_size=4))
    lines = ["from prefect import flow, task, unmapped", ""]
    for k, arity in enumerate(arities):
        params = ", ".join(f"p{j}" for j in range(arity))
        body = " + ".join(f"str(p{j})" for j in range(arity))
        lines += ["", "@task", f"def t{k}({params}):", f'    return "t{k}(" + {body} + ")"', ""]
    lines += ["", "@flow", "def f(x=1, y='y'):"]
    names: list[str] = []

    def value() -> str:
        choice = draw(st.integers(0, 3))
        if choice == 0 or (choice == 3 and not names):
            return repr(draw(st.integers(0, 9)))
        if choice == 1:
            return draw(st.sampled_from(["x", "y"]))
        return draw(st.sampled_from(names)) if names else "x"

    def call(k: int) -> str:
        positional = draw(st.integers(0, arities[k]))
        args = [
            v if j < positional else f"p{j}={v}"
            for j, v in enumerate(value() for _ in range(arities[k]))
        ]
        method = ".submit" if draw(st.booleans()) else ""
        return f"t{k}{method}({', '.join(args)})"

    for i in range(draw(st.integers(1, 6))):
        k = draw(st.integers(0, len(arities) - 1))
        kind = draw(st.sampled_from(["call", "call", "map", "if"]))
        if kind == "map":
            items = ", ".join(value() for _ in range(draw(st.integers(0, 3))))
            rest = ", ".join(f"unmapped({value()})" for _ in range(arities[k] - 1))
            lines.append(f"    v{i} = t{k}.map([{items}]{', ' if rest else ''}{rest})")
        elif kind == "if":
            other = draw(st.integers(0, len(arities) - 1))
            lines += [
                f"    if x > {draw(st.integers(0, 5))}:",
                f"        v{i} = {call(k)}",
                "    else:",
                f"        v{i} = {call(other)}",
            ]
        else:
            lines.append(f"    v{i} = {call(k)}")
        names.append(f"v{i}")
    lines.append(f"    return [{', '.join(names)}]")
    return "\n".join(lines) + "\n"


def _original(source: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(source.replace("from prefect import flow, task, unmapped", _STUB), namespace)
    return namespace["f"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows(), st.integers(0, 5), st.sampled_from(["a", "b"]))
def test_generated_flows_give_the_same_results(source: str, x: int, y: str) -> None:
    def plain(value: Any) -> Any:
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value.value if hasattr(value, "value") else value

    expected = plain(_original(source)(x=x, y=y))
    code, report = convert(source)
    assert report.todo_count == 0, report.to_text()
    assert run_module(code)["f"](x=x, y=y) == expected


def test_task_defined_inside_a_flow_is_a_todo() -> None:
    code, report = convert(
        """
        from prefect import flow, task

        @flow
        def f():
            @task
            def inner() -> int:
                return 1

            return inner()
        """
    )
    assert "def inner inside a flow" in {f.construct for f in report.findings}
    assert "@flow\ndef f():" in code


def test_airflow_taskflow_params_expand_and_unsupported_decorators() -> None:
    code, report = convert(
        """
        import pendulum
        from airflow.sdk import chain, dag, task

        @task
        def source(n: int) -> list[int]:
            return list(range(n))

        @dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
        def params_dag(n: int = 3, label: str = "x"):
            @task
            def double(x: int) -> int:
                return 2 * x

            @task.bash
            def shell() -> str:
                return "echo hi"

            @task
            def report(values: list[int], label: str) -> str:
                return f"{label}: {sum(values)}"

            nums = source(n)
            doubled = double.expand(x=nums)
            fixed = double.expand(x=[1, 2])
            out = report(doubled, label)
            chain(nums, fixed, out)

        params_dag()
        """,
        "airflow",
    )
    assert {f.construct: f.severity for f in report.findings}["@task.bash"] == "todo"
    assert "pendulum" not in code and "airflow" not in code.split("def source")[0]
    ns = run_module(code)
    assert ns["params_dag"]() == {
        "source": [0, 1, 2],
        "double": [0, 2, 4],
        "double_2": [2, 4],
        "report": "x: 6",
    }
    assert ns["params_dag"](n=2, label="y")["report"] == "y: 2"


def test_helper_function_defined_in_a_flow_is_built_once() -> None:
    code, report = convert(
        """
        from prefect import flow, task

        @task
        def parse(text: str) -> list[str]:
            return text.split(",")

        @flow
        def f(text: str = "a,b"):
            def clean(items):
                return [i.strip().upper() for i in items]

            items = parse(text)
            return clean(items)
        """
    )
    assert report.todo_count == 0
    assert run_module(code)["f"](text="x, y") == ["X", "Y"]


def test_tuple_unpacking_augmented_assignment_and_nested_calls() -> None:
    code, report = convert(
        """
        from prefect import flow, task

        @task
        def split(x: int) -> tuple[int, int]:
            return x // 2, x - x // 2

        @task
        def add(a: int, b: int) -> int:
            return a + b

        @flow
        def tricky(x: int = 7) -> dict:
            a, b = split(x)
            total = 0
            total += add(a, b)
            msg = f"sum is {add(a, 1)}"
            pair = (add(1, 2), add.submit(3, 4).result())
            return {"a": a, "b": b, "total": total, "msg": msg, "pair": pair}
        """
    )
    assert report.todo_count == 0
    ns = run_module(code)
    assert ns["tricky"]() == {"a": 3, "b": 4, "total": 7, "msg": "sum is 4", "pair": (3, 7)}
    assert ns["tricky"](x=10)["total"] == 10


def test_with_tags_is_dropped_and_try_is_a_todo() -> None:
    code, report = convert(
        """
        from prefect import flow, tags, task

        @task
        def one() -> int:
            return 1

        @flow
        def f():
            with tags("nightly"):
                x = one()
            return x + 1

        @flow
        def g():
            try:
                y = one()
            except ValueError:
                y = 0
            return y
        """
    )
    ns = run_module(code)
    assert ns["f"]() == 2
    found = {f.construct: f.severity for f in report.findings}
    assert found["with tags(...)"] == "info"
    assert found["try statement with task calls"] == "todo"
    assert "# TODO(graflow-migrate): flow not converted: task calls inside a try" in code


def test_builder_names_do_not_clash_with_other_flows() -> None:
    code, _ = convert(
        """
        from prefect import flow, task

        @task
        def one() -> int:
            return 1

        @flow
        def report() -> int:
            return one()

        @flow
        def build_report() -> int:
            return report() + 1
        """
    )
    assert "def build_report_workflow():" in code
    ns = run_module(code)
    assert ns["report"]() == 1 and ns["build_report"]() == 2


def test_waiting_on_mapped_futures_in_a_loop() -> None:
    code, report = convert(
        """
        from prefect import flow, task

        @task
        def sq(x: int) -> int:
            return x * x

        @flow
        def f(xs: list[int] = [1, 2]):
            futures = sq.map(xs)
            for future in futures:
                future.wait()
            return [future.result() for future in futures]
        """
    )
    assert report.todo_count == 0
    assert run_module(code)["f"](xs=[3, 4]) == [9, 16]


def test_airflow_dag_without_with_block_is_a_todo() -> None:
    code, report = convert(
        """
        from datetime import datetime
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.python import PythonOperator

        def hello() -> str:
            return "hi"

        dag = DAG("d", start_date=datetime(2024, 1, 1), schedule=None)
        a = PythonOperator(task_id="a", python_callable=hello, dag=dag)
        """,
        "airflow",
    )
    assert "DAG(...) assignment" in {f.construct for f in report.findings}
    assert "# TODO(graflow-migrate): a DAG built outside" in code
