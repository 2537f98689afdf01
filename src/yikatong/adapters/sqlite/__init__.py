"""The embedded store: one SQLite file (WAL, one transaction per change) with Parquet side files for large rows.

* :class:`SqliteStore` implements :class:`yikatong.ports.Store`.
* :class:`SqliteRegistry` implements :class:`yikatong.ports.AccountRegistry` (in the same file or another);
  :func:`check_registry` checks its history chain and records.
* :data:`APPLICATION_ID` and :data:`SCHEMA_VERSION` identify a store file; :data:`MIGRATIONS` lists the schema steps.
"""

from yikatong.adapters.sqlite._registry import SqliteRegistry
from yikatong.adapters.sqlite._registry_check import RegistryProblem, check_registry
from yikatong.adapters.sqlite._schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, Migration
from yikatong.adapters.sqlite._store import DEFAULT_INLINE_ROWS_MAX, SqliteStore

__all__ = [
    "APPLICATION_ID",
    "DEFAULT_INLINE_ROWS_MAX",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Migration",
    "RegistryProblem",
    "SqliteRegistry",
    "SqliteStore",
    "check_registry",
]
