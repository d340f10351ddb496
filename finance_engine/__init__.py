"""The application shell: config, database, API, CLI, services and the synthetic city.

The only package that knows Flask, SQL, environment variables and files.
"""

__version__ = "0.1.0"
