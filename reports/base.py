"""The one interface every report format implements.

Formats sit behind an ABC (as in pip-audit) so the CLI, the atomic writer and the tests treat them
alike, and a new format (CSV, CycloneDX) is one new module rather than a change to the callers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from scanner.model import ScanRun


class ReportFormat(ABC):
    """Renders a finished scan into the bytes of one report file."""

    name: ClassVar[str]
    """What the user types after ``--format``."""
    suffix: ClassVar[str]
    """File extension, with the dot, used to pick a format from ``--output``."""
    media_type: ClassVar[str]

    @abstractmethod
    def render(self, run: ScanRun) -> bytes:
        """Return the whole document; raise rather than return a partial one."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
