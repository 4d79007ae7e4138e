"""The ServerApp's main: rounds of training and evaluation, checkpoints, history, final models.

Each round: the strategy configures training, the grid sends the messages and waits for the
replies (at most ``round-timeout`` seconds, so a site that drops out cannot hold the round),
the screened strategy aggregates, every site evaluates the new model on its validation trials,
and the checkpoint and history are written. After the last round every site receives the
model of the best aggregated validation loss and answers with its test scores and its final
model; the server saves (and, for FedAvg/FedProx, exports) the global model.
"""

from __future__ import annotations

import json
import logging
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
from federated.config import FederationConfig, FederationConfigError, as_dict
from federated.privacy.rounds import account_round, budget_stop

from .checkpoint import ServerCheckpoint, ServerState
from .evaluation import (
    EVALUATE_RECEIVED,
    Evaluation,
    carried_evaluation,
    evaluation_stage,
    record_evaluation,
    weighted,
)
from .exchange import send_and_receive
from .history import write_history
from .secure import SecureRound
from .strategies import ScreenedStrategy, build_strategy
from .timing import StageClock, stage_timing

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
    if config.pretraining:
        from federated.pretraining.server import run_pretraining

        return run_pretraining(grid, context, config)
    output = Path(config.output_dir)
    decoder = split_decoder(config)
    checkpoint = ServerCheckpoint(output / "checkpoint")
    state = checkpoint.resume(config)
    if state is None:
        state = _fresh_state(config, decoder)
    n_sites = _wait_for_sites(grid, config.min_sites)
    strategy = build_strategy(config, n_sites, state.history.get("privacy"))
    secure = _secure_aggregation(config, n_sites)
    strategy.summary()
    arrays = to_record(state.arrays)
    for server_round in range(state.server_round + 1, config.rounds + 1):
        stop = budget_stop(config, strategy, state.history, n_sites)
        if stop:
            LOG.warning("Training stopped before round %d: %s", server_round, stop)
            state.history["stopped"] = {"before_round": server_round, "reason": stop}
            break
        LOG.info("[ROUND %d/%d]", server_round, config.rounds)
        started = time.monotonic()
        received = state.arrays
        arrays, record, carried = _one_round(
            grid, context, config, strategy, secure, arrays, server_round, state.run_key,
            evaluate_received=bool(state.history["rounds"]),
        )  # fmt: skip
        record["wall_s"] = time.monotonic() - started
        account_round(config, strategy, record, state.history)
        if carried is not None:
            record_evaluation(state, state.history["rounds"][-1], carried, received)
        state.history["rounds"].append(record)
        state.server_round = server_round
        state.arrays = from_record(arrays)
        checkpoint.save(state, config.fingerprint())
        write_history(output, state.history)
    last = state.history["rounds"][-1] if state.history["rounds"] else None
    if last is not None and not last.get("evaluate"):
        evaluation = evaluation_stage(grid, config, strategy, arrays, last["round"], state.run_key)
        record_evaluation(state, last, evaluation, state.arrays)
        checkpoint.save(state, config.fingerprint())
        write_history(output, state.history)
    state.history["final"] = _finish(grid, config, decoder, state, strategy.sites)
    write_history(output, state.history)
    return state.history


def _secure_aggregation(config: FederationConfig, n_sites: int) -> SecureRound | None:
    """Return SecAgg+'s rounds when asked; refuse fewer sites than its threshold."""
    if not config.secure_aggregation:
        return None
    if n_sites < config.secagg_threshold:
        raise FederationConfigError(
            f"secure aggregation with secagg-threshold = {config.secagg_threshold} needs at "
            f"least {config.secagg_threshold} sites; {n_sites} connected"
        )
    LOG.info(
        "\t├──> Secure aggregation: SecAgg+ over %d site(s), threshold %d (up to %d may drop "
        "out during a round)",
        n_sites,
        config.secagg_threshold,
        n_sites - config.secagg_threshold,
    )
    return SecureRound(config)


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
    context: Context,
    config: FederationConfig,
    strategy: ScreenedStrategy,
    secure: SecureRound | None,
    arrays,
    server_round: int,
    run_key: str,
    *,
    evaluate_received: bool,
) -> tuple[Any, dict[str, Any], Evaluation | None]:
    """Train one round; return the new model, the round's record and the scores it carried.

    With ``evaluate_received`` every site scores the model it receives (the previous
    round's) before training (:mod:`.evaluation`).
    """
    from flwr.app import ConfigRecord

    settings = {"run-key": run_key, EVALUATE_RECEIVED: evaluate_received}
    if secure is not None:
        settings |= {"server-round": server_round}
        if config.strategy == "fedprox":
            settings["proximal-mu"] = config.proximal_mu
        report = strategy.begin_round(server_round)
        aggregated_arrays = secure.train(
            grid, context, server_round, arrays, settings, report, strategy.sites
        )
        replies, train_metrics = secure.masked_replies, None
    else:
        messages = strategy.configure_train(server_round, arrays, ConfigRecord(settings), grid)
        clock = StageClock()
        replies = send_and_receive(grid, messages, config.round_timeout, clock=clock)
        strategy.report.timing["train"] = stage_timing(clock, replies)
        aggregated_arrays, train_metrics = strategy.aggregate_train(server_round, replies)
        report = strategy.report
    record = {
        "round": server_round,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "failed": report.failed,
        "skipped": report.skipped,
        "train": report.train,
        "aggregated_train": dict(train_metrics) if train_metrics else {},
        "evaluate": {},
        "evaluate_failed": [],
        "aggregated": {},
        "bytes_sent": report.bytes_sent,
        "bytes_received": report.bytes_received,
        "timing": report.timing,
    }
    if report.secure:
        record["secure_aggregation"] = report.secure
    new = aggregated_arrays if aggregated_arrays is not None else arrays
    return new, record, carried_evaluation(replies) if evaluate_received else None


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
                {
                    "run-key": state.run_key,
                    "server-round": state.best_round or state.server_round,
                    "privacy": json.dumps(state.history.get("privacy", {})),
                }
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
        if config.local_dp and "privacy" in facts:
            final.setdefault("privacy", {})[site] = json.loads(str(facts["privacy"]))
        final["models"][site] = {
            "dir": str(facts["model-dir"]),
            "ref": str(facts["model-ref"]),
            "registry": str(facts.get("model-registry", "")),
        }
        specs.append(str(facts["input"]))
    final["test"] = weighted(final["sites"])
    final["global"] = _save_global(config, decoder, state, specs, final)
    return final


def _global_privacy(config: FederationConfig, history: dict, final: dict) -> dict:
    """Return the privacy account of the global model (central, or every site's local one)."""
    if config.central_dp:
        return history.get("privacy", {})
    if config.local_dp:
        return {"mechanism": "local", "sites": final.get("privacy", {})}
    return {"mechanism": "none"}


def _save_global(
    config: FederationConfig,
    decoder: SplitDecoder,
    state: ServerState,
    specs: list[str],
    final: dict[str, Any],
) -> dict[str, str]:
    """Save the global model; for FedAvg/FedProx (a whole model) also export and register it."""
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
            "test": final["test"],
            "protocol": "mean over sites of their held-out test splits, weighted by test trials",
        },
        extra={
            "federated": {
                "strategy": config.strategy,
                "best_round": state.best_round,
                "rounds": config.rounds,
                "secure_aggregation": config.secure_aggregation,
                "privacy": _global_privacy(config, state.history, final),
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
