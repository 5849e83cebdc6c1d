"""The ``graflow`` entry point of graflow-langchain."""

from __future__ import annotations


class LangchainPlugin:
    """pluggy plugin object for graflow-langchain (hook implementations are added as the plugin
    grows).
    """


plugin = LangchainPlugin()
