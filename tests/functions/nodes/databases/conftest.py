"""The database nodes' fixtures: a real PostgreSQL server (once per session)."""

from tests.support.postgres_server import postgres_server

__all__ = ["postgres_server"]
