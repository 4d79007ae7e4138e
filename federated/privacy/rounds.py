"""The server's privacy bookkeeping between rounds: the budget stop and each round's account."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .accountant import BUDGET_MARKER

if TYPE_CHECKING:
    from federated.config import FederationConfig
    from federated.server.strategies import ScreenedStrategy

LOG = logging.getLogger("flwr")


def budget_stop(
    config: FederationConfig, strategy: ScreenedStrategy, history: dict[str, Any], n_sites: int
) -> str:
    """Return why training must stop before the next round (a spent budget), or ''.

    Central DP: one more round would exceed the target ε. Local DP: the sites whose budget
    is spent (or unreachable) leave fewer than ``min-sites`` able to train.
    """
    account = strategy.privacy
    if account is not None and not account.can_release():
        return (
            f"the privacy budget is spent: ε = {account.epsilon():.3f} at δ = "
            f"{config.dp_delta:g} after {len(account.ledger.releases)} round(s); one more would "
            f"exceed target-epsilon {config.target_epsilon:g}"
        )
    spent = sorted(history.get("budget_spent", {}))
    if config.local_dp and spent and n_sites - len(spent) < config.min_sites:
        return (
            f"the privacy budget of {', '.join(spent)} is spent (or cannot be reached), which "
            f"leaves fewer than min-sites = {config.min_sites} sites able to train"
        )
    return ""


def account_round(
    config: FederationConfig, strategy: ScreenedStrategy, record: dict, history: dict
) -> None:
    """Put the privacy spent into the round's record and the run's history (and the log)."""
    if strategy.privacy is not None:
        history["privacy"] = strategy.privacy.report()
        record["privacy"] = {
            key: history["privacy"][key]
            for key in ("epsilon", "delta", "rounds", "noise_multiplier", "clipping_norm")
        }
        return
    if not config.local_dp:
        return
    epsilons = {
        site: metrics["epsilon"]
        for site, metrics in record["train"].items()
        if "epsilon" in metrics
    }
    record["privacy"] = {"delta": config.dp_delta, "epsilon": epsilons}
    for failure in record["failed"]:
        if BUDGET_MARKER in failure["reason"]:
            history.setdefault("budget_spent", {})[failure["site"]] = failure["reason"]
    if epsilons:
        LOG.info(
            "Round %d: privacy spent (local DP, per trial) %s at δ = %g",
            record["round"],
            ", ".join(f"ε = {value:.3f} ({site})" for site, value in sorted(epsilons.items())),
            config.dp_delta,
        )
