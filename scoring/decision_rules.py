"""Engine-wide decision rules: a versioned data file, validated on load.

A product's own eligibility rules (minimum grade, provisional-grade and critical-alert policies,
excluded industries, maximum PD, worst data-quality tier) live in the catalog. The rules here
apply on top of every product: when an otherwise eligible application is referred to a loan
officer, how open alerts are counted, and how many credit reasons a decision names. The packaged
file is ``scoring/data/decision_rules.json``; ``docs/decisions.md`` describes every field.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from accounting.schema_errors import DataFileError
from products.model import Policy
from scoring._documents import load_object, read_json

RULES_FORMAT = "finance-engine/decision-rules@1"
DEFAULT_DECISION_RULES_PATH = Path(__file__).parent / "data" / "decision_rules.json"


class DecisionRulesError(DataFileError):
    """A decision-rules file is invalid; the message names the file and the field."""


@dataclass(frozen=True)
class DecisionRules:
    """Decision rules applied on top of every product's eligibility rules.

    Attributes
    ----------
    version:
        Version of the rules file (recorded with every decision).
    pd_refer_fraction:
        Refer when PD is above this fraction of the product's ``max_pd`` (and not above
        ``max_pd``, which declines): the band just under the cut-off, fraction in (0, 1].
    refer_open_warning_alerts:
        Refer when the borrower has at least this many open warning alerts; None disables.
    max_account_age_days:
        Refer when the carbon account's period ended more than this many days before the
        decision date (a stale grade); days.
    requested_above_limit:
        What to do when the requested amount exceeds the final limit (``refer`` or ``decline``;
        ``allow`` offers the final limit without comment).
    unknown_industry_code:
        What to do when a product excludes industries and the borrower has no industry code.
    alert_window_days:
        Open alerts whose interval starts within this many days before the decision date (or
        within the account's period) count; days. Used by the service that loads them.
    credit_reason_count:
        At most this many credit reasons (features pushing PD up most) are named.
    credit_reason_min_logodds:
        A feature adding less than this to the log-odds of default is not named.
    """

    version: str
    pd_refer_fraction: Decimal
    refer_open_warning_alerts: int | None
    max_account_age_days: int
    requested_above_limit: Policy
    unknown_industry_code: Policy
    alert_window_days: int
    credit_reason_count: int
    credit_reason_min_logodds: float


class _RulesSchema(Schema):
    class Meta:
        unknown = RAISE

    format = fields.String(required=True, validate=validate.Equal(RULES_FORMAT))
    version = fields.String(required=True, validate=validate.Length(min=1, max=64))
    description = fields.String(required=True)
    source = fields.String(required=True, validate=validate.Length(min=1))
    pd_refer_fraction = fields.Decimal(
        required=True, validate=validate.Range(min=Decimal(0), max=Decimal(1), min_inclusive=False)
    )
    refer_open_warning_alerts = fields.Integer(
        required=True, allow_none=True, strict=True, validate=validate.Range(min=1)
    )
    max_account_age_days = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=3660)
    )
    requested_above_limit = fields.Enum(Policy, by_value=True, required=True)
    unknown_industry_code = fields.Enum(Policy, by_value=True, required=True)
    alert_window_days = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=3660)
    )
    credit_reason_count = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=13)
    )
    credit_reason_min_logodds = fields.Decimal(
        required=True, validate=validate.Range(min=Decimal(0), max=Decimal(10))
    )


def decision_rules_from_dict(data: Any, where: str = "decision rules") -> DecisionRules:
    """Validate a parsed rules document (numbers as ``Decimal`` or ``int``).

    Raises
    ------
    DecisionRulesError
        Naming ``where`` and every bad field.
    """
    loaded = load_object(_RulesSchema(), data, where, DecisionRulesError)
    return DecisionRules(
        version=loaded["version"],
        pd_refer_fraction=loaded["pd_refer_fraction"],
        refer_open_warning_alerts=loaded["refer_open_warning_alerts"],
        max_account_age_days=loaded["max_account_age_days"],
        requested_above_limit=loaded["requested_above_limit"],
        unknown_industry_code=loaded["unknown_industry_code"],
        alert_window_days=loaded["alert_window_days"],
        credit_reason_count=loaded["credit_reason_count"],
        credit_reason_min_logodds=float(loaded["credit_reason_min_logodds"]),
    )


def load_decision_rules(path: Path | str = DEFAULT_DECISION_RULES_PATH) -> DecisionRules:
    """Read and validate a decision-rules file.

    Raises
    ------
    DecisionRulesError
        The file is unreadable, not JSON, or a field is missing, unknown or out of range.
    """
    return decision_rules_from_dict(read_json(path, DecisionRulesError), str(path))


@cache
def default_decision_rules() -> DecisionRules:
    """The packaged decision rules (read once per process)."""
    return load_decision_rules()
