"""The low-carbon loan product catalog: product definitions as validated data plus a loader.

Imports only :mod:`accounting` (see the import-linter contracts in ``pyproject.toml``).
"""
