"""Energy types, their native units and unit conversions.

Every meter measures one :class:`EnergyType` in that type's native unit (``EnergyType.unit``);
quantities are converted explicitly, never implicitly.
"""

from __future__ import annotations

from enum import StrEnum


class EnergyType(StrEnum):
    """What a meter measures. The value is the stable code used in files, JSON and the database."""

    ELECTRICITY = "electricity"
    """Electricity consumed on site, kWh (main distribution meter, grid import plus self-consumed
    on-site renewables)."""
    NATURAL_GAS = "natural_gas"
    """Natural gas, m3 at standard conditions."""
    STEAM = "steam"
    """Purchased steam, t (converted to GJ with the factor set's enthalpy) or GJ."""
    HEAT = "heat"
    """Purchased heat (hot water), GJ."""
    RAW_COAL = "raw_coal"
    COKE = "coke"
    DIESEL = "diesel"
    GASOLINE = "gasoline"
    FUEL_OIL = "fuel_oil"
    LPG = "lpg"
    CNG = "cng"
    """Compressed natural gas (vehicle fuel), m3 at standard conditions."""
    LNG = "lng"
    """Liquefied natural gas (vehicle fuel), t."""
    RENEWABLE_SELF_CONSUMED = "renewable_self_consumed"
    """On-site PV or wind generation consumed on site, kWh (zero-carbon)."""
    RENEWABLE_EXPORTED = "renewable_exported"
    """On-site PV or wind generation exported to the grid, kWh (reported, not credited)."""

    @property
    def unit(self) -> str:
        """The native unit of quantities of this type."""
        return NATIVE_UNIT[self]

    @property
    def is_fuel(self) -> bool:
        """True for fuels burnt on site (scope 1 combustion)."""
        return self in FUELS


FUELS: frozenset[EnergyType] = frozenset(
    {
        EnergyType.NATURAL_GAS,
        EnergyType.RAW_COAL,
        EnergyType.COKE,
        EnergyType.DIESEL,
        EnergyType.GASOLINE,
        EnergyType.FUEL_OIL,
        EnergyType.LPG,
        EnergyType.CNG,
        EnergyType.LNG,
    }
)

NATIVE_UNIT: dict[EnergyType, str] = {
    EnergyType.ELECTRICITY: "kWh",
    EnergyType.NATURAL_GAS: "m3",
    EnergyType.STEAM: "t",
    EnergyType.HEAT: "GJ",
    EnergyType.RAW_COAL: "t",
    EnergyType.COKE: "t",
    EnergyType.DIESEL: "t",
    EnergyType.GASOLINE: "t",
    EnergyType.FUEL_OIL: "t",
    EnergyType.LPG: "t",
    EnergyType.CNG: "m3",
    EnergyType.LNG: "t",
    EnergyType.RENEWABLE_SELF_CONSUMED: "kWh",
    EnergyType.RENEWABLE_EXPORTED: "kWh",
}

ACCEPTED_UNITS: dict[EnergyType, frozenset[str]] = {
    t: frozenset({u, "GJ"} if t is EnergyType.STEAM else {u}) for t, u in NATIVE_UNIT.items()
} | {
    EnergyType.ELECTRICITY: frozenset({"kWh", "MWh"}),
    EnergyType.NATURAL_GAS: frozenset({"m3", "10^4 m3"}),
    EnergyType.CNG: frozenset({"m3", "10^4 m3"}),
}
"""Units a quantity may be given in; :func:`to_native` converts them."""

_SCALE_TO_NATIVE: dict[tuple[EnergyType, str], float] = {
    (EnergyType.ELECTRICITY, "MWh"): 1000.0,
    (EnergyType.NATURAL_GAS, "10^4 m3"): 10_000.0,
    (EnergyType.CNG, "10^4 m3"): 10_000.0,
}


def to_native(energy_type: EnergyType, quantity: float, unit: str) -> float:
    """Convert ``quantity`` given in ``unit`` to the native unit of ``energy_type``.

    Steam given in GJ is not converted here (it needs the factor set's enthalpy); it is returned
    unchanged and must be handled by the caller. Raises ``ValueError`` for a unit the type does
    not accept.
    """
    if unit not in ACCEPTED_UNITS[energy_type]:
        allowed = ", ".join(sorted(ACCEPTED_UNITS[energy_type]))
        raise ValueError(
            f"unit {unit!r} is not valid for {energy_type.value}; use one of {allowed}"
        )
    return quantity * _SCALE_TO_NATIVE.get((energy_type, unit), 1.0)
