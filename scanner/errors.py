"""User-facing errors: what went wrong and how to fix it, shown without a traceback (exit 2)."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix: bad input, missing privilege, unknown interface, ..."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"
