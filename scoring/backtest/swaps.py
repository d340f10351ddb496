"""Swap-set analysis: the applications one rule set books and the other does not.

- *swap-out*: booked by the champion, not by the challenger;
- *swap-in*: booked by the challenger, not by the champion;
- *kept*: booked by both; *declined by both*: booked by neither.

Each set reports its size, defaults and bad rate (the outcome is known for every historical
application), mean PD, and the volume and losses under the rule set that books it (the
champion's for swap-out and kept, the challenger's for swap-in), split by colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scoring.backtest.data import BacktestData
from scoring.backtest.measures import COLOUR_GROUPS, Exposure, colour_index, ratio, yuan
from scoring.backtest.replay import Replay

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SwapSets:
    """The four sets as ``(n,)`` masks."""

    swap_out: BoolArray
    swap_in: BoolArray
    kept: BoolArray
    declined_by_both: BoolArray

    @classmethod
    def of(cls, champion: Replay, challenger: Replay) -> SwapSets:
        """Compare the booked applications of two replays of the same history."""
        a, b = champion.booked, challenger.booked
        return cls(swap_out=a & ~b, swap_in=~a & b, kept=a & b, declined_by_both=~a & ~b)


def _summary(
    mask: BoolArray,
    data: BacktestData,
    pd: FloatArray,
    replay: Replay | None,
    ex: Exposure | None,
) -> dict[str, Any]:
    y = np.asarray(data.numeric["default_12m"], dtype=np.int64)
    n = int(mask.sum())
    defaults = int(y[mask].sum())
    colours = np.bincount(colour_index(data)[mask], minlength=len(COLOUR_GROUPS))
    out: dict[str, Any] = {
        "applications": n,
        "defaults": defaults,
        "bad_rate": ratio(defaults, n),
        "mean_pd": float(pd[mask].mean()) if n else None,
        "by_colour": {label: int(colours[i]) for i, label in enumerate(COLOUR_GROUPS)},
    }
    if replay is not None and ex is not None:
        out["booked_volume_yuan"] = yuan(int(replay.final_limit_fen[mask].sum()))
        out["expected_loss_yuan"] = yuan(int(np.round(ex.expected_loss[mask].sum())))
        out["realised_loss_yuan"] = yuan(int(ex.loss_fen[mask].sum()))
    return out


def swap_summary(
    sets: SwapSets,
    data: BacktestData,
    pd: FloatArray,
    champion: tuple[Replay, Exposure],
    challenger: tuple[Replay, Exposure],
) -> dict[str, Any]:
    """JSON-ready summary of the four sets (amounts under the rule set that books them)."""
    return {
        "swap_out": _summary(sets.swap_out, data, pd, *champion),
        "swap_in": _summary(sets.swap_in, data, pd, *challenger),
        "kept": _summary(sets.kept, data, pd, *champion),
        "declined_by_both": _summary(sets.declined_by_both, data, pd, None, None),
    }
