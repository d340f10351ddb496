"""Catalog errors: every problem names its file, product and field; all are raised together."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogIssue:
    """One problem in a product file."""

    file: str
    """The file, relative to the catalog directory."""
    product: str | None
    """``CODE vN`` of the product, or None for a problem with the file itself."""
    field: str
    """Dotted path of the field, e.g. ``grade_table.dark_green.limit_multiplier``."""
    message: str

    def __str__(self) -> str:
        where = f"product {self.product}: " if self.product else ""
        return f"{self.file}: {where}{self.field}: {self.message}"

    def as_dict(self) -> dict[str, str | None]:
        """The issue as a JSON-ready mapping."""
        return {
            "file": self.file,
            "product": self.product,
            "field": self.field,
            "message": self.message,
        }


class CatalogError(ValueError):
    """A product catalog was refused; ``issues`` lists every problem found."""

    def __init__(self, issues: Iterable[CatalogIssue], directory: str = "") -> None:
        self.issues = tuple(issues)
        self.directory = directory
        super().__init__(self._summary())

    def _summary(self) -> str:
        count = len(self.issues)
        where = f" {self.directory}" if self.directory else ""
        lines = [f"product catalog{where} is invalid ({count} error{'s' * (count != 1)}):"]
        lines += [f"  {issue}" for issue in self.issues]
        return "\n".join(lines)
