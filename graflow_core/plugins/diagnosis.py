"""A plugin's ``graflow doctor`` checks, imported only when doctor asks for them.

Plugin objects are created whenever graflow discovers entry points (the first workflow run of
every process), so their modules must stay light: a plugin class derives from
:class:`LazyDiagnosis` and names its checks function instead of importing it::

    class MyPlugin(LazyDiagnosis):
        diagnosis = "my_plugin.doctor:diagnose"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from graflow_core.plugins import hookimpl

if TYPE_CHECKING:
    from graflow_core.diagnostics import Check


class LazyDiagnosis:
    """Mixin implementing the ``diagnose`` hook by calling :attr:`diagnosis` (``"module:attr"``,
    a function returning ``list[Check]``), imported on the first call."""

    diagnosis: ClassVar[str] = ""

    @hookimpl
    def diagnose(self) -> list[Check]:
        """The checks of :attr:`diagnosis` (none when it is not set)."""
        if not self.diagnosis:
            return []
        from graflow_core.spec.references import import_ref

        return list(import_ref(self.diagnosis)())


__all__ = ["LazyDiagnosis"]
