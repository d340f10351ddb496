"""The decision log's hash chain: building records and verifying a stored chain.

Every decision is appended as a record ``(sequence, prev_hash, created_at, payload)``; records
are numbered 1, 2, 3... with no gaps, and each record's hash is::

    record_hash = SHA-256( canonical_json({"sequence": n, "prev_hash": h, "created_at": t,
                                           "payload": <decision payload>}) )

where ``prev_hash`` is the previous record's ``record_hash`` (64 zeros for record 1) and
``canonical_json`` is JSON with sorted keys, no spaces, UTF-8, no NaN. Changing any field of a
stored record, deleting one, inserting one or reordering them breaks the chain at the first
record touched; :func:`verify_chain` names it and says why. Deleting records from the *end*
leaves a shorter chain that is still intact: compare the head (``ChainReport.head_sequence``,
``head_hash``) with one recorded elsewhere (``expected_head``) to catch that.

The payload is stored as its canonical JSON text, so verifying re-hashes exactly what is stored.
A record also repeats a few payload fields in plain columns (application, entity, product,
outcome) so the log can be searched; :func:`verify_chain` checks they equal the payload.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

GENESIS_HASH = "0" * 64
"""``prev_hash`` of record 1."""

INDEXED_FIELDS = ("application_id", "entity_id", "product_code", "outcome")
"""Payload fields a stored record repeats in columns (checked against the payload)."""


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace; refuses NaN and infinities."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def record_hash(sequence: int, prev_hash: str, created_at: str, payload: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of one record's canonical JSON."""
    return record_hash_of_text(sequence, prev_hash, created_at, canonical_json(payload))


def record_hash_of_text(sequence: int, prev_hash: str, created_at: str, payload_json: str) -> str:
    """:func:`record_hash` given the payload's canonical JSON text.

    The record's canonical JSON is assembled around the text, not serialised again: with sorted
    keys and no whitespace, the canonical JSON of ``{"created_at", "payload", "prev_hash",
    "sequence"}`` is exactly these four members in this order, the payload member being the
    payload's own canonical JSON.
    """
    if type(sequence) is not int:  # a bool or an int subclass would print differently
        raise TypeError(f"sequence: must be an int, not {type(sequence).__name__}")
    text = (
        f'{{"created_at":{canonical_json(created_at)},"payload":{payload_json},'
        f'"prev_hash":{canonical_json(prev_hash)},"sequence":{sequence}}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LogRecord:
    """One stored decision-log record.

    Attributes
    ----------
    sequence:
        1, 2, 3... in append order.
    prev_hash, record_hash:
        The previous record's hash and this record's (hex SHA-256).
    created_at:
        When the record was appended, ISO 8601 UTC with microseconds (``...Z``).
    payload_json:
        The decision payload as canonical JSON text.
    application_id, entity_id, product_code, outcome:
        Copies of payload fields kept in columns for searching.
    """

    sequence: int
    prev_hash: str
    record_hash: str
    created_at: str
    payload_json: str
    application_id: str
    entity_id: str
    product_code: str
    outcome: str

    def payload(self) -> dict[str, Any]:
        """The decision payload (parsed)."""
        value: dict[str, Any] = json.loads(self.payload_json)
        return value


def chain_records(
    payloads: Sequence[Mapping[str, Any]],
    *,
    after_sequence: int,
    after_hash: str,
    created_at: str,
    payload_texts: Sequence[str] | None = None,
) -> list[LogRecord]:
    """Records for ``payloads`` appended after record ``after_sequence`` (hash ``after_hash``;
    0 and :data:`GENESIS_HASH` for an empty log), all stamped ``created_at``.

    ``payload_texts``: the payloads' canonical JSON when the caller already has it."""
    texts = [canonical_json(p) for p in payloads] if payload_texts is None else payload_texts
    if len(texts) != len(payloads):
        raise ValueError("payload_texts: one text per payload")
    out: list[LogRecord] = []
    prev, sequence = after_hash, after_sequence
    for payload, text in zip(payloads, texts, strict=True):  # each hash needs the previous
        sequence += 1
        digest = record_hash_of_text(sequence, prev, created_at, text)
        out.append(
            LogRecord(
                sequence=sequence,
                prev_hash=prev,
                record_hash=digest,
                created_at=created_at,
                payload_json=text,
                **{name: str(payload.get(name) or "") for name in INDEXED_FIELDS},
            )
        )
        prev = digest
    return out


class Problem(StrEnum):
    """Why a record breaks the chain."""

    SEQUENCE_GAP = "sequence_gap"
    """The record's sequence is not the previous one plus one (deleted, inserted, reordered)."""
    HASH_MISMATCH = "hash_mismatch"
    """The record's content no longer hashes to its stored hash (a field was changed)."""
    PREV_LINK_MISMATCH = "prev_link_mismatch"
    """The record's ``prev_hash`` is not the previous record's hash (a record was replaced)."""
    FIELD_MISMATCH = "field_mismatch"
    """A search column differs from the payload."""
    UNREADABLE = "unreadable"
    """The payload is not valid JSON."""
    HEAD_MISMATCH = "head_mismatch"
    """The expected head record is missing or differs (records cut from the end)."""


@dataclass(frozen=True)
class BrokenRecord:
    """The first record at which the chain breaks."""

    sequence: int
    problem: Problem
    message: str


@dataclass(frozen=True)
class ChainReport:
    """Result of :func:`verify_chain`."""

    intact: bool
    records_checked: int
    head_sequence: int
    """Sequence of the last intact record checked (0 for an empty log)."""
    head_hash: str
    first_broken: BrokenRecord | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        broken = self.first_broken
        return {
            "intact": self.intact,
            "records_checked": self.records_checked,
            "head_sequence": self.head_sequence,
            "head_hash": self.head_hash,
            "first_broken": None
            if broken is None
            else {
                "sequence": broken.sequence,
                "problem": broken.problem.value,
                "message": broken.message,
            },
        }


def _check(record: LogRecord, expected_sequence: int, prev_hash: str) -> BrokenRecord | None:
    n = record.sequence
    if n != expected_sequence:
        what = (
            f"records {expected_sequence}..{n - 1} missing"
            if n > expected_sequence
            else "out of order or repeated"
        )
        return BrokenRecord(
            n, Problem.SEQUENCE_GAP, f"record {n} follows record {expected_sequence - 1}: {what}"
        )
    try:
        payload = json.loads(record.payload_json)
    except ValueError as exc:
        return BrokenRecord(n, Problem.UNREADABLE, f"record {n}: payload is not JSON ({exc})")
    if record_hash(n, record.prev_hash, record.created_at, payload) != record.record_hash:
        return BrokenRecord(
            n,
            Problem.HASH_MISMATCH,
            f"record {n}: content does not match its hash (changed after writing)",
        )
    if record.prev_hash != prev_hash:
        return BrokenRecord(
            n,
            Problem.PREV_LINK_MISMATCH,
            f"record {n}: prev_hash does not match record {n - 1}'s hash",
        )
    for name in INDEXED_FIELDS:
        if str(payload.get(name) or "") != getattr(record, name):
            return BrokenRecord(
                n, Problem.FIELD_MISMATCH, f"record {n}: column {name} differs from the payload"
            )
    return None


def verify_chain(
    records: Iterable[LogRecord], *, expected_head: tuple[int, str] | None = None
) -> ChainReport:
    """Verify records read in sequence order; stop at the first broken one.

    Parameters
    ----------
    records
        The stored records ordered by ``sequence`` (an iterator is fine: nothing is kept).
    expected_head
        ``(sequence, record_hash)`` of a record known to exist (e.g. noted at the last audit):
        the chain must reach it with that hash, which catches records cut from the end.
    """
    sequence, prev, checked = 0, GENESIS_HASH, 0
    head_hash_at: dict[int, str] = {}
    for record in records:
        checked += 1
        broken = _check(record, sequence + 1, prev)
        if broken is not None:
            return ChainReport(False, checked, sequence, prev, broken)
        sequence, prev = record.sequence, record.record_hash
        if expected_head is not None and sequence == expected_head[0]:
            head_hash_at[sequence] = prev
    if expected_head is not None:
        want_seq, want_hash = expected_head
        if head_hash_at.get(want_seq) != want_hash:
            why = (
                f"is missing (the log ends at record {sequence})"
                if want_seq not in head_hash_at
                else "has another hash"
            )
            broken = BrokenRecord(
                want_seq, Problem.HEAD_MISMATCH, f"expected head record {want_seq} {why}"
            )
            return ChainReport(False, checked, sequence, prev, broken)
    return ChainReport(True, checked, sequence, prev, None)
