"""Helpers shared by the checkpoint tests (importable by name: this directory is on
``sys.path``, as for tests/core's core_test_helpers)."""

from __future__ import annotations

import os


class Sentinel:
    """Unpickling this creates a directory: proof that bytes were unpickled."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))
