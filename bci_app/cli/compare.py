"""``bci-app compare``: a markdown table of several decoder cards."""

from __future__ import annotations

import argparse
from pathlib import Path

METRICS = ("accuracy", "balanced_accuracy", "kappa", "auroc")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compare`` command."""
    parser = subparsers.add_parser("compare", help="print a markdown table of decoder cards")
    parser.add_argument("cards", nargs="+", type=Path, help="card.json files or run folders")
    parser.set_defaults(handler=run)


def markdown_table(cards: list) -> str:
    """Return one markdown row per card: data, protocol, seeds and mean ± sd of each metric."""
    header = ["decoder", "data", "protocol", "seeds", *METRICS, "energy/window (µJ)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for card in cards:
        evaluation = card.evaluation
        metrics = evaluation.get("metrics", {})
        cells = [
            card.decoder,
            evaluation.get("dataset", card.data.get("name", "?")),
            evaluation.get("protocol_description", "not evaluated"),
            str(len(evaluation.get("seeds", []))),
        ]
        for name in METRICS:
            summary = metrics.get(name)
            cells.append(f"{summary['mean']:.3f} ± {summary['sd']:.3f}" if summary else "-")
        energy = card.extra.get("energy_uj_per_window")
        cells.append(f"{energy:.3g}" if energy is not None else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the table."""
    from decoders.card import DecoderCard

    cards = [DecoderCard.load(p / "card.json" if p.is_dir() else p) for p in args.cards]
    print(markdown_table(cards))
    return 0
