"""A recording's quality reports summarised per channel, as a table and as event texts.

Used by ``bci-app quality`` (a file or a stream), the session report and the inlet's events,
so all of them show the same flags, computed by the same :class:`QualityTracker`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .quality import ARTIFACT_KINDS, QualityReport, QualitySettings, QualityTracker

CHANNEL_FLAGS = ("flat", "line_noisy", "out_of_range", "non_finite")
FLAG_KINDS = ARTIFACT_KINDS + CHANNEL_FLAGS
"""Every per-channel flag of a report, artefacts first."""
MEASURES = ("eye_uv", "muscle_db", "jump_uv", "drift_uv_per_s", "saturation_percent")


def assess_recording(
    data: np.ndarray,
    ch_names: Sequence[str],
    ch_types: Sequence[str],
    sfreq: float,
    settings: QualitySettings | None = None,
) -> list[QualityReport]:
    """Run the live quality monitor over a whole recording (n_channels, n_times), in order.

    The monitor is causal and its result does not depend on how the samples are chunked:
    each report is what a live stream would have shown at the end of its block.
    """
    tracker = QualityTracker(ch_names, ch_types, sfreq, settings)
    reports = []
    step = tracker.block
    for start in range(0, data.shape[1] - step + 1, step):
        report = tracker.update(data[:, start : start + step], (start + step) / sfreq)
        if report is not None:
            reports.append(report)
    if not reports:
        raise ValueError(
            f"{data.shape[1] / sfreq:.2f} s of signal is shorter than one quality block "
            f"({step / sfreq:g} s)"
        )
    return reports


@dataclass(frozen=True)
class ChannelQuality:
    """One channel's quality over a recording: share of blocks flagged, median measures."""

    name: str
    kind: str
    flagged: dict[str, float]
    measures: dict[str, float]


def channel_summary(reports: list[QualityReport], ch_types: Sequence[str]) -> list[ChannelQuality]:
    """Return per channel the share of blocks with each flag and the median of each measure."""
    rows = []
    for index, (name, kind) in enumerate(zip(reports[0].ch_names, ch_types, strict=True)):
        flagged = {
            flag: float(np.mean([getattr(r, flag)[index] for r in reports])) for flag in FLAG_KINDS
        }
        measures = {}
        for measure in MEASURES:
            values = np.array([r.measures[measure][index] for r in reports if r.measures])
            finite = values[np.isfinite(values)]
            measures[measure] = float(np.median(finite)) if finite.size else float("nan")
        rows.append(ChannelQuality(name, kind, flagged, measures))
    return rows


def format_table(rows: list[ChannelQuality], *, only_flagged: bool = False) -> str:
    """Return the per-channel summary as a markdown table (percent of blocks flagged)."""
    header = ["channel", "type", *FLAG_KINDS, "eye µV", "muscle dB", "jump µV", "drift µV/s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        if only_flagged and not any(row.flagged.values()):
            continue
        shares = [
            f"{100 * row.flagged[flag]:.0f}%" if row.flagged[flag] else "" for flag in FLAG_KINDS
        ]
        values = [
            "" if np.isnan(row.measures[m]) else f"{row.measures[m]:.1f}" for m in MEASURES[:4]
        ]
        lines.append("| " + " | ".join([row.name, row.kind, *shares, *values]) + " |")
    return "\n".join(lines)


def artifact_text(report: QualityReport) -> str | None:
    """Return the artefacts of one block in words (``eye: Fp1, Fp2; muscle: T7``), or None."""
    parts = []
    for kind in ARTIFACT_KINDS:
        names = [n for n, flag in zip(report.ch_names, getattr(report, kind), strict=True) if flag]
        if names:
            shown = ", ".join(names[:6]) + (f" (+{len(names) - 6})" if len(names) > 6 else "")
            parts.append(f"{kind}: {shown}")
    return "; ".join(parts) if parts else None
