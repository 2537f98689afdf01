"""The server-database store: PostgreSQL through psycopg 3 (install the ``yikatong[postgres]`` extra).

* [`PostgresStore`][yikatong.adapters.postgres.PostgresStore] implements [`yikatong.ports.Store`][].
* [`PostgresRegistry`][yikatong.adapters.postgres.PostgresRegistry] implements [`yikatong.ports.AccountRegistry`][] (in
  the same schema or another), sealed and its history chained when given keys; ``check_registry`` checks its history
  chain and records (the same check as the embedded registry's).
* [`SCHEMA_VERSION`][yikatong.adapters.postgres.SCHEMA_VERSION] and
  [`MIGRATIONS`][yikatong.adapters.postgres.MIGRATIONS] are the schema steps.

Both pass the same contract kits as the embedded SQLite store. Only PostgreSQL itself (15) is tested; databases that
speak its protocol (Kingbase, openGauss, HighGo) are not, see ``docs/postgres.md``.
"""

from yikatong.adapters._registry_check import RegistryProblem, check_registry
from yikatong.adapters.postgres._registry import PostgresRegistry
from yikatong.adapters.postgres._schema import APPLICATION, MIGRATIONS, SCHEMA_VERSION, Migration
from yikatong.adapters.postgres._store import DEFAULT_SCHEMA, PostgresStore

__all__ = [
    "APPLICATION",
    "DEFAULT_SCHEMA",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Migration",
    "PostgresRegistry",
    "PostgresStore",
    "RegistryProblem",
    "check_registry",
]
