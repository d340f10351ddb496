"""The decision log's hash chain: record hashes by hand, and every kind of tampering named."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.decision_log import (
    GENESIS_HASH,
    LogRecord,
    Problem,
    canonical_json,
    chain_records,
    record_hash,
    record_hash_of_text,
    verify_chain,
)

STAMP = "2026-06-01T08:00:00.000000Z"


def payload(i: int) -> dict[str, object]:
    return {
        "application_id": f"APP-{i}",
        "entity_id": f"E{i % 3}",
        "product_code": "CIB-QZ-CLL",
        "outcome": "approve" if i % 2 else "refer",
        "pd": 0.01 * i,
        "terms": {"final_rate_pct": "3.40", "final_limit_yuan": "1500000.00"},
        "reasons": [{"code": "C02", "text": "carbon colour dark_green (深绿)"}],
    }


def chain(n: int) -> list[LogRecord]:
    return chain_records(
        [payload(i) for i in range(1, n + 1)],
        after_sequence=0,
        after_hash=GENESIS_HASH,
        created_at=STAMP,
    )


def test_record_hash_is_sha256_of_the_canonical_json_by_hand() -> None:
    first = chain(1)[0]
    text = (
        '{"created_at":"2026-06-01T08:00:00.000000Z","payload":'
        + json.dumps(payload(1), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        + ',"prev_hash":"'
        + "0" * 64
        + '","sequence":1}'
    )
    assert first.record_hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert first.prev_hash == GENESIS_HASH
    assert first.payload_json == canonical_json(payload(1))
    assert (first.application_id, first.entity_id, first.outcome) == ("APP-1", "E1", "approve")


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(
    st.dictionaries(st.text(), _JSON, max_size=6),
    st.integers(min_value=1, max_value=2**62),
    st.text(),
    st.text(),
)
def test_hashing_the_payload_text_equals_hashing_the_whole_record_json(
    payload: dict[str, Any], sequence: int, prev_hash: str, created_at: str
) -> None:
    body = {
        "created_at": created_at,
        "payload": payload,
        "prev_hash": prev_hash,
        "sequence": sequence,
    }
    expected = hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()
    text = canonical_json(payload)
    assert record_hash_of_text(sequence, prev_hash, created_at, text) == expected
    assert record_hash(sequence, prev_hash, created_at, payload) == expected


def test_records_link_to_the_one_before_and_an_intact_chain_verifies() -> None:
    records = chain(6)
    for before, after in itertools.pairwise(records):
        assert after.prev_hash == before.record_hash
        assert after.sequence == before.sequence + 1
    report = verify_chain(records)
    assert report.intact
    assert (report.records_checked, report.head_sequence) == (6, 6)
    assert report.head_hash == records[-1].record_hash
    assert report.first_broken is None


def test_appending_continues_the_chain() -> None:
    first = chain(3)
    more = chain_records(
        [payload(4)], after_sequence=3, after_hash=first[-1].record_hash, created_at=STAMP
    )
    assert verify_chain([*first, *more]).intact
    assert more[0] == chain(4)[-1]


def test_an_empty_log_is_intact() -> None:
    report = verify_chain([])
    assert report.intact
    assert (report.head_sequence, report.head_hash) == (0, GENESIS_HASH)


def test_a_changed_payload_field_is_named_as_a_hash_mismatch() -> None:
    records = chain(5)
    changed = json.loads(records[2].payload_json)
    changed["terms"]["final_rate_pct"] = "3.10"
    records[2] = replace(records[2], payload_json=canonical_json(changed))
    report = verify_chain(records)
    assert not report.intact
    assert report.first_broken is not None
    assert (report.first_broken.sequence, report.first_broken.problem) == (
        3,
        Problem.HASH_MISMATCH,
    )
    assert report.head_sequence == 2


@pytest.mark.parametrize("field", ["created_at", "record_hash", "prev_hash"])
def test_a_changed_chain_field_is_found_at_that_record(field: str) -> None:
    records = chain(4)
    changes: dict[str, Any] = {field: "f" * 64 if field != "created_at" else STAMP[:-2]}
    records[1] = replace(records[1], **changes)
    broken = verify_chain(records).first_broken
    assert broken is not None
    assert broken.sequence == 2
    assert broken.problem is Problem.HASH_MISMATCH


def test_a_deleted_record_is_named_as_a_gap() -> None:
    records = chain(5)
    del records[2]
    broken = verify_chain(records).first_broken
    assert broken is not None
    assert (broken.sequence, broken.problem) == (4, Problem.SEQUENCE_GAP)
    assert "records 3..3 missing" in broken.message


def test_reordered_records_are_found() -> None:
    records = chain(5)
    swapped = [
        records[0],
        replace(records[3], sequence=2),
        records[2],
        replace(records[1], sequence=4),
        records[4],
    ]
    broken = verify_chain(swapped).first_broken
    assert broken is not None
    assert (broken.sequence, broken.problem) == (2, Problem.HASH_MISMATCH)
    out_of_order = verify_chain([records[0], records[2], records[1]]).first_broken
    assert out_of_order is not None
    assert (out_of_order.sequence, out_of_order.problem) == (3, Problem.SEQUENCE_GAP)


def test_a_record_rewritten_with_a_fresh_hash_breaks_the_next_link() -> None:
    records = chain(5)
    forged_payload = {**payload(3), "outcome": "decline"}
    forged = chain_records(
        [forged_payload],
        after_sequence=2,
        after_hash=records[1].record_hash,
        created_at=STAMP,
    )[0]
    records[2] = forged
    broken = verify_chain(records).first_broken
    assert broken is not None
    assert (broken.sequence, broken.problem) == (4, Problem.PREV_LINK_MISMATCH)


def test_a_search_column_differing_from_the_payload_is_named() -> None:
    records = chain(3)
    records[1] = replace(records[1], outcome="approve")  # payload says refer
    broken = verify_chain(records).first_broken
    assert broken is not None
    assert (broken.sequence, broken.problem) == (2, Problem.FIELD_MISMATCH)
    assert "outcome" in broken.message


def test_an_unreadable_payload_is_named() -> None:
    records = chain(2)
    records[1] = replace(records[1], payload_json="{not json")
    broken = verify_chain(records).first_broken
    assert broken is not None
    assert (broken.sequence, broken.problem) == (2, Problem.UNREADABLE)


def test_records_cut_from_the_end_are_found_against_a_known_head() -> None:
    records = chain(6)
    head = (6, records[-1].record_hash)
    assert verify_chain(records, expected_head=head).intact
    assert verify_chain(records[:4]).intact  # a shorter chain alone looks fine...
    report = verify_chain(records[:4], expected_head=head)  # ...but not against the head
    assert not report.intact
    assert report.first_broken is not None
    assert (report.first_broken.sequence, report.first_broken.problem) == (
        6,
        Problem.HEAD_MISMATCH,
    )
    other = verify_chain(records, expected_head=(6, "0" * 64)).first_broken
    assert other is not None
    assert other.problem is Problem.HEAD_MISMATCH


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json({"pd": float("nan")})
    assert record_hash(1, GENESIS_HASH, STAMP, {"b": 1, "a": 2}) == record_hash(
        1, GENESIS_HASH, STAMP, {"a": 2, "b": 1}
    )
