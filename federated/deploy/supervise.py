"""Run a Flower process in the foreground and say in one line why it stopped, when known.

Flower's SuperNode refused by the SuperLink (its key not registered) exits with "could not
establish a connection to the SuperLink", which reads as a network fault; the reason is only
in the SuperLink's log. bci-app runs the SuperNode as its child instead of in its place,
passes its output through unchanged, and when the output shows a known failure, ends with
one line naming the cause and the fix.

The child has its own process group and dies with its supervisor (Linux: the parent-death
signal): a terminal's Ctrl-C or a ``kill`` reaches the supervisor, which passes it on once;
a supervisor killed outright takes the child with it.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
DRAIN_S = 2.0
"""Seconds to wait, after the process ended, for the rest of its output."""
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class KnownFailure:
    """A failure recognised in a Flower process's output.

    Parameters
    ----------
    marker : str
        Text that appears in the output when it happens.
    explanation : str
        One sentence: the cause and what to do.
    """

    marker: str
    explanation: str


def supervise(
    command: Sequence[str], environment: dict[str, str], failures: Sequence[KnownFailure]
) -> tuple[int, KnownFailure | None]:
    """Run ``command`` to its end, its output passed through; return its status and failure.

    The failure is the first of ``failures`` whose marker appeared in the output (None when
    none did).
    """
    die_with_parent = _parent_death_signal()
    process = subprocess.Popen(
        list(command),
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        process_group=0,
        preexec_fn=die_with_parent,
    )
    forwarded: set[int] = set()

    def forward(signum: int, frame: object) -> None:
        if signum not in forwarded and process.poll() is None:
            forwarded.add(signum)
            process.send_signal(signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED}
    seen: list[KnownFailure] = []
    reader = threading.Thread(target=_pass_through, args=(process, failures, seen), daemon=True)
    reader.start()
    try:
        status = process.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    # Flower's helper processes hold the output pipe a little longer than the process itself.
    reader.join(DRAIN_S)
    return status, (seen[0] if seen else None)


def _pass_through(
    process: subprocess.Popen, failures: Sequence[KnownFailure], seen: list[KnownFailure]
) -> None:
    """Copy the child's output to ours, noting the first known failure it shows."""
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.buffer.write(line)
        sys.stdout.flush()
        if not seen:
            text = line.decode(errors="replace")
            match = next((failure for failure in failures if failure.marker in text), None)
            if match is not None:
                seen.append(match)


def _parent_death_signal():
    """Return a pre-exec function giving the child SIGKILL when this process dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return arm
