"""Strategies: Flower's FedAvg and FedProx, the personalised variant, DP and screening wrappers.

:func:`build_strategy` composes, from the inside out: the aggregation rule (Flower's
``FedAvg``/``FedProx``, or :class:`PersonalisedFedAvg`), optionally central differential
privacy (:class:`~federated.privacy.central.CentralPrivacy`: Flower's server-side clipping
wrapper, fixed or adaptive, accounted; the average is then unweighted), and
:class:`ScreenedStrategy`, which drops failed and bad replies before anything else sees
them, so neither a dropped site nor a poisoned update stops or spoils a round.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord
from flwr.serverapp.strategy import FedAvg, FedProx, Strategy

from federated.arrays import from_record, payload_bytes
from federated.config import FederationConfig
from federated.privacy.central import CentralPrivacy

from .screening import screen

if TYPE_CHECKING:
    from flwr.serverapp import Grid

LOG = logging.getLogger("flwr")
WEIGHT_KEY = "num-examples"
SITE_RECORD = "site"


class PersonalisedFedAvg(FedAvg):
    """FLEEG-style personalisation: only the shared trunk and head travel and are averaged.

    The server's arrays are the ``shared.`` part of the model; each site keeps its own input
    layers (sized to its montage and rate) and sends back only its shared part, which is
    averaged weighted by the sites' training-trial counts (FedAvg's rule). The messages say
    ``personalised = True`` in their config.
    """

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """Configure a round of training of the shared part."""
        config["personalised"] = True
        return super().configure_train(server_round, arrays, config, grid)

    def summary(self) -> None:
        """Log the strategy's settings."""
        LOG.info("\t├──> Personalised: site-local input layers, shared trunk averaged")
        super().summary()


@dataclass
class RoundReport:
    """What happened to each site in one round (for the history file)."""

    server_round: int
    accepted: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    train: dict[str, dict[str, float]] = field(default_factory=dict)
    evaluate: dict[str, dict[str, float]] = field(default_factory=dict)
    evaluate_failed: list[dict[str, Any]] = field(default_factory=list)
    skipped: str = ""
    bytes_sent: int = 0
    bytes_received: int = 0
    secure: list[dict[str, Any]] = field(default_factory=list)
    timing: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)


class ScreenedStrategy(Strategy):
    """Wrap a strategy so failed, malformed, non-finite and outlier updates never reach it.

    Parameters
    ----------
    strategy : Strategy
        The wrapped strategy (aggregation, possibly inside a DP wrapper).
    min_sites : int
        Accepted updates needed for the round to change the model; with fewer, the model is
        kept as it was and the round is reported as skipped.
    outlier_factor : float
        Norm threshold of the outlier check (see :mod:`.screening`); 0 turns it off.
    """

    def __init__(self, strategy: Strategy, *, min_sites: int, outlier_factor: float) -> None:
        self.strategy = strategy
        self.min_sites = min_sites
        self.outlier_factor = outlier_factor
        self.reference: dict = {}
        self.sites: dict[int, str] = {}
        self.report = RoundReport(0)
        self._sent: list[Message] = []

    @property
    def privacy(self) -> CentralPrivacy | None:
        """Return the central DP account, when central DP is on."""
        return self.strategy if isinstance(self.strategy, CentralPrivacy) else None

    def summary(self) -> None:
        """Log the screening settings, then the wrapped strategy's."""
        LOG.info(
            "\t├──> Screening: min sites %d, outlier factor %g", self.min_sites, self.outlier_factor
        )
        self.strategy.summary()

    def begin_round(self, server_round: int) -> RoundReport:
        """Start the report of a round (secure aggregation fills it without the strategy)."""
        self.report = RoundReport(server_round)
        return self.report

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """Remember the sent model, then let the wrapped strategy configure the round."""
        self.begin_round(server_round)
        self.reference = from_record(arrays)
        messages = list(self.strategy.configure_train(server_round, arrays, config, grid))
        self.report.bytes_sent += sum(payload_bytes(m.content) for m in messages)
        self._sent = messages
        return messages

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        """Screen the replies, then aggregate the accepted ones (if enough)."""
        replies = list(replies)
        self.report.bytes_received += sum(
            payload_bytes(m.content) for m in replies if m.has_content()
        )
        self._silent(replies, self.report.failed, "train")
        candidates, updates = [], []
        for message in replies:
            node = self._node_of(message)
            if message.has_error():
                self._failed(self.report.failed, node, message.error.reason, "train")
                continue
            site = self._site_of(message)
            records = list(message.content.array_records.values())
            metrics = list(message.content.metric_records.values())
            if len(records) != 1 or len(metrics) != 1:
                self._failed(self.report.failed, node, "reply lacks its arrays or metrics", "train")
                continue
            candidates.append(message)
            updates.append((node, site, from_record(records[0]), metrics[0].get(WEIGHT_KEY)))
        verdicts = screen(updates, self.reference, self.outlier_factor)
        accepted = []
        for message, verdict in zip(candidates, verdicts, strict=True):
            if verdict.accepted:
                accepted.append(message)
                self.report.accepted.append(verdict.site)
                metrics = next(iter(message.content.metric_records.values()))
                self.report.train[verdict.site] = {k: float(v) for k, v in metrics.items()}
                self.report.train[verdict.site]["update-norm"] = verdict.norm
            else:
                LOG.warning(
                    "Round %d: update of %s rejected: %s",
                    server_round,
                    verdict.site,
                    verdict.reason,
                )
                self.report.rejected.append(
                    {"site": verdict.site, "node": verdict.node, "reason": verdict.reason}
                )
        if len(accepted) < self.min_sites:
            self.report.skipped = (
                f"{len(accepted)} accepted update(s), fewer than min-sites={self.min_sites}: "
                "the model is kept as it was"
            )
            LOG.warning("Round %d: %s", server_round, self.report.skipped)
            return None, None
        return self.strategy.aggregate_train(server_round, accepted)

    def configure_evaluate(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """Let the wrapped strategy configure the evaluation."""
        messages = list(self.strategy.configure_evaluate(server_round, arrays, config, grid))
        self.report.bytes_sent += sum(payload_bytes(m.content) for m in messages)
        self._sent = messages
        return messages

    def aggregate_evaluate(
        self, server_round: int, replies: Iterable[Message]
    ) -> MetricRecord | None:
        """Record each site's validation metrics, then aggregate (weighted by trials)."""
        replies = list(replies)
        self._silent(replies, self.report.evaluate_failed, "evaluate")
        valid = []
        for message in replies:
            if message.has_error():
                self._failed(
                    self.report.evaluate_failed,
                    self._node_of(message),
                    message.error.reason,
                    "evaluate",
                )
                continue
            metrics = list(message.content.metric_records.values())
            if len(metrics) != 1:
                continue
            valid.append(message)
            self.report.evaluate[self._site_of(message)] = {
                k: float(v) for k, v in metrics[0].items()
            }
        if not valid:
            return None
        return self.strategy.aggregate_evaluate(server_round, valid)

    def _node_of(self, message: Message) -> int:
        """Return the node a reply answers for.

        The SuperLink answers for a node it declared unavailable (no heartbeat) with an
        error of its own, sent from the SuperLink's id: such a reply is the node's, matched
        through the message it replies to.
        """
        sent = {m.metadata.message_id: m.metadata.dst_node_id for m in self._sent}
        return sent.get(message.metadata.reply_to_message_id, message.metadata.src_node_id)

    def _site_of(self, message: Message) -> str:
        node = self._node_of(message)
        record = message.content.config_records.get(SITE_RECORD)
        if record is not None and "name" in record:
            self.sites[node] = str(record["name"])
        return self.sites.get(node, f"node {node}")

    def _silent(self, replies: list[Message], into: list, stage: str) -> None:
        """Report the nodes that were sent a message but did not reply in time."""
        replied = {self._node_of(m) for m in replies}
        awaited = {m.metadata.dst_node_id for m in self._sent}
        for node in sorted(awaited - replied):
            self._failed(into, node, "no reply within round-timeout (dropped out?)", stage)

    def _failed(self, into: list, node: int, reason: str, stage: str) -> None:
        site = self.sites.get(node, f"node {node}")
        first_line = str(reason).strip().splitlines()[-1] if str(reason).strip() else "no reason"
        LOG.warning(
            "Round %d: %s failed to %s: %s", self.report.server_round, site, stage, first_line
        )
        into.append({"site": site, "node": node, "reason": str(reason)})


def build_strategy(
    config: FederationConfig, n_sites: int, privacy_state: dict[str, Any] | None = None
) -> ScreenedStrategy:
    """Return the federation's strategy, wrapped for DP (if asked) and screening.

    Parameters
    ----------
    config : FederationConfig
        The federation's settings.
    n_sites : int
        Sites expected per round.
    privacy_state : dict, optional
        The central DP account of an interrupted run (its ledger), when resuming.
    """
    sampling = {
        "fraction_train": 1.0,
        "fraction_evaluate": 1.0,
        "min_train_nodes": config.min_sites,
        "min_evaluate_nodes": config.min_sites,
        "min_available_nodes": config.min_sites,
        "weighted_by_key": WEIGHT_KEY,
    }
    if config.strategy == "fedprox":
        strategy: Strategy = FedProx(proximal_mu=config.proximal_mu, **sampling)
    elif config.personalised:
        strategy = PersonalisedFedAvg(**sampling)
    else:
        strategy = FedAvg(**sampling)
    if config.central_dp:
        strategy = CentralPrivacy(strategy, config, n_sites, WEIGHT_KEY, privacy_state)
    return ScreenedStrategy(
        strategy, min_sites=config.min_sites, outlier_factor=config.outlier_factor
    )
