"""The run's history: per-round, per-site metrics, rejected updates, traffic, and a plot."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

HISTORY_NAME = "history.json"
PLOT_NAME = "history.png"


def clean(value: Any) -> Any:
    """Return ``value`` with NaN/Inf floats as None, so the file is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def write_history(folder: Path, history: dict[str, Any]) -> Path:
    """Write ``history.json`` atomically and redraw ``history.png``; return the JSON path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / HISTORY_NAME
    temporary = folder / f".{HISTORY_NAME}.tmp"
    temporary.write_text(json.dumps(clean(history), indent=1, allow_nan=False))
    temporary.replace(path)
    plot_history(history, folder / PLOT_NAME)
    return path


def plot_history(history: dict[str, Any], path: Path) -> None:
    """Plot validation accuracy and loss per site and aggregated, against the round."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = history.get("rounds", [])
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for axis, metric, label in (
        (axes[0], "valid-accuracy", "validation accuracy"),
        (axes[1], "valid-loss", "validation loss"),
    ):
        sites = sorted({site for r in rounds for site in r.get("evaluate", {})})
        for site in sites:
            points = [
                (r["round"], r["evaluate"][site][metric])
                for r in rounds
                if metric in r.get("evaluate", {}).get(site, {})
            ]
            if points:
                axis.plot(*zip(*points, strict=True), marker=".", label=site, alpha=0.8)
        overall = [
            (r["round"], r["aggregated"][metric])
            for r in rounds
            if r.get("aggregated", {}).get(metric) is not None
        ]
        if overall:
            axis.plot(
                *zip(*overall, strict=True),
                color="black",
                linewidth=2.5,
                label="all sites (weighted)",
            )
        for r in rounds:
            if r.get("skipped") or r.get("rejected"):
                axis.axvline(r["round"], color="red", alpha=0.2)
        axis.set_xlabel("round")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    figure.suptitle(
        f"{history.get('experiment', '')}: {history.get('strategy', '')} "
        f"({history.get('decoder', '')}); red lines: rejected updates or skipped rounds"
    )
    figure.savefig(path, dpi=90)
    plt.close(figure)
