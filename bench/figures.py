"""A measured figure, as printed by bench/run.py."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Figure:
    bench: str
    name: str
    value: float
    unit: str
    target: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)
