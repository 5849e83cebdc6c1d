"""Behaviour of ChannelFactory."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from graflow_core.channels.factory import ChannelFactory
from graflow_core.channels.memory_channel import MemoryChannel
from graflow_core.exceptions import ConfigError


@pytest.fixture(autouse=True)
def restore_backends() -> Iterator[None]:
    saved = dict(ChannelFactory._backends)
    yield
    ChannelFactory._backends.clear()
    ChannelFactory._backends.update(saved)


def test_memory_backend_built_in() -> None:
    ch = ChannelFactory.create_channel("memory", "session_1", host="ignored", port=1)
    assert isinstance(ch, MemoryChannel)
    assert ch.name == "session_1"
    assert ChannelFactory.is_backend_available("memory")
    assert "memory" in ChannelFactory.get_available_backends()


def test_unknown_backend_raises_config_error() -> None:
    with pytest.raises(ConfigError, match=r"Unsupported backend 'nope'\. Available backends: \["):
        ChannelFactory.create_channel("nope", "s")
    assert not ChannelFactory.is_backend_available("nope")


def test_register_backend() -> None:
    class Custom(MemoryChannel):
        def __init__(self, name: str, **kwargs: Any) -> None:
            super().__init__(name)
            self.kwargs = kwargs

    ChannelFactory.register_backend("custom", Custom)
    ch = ChannelFactory.create_channel("custom", "n", option=1)
    assert isinstance(ch, Custom)
    assert ch.kwargs == {"option": 1}
    assert "custom" in ChannelFactory.get_available_backends()
    assert ChannelFactory.is_backend_available("custom")


def test_register_backend_rejects_non_channel() -> None:
    with pytest.raises(TypeError, match="Channel class must extend Channel"):
        ChannelFactory.register_backend("bad", dict)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Channel class must extend Channel"):
        ChannelFactory.register_backend("bad", "memory")  # type: ignore[arg-type]


def test_redis_availability_matches_installation() -> None:
    redis_importable = importlib.util.find_spec("redis") is not None
    module_present = importlib.util.find_spec("graflow_core.channels.redis_channel") is not None
    available = ChannelFactory.is_backend_available("redis")
    assert available == (redis_importable and module_present)
    assert ("redis" in ChannelFactory.get_available_backends()) == available


def test_importing_factory_does_not_import_redis() -> None:
    code = (
        "import sys; import graflow_core.channels.factory as f; "
        "f.ChannelFactory.create_channel('memory', 'x'); "
        "assert 'redis' not in sys.modules, 'redis imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_package_lazy_exports() -> None:
    import graflow_core.channels as channels

    assert channels.MemoryChannel is MemoryChannel
    assert channels.ChannelFactory is ChannelFactory
    assert set(channels.__all__) <= set(dir(channels))
    with pytest.raises(AttributeError):
        _ = channels.DoesNotExist
