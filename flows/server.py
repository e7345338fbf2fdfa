"""A local Prefect server (SQLite, loopback) for ``make serve`` and the end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

__all__ = ["free_port", "local_prefect_server", "serve_with_local_server", "server_env"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def server_env(home: Path, api_url: str | None = None) -> dict[str, str]:
    """Environment for a Prefect process using ``home`` (SQLite inside it) and ``api_url``."""
    env = dict(os.environ)
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home}/prefect.db",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="false",
        PREFECT_UI_ENABLED="false",
    )
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"prefect server exited with code {proc.returncode} before it was up"
            )
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"prefect server at {url} not healthy after {timeout:.0f} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def local_prefect_server(
    home: str | Path,
    port: int | None = None,
    host: str = "127.0.0.1",
    timeout: float = 90.0,
    log_file: str | Path | None = None,
) -> Iterator[str]:
    """Start ``prefect server start`` on ``host:port`` (SQLite in ``home``); yield its API URL."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port(host)
    api = f"http://{host}:{port}/api"
    log = open(log_file or home / "server.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)],
        env=server_env(home),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_healthy(api, proc, timeout)
        yield api
    finally:
        _stop(proc)
        log.close()


def serve_with_local_server(
    host: str = "127.0.0.1", port: int = 4200, only: list[str] | None = None
) -> int:
    """Start a local server and serve every deployment against it until interrupted."""
    home = Path(os.environ.get("PREFECT_HOME", ".prefect")).resolve()
    with local_prefect_server(home, port, host) as api:
        print(f"Prefect server: {api} (UI off; SQLite at {home}/prefect.db)")
        print(f"In another shell: PREFECT_API_URL={api} prefect deployment run 'gpme-data/default'")
        cmd = [sys.executable, "-m", "flows.deployments"] + (["--only", *only] if only else [])
        proc = subprocess.Popen(cmd, env=server_env(home, api), start_new_session=True)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            _stop(proc)
