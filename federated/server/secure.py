"""Secure aggregation of a round's training: Flower's SecAgg+ workflow (the server learns a sum).

Flower's ``SecAggPlusWorkflow`` drives the four stages of SecAgg+ (Bell et al. 2020): every
site's update is masked with pairwise masks agreed with the others and a private mask, so the
server can remove the masks only from the *sum* of the updates. A site that drops out after
sharing its keys has its pairwise masks removed with the key shares the others hold (at least
``secagg-threshold`` of them); fewer answering sites than the threshold halt the round, which
then leaves the model unchanged. The workflow belongs to Flower's legacy strategy interface,
so :class:`SecureRound` gives it a legacy strategy that sends the personalised strategy's
shared part (or the whole model) and receives the securely averaged *difference* from it,
and a grid that polls for replies every 0.2 s (:mod:`.exchange`) and records which sites
answered each stage, for the round's report and the log.

What the server cannot do under SecAgg+: screen one site's update (NaN/Inf, shapes, outlier
norms) or clip it for central DP; sites check their own update before it is masked
(:mod:`federated.client.secure`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from flwr.server.strategy import Strategy as LegacyStrategy

from federated.arrays import from_record, payload_bytes, to_record
from federated.client.secure import CLIPPING_RANGE, MAX_WEIGHT, NAMES_KEY, QUANTIZATION_RANGE

from .exchange import send_and_receive
from .timing import StageClock, stage_timing

if TYPE_CHECKING:
    from flwr.app import ArrayRecord, Context, Message
    from flwr.serverapp import Grid

    from federated.config import FederationConfig

    from .strategies import RoundReport

LOG = logging.getLogger("flwr")
STAGE_NAMES = {
    "setup": "set-up",
    "share_keys": "key sharing",
    "collect_masked_vectors": "masked update",
    "unmask": "unmasking",
}


@dataclass
class StageRecord:
    """Who was asked and who answered in one SecAgg+ stage."""

    stage: str
    asked: list[int] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    bytes_sent: int = 0
    bytes_received: int = 0
    timing: dict[str, dict[str, float]] = field(default_factory=dict)


class TracedGrid:
    """A grid for Flower's workflow: fast reply polling, and a record of every stage."""

    def __init__(self, grid: Grid, timeout: float) -> None:
        self.grid, self.timeout = grid, timeout
        self.stages: list[StageRecord] = []
        self.replies: dict[str, list[Message]] = {}

    def send_and_receive(
        self, messages: Iterable[Message], *, timeout: float | None = None
    ) -> list[Message]:
        """Send one stage's messages; return the replies and record who answered."""
        from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS

        messages = list(messages)
        stage = str(messages[0].content.config_records[RECORD_KEY_CONFIGS]["stage"])
        record = StageRecord(stage, [m.metadata.dst_node_id for m in messages])
        record.bytes_sent = sum(payload_bytes(m.content) + _config_bytes(m) for m in messages)
        clock = StageClock()
        replies = send_and_receive(self.grid, messages, timeout or self.timeout, clock=clock)
        record.timing = stage_timing(clock, replies)
        self.replies[stage] = replies
        sent = {m.metadata.message_id: m.metadata.dst_node_id for m in messages}
        for reply in replies:
            node = sent.get(reply.metadata.reply_to_message_id, reply.metadata.src_node_id)
            if reply.has_error():
                record.failed[node] = str(reply.error.reason)
            else:
                record.answered.append(node)
                record.bytes_received += payload_bytes(reply.content) + _config_bytes(reply)
        for node in set(record.asked) - set(record.answered) - set(record.failed):
            record.failed[node] = "no reply within round-timeout (dropped out?)"
        self.stages.append(record)
        return replies

    def __getattr__(self, name: str) -> Any:
        return getattr(self.grid, name)


class SharedPartAggregation(LegacyStrategy):
    """The legacy strategy SecAgg+ calls: sends the model, keeps the secure average.

    Parameters
    ----------
    names : list of str
        The arrays' names, in the order they travel.
    grid : Grid
        The run's grid.
    run_id : int
        The run.
    config : dict
        What every training message's config holds (round, run key, ...).
    """

    def __init__(self, names: list[str], grid: Grid, run_id: int, config: dict[str, Any]) -> None:
        self.names, self.grid, self.run_id, self.config = names, grid, run_id, config
        self.difference: dict[str, np.ndarray] | None = None
        self.results: list[tuple[int, Any]] = []

    def initialize_parameters(self, client_manager):
        """Return nothing: the server's model comes from the round."""
        return None

    def configure_fit(self, server_round, parameters, client_manager):
        """Return every site with the model and the round's settings."""
        from flwr.common import FitIns
        from flwr.server.compat.grid_client_proxy import GridClientProxy

        config = {**self.config, NAMES_KEY: json.dumps(self.names)}
        return [
            (GridClientProxy(node, self.grid, self.run_id), FitIns(parameters, config))
            for node in self.grid.get_node_ids()
        ]

    def aggregate_fit(self, server_round, results, failures):
        """Keep the securely averaged difference (every result carries the same one)."""
        from flwr.common import parameters_to_ndarrays

        self.results = [(proxy.node_id, fitres) for proxy, fitres in results]
        if not results:
            return None, {}
        arrays = parameters_to_ndarrays(results[0][1].parameters)
        self.difference = dict(zip(self.names, arrays, strict=True))
        return results[0][1].parameters, {}

    def configure_evaluate(self, server_round, parameters, client_manager):
        """Return no evaluation (the round's evaluation is the server's own stage)."""
        return []

    def aggregate_evaluate(self, server_round, results, failures):
        """Aggregate nothing (see :meth:`configure_evaluate`)."""
        return None, {}

    def evaluate(self, server_round, parameters):
        """Evaluate nothing on the server (no server-side data)."""
        return None


class SecureRound:
    """Rounds of training aggregated by SecAgg+.

    Parameters
    ----------
    config : FederationConfig
        The federation (threshold, round timeout, min sites).
    """

    def __init__(self, config: FederationConfig) -> None:
        from flwr.server.workflow import SecAggPlusWorkflow

        self.config = config
        self.masked_replies: list[Message] = []
        self.workflow = SecAggPlusWorkflow(
            num_shares=1.0,
            reconstruction_threshold=config.secagg_threshold,
            max_weight=MAX_WEIGHT,
            clipping_range=CLIPPING_RANGE,
            quantization_range=QUANTIZATION_RANGE,
            timeout=config.round_timeout,
        )

    def train(
        self,
        grid: Grid,
        context: Context,
        server_round: int,
        arrays: ArrayRecord,
        settings: dict[str, Any],
        report: RoundReport,
        sites: dict[int, str],
    ) -> ArrayRecord | None:
        """Run one round's training through SecAgg+; return the new model (None: unchanged).

        ``report`` receives the sites that were aggregated, those that failed or dropped out
        (with the stage), their training metrics and the bytes; ``sites`` learns names;
        :attr:`masked_replies` keeps the replies of the masked-update stage (their other
        records, such as the scores of the received model).
        """
        from flwr.app import ConfigRecord, RecordDict
        from flwr.app import Context as AppContext
        from flwr.server.compat.legacy_context import LegacyContext
        from flwr.server.workflow.constant import MAIN_CONFIGS_RECORD, MAIN_PARAMS_RECORD, Key

        reference = from_record(arrays)
        strategy = SharedPartAggregation(list(reference), grid, context.run_id, settings)
        state = RecordDict(
            {
                MAIN_CONFIGS_RECORD: ConfigRecord({Key.CURRENT_ROUND: server_round}),
                MAIN_PARAMS_RECORD: arrays,
            }
        )
        legacy = LegacyContext(
            AppContext(context.run_id, context.node_id, {}, state, dict(context.run_config)),
            strategy=strategy,
        )
        traced = TracedGrid(grid, self.config.round_timeout)
        self.workflow(traced, legacy)
        self.masked_replies = traced.replies.get("collect_masked_vectors", [])
        self._report(server_round, traced.stages, strategy, report, sites)
        if strategy.difference is None:
            report.skipped = self._halted(traced.stages)
            LOG.warning("Round %d: %s", server_round, report.skipped)
            return None
        if len(report.accepted) < self.config.min_sites:
            report.skipped = (
                f"{len(report.accepted)} site(s) in the secure sum, fewer than min-sites="
                f"{self.config.min_sites}: the model is kept as it was"
            )
            LOG.warning("Round %d: %s", server_round, report.skipped)
            return None
        return to_record(
            {
                name: (value + strategy.difference[name]).astype(value.dtype)
                for name, value in reference.items()
            }
        )

    def _report(
        self,
        server_round: int,
        stages: list[StageRecord],
        strategy: SharedPartAggregation,
        report: RoundReport,
        sites: dict[int, str],
    ) -> None:
        for node, fitres in strategy.results:
            name = str(fitres.metrics.get("site", f"node {node}"))
            sites[node] = name
            report.train[name] = {
                key: float(value)
                for key, value in fitres.metrics.items()
                if isinstance(value, int | float)
            } | {"num-examples": float(fitres.num_examples)}
        masked = next((s for s in stages if s.stage == "collect_masked_vectors"), None)
        aggregated = masked.answered if masked and strategy.difference is not None else []
        report.accepted = [sites.get(node, f"node {node}") for node in aggregated]
        report.bytes_sent += sum(s.bytes_sent for s in stages)
        report.bytes_received += sum(s.bytes_received for s in stages)
        named = {f"node {node}": name for node, name in sites.items()}
        report.timing = {
            STAGE_NAMES.get(s.stage, s.stage): {named.get(k, k): v for k, v in s.timing.items()}
            for s in stages
        }
        report.secure = [
            {
                "stage": STAGE_NAMES.get(s.stage, s.stage),
                "asked": len(s.asked),
                "answered": len(s.answered),
                "failed": {sites.get(n, f"node {n}"): r for n, r in s.failed.items()},
            }
            for s in stages
        ]
        for stage in stages:
            for node, reason in stage.failed.items():
                site = sites.get(node, f"node {node}")
                first = reason.strip().splitlines()[-1] if reason.strip() else "no reason"
                where = STAGE_NAMES.get(stage.stage, stage.stage)
                report.failed.append(
                    {"site": site, "node": node, "reason": f"at the {where} stage: {reason}"}
                )
                LOG.warning(
                    "Round %d: %s dropped out of secure aggregation at its %s stage (%s)%s",
                    server_round,
                    site,
                    STAGE_NAMES.get(stage.stage, stage.stage),
                    first,
                    self._recovery(stage, aggregated),
                )
        if aggregated:
            LOG.info(
                "Round %d: secure aggregation (SecAgg+) of %d site(s): the server saw only "
                "their weighted sum",
                server_round,
                len(aggregated),
            )

    def _recovery(self, stage: StageRecord, aggregated: list[int]) -> str:
        if stage.stage == "collect_masked_vectors" and aggregated:
            return (
                "; its masks were removed from the sum with the key shares of the "
                f"{len(aggregated)} other site(s), and its update is not in it"
            )
        if stage.stage == "unmask" and aggregated:
            return "; its update stays in the sum (the others' shares removed its masks)"
        return ""

    def _halted(self, stages: list[StageRecord]) -> str:
        last = stages[-1] if stages else None
        answered = len(last.answered) if last else 0
        where = STAGE_NAMES.get(last.stage, last.stage) if last else "set-up"
        return (
            f"secure aggregation halted at the {where} stage: {answered} site(s) answered, "
            f"at least secagg-threshold = {self.config.secagg_threshold} are needed; the model "
            "is kept as it was"
        )


def _config_bytes(message: Message) -> int:
    """Return the bytes of a message's config records' byte values (keys, shares, masks)."""
    total = 0
    for record in message.content.config_records.values():
        for value in record.values():
            if isinstance(value, bytes):
                total += len(value)
            elif isinstance(value, list):
                total += sum(len(item) for item in value if isinstance(item, bytes))
    return total
