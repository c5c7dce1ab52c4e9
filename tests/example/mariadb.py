"""A throwaway MariaDB server for the tests: real ``mariadbd``, its own datadir, 127.0.0.1.

Needs the Debian package ``mariadb-server``: ``.ci/run`` installs it, and so does this
fixture when it is missing and the tests run as root on a Debian/Ubuntu machine (so the
README's test command works on a fresh machine). ``running_mariadb()``
initialises a datadir with ``mariadb-install-db``, starts ``mariadbd`` as the current user
(root in CI) on a free 127.0.0.1 port with its socket in the temp dir, creates the ``intel``
database from ``sample_data/intel.sql`` and a read-only user for the handler, and stops the
server on exit. Anything that goes wrong raises ``MariaDBError`` with the log's tail, so the
tests that need it fail with the reason instead of being skipped.
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.example.envs import EXAMPLE
from tests.servers import free_port

SCHEMA = EXAMPLE / "sample_data" / "intel.sql"
INSTALL_HINT = "install it with: apt-get update && apt-get install -y mariadb-server"


class MariaDBError(RuntimeError):
    pass


@dataclass(frozen=True)
class MariaDB:
    host: str
    port: int
    socket: Path
    user: str
    password: str
    database: str
    client: str

    def env(self) -> dict[str, str]:
        """The feature-extraction function's connection settings."""
        return {
            "INTEL_DB_HOST": self.host,
            "INTEL_DB_PORT": str(self.port),
            "INTEL_DB_USER": self.user,
            "INTEL_DB_PASSWORD": self.password,
            "INTEL_DB_NAME": self.database,
        }

    def sql(self, statements: str) -> str:
        """Run SQL as root over the socket; returns the client's output."""
        proc = subprocess.run(
            [self.client, "--no-defaults", "-uroot", f"--socket={self.socket}", "-N", "-B"],
            input=statements,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if proc.returncode != 0:
            raise MariaDBError(f"SQL failed: {proc.stderr.strip()}\n{statements[:500]}")
        return proc.stdout


def _tool(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or next(
            (str(p) for d in ("/usr/sbin", "/usr/bin") if (p := Path(d) / name).is_file()), None
        )
        if found:
            return found
    raise MariaDBError(f"{names[0]} not found; {INSTALL_HINT}")


def _log_tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-3000:]
    except OSError:
        return "(no log)"


def ensure_installed() -> None:
    """Install mariadb-server with apt-get when it is missing and we may (root + apt)."""
    try:
        _tool("mariadbd", "mysqld")
        return
    except MariaDBError:
        pass
    import os

    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return  # _tool() below fails with the install hint
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in ([apt, "update", "-qq"],
                [apt, "install", "-y", "-qq", "--no-install-recommends", "mariadb-server",
                 "mariadb-client"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
        if proc.returncode != 0:
            raise MariaDBError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-2000:]}")


@contextmanager
def running_mariadb(timeout: float = 60.0) -> Iterator[MariaDB]:
    ensure_installed()
    server = _tool("mariadbd", "mysqld")
    install_db = _tool("mariadb-install-db", "mysql_install_db")
    client = _tool("mariadb", "mysql")
    # Short base path: a unix socket path must stay under 108 bytes.
    base = Path(tempfile.mkdtemp(prefix="mdb-", dir="/tmp"))
    datadir, sock, log = base / "data", base / "mysqld.sock", base / "error.log"
    user = getpass.getuser()
    try:
        proc = subprocess.run(
            [install_db, "--no-defaults", f"--datadir={datadir}", f"--user={user}",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if proc.returncode != 0:
            raise MariaDBError(f"mariadb-install-db failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
        port = free_port()
        daemon = subprocess.Popen(
            [server, "--no-defaults", f"--datadir={datadir}", f"--user={user}",
             "--bind-address=127.0.0.1", f"--port={port}", f"--socket={sock}",
             f"--pid-file={base / 'mysqld.pid'}", f"--log-error={log}",
             "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=32M"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_ready(daemon, port, log, timeout)
            db = MariaDB("127.0.0.1", port, sock, "intel_ro", "ro-secret", "intel", client)
            db.sql(
                "CREATE DATABASE intel CHARACTER SET utf8mb4;\n"
                "CREATE USER 'intel_ro'@'127.0.0.1' IDENTIFIED BY 'ro-secret';\n"
                "GRANT SELECT ON intel.* TO 'intel_ro'@'127.0.0.1';\n"
            )
            db.sql("USE intel;\n" + SCHEMA.read_text())
            yield db
        finally:
            daemon.terminate()
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _wait_ready(daemon: subprocess.Popen[bytes], port: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise MariaDBError(f"mariadbd exited with {daemon.returncode}:\n{_log_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise MariaDBError(f"mariadbd not accepting connections after {timeout}s:\n{_log_tail(log)}")
