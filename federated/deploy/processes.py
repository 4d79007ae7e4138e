"""Command lines of Flower's processes, as bci-app runs them.

TLS and SuperNode authentication are on by default; runtime dependency installation and
telemetry are off. Each function returns an argument list; the CLI runs it.
:func:`flower_environment` is the environment every Flower process gets.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from .certs import CertificateSet
from .connection import flwr_home
from .superexec import install_shim

APP_DIR = Path(__file__).resolve().parents[1] / "flower_app"
"""The Flower app (pyproject with ``[tool.flwr.app]``) that ``flwr run`` ships."""

QUIET_ENVIRONMENT = {
    "FLWR_TELEMETRY_ENABLED": "0",
    "FLWR_DISABLE_UPDATE_CHECK": "1",
    "FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION": "1",
}

PROMPT_ENVIRONMENT = {"FLWR_SUPEREXEC_TASK_POLL_INTERVAL": "0.25"}
"""Flower's SuperExec (beside each SuperNode and the SuperLink) asks for new tasks every
second by default, so each ClientApp (one per message) and ServerApp started up to a second
late; it asks every 0.25 s instead, over the local runtime API (unless set already)."""


def flower_environment() -> dict[str, str]:
    """Return this process's environment with telemetry, update checks and installs off.

    ``FLWR_HOME`` is :func:`~.connection.flwr_home` (bci-app's state directory unless set).
    Flower starts its helper processes (``flower-superexec``, ``flwr-clientapp``, ...) by
    name: bci-app's reaping SuperExec (:mod:`.superexec`, in ``FLWR_HOME/bin``) leads
    ``PATH``, then the folder of this Python's scripts. The SuperExec's task polling is
    :data:`PROMPT_ENVIRONMENT`'s unless the environment sets it.
    """
    home = flwr_home()
    scripts = str(Path(sys.executable).parent)
    shim = str(install_shim(home / "bin"))
    path = os.pathsep.join([shim, scripts, os.environ.get("PATH", "")])
    return {
        **PROMPT_ENVIRONMENT,
        **os.environ,
        **QUIET_ENVIRONMENT,
        "FLWR_HOME": str(home),
        "PATH": path,
    }


def executable(name: str) -> str:
    """Return the path of Flower's ``name`` command (beside this Python first, then PATH)."""
    beside = Path(sys.executable).with_name(name)
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name}: not found; install the federated extra (flwr)")
    return found


def superlink_command(
    host: str,
    port: int,
    *,
    certs: CertificateSet | None,
    database: Path | None = None,
    simulation: bool = False,
) -> list[str]:
    """Return the SuperLink command: TLS and SuperNode authentication unless ``certs`` is None.

    ``database`` keeps the SuperLink's state (registered SuperNodes, runs) across restarts.
    """
    command = [executable("flower-superlink"), "--host", host, "--port", str(port)]
    command.append("--disable-runtime-dependency-installation")
    if certs is None:
        command.append("--insecure")
    else:
        certs.check_server()
        command += [
            "--ssl-ca-certfile",
            str(certs.ca),
            "--ssl-certfile",
            str(certs.server_certificate),
            "--ssl-keyfile",
            str(certs.server_key),
            "--enable-supernode-auth",
        ]
    if database is not None:
        command += ["--database", str(database)]
    if simulation:
        command.append("--simulation")
    return command


def supernode_command(
    superlink: str,
    site_file: Path,
    *,
    port: int,
    ca: Path | None,
    private_key: Path | None,
    max_retries: int | None = None,
    max_wait_s: float | None = None,
) -> list[str]:
    """Return the SuperNode command of one site (plain text when ``ca`` is None).

    ``port`` is the SuperNode's own runtime API (where its ClientApp processes connect).
    """
    command = [executable("flower-supernode"), "--superlink", superlink, "--port", str(port)]
    command += ["--node-config", f'site-config="{Path(site_file).resolve()}"']
    if ca is None:
        command.append("--insecure")
    else:
        command += ["--root-certificates", str(ca)]
    if private_key is not None:
        command += ["--auth-supernode-private-key", str(private_key)]
    if max_retries is not None:
        command += ["--max-retries", str(max_retries)]
    if max_wait_s is not None:
        command += ["--max-wait-time", str(max_wait_s)]
    return command


def run_command(
    connection: str,
    run_config: Path,
    *,
    stream: bool = True,
    federation_config: str | None = None,
) -> list[str]:
    """Return ``flwr run`` of the federated app with a run-config file on ``connection``."""
    command = [executable("flwr"), "run", str(APP_DIR), connection]
    command += ["--run-config", str(run_config)]
    if federation_config:
        command += ["--federation-config", federation_config]
    if stream:
        command.append("--stream")
    return command


def register_command(public_key: Path, connection: str, name: str | None = None) -> list[str]:
    """Return ``flwr supernode register`` of one public key on ``connection``."""
    command = [executable("flwr"), "supernode", "register", str(public_key), connection]
    if name:
        command += ["--name", name]
    return command
