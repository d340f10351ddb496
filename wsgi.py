"""WSGI entry point for gunicorn (``wsgi:app``): builds the app from the environment."""

from finance_engine.app import create_app

app = create_app()
