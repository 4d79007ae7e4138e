"""Where a benchmark's results go: ``bench/results/<name>.json`` and its markdown tables."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS_DIR = Path(__file__).parent / "results"


def save_results(name: str, results: object, markdown: str, echo: bool = True) -> Path:
    """Write ``results`` as ``<name>.json`` and ``markdown`` as ``<name>.md``; print the tables.

    With ``echo`` false nothing is printed (a save of partial results during a run).

    Returns the JSON file's path.
    """
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(results, indent=1))
    path.with_suffix(".md").write_text(markdown + "\n")
    if echo:
        print(markdown)
    return path
