"""``bci-app pretrain``: self-supervised pretraining of a foundation model on unlabelled files.

One process by default; ``--nproc N`` starts N data-parallel processes on this machine with
``torchrun``; across machines, run ``torchrun`` yourself on each (see the README): every
process runs this same command.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from decoders.pretraining.registry import PRETRAINABLE

from .train import parse_options

SIZES = ("tiny", "small", "base", "large")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``pretrain`` command."""
    parser = subparsers.add_parser(
        "pretrain",
        help="pretrain a foundation model on unlabelled recordings",
        description="Pretrain MODEL self-supervised on every recording under --data (files "
        "and folders: FIF, EDF/BDF, BrainVision, EEGLAB, BIDS, XDF, TUH-layout trees). "
        "Checkpoints every --checkpoint-every steps; rerunning the same command resumes. "
        "Writes pretrained.pt (weights only) and its card pretrained.json into --out, for "
        "`bci-app train MODEL --init OUT`.",
    )
    parser.add_argument("model", help=", ".join(PRETRAINABLE))
    parser.add_argument("--data", nargs="+", required=True, help="files and folders")
    parser.add_argument("--out", type=Path, required=True, help="run folder")
    parser.add_argument("--size", choices=SIZES, default="small")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="model setting (e.g. segment_s=4, dropout=0)",
    )
    parser.add_argument(
        "--stage",
        help="the stage of a model pretrained in stages (duin: vqvae, then mae with --init; "
        "meg-gpt: tokeniser, then gpt with --init); "
        "the same as --set stage=STAGE",
    )
    parser.add_argument(
        "--init",
        type=Path,
        metavar="PRETRAINED",
        help="start from this pretrained folder (duin --stage mae, meg-gpt --stage gpt: the "
        "stage-1 run's --out)",
    )
    parser.add_argument("--steps", type=int, default=1000, help="optimisation steps")
    parser.add_argument(
        "--global-batch",
        type=int,
        default=256,
        help="single-channel sequences per step, over every process and micro-batch",
    )
    parser.add_argument(
        "--micro-batch",
        type=int,
        default=64,
        help="sequences per forward pass of one process (gradients accumulate up to the "
        "global batch)",
    )
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument(
        "--precision",
        choices=("auto", "float32", "bfloat16", "float16"),
        default="auto",
        help="auto: mixed precision on CUDA, float32 on CPU",
    )
    parser.add_argument(
        "--nproc",
        type=int,
        default=1,
        help="data-parallel processes on this machine (started with torchrun)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Pretrain (or launch torchrun for ``--nproc`` processes)."""
    if args.nproc > 1:
        return _launch(args)
    from decoders.pretraining.run import pretrain
    from decoders.pretraining.trainer import PretrainSettings

    settings = PretrainSettings(
        steps=args.steps,
        global_batch=args.global_batch,
        micro_batch=args.micro_batch,
        lr=args.lr,
        checkpoint_every=args.checkpoint_every,
        seed=args.seed,
        device=args.device,
        precision=args.precision,
    )
    overrides = parse_options(args.overrides)
    if args.stage is not None:
        overrides["stage"] = args.stage
    pretrain(
        args.model,
        args.data,
        args.out,
        settings,
        size=args.size,
        overrides=overrides,
        init=args.init,
        progress=not args.no_progress,
    )
    return 0


def _launch(args: argparse.Namespace) -> int:
    """Run this command in ``--nproc`` processes under torchrun; explain a failure."""
    forwarded = _without_nproc(args.argv)
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={args.nproc}",
        "-m",
        "bci_app",
        *forwarded,
    ]
    finished = subprocess.run(command, check=False)
    if finished.returncode == 0:
        return 0
    print(
        f"bci-app: error: a pretraining process stopped (torchrun exit status "
        f"{finished.returncode}; its report is above). {_resume_hint(args.out)}",
        file=sys.stderr,
    )
    return 1


def _without_nproc(arguments: list[str]) -> list[str]:
    """Return the command's arguments without ``--nproc`` and its value."""
    kept, skip = [], False
    for arg in arguments:
        if skip or arg.startswith("--nproc="):
            skip = False
            continue
        skip = arg == "--nproc"
        if not skip:
            kept.append(arg)
    return kept


def _resume_hint(out: Path) -> str:
    log = Path(out) / "log.jsonl"
    state = Path(out) / "state.pt"
    if not state.is_file():
        return "No checkpoint was written yet: the same command starts over."
    steps = len(log.read_text().splitlines()) if log.is_file() else "?"
    return (
        f"The log reached step {steps}; run the same command again to resume from the last "
        f"checkpoint in {out}."
    )
