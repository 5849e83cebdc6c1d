"""The errors of graflow-migrate: every one is a :class:`~graflow_core.exceptions.GraflowError`."""

from __future__ import annotations

from graflow_core.exceptions import GraflowError


class MigrationError(GraflowError):
    """graflow-migrate could not convert a file (the message names the file and says why)."""


class InvalidSourceError(MigrationError):
    """The input is not valid Python: ``file:line:column: message``.

    Attributes:
        path: the file as given.
        line: 1-based line of the error (0 when unknown).
        column: 1-based column of the error (0 when unknown).
    """

    def __init__(self, path: str, line: int, column: int, message: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        super().__init__(
            f"{path}:{line}:{column}: not valid Python: {message}; fix the syntax error "
            "(the file must compile with 'python -m py_compile') and run graflow-migrate again"
        )
