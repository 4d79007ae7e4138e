"""The server of federated pretraining: rounds, aggregation, checkpoints, the pretrained model.

Each round every site takes ``local-steps`` steps on its own corpus from the global model
(:mod:`.site`); the server screens the replies (failed sites, another model's arrays, a
codebook of another size, NaN/Inf, outlier norms) and aggregates the accepted ones: every
weight by FedAvg, weighted by the sites' corpus sizes (sequences per pass, so the average
leans on the data as pooled training would), and every codebook by its counts and sums
(:mod:`.codebooks`). The model is checkpointed after every round (``OUTPUT/checkpoint``), so
``--resume`` continues after a SuperLink restart. At the end the model is written as
``OUTPUT/pretrained/pretrained.pt`` with its card, the same files as ``bci-app pretrain``
writes: ``bci-app train eegformer --init OUTPUT/pretrained`` fine-tunes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from federated.arrays import as_numpy, from_record, payload_bytes, to_record
from federated.config import FederationConfig, as_dict
from federated.server.checkpoint import ServerCheckpoint, ServerState
from federated.server.exchange import send_and_receive
from federated.server.history import write_history
from federated.server.screening import screen
from federated.server.timing import StageClock, stage_timing

from .codebooks import SiteCodebook, check_codebook, codebook_keys, merge, split_dead, sum_round
from .model import build_model, model_config, quantizer_prefixes, settings

if TYPE_CHECKING:
    from flwr.app import Context, Message
    from flwr.serverapp import Grid

LOG = logging.getLogger("flwr")
PRETRAINED = "pretrained"
WEIGHT_KEY = "num-examples"


def run_pretraining(grid: Grid, context: Context, config: FederationConfig) -> dict[str, Any]:
    """Run (or resume) federated pretraining; write the pretrained model; return the history."""
    import torch

    output = Path(config.output_dir)
    model = build_model(config)
    prefixes = quantizer_prefixes(model)
    checkpoint = ServerCheckpoint(output / "checkpoint")
    state = checkpoint.resume(config)
    if state is None:
        arrays = as_numpy(model.state_dict())
        history = {
            "experiment": config.experiment,
            "task": "pretrain",
            "model": config.pretrain,
            "config": as_dict(config),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "rounds": [],
        }
        state = ServerState(0, uuid.uuid4().hex[:12], arrays, arrays, 0, math.inf, history)
    while len(list(grid.get_node_ids())) < config.min_sites:
        LOG.info("Waiting for sites: %d needed", config.min_sites)
        time.sleep(1.0)
    LOG.info(
        "Federated pretraining of %s (%s) over %d round(s) of %d local step(s)",
        config.pretrain,
        config.pretrain_size,
        config.rounds,
        config.local_steps,
    )
    aggregation = Aggregation(config, model, prefixes)
    for server_round in range(state.server_round + 1, config.rounds + 1):
        LOG.info("[ROUND %d/%d]", server_round, config.rounds)
        started = time.monotonic()
        messages = _messages(grid, state, server_round)
        clock = StageClock()
        replies = send_and_receive(grid, messages, config.round_timeout, clock=clock)
        arrays, record = aggregation.round(server_round, messages, replies, state.arrays)
        record["timing"] = {"train": stage_timing(clock, replies)}
        record["wall_s"] = time.monotonic() - started
        record["bytes_sent"] = sum(payload_bytes(m.content) for m in messages)
        state.history["rounds"].append(record)
        state.history.setdefault("corpora", {}).update(record.pop("corpora"))
        state.server_round = server_round
        if arrays is not None:
            state.arrays = state.best_arrays = arrays
            state.best_round = server_round
        state.history["best_round"] = state.best_round
        checkpoint.save(state, config.fingerprint())
        write_history(output, state.history)
    if not state.best_round:
        reason = "no round aggregated any site's update: no pretrained model written"
        LOG.error("Pretraining %s: %s", config.experiment, reason)
        state.history["final"] = {"pretrained": None, "reason": reason}
    else:
        model.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state.arrays.items()})
        state.history["final"] = {"pretrained": str(_save(config, model, state, output))}
        LOG.info("Pretrained model: %s", state.history["final"]["pretrained"])
    write_history(output, state.history)
    return state.history


def _messages(grid: Grid, state: ServerState, server_round: int) -> list[Message]:
    from flwr.app import ConfigRecord, Message, MessageType, RecordDict

    content = RecordDict(
        {
            "arrays": to_record(state.arrays),
            "config": ConfigRecord({"server-round": server_round, "run-key": state.run_key}),
        }
    )
    return [
        Message(content, node, MessageType.TRAIN, group_id=str(server_round))
        for node in grid.get_node_ids()
    ]


class Aggregation:
    """The screening and aggregation of pretraining rounds.

    Parameters
    ----------
    config : FederationConfig
        The federation (min sites, outlier factor, local steps, seed).
    model : PretrainingModel
        The server's copy of the model (its codebooks compute codes from counts and sums).
    prefixes : list of str
        The state-dict prefixes of its codebooks.
    """

    def __init__(self, config: FederationConfig, model, prefixes: list[str]) -> None:
        self.config, self.model, self.prefixes = config, model, prefixes
        self.codebook_keys = {key for p in prefixes for key in codebook_keys(p).values()}
        self.sites: dict[int, str] = {}

    def round(
        self,
        server_round: int,
        messages: list[Message],
        replies: list[Message],
        reference: dict[str, np.ndarray],
    ) -> tuple[dict[str, np.ndarray] | None, dict[str, Any]]:
        """Screen and aggregate one round's replies; return the new arrays and the record."""
        record: dict[str, Any] = {
            "round": server_round,
            "accepted": [],
            "rejected": [],
            "failed": [],
            "train": {},
            "corpora": {},
            "bytes_received": sum(payload_bytes(m.content) for m in replies if m.has_content()),
        }
        sent = {m.metadata.message_id: m.metadata.dst_node_id for m in messages}
        candidates = []
        for reply in replies:
            node = sent.get(reply.metadata.reply_to_message_id, reply.metadata.src_node_id)
            if reply.has_error():
                self._fail(record, node, str(reply.error.reason))
                continue
            site = str(reply.content.config_records["site"]["name"])
            self.sites[node] = site
            arrays = from_record(reply.content["arrays"])
            metrics = dict(next(iter(reply.content.metric_records.values())))
            record["corpora"][site] = json.loads(str(reply.content["corpus"]["summary"]))
            candidates.append((node, site, arrays, metrics))
        for node in set(sent.values()) - {
            sent.get(r.metadata.reply_to_message_id) for r in replies
        }:
            self._fail(record, node, "no reply within round-timeout (dropped out?)")
        accepted = self._screen(server_round, candidates, reference, record)
        if len(accepted) < self.config.min_sites:
            record["skipped"] = (
                f"{len(accepted)} accepted update(s), fewer than min-sites="
                f"{self.config.min_sites}: the model is kept as it was"
            )
            LOG.warning("Round %d: %s", server_round, record["skipped"])
            return None, record
        arrays = self._average(accepted, reference)
        record["codebooks"] = self._codebooks(server_round, accepted, reference, arrays)
        LOG.info(
            "Round %d: %d site(s) aggregated, mean loss %.4f",
            server_round,
            len(accepted),
            float(np.mean([m.get("loss", np.nan) for _, _, _, m in accepted])),
        )
        return arrays, record

    def _screen(self, server_round, candidates, reference, record) -> list:
        weights = {key for key in reference if key not in self.codebook_keys}
        sound, problems = [], {}
        for node, site, arrays, metrics in candidates:
            for prefix in self.prefixes:
                problem = check_codebook(arrays, reference, prefix)
                if problem:
                    problems[node] = problem
                    break
            else:
                sound.append((node, site, arrays, metrics))
        verdicts = screen(
            [
                (node, site, {k: v for k, v in arrays.items() if k in weights}, m.get(WEIGHT_KEY))
                for node, site, arrays, m in sound
            ],
            {key: reference[key] for key in weights},
            self.config.outlier_factor,
        )
        accepted = []
        for item, verdict in zip(sound, verdicts, strict=True):
            if verdict.accepted:
                accepted.append(item)
                record["accepted"].append(verdict.site)
                record["train"][verdict.site] = {k: float(v) for k, v in item[3].items()}
                record["train"][verdict.site]["update-norm"] = verdict.norm
            else:
                problems[item[0]] = verdict.reason
        for node, site, _, _ in candidates:
            if node in problems:
                LOG.warning(
                    "Round %d: update of %s rejected: %s", server_round, site, problems[node]
                )
                record["rejected"].append({"site": site, "node": node, "reason": problems[node]})
        return accepted

    def _average(self, accepted, reference) -> dict[str, np.ndarray]:
        weights = np.array([float(m[WEIGHT_KEY]) for _, _, _, m in accepted])
        weights = weights / weights.sum()
        averaged = {}
        for key, value in reference.items():
            if key in self.codebook_keys or not np.issubdtype(value.dtype, np.floating):
                averaged[key] = value
                continue
            stacked = np.stack([arrays[key] for _, _, arrays, _ in accepted]).astype(np.float64)
            averaged[key] = np.tensordot(weights, stacked, axes=1).astype(value.dtype)
        return averaged

    def _codebooks(self, server_round, accepted, reference, arrays) -> dict[str, Any]:
        import torch

        facts = {}
        quantizers = dict(zip(self.prefixes, self.model.quantizers(), strict=True))
        for prefix, quantizer in quantizers.items():
            keys = codebook_keys(prefix)
            sites = [
                SiteCodebook(
                    a[keys["ema_count"]].astype(np.float64),
                    a[keys["ema_sum"]].astype(np.float64),
                    bool(a[keys["initialised"]]),
                )
                for _, _, a, _ in accepted
            ]
            if bool(reference[keys["initialised"]]):
                fade = quantizer.decay**self.config.local_steps
                count, total = sum_round(
                    reference[keys["ema_count"]].astype(np.float64),
                    reference[keys["ema_sum"]].astype(np.float64),
                    sites,
                    fade,
                )
                how = "summed counts and sums"
            else:
                initialised = [site for site in sites if site.initialised]
                count, total = merge(initialised or sites, quantizer.n_codes, self.config.seed)
                how = f"merged the {len(initialised or sites)} sites' k-means codebooks"
            count, total, moved = split_dead(
                count, total, quantizer.dead_threshold, self.config.seed + server_round
            )
            quantizer.ema_count.copy_(torch.as_tensor(count, dtype=quantizer.ema_count.dtype))
            quantizer.ema_sum.copy_(torch.as_tensor(total, dtype=quantizer.ema_sum.dtype))
            quantizer.codes_from_averages()
            arrays[keys["ema_count"]] = quantizer.ema_count.numpy().copy()
            arrays[keys["ema_sum"]] = quantizer.ema_sum.numpy().copy()
            arrays[keys["codebook"]] = quantizer.codebook.numpy().copy()
            arrays[keys["initialised"]] = np.array(True)
            restarts = int(reference[keys["restarts"]]) + moved
            arrays[keys["restarts"]] = np.array(restarts, dtype=reference[keys["restarts"]].dtype)
            share = count / max(count.sum(), 1e-12)
            facts[prefix] = {
                "aggregation": how,
                "codes_moved": moved,
                "usage": float((share > 1e-3 / len(count)).mean()),
                "perplexity": float(np.exp(-(share * np.log(np.maximum(share, 1e-12))).sum())),
            }
        return facts

    def _fail(self, record: dict, node: int, reason: str) -> None:
        site = self.sites.get(node, f"node {node}")
        first = reason.strip().splitlines()[-1] if reason.strip() else "no reason"
        LOG.warning("Round %d: %s failed: %s", record["round"], site, first)
        record["failed"].append({"site": site, "node": node, "reason": reason})


def _save(config: FederationConfig, model, state: ServerState, output: Path) -> Path:
    """Write the pretrained weights and card (the files ``bci-app pretrain`` writes)."""
    from decoders.evaluation.records import software_versions
    from decoders.pretraining.checkpoint import save_pretrained

    rounds = [r for r in state.history["rounds"] if r.get("train")]
    corpora = state.history.get("corpora", {})
    last = rounds[-1]["train"] if rounds else {}
    fingerprint = hashlib.sha256(
        "".join(sorted(c["fingerprint"] for c in corpora.values())).encode()
    ).hexdigest()
    hours: dict[str, float] = {}
    for corpus in corpora.values():
        for kind, value in corpus["hours_used"].items():
            hours[kind] = hours.get(kind, 0.0) + value
    card = {
        "model": config.pretrain,
        "size": config.pretrain_size,
        "config": model_config(config),
        "corpus": {
            "fingerprint": fingerprint,
            "n_files": sum(c["n_files"] for c in corpora.values()),
            "hours_used": hours,
            "sites": corpora,
        },
        "settings": asdict(settings(config)) | {"local_steps": config.local_steps},
        "steps": state.server_round * config.local_steps,
        "final_losses": {
            key: float(np.mean([m[key] for m in last.values() if key in m]))
            for key in sorted({k for m in last.values() for k in m})
            if key.endswith("loss")
        },
        "federated": {
            "experiment": config.experiment,
            "rounds": state.server_round,
            "sites": sorted(corpora),
            "aggregation": "weights: FedAvg weighted by the sites' corpus sequences; codebooks: "
            "EMA counts and sums summed over sites (first round: the sites' k-means codebooks "
            "merged), dead codes restarted by splitting the busiest",
            "history": str(output / "history.json"),
        },
        "versions": software_versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **model.card(),
    }
    folder = output / PRETRAINED
    folder.mkdir(parents=True, exist_ok=True)
    save_pretrained(folder, model.state_dict(), card)
    return folder
