"""Output made in a staging folder and moved into place only once complete.

A training writes its run folder and its exported model into a staging folder beside their
destination; only a finished job moves the run folder into place and registers the model, so
a job stopped half-way (cancelled, killed, failed) leaves nothing behind but the staging
folder, which is removed. :func:`run_staged` runs such a job in this process;
:class:`~.child.ChildTask` runs its work in a child process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol


class StagedJob(Protocol):
    """Work whose output is written into a staging folder, then moved into place.

    A job may be pickled into a child process: plain values only (paths, names, plans).
    """

    out: Path
    """Where the finished output goes (its staging folder is made beside it)."""

    def stage(self, staging: Path, progress: Callable[[str], None]) -> Any:
        """Do the work into ``staging``; return what :meth:`finish` needs."""

    def finish(self, staged: Any, staging: Path) -> Any:
        """Move the output of ``staging`` into place; return the result."""


def staging_folder(out: Path) -> Path:
    """Return a new, empty staging folder beside ``out`` (same file system: moves are renames)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))


def run_staged(job: StagedJob, progress: Callable[[str], None] = lambda text: None) -> Any:
    """Run ``job`` in this process and return its result; the staging folder never stays."""
    staging = staging_folder(job.out)
    try:
        return job.finish(job.stage(staging, progress), staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def place(source: Path, out: Path) -> None:
    """Move the folder ``source`` to ``out`` (which must not exist, or be empty).

    Raises
    ------
    FileExistsError
        When ``out`` holds something: nothing is overwritten.
    """
    out = Path(out)
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if out.exists():
        raise FileExistsError(f"{out} exists and is not empty: nothing is overwritten")
    os.replace(source, out)
