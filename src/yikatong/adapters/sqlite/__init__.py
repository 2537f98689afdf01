"""The embedded store: one SQLite file (WAL, one transaction per change) with Parquet side files for large rows.

* [`SqliteStore`][yikatong.adapters.SqliteStore] implements [`yikatong.ports.Store`][].
* [`SqliteRegistry`][yikatong.adapters.SqliteRegistry] implements [`yikatong.ports.AccountRegistry`][] (in the same file
  or another); ``check_registry`` checks its history chain and records.
* [`APPLICATION_ID`][yikatong.adapters.sqlite.APPLICATION_ID] and
  [`SCHEMA_VERSION`][yikatong.adapters.sqlite.SCHEMA_VERSION] identify a store file;
  [`MIGRATIONS`][yikatong.adapters.sqlite.MIGRATIONS] lists the schema steps.
"""

from yikatong.adapters._registry_check import RegistryProblem, check_registry
from yikatong.adapters.sqlite._registry import SqliteRegistry
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
