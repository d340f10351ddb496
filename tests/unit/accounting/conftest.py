"""Fixtures for the accounting tests: the packaged factor sets and grading rules."""

from __future__ import annotations

import pytest

from accounting.factors import FactorSet, FactorSetRegistry, load_factor_set_dir
from accounting.grading import GradingConfig, load_grading_config


@pytest.fixture(scope="module")
def registry() -> FactorSetRegistry:
    """The packaged factor sets."""
    return load_factor_set_dir()


@pytest.fixture(scope="module")
def cn2023(registry: FactorSetRegistry) -> FactorSet:
    """The CN-2023 factor set (MEE 2023 national grid average)."""
    return registry.get("CN-2023")


@pytest.fixture(scope="module")
def rules() -> GradingConfig:
    """The packaged grading rules."""
    return load_grading_config()
