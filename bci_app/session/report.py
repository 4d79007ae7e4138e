"""The session report: one self-contained HTML file with the session's figures and tables.

Sections: the session (pseudonymous subject id, operator, recordings, models), operator notes,
a signals overview of each recording (per-channel RMS over time, with gaps and events; the
last seconds of a few channels), the decoders' outputs over time, a latency histogram with
percentiles per stage, and the events (markers, stream losses, warnings). Figures are PNG
images drawn with matplotlib (no display needed) and embedded in the file.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .metadata import SessionInfo

if TYPE_CHECKING:
    from matplotlib.figure import Figure

REPORT_FILE = "report.html"
_MAX_EVENT_ROWS = 500
_TRACE_SECONDS = 10.0
_TRACE_CHANNELS = 8
_EXPLAINED_SHOWN = 3
_STAGES = ("acquisition", "buffering", "preprocessing", "inference", "publication", "e2e")


@dataclass
class _Recording:
    """What the report shows of one XDF file."""

    name: str
    start: float | None = None  # LSL time of the first signal sample
    raws: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[float, str, str]] = field(default_factory=list)  # (time, stream, text)
    problem: str | None = None


def write_report(folder: Path, *, title: str = "Session report") -> Path:
    """Write ``report.html`` into a session folder and return its path.

    Parameters
    ----------
    folder : Path
        A session folder (``session.json``, ``rec-*.xdf``, ``predictions*.jsonl``).
    title : str
        Heading of the report.

    Raises
    ------
    ValueError
        When the folder holds no session metadata.
    """
    folder = Path(folder)
    info = SessionInfo.load(folder)
    recordings = [_read_recording(path) for path in sorted(folder.glob("rec-*.xdf"))]
    predictions = _read_predictions(sorted(folder.glob("predictions*.jsonl")))
    origin = min((r.start for r in recordings if r.start is not None), default=None)
    parts = [_header(info, title), _notes(info)]
    for recording in recordings:
        parts.append(_signals_section(recording))
    parts.append(_decoder_section(predictions, origin))
    parts.append(_explanation_section(predictions, origin))
    parts.append(_latency_section(predictions))
    parts.append(_events_section(recordings, origin))
    document = _PAGE.format(title=html.escape(title), body="\n".join(parts))
    path = folder / REPORT_FILE
    path.write_text(document, encoding="utf-8")
    return path


# -- reading --------------------------------------------------------------------------------


def _read_recording(path: Path) -> _Recording:
    import pyxdf

    from acquisition.export import xdf_to_raws

    recording = _Recording(path.name)
    try:
        streams, _ = pyxdf.load_xdf(str(path), verbose=False, dejitter_timestamps=False)
        recording.raws = xdf_to_raws(path)
    except Exception as error:  # the report says what could not be read, and goes on
        recording.problem = f"{path.name}: could not be read ({error})"
        return recording
    if not streams:
        recording.problem = f"{path.name}: holds no readable stream (damaged, or not XDF)"
        return recording
    starts = []
    for stream in streams:
        info = stream["info"]
        stamps = stream["time_stamps"]
        name = info["name"][0]
        if float(info["nominal_srate"][0]) > 0:
            if len(stamps):
                starts.append(float(stamps[0]))
            continue
        for stamp, row in zip(stamps, stream["time_series"], strict=False):
            recording.events.append((float(stamp), name, "|".join(str(v) for v in row)))
    recording.start = min(starts) if starts else None
    recording.events.sort()
    return recording


def _read_predictions(paths: Iterable[Path]) -> dict[str, list[dict[str, Any]]]:
    """Return the predictions of every log, by runner (unreadable lines are skipped)."""
    runners: dict[str, list[dict[str, Any]]] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash
            if entry.get("kind") == "prediction":
                runners.setdefault(entry["runner"], []).append(entry)
    return runners


# -- sections -------------------------------------------------------------------------------


def _header(info: SessionInfo, title: str) -> str:
    rows = [
        ("Subject (pseudonymous id)", info.subject),
        ("Session", info.label or "-"),
        ("Operator", info.operator or "-"),
        ("Started (UTC)", info.created),
        ("Models", ", ".join(info.models) or "-"),
    ]
    table = _table(("", ""), rows, header=False)
    recordings = _table(
        ("file", "stop", "bytes", "samples", "FIF copies"),
        [
            (
                entry.get("xdf", ""),
                entry.get("stop_reason", ""),
                f"{entry.get('bytes', 0):,}",
                ", ".join(f"{k}: {v}" for k, v in entry.get("samples", {}).items()),
                ", ".join(entry.get("fif", [])) or "-",
            )
            for entry in info.recordings
        ],
    )
    return f"<h1>{html.escape(title)}</h1>{table}<h2>Recordings</h2>{recordings}"


def _notes(info: SessionInfo) -> str:
    rows = [(note.time, note.kind, note.text) for note in info.notes]
    return "<h2>Operator notes and markers</h2>" + _table(("time (UTC)", "kind", "text"), rows)


def _signals_section(recording: _Recording) -> str:
    heading = f"<h2>Signals: {html.escape(recording.name)}</h2>"
    if recording.problem:
        return heading + f"<p class='problem'>{html.escape(recording.problem)}</p>"
    if not recording.raws:
        return heading + "<p>No signal stream in this recording.</p>"
    parts = [heading]
    for name, raw in recording.raws.items():
        parts.append(f"<h3>{html.escape(name)}</h3>")
        parts.append(_summary_line(raw))
        parts.append(_image(_overview_figure(raw, name)))
        parts.append(_quality_table(raw))
    return "\n".join(parts)


def _quality_table(raw: Any) -> str:
    """Return the channels the quality monitor flagged, with the share of blocks per flag."""
    from acquisition.quality import QualitySettings
    from acquisition.quality_summary import FLAG_KINDS, assess_recording, channel_summary

    types = raw.get_channel_types()
    try:
        reports = assess_recording(raw.get_data(), raw.ch_names, types, raw.info["sfreq"])
    except ValueError as error:  # shorter than one block
        return f"<p>Quality: {html.escape(str(error))}.</p>"
    rows = [
        (row.name, row.kind, *(f"{100 * row.flagged[f]:.0f}%" for f in FLAG_KINDS))
        for row in channel_summary(reports, types)
        if any(row.flagged.values())
    ]
    title = (
        f"<p>Quality flags: share of {len(reports)} blocks of {QualitySettings().window:g} s "
        "(the monitor of the viewer and of <code>bci-app quality</code>).</p>"
    )
    return title + _table(("channel", "type", *FLAG_KINDS), rows)


def _summary_line(raw: Any) -> str:
    types = Counter(raw.get_channel_types())
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(types.items()))
    gaps = [a for a in raw.annotations if a["description"] == "BAD_ACQ_SKIP"]
    missing = sum(a["duration"] for a in gaps)
    gap_text = f"; {len(gaps)} gap(s), {missing:.2f} s missing" if gaps else "; no gap"
    return (
        f"<p>{kinds} at {raw.info['sfreq']:g} Hz, {raw.n_times / raw.info['sfreq']:.1f} s"
        f"{gap_text}.</p>"
    )


def _overview_figure(raw: Any, name: str) -> Figure:
    from matplotlib.figure import Figure

    sfreq = raw.info["sfreq"]
    data = raw.get_data()
    block = max(1, round(sfreq))
    n_blocks = max(1, data.shape[1] // block)
    trimmed = data[:, : n_blocks * block].reshape(data.shape[0], n_blocks, -1)
    rms = np.sqrt(np.mean(trimmed**2, axis=2)) if trimmed.shape[2] else np.zeros((1, 1))
    figure = Figure(figsize=(10, 6.5), layout="constrained")
    top, bottom = figure.subplots(2, 1, height_ratios=(1.2, 1))
    # RMS relative to each channel's median, so channels of any type and unit compare.
    reference = np.median(rms, axis=1, keepdims=True)
    relative = np.divide(rms, reference, out=np.zeros_like(rms), where=reference > 0)
    image = top.imshow(
        np.log10(np.clip(relative, 1e-2, 1e2)),
        aspect="auto",
        origin="lower",
        cmap="RdBu_r",
        vmin=-1,
        vmax=1,
        extent=(0, n_blocks * block / sfreq, 0, data.shape[0]),
        interpolation="nearest",
    )
    figure.colorbar(image, ax=top, label="log10 RMS / channel median")
    top.set(title=f"{name}: RMS per channel and second", xlabel="time (s)", ylabel="channel")
    for annotation in raw.annotations:
        if annotation["description"] == "BAD_ACQ_SKIP":
            top.axvspan(
                annotation["onset"],
                annotation["onset"] + annotation["duration"],
                color="k",
                alpha=0.4,
            )
    start = max(0, data.shape[1] - round(_TRACE_SECONDS * sfreq))
    picks = np.arange(min(_TRACE_CHANNELS, data.shape[0]))
    times = np.arange(start, data.shape[1]) / sfreq
    segment = data[picks, start:]
    spread = np.nanmax(np.ptp(segment, axis=1)) if segment.size else 1.0
    spread = spread if spread > 0 else 1.0
    for row in range(picks.size):
        trace = segment[row] - np.mean(segment[row])
        bottom.plot(times, trace / spread - row, linewidth=0.6)
    bottom.set_yticks(-np.arange(picks.size), [raw.ch_names[i] for i in picks])
    for annotation in raw.annotations:
        onset = annotation["onset"]
        if times.size and times[0] <= onset <= times[-1]:
            bottom.axvline(onset, color="tab:red", linewidth=0.8, alpha=0.7)
    bottom.set(title=f"last {_TRACE_SECONDS:g} s (markers in red)", xlabel="time (s)")
    return figure


def _decoder_section(runners: dict[str, list[dict[str, Any]]], origin: float | None) -> str:
    heading = "<h2>Decoder output</h2>"
    if not runners:
        return heading + "<p>No decoder ran during this session.</p>"
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 2.6 * len(runners)), layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(runners), 1, squeeze=False)[:, 0])
    rows = []
    for axis, (runner, entries) in zip(axes, runners.items(), strict=True):
        names = entries[-1]["output_names"]
        stamps = np.array([e["timestamp"] for e in entries])
        zero = origin if origin is not None else stamps[0]
        outputs = np.array([e["outputs"] for e in entries if len(e["outputs"]) == len(names)])
        times = stamps[: len(outputs)] - zero
        for column, label in enumerate(names[:10]):
            axis.plot(times, outputs[:, column], linewidth=0.8, label=label)
        axis.set(title=f"{runner} ({entries[-1]['model']})", xlabel="time (s)", ylabel="output")
        axis.legend(loc="upper right", fontsize="small", ncol=min(5, len(names)))
        decided = Counter(e["label"] for e in entries)
        gaps = sum(bool(e.get("gap")) for e in entries)
        rows.append(
            (
                runner,
                entries[-1]["model"],
                len(entries),
                ", ".join(f"{k} {v}" for k, v in decided.most_common(6)),
                gaps,
            )
        )
    table = _table(("runner", "model", "predictions", "decisions", "with gaps"), rows)
    return heading + table + _image(figure)


def _explanation_section(runners: dict[str, list[dict[str, Any]]], origin: float | None) -> str:
    """Draw the last explained decisions of each runner whose model explains itself."""
    explained = {
        runner: [e for e in entries if e.get("explanation")][-_EXPLAINED_SHOWN:]
        for runner, entries in runners.items()
    }
    explained = {runner: entries for runner, entries in explained.items() if entries}
    if not explained:
        return ""
    from matplotlib.figure import Figure

    heading = "<h2>Why the decoders decided</h2>"
    about = {e["explanation"].get("about", "") for v in explained.values() for e in v}
    parts = [heading, f"<p>{html.escape('; '.join(sorted(about - {''})))}</p>"]
    for runner, entries in explained.items():
        figure = Figure(
            figsize=(3.6 * len(entries), 0.6 + 0.22 * _rows(entries)), layout="constrained"
        )
        axes = np.atleast_1d(figure.subplots(1, len(entries), squeeze=False)[0])
        for axis, entry in zip(axes, entries, strict=True):
            _draw_explanation(axis, entry, origin)
        parts.append(f"<h3>{html.escape(runner)} ({html.escape(entries[-1]['model'])})</h3>")
        parts.append(_image(figure))
    return "\n".join(parts)


def _rows(entries: list[dict[str, Any]]) -> int:
    return max(len(e["explanation"]["values"]) for e in entries)


def _draw_explanation(axis: Any, entry: dict[str, Any], origin: float | None) -> None:
    """Draw one decision's evidence map (rows: channels, columns: token times)."""
    explanation = entry["explanation"]
    values = np.asarray(explanation["values"], dtype=float)
    limit = float(np.max(np.abs(values))) or 1.0
    step = float(explanation.get("step_s", 1.0))
    axis.imshow(
        values,
        aspect="auto",
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        extent=(0, values.shape[1] * step, values.shape[0] - 0.5, -0.5),
    )
    rows = explanation.get("rows", [])
    if len(rows) == values.shape[0] and len(rows) <= 40:
        axis.set_yticks(range(len(rows)), rows, fontsize=6)
    moment = entry["timestamp"] - (origin or 0.0)
    marker = f", marker {entry['marker']}" if entry.get("marker") else ""
    axis.set_title(f"{entry['label']} at {moment:.1f} s{marker}", fontsize=8)
    axis.set_xlabel(f"time in the window (s); colour: {explanation.get('unit', '')}", fontsize=7)


def _latency_section(runners: dict[str, list[dict[str, Any]]]) -> str:
    heading = "<h2>Latency</h2>"
    traces = [e["latency_ms"] for entries in runners.values() for e in entries]
    if not traces:
        return heading + "<p>No prediction, no latency measured.</p>"
    from matplotlib.figure import Figure

    table = np.array([[trace[stage] for stage in _STAGES] for trace in traces])
    rows = [
        (stage, *(f"{v:.2f}" for v in np.percentile(table[:, index], [50, 95, 99])))
        for index, stage in enumerate(_STAGES)
    ]
    figure = Figure(figsize=(10, 3.2), layout="constrained")
    left, right = figure.subplots(1, 2)
    left.hist(table[:, _STAGES.index("e2e")], bins=50, color="tab:blue")
    left.set(title="end to end (sample to published)", xlabel="ms", ylabel="predictions")
    right.hist(table[:, _STAGES.index("inference")], bins=50, color="tab:orange")
    right.set(title="inference (ONNX Runtime)", xlabel="ms")
    return (
        heading
        + _table(("stage", "p50 ms", "p95 ms", "p99 ms"), rows)
        + _image(figure)
        + f"<p>{len(traces)} predictions.</p>"
    )


def _events_section(recordings: list[_Recording], origin: float | None) -> str:
    heading = "<h2>Events</h2>"
    events = sorted(e for recording in recordings for e in recording.events)
    if not events:
        return heading + "<p>No marker or acquisition event recorded.</p>"
    zero = origin if origin is not None else events[0][0]
    counts = Counter((stream, text) for _, stream, text in events)
    summary = _table(
        ("stream", "marker", "count"),
        [(stream, text, count) for (stream, text), count in counts.most_common(30)],
    )
    shown = events[:_MAX_EVENT_ROWS]
    rows = [(f"{time - zero:.3f}", stream, text) for time, stream, text in shown]
    more = len(events) - len(shown)
    tail = f"<p>{more} more events in the recordings.</p>" if more > 0 else ""
    return heading + summary + _table(("time (s)", "stream", "event"), rows) + tail


# -- HTML -----------------------------------------------------------------------------------


def _table(columns: tuple[str, ...], rows: Iterable[tuple], *, header: bool = True) -> str:
    rows = list(rows)
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns) if header else ""
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(value))}</td>" for value in row) + "</tr>"
        for row in rows
    )
    return f"<table>{'<tr>' + head + '</tr>' if head else ''}{body}</table>"


def _image(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"<img alt='figure' src='data:image/png;base64,{encoded}'>"


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1000px; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1em; }}
td, th {{ border: 1px solid #bbb; padding: 2px 8px; text-align: left; font-size: 90%; }}
img {{ max-width: 100%; }}
.problem {{ color: #b00; }}
</style></head><body>
{body}
</body></html>
"""
