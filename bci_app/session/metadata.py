"""What a session folder holds about its session: subject id, operator, notes, files.

A session folder is ``ROOT/<subject>/<YYYYmmdd-HHMMSS>[-label]/`` with ``session.json``
(this metadata), the recordings, the prediction logs and the report. The subject is stored
only as a checked pseudonymous id (see :mod:`bci_app.session.subject`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .subject import check_subject_id

SESSION_FILE = "session.json"
SESSIONS_ENV = "BCI_APP_SESSIONS"
FORMAT = 1
_LABEL = re.compile(r"[^A-Za-z0-9_-]+")


def default_sessions_dir() -> Path:
    """Return ``$BCI_APP_SESSIONS``, else ``$XDG_DATA_HOME/bci-app/sessions``."""
    explicit = os.environ.get(SESSIONS_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "bci-app" / "sessions"


@dataclass(frozen=True)
class Note:
    """A note of the operator, or a marker the operator set, at a moment of the session.

    Parameters
    ----------
    time : str
        Wall-clock time (UTC, ISO 8601).
    text : str
        What the operator wrote.
    lsl_time : float, optional
        LSL local time, to place it on the recording's clock.
    kind : str
        ``note`` or ``marker``.
    """

    time: str
    text: str
    lsl_time: float | None = None
    kind: str = "note"


@dataclass
class SessionInfo:
    """The metadata of one session.

    Parameters
    ----------
    subject : str
        Pseudonymous subject id (checked by :func:`~bci_app.session.subject.check_subject_id`).
    label : str
        Short name of the session (``calibration``, ``day2``...).
    operator : str
        Who ran it (staff initials).
    created : str
        Start time (UTC, ISO 8601).
    notes : list of Note
        Operator notes and markers, in order.
    recordings : list of dict
        One entry per recording: file names, stop reason, bytes, samples per stream.
    models : list of str
        Models (``name:version``) run or trained during the session.
    """

    subject: str
    label: str = ""
    operator: str = ""
    created: str = field(default_factory=lambda: _now())
    notes: list[Note] = field(default_factory=list)
    recordings: list[dict[str, Any]] = field(default_factory=list)
    models: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.subject = check_subject_id(self.subject)
        self.label = _LABEL.sub("-", self.label.strip()).strip("-")

    def add_note(self, text: str, *, lsl_time: float | None = None, kind: str = "note") -> Note:
        """Append a note (or an operator marker) stamped now and return it."""
        text = text.strip()
        if not text:
            raise ValueError("an empty note is not added")
        note = Note(_now(), text, lsl_time, kind)
        self.notes.append(note)
        return note

    def folder_name(self) -> str:
        """Return the session's folder name: start time and label."""
        stamp = datetime.fromisoformat(self.created).strftime("%Y%m%d-%H%M%S")
        return f"{stamp}-{self.label}" if self.label else stamp

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON data."""
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionInfo:
        """Rebuild from :meth:`to_dict` output."""
        if data.get("format") != FORMAT:
            raise ValueError(f"session metadata format {data.get('format')!r}, expected {FORMAT}")
        return cls(
            subject=data["subject"],
            label=data.get("label", ""),
            operator=data.get("operator", ""),
            created=data["created"],
            notes=[Note(**note) for note in data.get("notes", [])],
            recordings=list(data.get("recordings", [])),
            models=list(data.get("models", [])),
        )

    def save(self, folder: Path) -> Path:
        """Write ``session.json`` into ``folder`` atomically and return its path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / SESSION_FILE
        temporary = path.with_name(f".{SESSION_FILE}.tmp")
        temporary.write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")
        temporary.replace(path)
        return path

    @classmethod
    def load(cls, folder: Path) -> SessionInfo:
        """Read ``session.json`` of a session folder.

        Raises
        ------
        ValueError
            Naming the file when it is missing or unreadable.
        """
        path = Path(folder) / SESSION_FILE
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ValueError(f"{path}: no session metadata (not a session folder)") from None
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{path}: unreadable session metadata ({error})") from error


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
