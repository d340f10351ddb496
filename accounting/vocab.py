"""Shared vocabulary: sectors, Quzhou colours and carbon labels (stable codes used everywhere)."""

from __future__ import annotations

from enum import StrEnum


class Sector(StrEnum):
    """The six sectors of Quzhou's carbon-account platform."""

    INDUSTRY = "industry"
    ENERGY = "energy"
    """Energy producers (power and heat supply)."""
    BUILDING = "building"
    TRANSPORT = "transport"
    """Road transport firms."""
    AGRICULTURE = "agriculture"
    """Agriculture and forestry."""
    RESIDENT = "resident"


class Colour(StrEnum):
    """Quzhou's four-colour label, best first."""

    DARK_GREEN = "dark_green"
    LIGHT_GREEN = "light_green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def name_zh(self) -> str:
        """The Chinese name (深绿 / 浅绿 / 黄 / 红)."""
        return COLOUR_NAMES_ZH[self]

    @property
    def rank(self) -> int:
        """1 for dark green (best) to 4 for red (worst)."""
        return list(Colour).index(self) + 1


COLOUR_NAMES_ZH: dict[Colour, str] = {
    Colour.DARK_GREEN: "深绿",
    Colour.LIGHT_GREEN: "浅绿",
    Colour.YELLOW: "黄",
    Colour.RED: "红",
}


class CarbonLabel(StrEnum):
    """Zhejiang's absolute carbon level from intensity per 10k yuan value added."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


CARBON_EFFICIENCY_GRADES: tuple[int, ...] = (1, 2, 3, 4, 5)
"""Zhejiang carbon-efficiency grades, 1 (best) to 5 (worst)."""

QUALITY_TIERS: tuple[int, ...] = (1, 2, 3, 4, 5)
"""Data-quality tiers, 1 (best) to 5 (worst)."""
