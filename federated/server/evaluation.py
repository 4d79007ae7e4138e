"""Validation of each round's model: carried by the next round's training messages.

Every deployed stage costs a fresh ClientApp process per site (Flower 1.42 starts one per
message) and the SuperNodes' pick-up, whatever the work. So a round does not send an
evaluation stage of its own: the next round's training message asks each site to score the
model it receives (the previous round's, with the site's local layers as they were after
that round, exactly what a separate evaluation would see) on its validation trials before
training, and the reply carries the scores beside the update. Only the last round's model
is evaluated by a stage of its own. Model selection (the round of lowest validation loss over
sites, weighted by their validation trials) is unchanged.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .exchange import send_and_receive
from .timing import StageClock, stage_timing

if TYPE_CHECKING:
    from flwr.app import ArrayRecord, Message
    from flwr.serverapp import Grid

    from federated.config import FederationConfig

    from .checkpoint import ServerState
    from .strategies import ScreenedStrategy

LOG = logging.getLogger("flwr")
EVALUATION_RECORD = "evaluation"
EVALUATE_RECEIVED = "evaluate-received"
"""Config key of a training message asking the site to score the received model first."""
WEIGHT_KEY = "num-examples"


@dataclass
class Evaluation:
    """The validation scores of one round's model, per site and over sites."""

    evaluate: dict[str, dict[str, float]] = field(default_factory=dict)
    evaluate_failed: list[dict[str, Any]] = field(default_factory=list)
    aggregated: dict[str, float] = field(default_factory=dict)
    timing: dict[str, dict[str, float]] = field(default_factory=dict)


def carried_evaluation(replies: list[Message]) -> Evaluation | None:
    """Return the scores the training replies carry of the model they received (None: none)."""
    evaluation = Evaluation()
    for reply in replies:
        if reply.has_error() or EVALUATION_RECORD not in reply.content.config_records:
            continue
        site = str(reply.content.config_records["site"]["name"])
        scores = reply.content.config_records[EVALUATION_RECORD]
        evaluation.evaluate[site] = {key: float(value) for key, value in scores.items()}
    if not evaluation.evaluate:
        return None
    evaluation.aggregated = weighted(evaluation.evaluate)
    return evaluation


def evaluation_stage(
    grid: Grid,
    config: FederationConfig,
    strategy: ScreenedStrategy,
    arrays: ArrayRecord,
    server_round: int,
    run_key: str,
) -> Evaluation:
    """Send the last round's model for validation alone; return the scores."""
    from flwr.app import ConfigRecord

    report = strategy.begin_round(server_round)
    messages = strategy.configure_evaluate(
        server_round, arrays, ConfigRecord({"run-key": run_key}), grid
    )
    clock = StageClock()
    replies = send_and_receive(grid, messages, config.round_timeout, clock=clock)
    aggregated = strategy.aggregate_evaluate(server_round, replies)
    return Evaluation(
        report.evaluate,
        report.evaluate_failed,
        dict(aggregated) if aggregated else {},
        stage_timing(clock, replies),
    )


def record_evaluation(
    state: ServerState, record: dict[str, Any], evaluation: Evaluation, arrays: dict
) -> None:
    """Put a round's scores into its record; keep its model when it is the best so far."""
    record.update(
        evaluate=evaluation.evaluate,
        evaluate_failed=evaluation.evaluate_failed,
        aggregated=evaluation.aggregated,
    )
    if evaluation.timing:
        record.setdefault("timing", {})["evaluate"] = evaluation.timing
    loss = evaluation.aggregated.get("valid-loss")
    if loss is not None and math.isfinite(loss) and loss < state.best_loss:
        state.best_loss, state.best_round = float(loss), int(record["round"])
        state.best_arrays = arrays
    state.history["best_round"] = state.best_round
    if evaluation.aggregated:
        LOG.info(
            "Round %d: validation accuracy %.3f over %d site(s)",
            record["round"],
            evaluation.aggregated.get("valid-accuracy", float("nan")),
            len(evaluation.evaluate),
        )


def weighted(sites: dict[str, dict[str, float]]) -> dict[str, float]:
    """Return metrics averaged over sites, weighted by their ``num-examples``."""
    weights = {site: metrics.get(WEIGHT_KEY, 0.0) for site, metrics in sites.items()}
    total = sum(weights.values())
    if not total:
        return {}
    names = set.intersection(*(set(m) for m in sites.values())) - {WEIGHT_KEY}
    return {
        name: float(np.sum([sites[s][name] * weights[s] for s in sites]) / total)
        for name in sorted(names)
    }
