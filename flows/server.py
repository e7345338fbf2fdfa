"""A local Prefect server (SQLite, loopback) for ``make serve`` and the end-to-end tests.

With ``ui=True`` the server also serves Prefect's web UI at its root (``http://127.0.0.1:4200``),
next to the API (``.../api``). The UI is the bundle shipped inside the ``prefect`` package, so it
works offline; it is copied once into ``$PREFECT_HOME/ui`` (not into site-packages), and its
promotional content and the server's analytics stay off.
"""

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

__all__ = ["free_port", "local_prefect_server", "serve_with_local_server", "server_env", "ui_url"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def server_env(home: Path, api_url: str | None = None, ui: bool = False) -> dict[str, str]:
    """Environment for a Prefect process using ``home`` (SQLite inside it) and ``api_url``.

    ``ui`` matters only to the server process: with ``True`` it serves the web UI (the bundle in
    the prefect package, copied into ``home/ui``) talking to ``api_url``; with ``False`` no UI.
    """
    env = dict(os.environ)
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home}/prefect.db",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="true" if ui else "false",
        # the legacy alias of the same setting: set both so an older value in the caller's
        # environment cannot win
        PREFECT_UI_ENABLED="true" if ui else "false",
    )
    if ui:
        env.update(
            PREFECT_SERVER_UI_STATIC_DIRECTORY=str(Path(home) / "ui"),
            PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT="false",
        )
        if api_url:  # the URL the browser's UI calls; by default derived from host and port
            env["PREFECT_SERVER_UI_API_URL"] = api_url
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def ui_url(api_url: str) -> str:
    """The UI's URL of a local server whose API is ``api_url`` (``http://host:port/api``)."""
    return api_url.rstrip("/").removesuffix("/api")


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
    ui: bool = False,
) -> Iterator[str]:
    """Start ``prefect server start`` on ``host:port`` (SQLite in ``home``); yield its API URL.

    With ``ui`` the server also serves the web UI at :func:`ui_url` of the API URL; the first
    start copies the UI bundle into ``home/ui`` (a few seconds), later starts reuse it.
    """
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port(host)
    api = f"http://{host}:{port}/api"
    log = open(log_file or home / "server.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)],
        # the server itself never gets a PREFECT_API_URL, not even one the caller exported
        env={k: v for k, v in server_env(home, api, ui=ui).items() if k != "PREFECT_API_URL"},
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
    """Start a local server with its UI and serve every deployment against it until interrupted."""
    home = Path(os.environ.get("PREFECT_HOME", ".prefect")).resolve()
    with local_prefect_server(home, port, host, ui=True) as api:
        print(f"Prefect UI:  {ui_url(api)}  (deployments, schedules, flow runs, artifacts)")
        print(f"Prefect API: {api}  (SQLite at {home}/prefect.db)")
        print(f"In another shell: PREFECT_API_URL={api} prefect deployment run 'gpme-data/default'")
        cmd = [sys.executable, "-m", "flows.deployments"] + (["--only", *only] if only else [])
        proc = subprocess.Popen(cmd, env=server_env(home, api), start_new_session=True)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            _stop(proc)
