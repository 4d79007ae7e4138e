"""A site's round of federated pretraining: local steps over its own unlabelled corpus.

The site's corpus is the ``[corpus]`` of its site file, scanned into an index kept in its state
folder (a rescan rehashes only changed files) and cut into the model's segments
(:func:`~decoders.pretraining.segments.plan_corpus`; channels of other types are dropped, so
any montage feeds a channel-independent model). Each round streams ``local-steps`` steps
from it, in an order drawn from the federation's seed, the site and the round, through the
pretraining framework's :class:`~decoders.pretraining.trainer.StepRunner` (micro-batches,
gradient clipping, the learning-rate schedule of the whole run, codebook updates). Codes are
never restarted at a site (the server restarts dead codes; :mod:`.codebooks`).

A corpus with no usable file, or whose every sequence of the round was unusable (files that
became unreadable, NaN/Inf, flat channels), makes the site fail the round with the reason:
it is left out of the round, never averaged in as an update made of zeros.
"""

from __future__ import annotations

import json
import zlib
from typing import TYPE_CHECKING

import numpy as np

from decoders.datasets.errors import DataError
from federated.arrays import as_numpy, from_record, to_record

from .model import build_model, settings

if TYPE_CHECKING:
    from flwr.app import Context, Message

    from decoders.pretraining.corpus import CorpusIndex
    from decoders.pretraining.segments import CorpusPlan
    from federated.config import FederationConfig
    from federated.sites.config import SiteConfig

INDEX_NAME = "corpus.json"
WEIGHT_KEY = "num-examples"


def handle_pretrain(message: Message, context: Context) -> Message:
    """Take the round's local steps from the received model; reply the model and the facts."""
    import torch
    from flwr.app import ConfigRecord, Message, MetricRecord, RecordDict

    from decoders.pretraining.distributed import World
    from decoders.pretraining.segments import StepStream
    from decoders.pretraining.trainer import StepRunner
    from federated.client.job import site_path
    from federated.config import FederationConfig
    from federated.sites.config import load_site

    torch.set_num_threads(1)
    federation = FederationConfig.from_run_config(context.run_config)
    config = dict(message.content["config"])
    server_round = int(config["server-round"])
    site = load_site(site_path(context.node_config, federation))
    index, plan = site_corpus(site, federation)
    model = build_model(federation)
    model.attach(plan)
    load_received(model, from_record(message.content["arrays"]), site)
    for quantizer in model.quantizers():
        quantizer.dead_threshold = 0.0  # dead codes are the server's to restart
    run = settings(federation)
    runner = StepRunner(model, run, World(), torch.device("cpu"))
    stream = StepStream(
        plan,
        seed=round_seed(federation.seed, site.name, server_round),
        micro_batch=run.micro_batch,
        accumulation=run.accumulation(World()),
        pool_files=run.pool_files,
        prefetch=0,
    )
    rows, usable = [], 0.0
    steps = stream.steps(0)
    for step in range(federation.local_steps):
        _, micro_batches = next(steps)
        usable += float(sum(batch.weight.sum() for batch in micro_batches))
        rows.append(runner.step(micro_batches, (server_round - 1) * federation.local_steps + step))
    steps.close()
    if usable == 0:
        broken = "; ".join(f"{path}: {why}" for path, why in stream.report.broken_files.items())
        raise DataError(
            site.path,
            f"no usable sequence in round {server_round}'s {federation.local_steps} step(s) of "
            f"its corpus ({stream.report.unusable_sequences} unusable"
            f"{'; ' + broken if broken else ''}): no update sent",
        )
    metrics = {
        WEIGHT_KEY: plan.n_sequences,
        "steps": federation.local_steps,
        "usable-sequences": usable,
        "unusable-sequences": stream.report.unusable_sequences,
    }
    for key in rows[-1]:
        if key.endswith("loss") or key.startswith("codebook"):
            metrics[key] = float(np.mean([row[key] for row in rows]))
    content = RecordDict(
        {
            "arrays": to_record(as_numpy(model.state_dict())),
            "metrics": MetricRecord(metrics),
            "site": ConfigRecord({"name": site.name}),
            "corpus": ConfigRecord({"summary": json.dumps(corpus_facts(index, plan, stream))}),
        }
    )
    return Message(content=content, reply_to=message)


def site_corpus(site: SiteConfig, federation: FederationConfig) -> tuple[CorpusIndex, CorpusPlan]:
    """Return the site's corpus index (kept in its state folder) and its plan for the model.

    Raises
    ------
    DataError
        Naming the site file when it has no ``[corpus]`` or no file of it feeds the model.
    """
    from decoders.pretraining.corpus import CorpusIndex, scan_corpus
    from decoders.pretraining.registry import pretrainable
    from decoders.pretraining.segments import plan_corpus

    from .model import model_config

    if not site.corpus:
        raise DataError(site.path, "has no [corpus] of unlabelled recordings to pretrain on")
    folder = site.state_dir / "pretraining"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / INDEX_NAME
    previous = CorpusIndex.load(path) if path.is_file() else None
    index = scan_corpus(site.corpus, previous=previous)
    index.save(path)
    if not index.files and not index.skipped:
        sources = ", ".join(str(source) for source in site.corpus)
        raise DataError(site.path, f"its corpus is empty: no recording in {sources}")
    cls = pretrainable(federation.pretrain).load_class()
    try:
        plan = plan_corpus(index, cls.segment_spec(model_config(federation)))
    except DataError as error:
        raise DataError(
            site.path, f"its corpus cannot feed {federation.pretrain}: {error.problem}"
        ) from error
    return index, plan


def load_received(model, arrays: dict[str, np.ndarray], site: SiteConfig) -> None:
    """Load the server's arrays into ``model``, checking every name and shape."""
    import torch

    state = model.state_dict()
    for key, value in arrays.items():
        if key not in state or tuple(state[key].shape) != tuple(np.shape(value)):
            raise DataError(
                site.path,
                f"the server's array '{key}' {tuple(np.shape(value))} does not fit this site's "
                "model: are the site and the server on the same pretraining settings?",
            )
    model.load_state_dict(
        {key: torch.as_tensor(np.asarray(value)) for key, value in arrays.items()}, strict=False
    )


def round_seed(seed: int, site: str, server_round: int) -> int:
    """Return the seed of a site's stream in a round (another order every round)."""
    return (seed * 1_000_003 + zlib.crc32(site.encode()) + 7919 * server_round) % 2**31


def corpus_facts(index: CorpusIndex, plan: CorpusPlan, stream) -> dict:
    """Return what the pretrained card records of a site's corpus (no file names leave it)."""
    return {
        "fingerprint": index.fingerprint(),
        "n_files": len(plan.files),
        "hours_used": plan.hours_used(),
        "sequences_per_epoch": plan.n_sequences,
        "skipped_files": len(plan.skipped),
        "skipped_reasons": sorted({item.reason for item in plan.skipped})[:10],
        "dropped_channels": plan.dropped,
        "broken_files": len(stream.report.broken_files),
    }
