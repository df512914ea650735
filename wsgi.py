"""WSGI entry point: ``gunicorn wsgi:app``."""

from placements import create_app

app = create_app()
