"""Carbon credit reports: content -> PDF (ReportLab) -> PAdES signature (pyHanko); verification.

Knows ReportLab and pyHanko, never Flask or SQL.
"""
