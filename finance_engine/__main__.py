"""``python -m finance_engine``: the same as the ``finance-engine`` console script."""

from finance_engine.cli import main

main()
