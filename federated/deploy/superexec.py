"""Flower's SuperExec, reaping the app processes it starts.

The SuperLink and every SuperNode start Flower's SuperExec (``flower-superexec``, found on
``PATH``), which starts one ``flwr-serverapp`` or ``flwr-clientapp`` process per task and
never waits for it (Flower 1.42): each finished app process stays a zombie (``<defunct>``)
until the SuperExec starts the next one or exits. bci-app puts a ``flower-superexec`` of its
own first on Flower's ``PATH`` (:func:`install_shim`): the same SuperExec, with a SIGCHLD
handler that reaps every finished child at once.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

COMMAND = "flower-superexec"


def main() -> None:
    """Run Flower's SuperExec with finished children reaped as they exit."""
    signal.signal(signal.SIGCHLD, _reap)
    from flwr.supercore.cli import flower_superexec

    flower_superexec()


def _reap(signum: int, frame: object) -> None:
    """Collect the exit status of every child that has finished (never blocks)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def install_shim(folder: Path) -> Path:
    """Write ``folder/flower-superexec`` running :func:`main` with this Python; return ``folder``.

    Rewritten only when its content changes (another Python, a moved installation).
    """
    folder = Path(folder)
    script = folder / COMMAND
    text = f"#!{sys.executable}\nfrom federated.deploy.superexec import main\n\nmain()\n"
    if not script.is_file() or script.read_text() != text:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{COMMAND}.tmp"
        temporary.write_text(text)
        temporary.chmod(0o755)
        os.replace(temporary, script)
    return folder
