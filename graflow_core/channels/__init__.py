"""Channels: the key/value stores through which the tasks of a workflow share data.

The public classes are imported on first access, so ``import graflow_core.channels`` is cheap.
"""

from __future__ import annotations

from graflow_core._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from graflow_core.channels.base import Channel
    from graflow_core.channels.factory import ChannelFactory
    from graflow_core.channels.memory_channel import MemoryChannel
    from graflow_core.channels.typed import ChannelTypeRegistry, TypedChannel

__all__ = ["Channel", "ChannelFactory", "ChannelTypeRegistry", "MemoryChannel", "TypedChannel"]

_LAZY = {
    "Channel": "graflow_core.channels.base",
    "ChannelFactory": "graflow_core.channels.factory",
    "ChannelTypeRegistry": "graflow_core.channels.typed",
    "MemoryChannel": "graflow_core.channels.memory_channel",
    "TypedChannel": "graflow_core.channels.typed",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
