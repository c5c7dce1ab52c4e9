"""A throwaway MariaDB server for the tests: real ``mariadbd``, its own datadir, 127.0.0.1.

Needs the Debian package ``mariadb-server``: ``.ci/run`` installs it, and so does this
fixture when it is missing and the tests run as root on a Debian/Ubuntu machine (so the
README's test command works on a fresh machine). ``shared_mariadb()`` starts one server
for the whole test run (every xdist worker connects to it): it initialises a datadir with
``mariadb-install-db``, starts ``mariadbd`` as the current user (root in CI) on a free
127.0.0.1 port with its socket in the temp dir, creates the ``intel`` database from
``sample_data/intel.sql`` and a read-only user for the handler; ``stop_shared_mariadb()``
stops it when the run is over. Anything that goes wrong raises ``MariaDBError`` with the log's
tail, so the tests that need it fail with the reason instead of being skipped.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

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


@dataclass(frozen=True)
class _Server:
    """A started ``mariadbd`` loaded with the schema: its client view, process and folder."""

    db: MariaDB
    daemon: subprocess.Popen[bytes]
    base: Path


def _start(base: Path, timeout: float) -> _Server:
    """Initialise a datadir in ``base`` (a short path: a unix socket path must stay under 108
    bytes), start ``mariadbd`` on a free 127.0.0.1 port and load the ``intel`` schema."""
    ensure_installed()
    server = _tool("mariadbd", "mysqld")
    install_db = _tool("mariadb-install-db", "mysql_install_db")
    client = _tool("mariadb", "mysql")
    datadir, sock, log = base / "data", base / "mysqld.sock", base / "error.log"
    user = getpass.getuser()
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
        start_new_session=True,  # outlives the xdist worker that started it (shared_mariadb)
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
    except BaseException:
        _stop(daemon.pid, daemon)
        raise
    return _Server(db, daemon, base)


def _stop(pid: int, daemon: subprocess.Popen[bytes] | None = None) -> None:
    """Stop ``mariadbd`` (SIGTERM, then SIGKILL after 30 s); ``daemon`` when this process
    started it (then it is reaped here)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if daemon is not None:
            if daemon.poll() is not None:
                return
        elif not Path(f"/proc/{pid}").exists() or _zombie(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if daemon is not None:
        daemon.wait()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


#: What a shared server's record holds (``shared_mariadb``), beside the connection fields.
_RECORD = "mariadb.json"
#: Servers this process started for the run: kept referenced so the ``Popen`` is not collected.
_STARTED: list[_Server] = []


def shared_mariadb(run_root: Path, timeout: float = 60.0) -> MariaDB:
    """One server for the whole test run, whatever the number of xdist workers: the first
    worker that needs it starts it under a file lock in ``run_root`` (the folder every worker of
    the run shares) and writes its record there; the others read the record and connect to the
    same server (the tests only read the database: the handler's user has SELECT only).
    ``stop_shared_mariadb(run_root)`` stops it once the run is over (the xdist controller's
    session end, or the session's own without xdist). ``starts`` in the record counts the
    servers started, so a run can show it was one."""
    record = run_root / _RECORD
    with FileLock(str(run_root / "mariadb.lock")):
        if record.exists():
            data = json.loads(record.read_text())
            if data["pid"] is not None and _alive(data["pid"]):
                return _db(data)
            starts = int(data["starts"])
        else:
            starts = 0
        base = Path(tempfile.mkdtemp(prefix="mdb-", dir="/tmp"))
        try:
            started = _start(base, timeout)
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise
        _STARTED.append(started)
        fields = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(started.db).items()}
        record.write_text(json.dumps({**fields, "pid": started.daemon.pid, "base": str(base),
                                      "starts": starts + 1,
                                      "by": os.environ.get("PYTEST_XDIST_WORKER", "main")}))
        return started.db


def _db(data: dict[str, Any]) -> MariaDB:
    return MariaDB(data["host"], data["port"], Path(data["socket"]), data["user"],
                   data["password"], data["database"], data["client"])


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and not _zombie(pid)


def stop_shared_mariadb(run_root: Path) -> str | None:
    """Stop the run's shared server, if one was started; returns what it was (for the
    terminal summary: which worker started it and how many times one was started)."""
    record = run_root / _RECORD
    if not record.exists():
        return None
    with FileLock(str(run_root / "mariadb.lock")):
        data = json.loads(record.read_text())
        if data["pid"] is not None:
            mine = next((s.daemon for s in _STARTED if s.daemon.pid == data["pid"]), None)
            _stop(data["pid"], mine)
            shutil.rmtree(data["base"], ignore_errors=True)
            record.write_text(json.dumps({**data, "pid": None}))
    return f"MariaDB: {data['starts']} server(s) started for the run (by {data['by']}), now stopped"


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
