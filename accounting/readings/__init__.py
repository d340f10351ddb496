"""Validation and cleaning of raw 15-minute meter readings (pure, vectorised).

Raw readings arrive as columns (:class:`RawReadings`: source row, meter code, timestamp in epoch
seconds UTC, value). :func:`validate_readings` turns them into interval consumption on the
15-minute grid (:class:`ValidatedBatch`) and says why every other row was rejected. No Python
loop runs over readings; loops run only over rejected rows (to word their reasons), over the
meters and over the distinct units of a batch.

Rules, in order:

1. ``meter``: the code must name a known meter. ``unit`` (optional per row): the meter's unit or
   one convertible to it (MWh -> kWh, 10^4 m3 -> m3; steam t <-> GJ needs the enthalpy and is
   refused). ``quantity``: a finite number. ``timestamp``: between 1970 and 2199.
2. Grid: timestamps are snapped to the nearest multiple of 900 s when within
   ``snap_tolerance_s`` (flag ``SNAPPED``); farther ones are rejected.
3. Interval meters: the timestamp is the interval start; a negative quantity, or one above the
   meter's rated maximum per interval, is rejected. Cumulative meters: the value is the counter
   at the timestamp, which ends the interval ``[t - 900, t)``; negative counters, and counters
   at or above the meter's rollover value, are rejected.
4. Duplicates (same meter and interval): identical values are one reading (the others counted as
   duplicates); differing values reject every row of the conflict.
5. Counters become interval values by differencing, per meter in time order, together with the
   stored counter readings around the batch (:class:`CounterHistory`). A drop is a rollover
   (``rollover - previous + current``, flag ``COUNTER_ROLLOVER``) when the meter has a rollover
   value, otherwise a reset (``current``, flag ``COUNTER_RESET``). A difference over ``k > 1``
   intervals is kept whole at the later interval (flag ``SPANS_GAP``). A delta above ``k`` times
   the rated maximum is rejected; the next delta is still taken from the rejected counter.
   A meter's first counter reading with nothing stored before it is an *anchor*: stored with
   quantity 0 and flag ``ANCHOR`` (it carries the counter for the next reading and is not
   counted as a received interval). A batch that fills in readings before a stored one revises
   the stored reading's quantity (:attr:`ValidatedBatch.revisions`), so nothing is counted
   twice; a counter reading equal to a stored one is a duplicate, a different one a conflict.
6. Gaps: per meter, the runs of intervals missing between its first and last interval in the
   batch.

Modules: ``_model`` (the types), ``_validate`` (rules 1-4 and 6), ``_counters`` (rule 5),
``_rejects`` (collecting worded rejections).
"""

from accounting.readings._model import (
    COUNTER_FLAGS,
    MAX_TIMESTAMP_S,
    SLOT_S,
    CounterHistory,
    Flag,
    Gap,
    MeterSpec,
    RawReadings,
    ReadingFlag,
    ReadingKind,
    Rejection,
    ValidatedBatch,
)
from accounting.readings._validate import unit_scale, validate_readings

__all__ = [
    "COUNTER_FLAGS",
    "MAX_TIMESTAMP_S",
    "SLOT_S",
    "CounterHistory",
    "Flag",
    "Gap",
    "MeterSpec",
    "RawReadings",
    "ReadingFlag",
    "ReadingKind",
    "Rejection",
    "ValidatedBatch",
    "unit_scale",
    "validate_readings",
]
