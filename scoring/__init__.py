"""Decisions: eligibility, grade -> terms, the LightGBM risk model, backtests.

Imports only :mod:`products` and :mod:`accounting`.
"""
