"""Fixtures for the product catalog tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from product_docs import Document, write_catalog


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Callable[[dict[str, Document]], Path]:
    """Write a small catalog into a fresh temporary directory."""
    return lambda files: write_catalog(tmp_path / "catalog", files)
