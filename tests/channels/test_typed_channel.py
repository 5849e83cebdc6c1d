"""Behaviour of TypedChannel, ChannelTypeRegistry and the predefined schemas."""

from __future__ import annotations

import threading
from typing import Any, TypedDict

import pytest

from graflow_core.channels.base import Channel
from graflow_core.channels.memory_channel import MemoryChannel
from graflow_core.channels.typed import ChannelTypeRegistry, TypedChannel, _validate_typed_dict
from graflow_core.exceptions import ConfigError


class Point(TypedDict):
    x: int
    y: float
    label: str
    tags: list
    meta: dict
    flag: bool
    anything: Any
    items: list[int]


class Partial(TypedDict, total=False):
    a: str
    b: int


def point(**overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "x": 1,
        "y": 2.0,
        "label": "p",
        "tags": [],
        "meta": {},
        "flag": True,
        "anything": object(),
        "items": ["not", "checked"],
    }
    value.update(overrides)
    return value


@pytest.fixture
def base() -> MemoryChannel:
    return MemoryChannel("typed")


@pytest.fixture
def tc(base: MemoryChannel) -> TypedChannel[Point]:
    return TypedChannel(base, Point)


def test_wraps_channel(tc: TypedChannel[Point], base: MemoryChannel) -> None:
    assert isinstance(tc, Channel)
    assert tc.name == "typed"
    assert tc.message_type is Point


def test_rejects_non_typed_dict(base: MemoryChannel) -> None:
    with pytest.raises(ValueError, match="message_type must be a TypedDict"):
        TypedChannel(base, dict)
    with pytest.raises(ValueError, match="message_type must be a TypedDict"):
        TypedChannel(base, int)


def test_set_valid_and_get(tc: TypedChannel[Point], base: MemoryChannel) -> None:
    value = point()
    tc.set("p", value)
    assert tc.get("p") is value
    assert base.get("p") is value
    assert tc.exists("p")
    assert tc.keys() == ["p"]


@pytest.mark.parametrize(
    "bad, reason",
    [
        ({"x": 1}, "missing required key"),
        (point(extra=1), "unexpected key"),
        (point(x="1"), "key 'x' must be int, got str"),
        (point(y=1), "key 'y' must be float, got int"),
        (point(label=3), "key 'label' must be str"),
        (point(tags=()), "key 'tags' must be list"),
        (point(meta=[]), "key 'meta' must be dict"),
        (point(flag=1), "key 'flag' must be bool"),
        ("a string", "expected a dict, got str"),
        ([("x", 1)], "expected a dict, got list"),
    ],
)
def test_set_rejects_invalid(
    tc: TypedChannel[Point], base: MemoryChannel, bad: Any, reason: str
) -> None:
    with pytest.raises(TypeError, match="Value does not conform to Point") as info:
        tc.set("p", bad)
    assert reason in str(info.value)
    assert not base.exists("p")
    with pytest.raises(TypeError, match="Message does not conform to Point"):
        tc.send("p", bad)
    assert not base.exists("p")


def test_bool_counts_as_int_like_isinstance(tc: TypedChannel[Point]) -> None:
    tc.set("p", point(x=True))
    assert tc.get("p")["x"] is True


def test_non_basic_annotations_are_not_checked(tc: TypedChannel[Point]) -> None:
    tc.set("p", point(anything=None, items=["x"]))
    assert tc.get("p") is not None


def test_total_false_schema(base: MemoryChannel) -> None:
    tc = TypedChannel(base, Partial)
    tc.set("e", {})
    tc.set("a", {"a": "x"})
    assert tc.get("e") == {}
    with pytest.raises(TypeError):
        tc.set("bad", {"c": 1})
    with pytest.raises(TypeError):
        tc.set("bad", {"b": "not int"})


def test_get_returns_none_for_invalid_stored_values(
    tc: TypedChannel[Point], base: MemoryChannel
) -> None:
    base.set("wrong_shape", {"x": 1})
    base.set("not_dict", 5)
    assert tc.get("wrong_shape") is None
    assert tc.get("not_dict") is None
    assert tc.receive("wrong_shape") is None
    assert tc.get("missing") is None


def test_get_default_is_validated_too(tc: TypedChannel[Point]) -> None:
    assert tc.get("missing", {"not": "valid"}) is None
    default = point()
    assert tc.get("missing", default) is default
    assert tc.receive("missing", default) is default


def test_send_receive(tc: TypedChannel[Point]) -> None:
    msg: Point = point()  # type: ignore[assignment]
    tc.send("m", msg, ttl=100)
    assert tc.receive("m") is msg


def test_delete_clear_pass_through(tc: TypedChannel[Point], base: MemoryChannel) -> None:
    tc.set("p", point())
    base.set("raw", 1)
    assert tc.delete("p") is True
    assert tc.delete("p") is False
    tc.clear()
    assert base.keys() == []


def test_list_and_counter_ops_skip_validation(tc: TypedChannel[Point], base: MemoryChannel) -> None:
    assert tc.append("l", "anything") == 1
    assert tc.prepend("l", 0) == 2
    assert base.get("l") == [0, "anything"]
    assert tc.atomic_add("c", 2) == 2
    assert base.get("c") == 2


def test_ttl_passes_through(base: MemoryChannel) -> None:
    tc = TypedChannel(base, Partial)
    tc.set("p", {"a": "x"}, ttl=60)
    assert "p" in base.ttl_data


def test_lock_delegates(tc: TypedChannel[Point], base: MemoryChannel) -> None:
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with base.lock("k"):
            held.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert held.wait(5)
        with pytest.raises(TimeoutError), tc.lock("k", timeout=0.05):
            pass
    finally:
        release.set()
        t.join()
    with tc.lock("k", timeout=0.5):
        pass


def test_validate_helper() -> None:
    assert _validate_typed_dict(point(), Point)
    assert not _validate_typed_dict(point(), dict)
    assert not _validate_typed_dict(None, Point)


# -- registry and schemas ------------------------------------------------------------------


def test_registry_register_get_create(base: MemoryChannel) -> None:
    ChannelTypeRegistry.register("test_point", Point)
    assert ChannelTypeRegistry.get("test_point") is Point
    tc = ChannelTypeRegistry.create_channel(base, "test_point")
    assert isinstance(tc, TypedChannel)
    assert tc.message_type is Point


def test_registry_errors(base: MemoryChannel) -> None:
    with pytest.raises(ValueError, match="message_type must be a TypedDict"):
        ChannelTypeRegistry.register("bad", dict)
    assert ChannelTypeRegistry.get("never_registered") is None
    with pytest.raises(ConfigError, match="Message type 'never_registered' not registered"):
        ChannelTypeRegistry.create_channel(base, "never_registered")


def test_predefined_schemas(base: MemoryChannel) -> None:
    from graflow_core.channels import schemas

    expected = {
        "task_result": schemas.TaskResultMessage,
        "task_progress": schemas.TaskProgressMessage,
        "task_error": schemas.TaskErrorMessage,
        "workflow_state": schemas.WorkflowStateMessage,
        "data_transfer": schemas.DataTransferMessage,
        "cycle_notification": schemas.CycleNotificationMessage,
    }
    for name, cls in expected.items():
        assert ChannelTypeRegistry.get(name) is cls

    tc = ChannelTypeRegistry.create_channel(base, "task_result")
    tc.send("r", {"task_id": "t", "result": None, "timestamp": 1.0, "status": "ok"})
    with pytest.raises(TypeError):
        tc.send("r", {"task_id": "t", "result": None, "timestamp": 1, "status": "ok"})
    ws = ChannelTypeRegistry.create_channel(base, "workflow_state")
    ws.send(
        "w",
        {
            "workflow_id": "w",
            "state": "running",
            "current_task": "a",
            "completed_tasks": ["x"],
            "timestamp": 0.0,
        },
    )
    assert ws.receive("w") is not None
