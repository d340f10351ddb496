"""A deterministic synthetic Quzhou-like city for the demo, tests and benchmarks.

``build_city(seed, scale)`` gives firms across about 20 GB/T 4754 industries and energy
producers, their meters with realistic 15-minute load shapes (shifts, weekends, Chinese holidays,
seasons, noise), activity data, and injected faults whose truth is known. Everything in it is
synthetic: design values, not statistics of Quzhou.
"""

from finance_engine.synth.city import (
    ActivitySpec,
    City,
    DeclaredTotal,
    EntitySpec,
    MeterSpec,
    build_city,
    design_emissions_tco2e,
)
from finance_engine.synth.faults import FAULT_KINDS, FaultTable
from finance_engine.synth.industries import design_benchmarks
from finance_engine.synth.raw import RawRows

__all__ = [
    "FAULT_KINDS",
    "ActivitySpec",
    "City",
    "DeclaredTotal",
    "EntitySpec",
    "FaultTable",
    "MeterSpec",
    "RawRows",
    "build_city",
    "design_benchmarks",
    "design_emissions_tco2e",
]
