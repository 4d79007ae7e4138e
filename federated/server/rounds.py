"""The ServerApp's main: rounds of training and evaluation, checkpoints, history, final models.

Each round: the strategy configures training, the grid sends the messages and waits for the
replies (at most ``round-timeout`` seconds, so a site that drops out cannot hold the round),
the screened strategy aggregates, every site evaluates the new model on its validation trials,
and the checkpoint and history are written. After the last round every site receives the
model of the best aggregated validation loss and answers with its test scores and its final
model; the server saves (and, for FedAvg/FedProx, exports) the global model.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.contract import InputSpec, OutputSpec
from decoders.split import SplitDecoder, shared_keys
from federated.arrays import as_numpy, from_record, payload_bytes, save_arrays, to_record
from federated.client.job import split_decoder
from federated.config import FederationConfig, as_dict

from .checkpoint import ServerCheckpoint, ServerState
from .exchange import send_and_receive
from .history import write_history
from .strategies import ScreenedStrategy, build_strategy

if TYPE_CHECKING:
    from flwr.app import Context
    from flwr.serverapp import Grid

LOG = logging.getLogger("flwr")
NOMINAL_SFREQ = 250.0
"""Rate of the template the server builds a personalised model's shared part from (the
shared part's shapes do not depend on a site's rate)."""


def run_server(grid: Grid, context: Context) -> dict[str, Any]:
    """Run (or resume) the federation described by the run config; return its history."""
    config = FederationConfig.from_run_config(context.run_config)
    output = Path(config.output_dir)
    decoder = split_decoder(config)
    checkpoint = ServerCheckpoint(output / "checkpoint")
    if config.resume and checkpoint.exists():
        state = checkpoint.load(config.fingerprint())
        state.history.setdefault("resumed_after", []).append(state.server_round)
        LOG.info("Resuming experiment %s after round %d", config.experiment, state.server_round)
    else:
        if config.resume:
            LOG.info(
                "No checkpoint in %s: starting experiment %s afresh",
                checkpoint.folder,
                config.experiment,
            )
        state = _fresh_state(config, decoder)
    n_sites = _wait_for_sites(grid, config.min_sites)
    strategy = build_strategy(config, n_sites)
    strategy.summary()
    arrays = to_record(state.arrays)
    for server_round in range(state.server_round + 1, config.rounds + 1):
        LOG.info("[ROUND %d/%d]", server_round, config.rounds)
        started = time.monotonic()
        arrays, record = _one_round(grid, config, strategy, arrays, server_round, state.run_key)
        record["wall_s"] = time.monotonic() - started
        state.history["rounds"].append(record)
        state.server_round = server_round
        state.arrays = from_record(arrays)
        loss = (record.get("aggregated") or {}).get("valid-loss")
        if loss is not None and math.isfinite(loss) and loss < state.best_loss:
            state.best_loss, state.best_round = float(loss), server_round
            state.best_arrays = state.arrays
        state.history["best_round"] = state.best_round
        checkpoint.save(state, config.fingerprint())
        write_history(output, state.history)
    state.history["final"] = _finish(grid, config, decoder, state, strategy.sites)
    write_history(output, state.history)
    return state.history


def _fresh_state(config: FederationConfig, decoder: SplitDecoder) -> ServerState:
    import torch

    sfreq = config.sfreq if config.sfreq > 0 else NOMINAL_SFREQ
    channels = config.channels or ("Cz",)
    spec = InputSpec(
        ch_names=channels,
        ch_types=("eeg",) * len(channels),
        sfreq=sfreq,
        n_times=round(config.window_s * sfreq),
        hop_s=decoder.hop_s,
        preprocessing=decoder.preprocessing(),
    )
    decoder.check_input(spec, "the federation's settings")
    torch.manual_seed(config.seed)
    state = as_numpy(
        decoder.build(spec, OutputSpec(decoder.output_kind, config.classes)).state_dict()
    )
    arrays = {key: state[key] for key in shared_keys(state, personalised=config.personalised)}
    history = {
        "experiment": config.experiment,
        "strategy": config.strategy,
        "decoder": config.decoder,
        "config": as_dict(config),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "rounds": [],
    }
    return ServerState(0, uuid.uuid4().hex[:12], arrays, arrays, 0, float("inf"), history)


def _wait_for_sites(grid: Grid, minimum: int) -> int:
    while len(nodes := list(grid.get_node_ids())) < minimum:
        LOG.info("Waiting for sites: %d connected, %d needed", len(nodes), minimum)
        time.sleep(1.0)
    return len(nodes)


def _one_round(
    grid: Grid,
    config: FederationConfig,
    strategy: ScreenedStrategy,
    arrays,
    server_round: int,
    run_key: str,
) -> tuple[Any, dict[str, Any]]:
    from flwr.app import ConfigRecord

    messages = strategy.configure_train(
        server_round, arrays, ConfigRecord({"run-key": run_key}), grid
    )
    replies = send_and_receive(grid, messages, config.round_timeout)
    aggregated_arrays, train_metrics = strategy.aggregate_train(server_round, replies)
    if aggregated_arrays is not None:
        arrays = aggregated_arrays
    messages = strategy.configure_evaluate(
        server_round, arrays, ConfigRecord({"run-key": run_key}), grid
    )
    replies = send_and_receive(grid, messages, config.round_timeout)
    aggregated = strategy.aggregate_evaluate(server_round, replies)
    report = strategy.report
    record = {
        "round": server_round,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "failed": report.failed,
        "skipped": report.skipped,
        "train": report.train,
        "aggregated_train": dict(train_metrics) if train_metrics else {},
        "evaluate": report.evaluate,
        "evaluate_failed": report.evaluate_failed,
        "aggregated": dict(aggregated) if aggregated else {},
        "bytes_sent": report.bytes_sent,
        "bytes_received": report.bytes_received,
    }
    if aggregated:
        LOG.info(
            "Round %d: validation accuracy %.3f over %d site(s)",
            server_round,
            aggregated.get("valid-accuracy", float("nan")),
            len(report.evaluate),
        )
    return arrays, record


def _finish(
    grid: Grid,
    config: FederationConfig,
    decoder: SplitDecoder,
    state: ServerState,
    sites: dict[int, str],
) -> dict[str, Any]:
    from flwr.app import ConfigRecord, Message, MessageType, RecordDict

    content = RecordDict(
        {
            "arrays": to_record(state.best_arrays),
            "config": ConfigRecord(
                {"run-key": state.run_key, "server-round": state.best_round or state.server_round}
            ),
        }
    )
    messages = [
        Message(content=content, message_type=MessageType.QUERY, dst_node_id=node)
        for node in grid.get_node_ids()
    ]
    replies = send_and_receive(grid, messages, config.round_timeout)
    final: dict[str, Any] = {
        "best_round": state.best_round,
        "sites": {},
        "models": {},
        "failed": [],
        "bytes_sent": sum(payload_bytes(m.content) for m in messages),
    }
    specs = []
    # A node the SuperLink declared unavailable is answered for by the SuperLink itself.
    sent = {m.metadata.message_id: m.metadata.dst_node_id for m in messages}
    for reply in replies:
        if reply.has_error():
            node = sent.get(reply.metadata.reply_to_message_id, reply.metadata.src_node_id)
            site = sites.get(node, f"node {node}")
            LOG.warning("Finishing: %s failed: %s", site, reply.error.reason)
            final["failed"].append({"site": site, "node": node, "reason": reply.error.reason})
            continue
        site = str(reply.content.config_records["site"]["name"])
        metrics = next(iter(reply.content.metric_records.values()))
        facts = reply.content.config_records["model"]
        final["sites"][site] = {key: float(value) for key, value in metrics.items()}
        final["models"][site] = {
            "dir": str(facts["model-dir"]),
            "ref": str(facts["model-ref"]),
            "registry": str(facts.get("model-registry", "")),
        }
        specs.append(str(facts["input"]))
    final["test"] = _weighted(final["sites"])
    final["global"] = _save_global(config, decoder, state, specs, final["test"])
    return final


def _weighted(sites: dict[str, dict[str, float]]) -> dict[str, float]:
    """Return test metrics averaged over sites, weighted by their test trials."""
    weights = {site: metrics.get("num-examples", 0.0) for site, metrics in sites.items()}
    total = sum(weights.values())
    if not total:
        return {}
    names = set.intersection(*(set(m) for m in sites.values())) - {"num-examples"}
    return {
        name: float(sum(sites[s][name] * weights[s] for s in sites) / total)
        for name in sorted(names)
    }


def _save_global(
    config: FederationConfig,
    decoder: SplitDecoder,
    state: ServerState,
    specs: list[str],
    test: dict[str, float],
) -> dict[str, str]:
    """Save the global model; for FedAvg/FedProx (a whole model) also export and register it."""
    import json

    import torch

    from decoders.card import DecoderCard
    from decoders.checkpoint import save_decoder

    folder = Path(config.output_dir) / "global"
    if config.personalised or not specs:
        save_arrays(folder / "shared.npz", state.best_arrays)
        return {"dir": str(folder), "ref": ""}
    spec = InputSpec.from_dict(json.loads(specs[0]))
    weights = {key: torch.as_tensor(np.asarray(v)) for key, v in state.best_arrays.items()}
    decoder.restore(spec, OutputSpec(decoder.output_kind, config.classes), weights)
    card = DecoderCard.for_decoder(
        decoder,
        data={"federation": config.experiment, "sites": sorted(config.sites) or "deployment"},
        evaluation={
            "test": test,
            "protocol": "mean over sites of their held-out test splits, weighted by test trials",
        },
        extra={
            "federated": {
                "strategy": config.strategy,
                "best_round": state.best_round,
                "rounds": config.rounds,
            }
        },
    )
    save_decoder(decoder, card, folder)
    ref = ""
    if config.export:
        from federated.export import model_name, publish_model

        registry = Path(config.registry_dir) if config.registry_dir else None
        ref = publish_model(decoder, card, registry, model_name(config.experiment, "global"))
    return {"dir": str(folder), "ref": ref}
