"""What a command did: counts, notes and warnings, printable or as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Report:
    """The outcome of an import, derive or other workspace change."""

    title: str
    facts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready mapping, the facts at the top level."""
        return {"title": self.title, **self.facts, "notes": self.notes, "warnings": self.warnings}

    def lines(self) -> list[str]:
        """The report as text lines: the title, then indented notes and warnings."""
        out = [self.title]
        out += [f"  {note}" for note in self.notes]
        out += [f"  警告: {w}" for w in self.warnings]
        return out


def listing(items: list[str], limit: int = 5) -> str:
    """``a, b, c ほか12件`` — keeps one-line messages short but specific."""
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} ほか{len(items) - limit}件"
