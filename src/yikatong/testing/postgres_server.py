"""A throwaway PostgreSQL server from the machine's own binaries, for tests and benchmarks.

[`throwaway_server`][yikatong.testing.postgres_server.throwaway_server] runs ``initdb`` on a new temporary folder,
starts ``postgres`` on a free loopback port with ``pg_ctl``, yields a connection URL, and stops the server and removes
the folder on exit. Nothing outside the folder is touched: no system cluster, no service manager, no password.

PostgreSQL refuses to run as root. When the current user is root, the server runs as an existing unprivileged
account (``postgres`` when the Debian package made one, else ``nobody``) through ``runuser``, in a folder owned by
that account.

Binaries are looked up in ``$YIKATONG_PG_BINDIR``, then ``/usr/lib/postgresql/<version>/bin`` (newest first), then
on ``PATH``; [`find_bindir`][yikatong.testing.postgres_server.find_bindir] returns None when there are none.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

__all__ = ["DEFAULT_SETTINGS", "FAST_SETTINGS", "find_bindir", "throwaway_server"]

DEFAULT_SETTINGS: Final[dict[str, str]] = {"max_connections": "50", "shared_buffers": "128MB"}
"""Server settings for a throwaway server whose figures should look like a real one's (benchmarks)."""

FAST_SETTINGS: Final[dict[str, str]] = {
    **DEFAULT_SETTINGS,
    "fsync": "off",  # a test server lives for one run: losing it on a power cut costs nothing
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
"""Settings for a test server: durability to disk traded for speed (transactions and locks behave the same)."""

_USER: Final = "yikatong"


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in path.parent.name.split(".") if p.isdigit())


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None when the machine has no PostgreSQL server binaries."""
    configured = os.environ.get("YIKATONG_PG_BINDIR")
    if configured:
        return Path(configured) if (Path(configured) / "initdb").exists() else None
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_version_key, reverse=True)
    if found:
        return found[0].parent
    on_path = shutil.which("initdb")
    return None if on_path is None else Path(on_path).resolve().parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _service_account() -> str | None:
    """The account to run the server as: None for the current user, unless that is root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and no unprivileged account (postgres, nobody) to run PostgreSQL as")


def _run(command: Sequence[str], account: str | None, log: Path) -> None:
    """Run a server command (as ``account`` when given), its output appended to ``log``."""
    full = ["runuser", "-u", account, "--", *command] if account else list(command)
    with log.open("ab") as out:
        done = subprocess.run(full, stdout=out, stderr=subprocess.STDOUT, check=False, cwd="/")
    if done.returncode != 0:
        tail = "\n".join(
            p.read_text(errors="replace")[-2000:] for p in (log, log.with_name("server.log")) if p.exists()
        )
        raise RuntimeError(f"{command[0]} failed with exit code {done.returncode}:\n{tail}")


@contextlib.contextmanager
def throwaway_server(*, settings: dict[str, str] | None = None, bindir: Path | None = None) -> Iterator[str]:
    """Run a private PostgreSQL server for the duration of the ``with`` block.

    Args:
        settings: Server settings (``-c name=value``); default
            [`FAST_SETTINGS`][yikatong.testing.postgres_server.FAST_SETTINGS].
        bindir: The folder with ``initdb``/``pg_ctl``; default
            [`find_bindir`][yikatong.testing.postgres_server.find_bindir].

    Yields:
        A ``postgresql://`` URL of the server's ``postgres`` database, as superuser ``yikatong`` over loopback TCP.

    Raises:
        FileNotFoundError: there are no PostgreSQL server binaries.
        RuntimeError: the server could not be initialised or started (the message carries its log).
    """
    bindir = bindir or find_bindir()
    if bindir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    account = _service_account()
    root = Path(tempfile.mkdtemp(prefix="yikatong-pg-"))
    try:
        if account is not None:
            entry = pwd.getpwnam(account)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        data, log, server_log = root / "data", root / "commands.log", root / "server.log"
        _run([str(bindir / "initdb"), "-D", str(data), "-U", _USER, "--auth=trust", "-E", "UTF8",
              "--locale=C", "--no-instructions"], account, log)  # fmt: skip
        port = _free_port()
        options = {
            **(FAST_SETTINGS if settings is None else settings),
            "port": str(port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(root),
        }
        flags = " ".join(f"-c {k}={v}" for k, v in options.items())
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(server_log), "-o", flags, "-w", "-t", "60", "start"],
             account, log)  # fmt: skip
        try:
            yield f"postgresql://{_USER}@127.0.0.1:{port}/postgres"
        finally:
            _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], account, log)
    finally:
        shutil.rmtree(root, ignore_errors=True)
