"""Recording a session: numbered XDF files in the session folder, operator markers and notes.

A :class:`SessionRecorder` wraps the crash-safe :class:`~acquisition.recorder.Recorder` for
one session folder: each :meth:`SessionRecorder.start` opens the next ``rec-NN.xdf`` with
every stream open in the acquisition session, markers typed by the operator go into the
recording and into ``session.json``, and :meth:`SessionRecorder.stop` (or a recorder that
stopped by itself, on a full disk) writes what was kept into the metadata.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .metadata import SessionInfo

if TYPE_CHECKING:
    from acquisition.recorder import Recorder, RecordingResult
    from acquisition.session import AcquisitionSession


@dataclass(frozen=True)
class RecordingStatus:
    """Where the current recording stands.

    Parameters
    ----------
    path : Path, optional
        The XDF file (None when nothing was recorded yet).
    recording : bool
        True while samples are written.
    seconds : float
        Time since the recording started.
    bytes_written : int
        Size of the file on disk.
    failure : str, optional
        Why the recorder stopped by itself (disk full, write error, size limit).
    """

    path: Path | None
    recording: bool
    seconds: float
    bytes_written: int
    failure: str | None


class SessionRecorder:
    """Records the streams of an acquisition session into one session folder.

    Parameters
    ----------
    acquisition : AcquisitionSession
        The open streams (each recording takes those open when it starts).
    info : SessionInfo
        The session's metadata, kept up to date in ``session.json``.
    folder : Path
        The session folder (created when needed).
    **recorder_options
        Passed to :class:`~acquisition.recorder.Recorder` (``max_bytes``, ``flush_interval``,
        ``opener``...).
    """

    def __init__(
        self,
        acquisition: AcquisitionSession,
        info: SessionInfo,
        folder: Path,
        **recorder_options: Any,
    ) -> None:
        self.acquisition = acquisition
        self.info = info
        self.folder = Path(folder)
        self.recorder_options = recorder_options
        self.recorder: Recorder | None = None
        self.results: list[RecordingResult] = []
        self._started = 0.0
        self.info.save(self.folder)

    @property
    def recording(self) -> bool:
        """Return True while a recording writes samples."""
        return self.recorder is not None and self.recorder.recording

    def next_path(self) -> Path:
        """Return the file the next recording goes to (``rec-01.xdf``, ``rec-02.xdf``...)."""
        index = 1
        while (self.folder / f"rec-{index:02d}.xdf").exists():
            index += 1
        return self.folder / f"rec-{index:02d}.xdf"

    def start(self) -> Path:
        """Start recording every open stream into the next file and return its path.

        Raises
        ------
        RuntimeError
            When a recording is running, or no stream is open.
        """
        if self.recorder is not None:
            raise RuntimeError(f"already recording to {self.recorder.path}")
        if not self.acquisition.inlets:
            raise RuntimeError("no stream is open: connect a stream before recording")
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.next_path()
        self.recorder = self.acquisition.record(path, **self.recorder_options)
        self._started = time.monotonic()
        return path

    def status(self) -> RecordingStatus:
        """Return the current recording's state (the last one's after it stopped)."""
        recorder = self.recorder
        if recorder is None:
            last = self.results[-1] if self.results else None
            return RecordingStatus(
                last.xdf if last else None,
                False,
                0.0,
                last.bytes_written if last else 0,
                None if last is None or last.stop_reason == "stopped" else last.stop_reason,
            )
        failure = recorder.stop_reason if recorder.stop_reason not in (None, "stopped") else None
        return RecordingStatus(
            recorder.path,
            recorder.recording,
            time.monotonic() - self._started,
            recorder.bytes_written,
            failure,
        )

    def marker(self, text: str, timestamp: float | None = None) -> None:
        """Put an operator marker into the recording (when recording) and the metadata.

        Parameters
        ----------
        text : str
            The marker.
        timestamp : float, optional
            LSL local time of the event (now by default).
        """
        import pylsl

        text = text.strip()
        if not text:
            raise ValueError("an empty marker is not sent")
        stamp = pylsl.local_clock() if timestamp is None else timestamp
        if self.recording:
            self.recorder.add_marker(text, stamp)
        self.info.add_note(text, lsl_time=stamp, kind="marker")
        self.info.save(self.folder)

    def note(self, text: str) -> None:
        """Add an operator note to the metadata."""
        import pylsl

        self.info.add_note(text, lsl_time=pylsl.local_clock())
        self.info.save(self.folder)

    def add_model(self, ref: str) -> None:
        """Note a model run or trained during the session."""
        if ref not in self.info.models:
            self.info.models.append(ref)
            self.info.save(self.folder)

    def stop(self) -> RecordingResult:
        """Stop the recording (clean stop: footers and FIF copies) and note it in the metadata.

        Also the way to close a recording that stopped by itself on a failing disk: what was
        written before the failure is kept and the failure is noted.

        Raises
        ------
        RuntimeError
            When nothing is being recorded.
        """
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            raise RuntimeError("not recording")
        result = recorder.stop()
        self.results.append(result)
        self.info.recordings.append(
            {
                "xdf": result.xdf.name,
                "fif": [path.name for path in result.fif],
                "stop_reason": result.stop_reason,
                "bytes": result.bytes_written,
                "samples": result.samples,
                "started": recorder.started_at.isoformat(timespec="seconds")
                if recorder.started_at
                else None,
            }
        )
        self.info.save(self.folder)
        return result


def fif_of_stream(result: RecordingResult, stream: str) -> Path | None:
    """Return the FIF copy of ``stream`` a stopped recording exported (None when there is none)."""
    import re

    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", stream).strip("-")
    return next((path for path in result.fif if path.name.endswith(f"_{safe}_raw.fif")), None)
