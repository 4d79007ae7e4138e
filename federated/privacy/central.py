"""Central differential privacy: Flower's server-side clipping and noise, accounted.

Flower's wrappers (``DifferentialPrivacyServerSideFixedClipping`` and
``...AdaptiveClipping``) clip each site's update (its difference from the sent model) to a
norm ``C`` and add Gaussian noise to the average of the clipped updates. The average is
unweighted under central DP (a weighted one would give the largest site more than ``C / m``
of influence): every accepted update counts once (its weight is set to 1 before averaging). :class:`CentralPrivacy` sits between the screening and
Flower's wrapper: it tells the wrapper how many updates were accepted, so the noise has
standard deviation ``z C / m`` for the ``m`` averaged updates (noise multiplier ``z`` whatever
the dropouts), and composes one release per aggregated round in its ledger.

Neighbouring runs differ by one site's participation (add or remove; the number of sites
taken as public, as Flower's wrappers do), every site takes part in every round (sampling
rate 1: no amplification), so round ``t`` spends a Gaussian mechanism of multiplier ``z``.
With adaptive clipping (Andrew et al. 2021) the noisy count of clipped updates also spends
privacy: the noise on the arrays is raised so that both together are a Gaussian mechanism of
multiplier ``z``; the count's noise is ``max(sites / 20, z)`` (Flower's default, ``sites /
20``, is too small to reach a useful ``z`` with few sites), which raises the arrays' noise by
about 15 %. The noise comes from NumPy's global generator, seeded by the operating system.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flwr.serverapp.strategy import (
    DifferentialPrivacyServerSideAdaptiveClipping,
    DifferentialPrivacyServerSideFixedClipping,
    Strategy,
)

from .accountant import Budget, PrivacyLedger, Release, noise_for_budget

if TYPE_CHECKING:
    from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord
    from flwr.serverapp import Grid

    from federated.config import FederationConfig

LOG = logging.getLogger("flwr")
MECHANISM = (
    "central DP (server-side clipping and Gaussian noise on the average of the sites' updates)"
)


def central_noise(config: FederationConfig) -> float:
    """Return the noise multiplier: ``dp-noise``, or the one spending the budget in ``rounds``."""
    if config.dp_noise > 0:
        return config.dp_noise
    return noise_for_budget(config.target_epsilon, config.dp_delta, 1.0, config.rounds)


def check_central_budget(config: FederationConfig) -> None:
    """Refuse a target ε that one round of these settings already exceeds (named numbers)."""
    release = Release(central_noise(config), 1.0, 1)
    Budget(config.target_epsilon, config.dp_delta).check_reachable(
        release, "central DP", "the federation"
    )


class CentralPrivacy(Strategy):
    """Flower's central DP wrapper around ``strategy``, its noise calibrated and accounted.

    Parameters
    ----------
    strategy : Strategy
        The aggregation (an unweighted FedAvg).
    config : FederationConfig
        The federation (noise, clipping, δ, target ε, rounds).
    n_sites : int
        Sites expected per round.
    weight_key : str
        The metric ``strategy`` weighs updates by (set to 1 in every update).
    state : dict, optional
        :meth:`report` of an interrupted run (its ledger and adaptive clipping norm).
    """

    def __init__(
        self,
        strategy: Strategy,
        config: FederationConfig,
        n_sites: int,
        weight_key: str,
        state: dict[str, Any] | None = None,
    ) -> None:
        check_central_budget(config)
        self.weight_key = weight_key
        self.noise_multiplier = central_noise(config)
        self.budget = Budget(config.target_epsilon, config.dp_delta)
        self.adaptive = config.dp_clipping == "adaptive"
        sites = max(1, n_sites)
        if self.adaptive:
            self.dp: Strategy = DifferentialPrivacyServerSideAdaptiveClipping(
                strategy,
                self.noise_multiplier,
                sites,
                initial_clipping_norm=config.dp_clip,
                clipped_count_stddev=max(sites / 20, self.noise_multiplier),
            )
        else:
            self.dp = DifferentialPrivacyServerSideFixedClipping(
                strategy, self.noise_multiplier, config.dp_clip, sites
            )
        state = state or {}
        self.ledger = PrivacyLedger.from_dict(state.get("ledger"))
        if self.adaptive and state.get("clipping_norm"):
            self.dp.clipping_norm = float(state["clipping_norm"])

    @property
    def release(self) -> Release:
        """Return what one aggregated round spends."""
        return Release(self.noise_multiplier, 1.0, 1)

    def can_release(self) -> bool:
        """Return True when one more round stays within the budget."""
        return self.budget.allows(self.ledger, self.release)

    def epsilon(self) -> float:
        """Return the ε spent so far."""
        return self.ledger.epsilon(self.budget.delta)

    def report(self) -> dict[str, Any]:
        """Return the account: mechanism, noise, clipping, rounds, δ, ε (history and cards)."""
        return {
            "mechanism": "central",
            "description": MECHANISM,
            "unit": "site",
            "clipping": "adaptive" if self.adaptive else "fixed",
            "clipping_norm": float(self.dp.clipping_norm),
            "noise_multiplier": self.noise_multiplier,
            "noise_multiplier_on_arrays": float(self.dp.noise_multiplier),
            "sampling_rate": 1.0,
            "rounds": len(self.ledger.releases),
            "delta": self.budget.delta,
            "epsilon": self.epsilon(),
            "target_epsilon": self.budget.target_epsilon or None,
            "accountant": "RDP (Opacus)",
            "ledger": self.ledger.to_dict(),
        }

    def summary(self) -> None:
        """Log the mechanism, then Flower's wrapper."""
        LOG.info(
            "\t├──> Privacy: central DP, noise multiplier %.3g, δ %g, target ε %s",
            self.noise_multiplier,
            self.budget.delta,
            f"{self.budget.target_epsilon:g}" if self.budget.target_epsilon else "none",
        )
        self.dp.summary()

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """Let Flower's wrapper keep the sent model (updates are clipped against it)."""
        return self.dp.configure_train(server_round, arrays, config, grid)

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        """Clip, average and noise the accepted updates; account the release."""
        replies = list(replies)
        for reply in replies:
            for metrics in reply.content.metric_records.values():
                metrics[self.weight_key] = 1
        self.dp.num_sampled_clients = max(1, len(replies))
        arrays, metrics = self.dp.aggregate_train(server_round, replies)
        if arrays is not None:
            self.ledger.add(self.release)
            LOG.info(
                "Round %d: privacy spent ε = %.3f at δ = %g (central DP, %d round(s), noise "
                "multiplier %.3g, clipping norm %.3g)",
                server_round,
                self.epsilon(),
                self.budget.delta,
                len(self.ledger.releases),
                self.noise_multiplier,
                self.dp.clipping_norm,
            )
        return arrays, metrics

    def configure_evaluate(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """Configure the evaluation (the noised model is evaluated as any)."""
        return self.dp.configure_evaluate(server_round, arrays, config, grid)

    def aggregate_evaluate(
        self, server_round: int, replies: Iterable[Message]
    ) -> MetricRecord | None:
        """Aggregate the validation metrics."""
        return self.dp.aggregate_evaluate(server_round, replies)
