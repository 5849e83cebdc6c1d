"""LangChain Runnables as graflow task types, and graflow workflows as Runnables."""
