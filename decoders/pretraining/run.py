"""One pretraining run, from corpus sources to a pretrained model and its card.

Every process of a data-parallel run calls :func:`pretrain` (``torchrun`` starts them); the
main process scans the corpus and writes the index, the checkpoints, the log and the card,
the others read the index it wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from decoders.datasets.errors import DataError

from . import distributed
from .corpus import CorpusIndex, scan_corpus
from .registry import pretrainable
from .segments import CorpusPlan, StreamReport, plan_corpus
from .trainer import Pretrainer, PretrainSettings, resolve_device

INDEX_NAME = "corpus.json"
NOT_IDENTITY = ("device", "precision", "checkpoint_every")
"""Settings that may change between an interrupted run and its resumption."""


def pretrain(
    model: str,
    sources: Sequence[str | Path],
    out: Path,
    settings: PretrainSettings,
    *,
    size: str = "small",
    overrides: dict[str, Any] | None = None,
    init: Path | None = None,
    progress: bool = True,
    say: Callable[[str], None] = print,
) -> Path | None:
    """Pretrain ``model`` of ``size`` on the corpus ``sources`` into ``out``.

    Returns the pretrained weights' path on the main process (None on the others). ``init``
    (a pretrained folder) is a model to start from, for objectives pretrained in stages.

    Raises
    ------
    DataError
        When no file of the corpus can feed the model, the settings do not fit, or ``out``
        holds a run with other settings; and, in a data-parallel run, when another process
        stopped (resume by running the same command again).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    world = distributed.from_environment()
    cls = pretrainable(model).load_class()
    config = cls.configuration(size, **(overrides or {}))
    distributed.start(world, resolve_device(settings.device, world))
    try:
        index = _index(sources, out, world, say)
        plan = plan_corpus(index, cls.segment_spec(config))
        if world.is_main:
            _describe(plan, say)
        import torch

        torch.manual_seed(settings.seed)
        network = cls.from_config(config)
        start = None
        if init is not None:
            from .checkpoint import load_pretrained

            start = network.start_from(load_pretrained(Path(init)))
        identity = {
            "model": model,
            "config": config,
            "init": start,
            "corpus": index.fingerprint(),
            "settings": {k: v for k, v in asdict(settings).items() if k not in NOT_IDENTITY},
        }
        trainer = Pretrainer(network, plan, settings, out, identity, world)
        trainer.run(progress=progress)
        weights = trainer.finish(model, size, config, index)
        if world.is_main:
            _report(plan, trainer.stream_report, trainer.state.step, out, say)
        return weights
    except RuntimeError as error:  # a collective whose peer died (gloo/NCCL errors)
        if world.distributed:
            raise DataError(
                out,
                f"process {world.rank} lost its peers ({str(error).splitlines()[0]}); the last "
                "checkpoint is kept: run the same command again to resume from it",
            ) from error
        raise
    finally:
        distributed.stop(world)


def _index(sources, out: Path, world, say) -> CorpusIndex:
    """Scan the corpus on the main process (reusing its previous index); share it."""
    path = out / INDEX_NAME
    if world.is_main:
        previous = CorpusIndex.load(path) if path.is_file() else None
        say(f"scanning the corpus ({len(sources)} source(s))")
        index = scan_corpus(sources, previous=previous)
        index.save(path)
    distributed.barrier(world)
    return index if world.is_main else CorpusIndex.load(path)


def _describe(plan: CorpusPlan, say) -> None:
    hours = ", ".join(f"{kind} {value:.2f} h" for kind, value in plan.hours_used().items())
    say(
        f"corpus: {len(plan.files)} file(s), {plan.n_segments} segments of "
        f"{plan.spec.seconds:g} s, {plan.n_sequences} {_items(plan)} per epoch "
        f"(channel-hours: {hours})"
    )
    if plan.dropped:
        say(plan.describe_dropped())
    rates = sorted({item.file.sfreq for item in plan.files if item.file.sfreq != plan.spec.sfreq})
    if rates:
        listed = ", ".join(f"{rate:g}" for rate in rates)
        say(f"files sampled at {listed} Hz are resampled to the model's {plan.spec.sfreq:g} Hz")


def _items(plan: CorpusPlan) -> str:
    if plan.spec.n_channels is None:
        return "single-channel sequences"
    return f"segments of up to {plan.spec.n_channels} channels"


def _report(plan: CorpusPlan, report: StreamReport, steps: int, out: Path, say) -> None:
    """Say what was left out of the corpus, at the end of the run."""
    say(f"pretrained {steps} steps: {out}")
    for item in plan.skipped:
        say(f"  left out {item.path}: {item.reason}")
    for path, reason in report.broken_files.items():
        say(f"  became unreadable {path}: {reason}")
    if report.unusable_sequences:
        say(f"  {report.unusable_sequences} sequence(s) with NaN/Inf or flat samples ignored")
