"""A whole deployment on this machine's loopback, one process per Flower component.

One SuperLink and one SuperNode per site, each a separate process started through
``bci-app fed``, over TLS with authenticated nodes. The benchmark and the tests use it; it is also a quick way to try a deployment before
spreading it over machines. Every process it starts is stopped, by its process id, on exit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .certs import CertificateSet, make_certificates
from .network import free_port, wait_reachable
from .processes import flower_environment
from .runs import stop_process_group


def bci_app_command(*arguments: str) -> list[str]:
    """Return the command line of ``bci-app ARGUMENTS`` with this Python."""
    return [sys.executable, "-m", "bci_app", *arguments]


@dataclass
class LoopbackDeployment:
    """Processes of a loopback deployment, started on demand and stopped on exit.

    Parameters
    ----------
    folder : Path
        Certificates, SuperLink state and process logs go here.
    tls : bool
        TLS with SuperNode authentication (default) or plain text.
    """

    folder: Path
    tls: bool = True
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        (self.folder / "logs").mkdir(parents=True, exist_ok=True)

    @property
    def address(self) -> str:
        """Return the SuperLink's ``host:port``."""
        return f"127.0.0.1:{self.port}"

    @property
    def certs(self) -> CertificateSet:
        """Return the deployment's certificate folder."""
        return CertificateSet(self.folder / "certs")

    def security(self) -> list[str]:
        """Return the ``bci-app fed`` options of this deployment's security."""
        return ["--certs", str(self.certs.folder)] if self.tls else ["--insecure"]

    def make_keys(self, names: list[str]) -> CertificateSet:
        """Create the CA, the SuperLink's certificate and a key pair per SuperNode name."""
        return make_certificates(self.certs.folder, names)

    def start_superlink(self) -> subprocess.Popen:
        """Start (or restart) the SuperLink, keeping its state in the folder; wait for it."""
        process = self._start(
            "superlink",
            "fed",
            "superlink",
            "--port",
            str(self.port),
            "--state",
            str(self.folder / "superlink-state"),
            *self.security(),
        )
        wait_reachable(
            self.address,
            attempts=40,
            first_delay=0.5,
            factor=1.0,
            log=lambda _: None,
            give_up=lambda: None if process.poll() is None else "the SuperLink exited",
        )
        return process

    def register(self, names: list[str]) -> subprocess.CompletedProcess:
        """Register the public keys of SuperNodes ``names`` with the SuperLink."""
        keys = [str(self.certs.node_public_key(name)) for name in names]
        return self.call("fed", "register", *keys, "--superlink", self.address, *self.security())

    def start_supernode(
        self, name: str, site_file: Path, *, key_name: str | None = None
    ) -> subprocess.Popen:
        """Start the SuperNode of ``site_file``, authenticated by key ``key_name`` or ``name``."""
        security = ["--insecure"]
        if self.tls:
            key = self.certs.node_key(key_name or name)
            security = ["--ca", str(self.certs.ca), "--key", str(key)]
        return self._start(
            name,
            "fed",
            "supernode",
            "--site",
            str(site_file),
            "--superlink",
            self.address,
            *security,
        )

    def run(
        self, config_file: Path, *extra: str, timeout: float = 1800
    ) -> subprocess.CompletedProcess:
        """Run ``bci-app fed run`` with a federation file; return the finished process."""
        return self.call(
            "fed",
            "run",
            "--config",
            str(config_file),
            "--superlink",
            self.address,
            *self.security(),
            *extra,
            timeout=timeout,
        )

    def start_run(self, config_file: Path, *extra: str) -> subprocess.Popen:
        """Start ``bci-app fed run`` in the background (its output goes to the ``run`` log)."""
        return self._start(
            "run",
            "fed",
            "run",
            "--config",
            str(config_file),
            "--superlink",
            self.address,
            *self.security(),
            *extra,
        )

    def call(self, *arguments: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run a ``bci-app`` command to its end, output captured."""
        return subprocess.run(
            bci_app_command(*arguments),
            env=flower_environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def log(self, name: str) -> str:
        """Return what process ``name`` wrote so far."""
        path = self.folder / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.is_file() else ""

    def stop(self, name: str, *, crash: bool = False) -> None:
        """Stop process ``name`` and its children (``crash``: SIGKILL, no clean shutdown)."""
        process = self.processes.pop(name, None)
        if process is None:
            return
        if crash:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        stop_process_group(process)

    def stop_all(self) -> None:
        """Stop every process this deployment started."""
        for name in list(self.processes):
            self.stop(name)

    def wait_for_log(self, name: str, text: str, timeout: float) -> bool:
        """Return True once ``text`` appears in process ``name``'s log (False on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log(name):
                return True
            time.sleep(0.5)
        return False

    def __enter__(self) -> LoopbackDeployment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def _start(self, name: str, *arguments: str) -> subprocess.Popen:
        self.stop(name)
        log = open(self.folder / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - closed by the child
        try:
            process = subprocess.Popen(
                bci_app_command(*arguments),
                env=flower_environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        self.processes[name] = process
        return process
