"""The default [`yikatong.ports.Store`][]: see [`yikatong.adapters.sqlite`][] (this name is kept for imports)."""

from yikatong.adapters.sqlite import APPLICATION_ID, SCHEMA_VERSION, SqliteStore

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "SqliteStore"]
