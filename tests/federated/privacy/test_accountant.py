"""The privacy accountant against the Gaussian mechanism's closed form, and budgets."""

import math

import pytest

from federated.config import FederationConfigError
from federated.privacy.accountant import (
    BUDGET_MARKER,
    Budget,
    PrivacyLedger,
    Release,
    epsilon_of,
    noise_for_budget,
)

ORDERS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))
"""The Rényi orders searched (Opacus's grid)."""


def gaussian_epsilon(sigma: float, steps: int, delta: float) -> float:
    """Hand computation: RDP of ``steps`` Gaussian mechanisms (alpha * steps / (2 sigma^2),
    Mironov 2017, Prop. 7), converted to (eps, delta) by Balle et al. 2020 (Thm. 21)."""
    return min(
        alpha * steps / (2 * sigma**2)
        + math.log((alpha - 1) / alpha)
        - (math.log(delta) + math.log(alpha)) / (alpha - 1)
        for alpha in ORDERS
    )


@pytest.mark.parametrize(("sigma", "steps"), [(1.0, 1), (2.0, 3), (0.8, 10)])
def test_full_participation_matches_the_gaussian_closed_form(sigma, steps):
    release = Release(noise_multiplier=sigma, sample_rate=1.0, steps=steps)
    assert epsilon_of([release], 1e-5) == pytest.approx(gaussian_epsilon(sigma, steps, 1e-5))


def test_one_step_of_unit_noise_gives_the_known_value():
    # alpha = 6: 3 + log(5/6) - (log(1e-5) + log 6) / 5 = 4.7285 (the minimum over the grid).
    assert epsilon_of([Release(1.0, 1.0, 1)], 1e-5) == pytest.approx(4.7285, abs=1e-4)


def test_releases_compose_and_sampling_amplifies():
    one = Release(2.0, 1.0, 1)
    ledger = PrivacyLedger([one, one])
    assert ledger.epsilon(1e-5) == pytest.approx(epsilon_of([Release(2.0, 1.0, 2)], 1e-5))
    assert ledger.epsilon(1e-5) > epsilon_of([one], 1e-5) > 0
    assert epsilon_of([Release(2.0, 0.1, 1)], 1e-5) < epsilon_of([one], 1e-5)
    assert PrivacyLedger.from_dict(ledger.to_dict()) == ledger
    assert PrivacyLedger().epsilon(1e-5) == 0.0


def test_the_noise_for_a_budget_spends_at_most_it():
    noise = noise_for_budget(3.0, 1e-5, 1.0, 5)
    assert 2.9 < epsilon_of([Release(noise, 1.0, 5)], 1e-5) <= 3.0


def test_a_budget_allows_releases_until_the_next_would_exceed_it():
    release = Release(2.0, 1.0, 1)
    budget = Budget(target_epsilon=3.5, delta=1e-5)  # 1 round: 2.17, 2: 3.19, 3: 4.01
    ledger = PrivacyLedger()
    while budget.allows(ledger, release):
        ledger.add(release)
    assert len(ledger.releases) == 2
    assert Budget(0.0, 1e-5).allows(ledger, release)  # no budget


def test_an_unreachable_target_names_the_smallest_reachable_epsilon():
    release = Release(1.0, 1.0, 1)
    with pytest.raises(FederationConfigError) as error:
        Budget(1.0, 1e-5).check_reachable(release, "central DP", "the federation")
    assert BUDGET_MARKER in str(error.value)
    assert "smallest reachable ε with these settings is 4.73" in str(error.value)
