"""``bci-app anomaly``: score recordings as abnormal with a pretrained EEGFormer, no labels."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``anomaly`` command."""
    parser = subparsers.add_parser(
        "anomaly",
        help="score recordings by a pretrained EEGFormer's reconstruction error",
        description="Score each recording under --data (higher: more abnormal) by how badly "
        "a pretrained EEGFormer reconstructs its spectra. Where the files lie in folders "
        "named normal/abnormal (the TUH layout), the AUROC of the scores is printed too.",
    )
    parser.add_argument("pretrained", type=Path, help="output folder of bci-app pretrain")
    parser.add_argument("--data", nargs="+", required=True, help="files and folders")
    parser.add_argument("--out", type=Path, help="also write the scores as CSV")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print (and write) the scores, and their AUROC where folders give the truth."""
    from decoders.models.eegformer.anomaly import anomaly_scores

    scores, skipped = anomaly_scores(args.pretrained, args.data)
    for item in sorted(scores, key=lambda s: -s.score):
        print(f"{item.score:10.4f}  {item.n_sequences:6d} seq  {item.path}")
    for path, reason in skipped:
        print(f"left out {path}: {reason}")
    truth = [_folder_label(Path(item.path)) for item in scores]
    if all(label is not None for label in truth) and len(set(truth)) == 2:
        from sklearn.metrics import roc_auc_score

        auroc = roc_auc_score(truth, [item.score for item in scores])
        print(f"AUROC (abnormal vs normal folders, {len(scores)} recordings): {auroc:.3f}")
    if args.out is not None:
        with open(args.out, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["path", "score", "sequences"])
            writer.writerows((s.path, f"{s.score:.6f}", s.n_sequences) for s in scores)
    return 0


def _folder_label(path: Path) -> int | None:
    """Return 1 under an ``abnormal`` folder, 0 under a ``normal`` one, else None."""
    folders = {part.lower() for part in path.parts[:-1]}
    if "abnormal" in folders:
        return 1
    return 0 if "normal" in folders else None
