"""Accounted differential privacy in whole in-process federations: ε per round, budgets."""

import pytest

from decoders.checkpoint import load_decoder
from federated.config import FederationConfigError, load_federation_file
from federated.inprocess import run_inprocess
from federated.privacy.accountant import Release, epsilon_of


def test_central_dp_reports_epsilon_per_round_and_stops_when_the_budget_is_spent(
    federation_file,
):
    # Noise multiplier 2 at δ = 1e-5: ε = 2.17 after one round, 3.19 after two, 4.01 after 3.
    path = federation_file(rounds=3, privacy="central", **{"dp-noise": 2.0, "dp-clip": 1.0})
    config = load_federation_file(path, target_epsilon=3.5)
    history = run_inprocess(config.to_run_config(), 3)
    assert [r["round"] for r in history["rounds"]] == [1, 2]
    assert history["stopped"]["before_round"] == 3
    assert "privacy budget is spent" in history["stopped"]["reason"]
    spent = [r["privacy"]["epsilon"] for r in history["rounds"]]
    assert spent == pytest.approx([epsilon_of([Release(2.0, 1.0, n)], 1e-5) for n in (1, 2)])
    account = history["privacy"]
    assert account["mechanism"] == "central" and account["rounds"] == 2
    assert account["delta"] == 1e-5 and account["epsilon"] == pytest.approx(spent[-1])
    _, card = load_decoder(history["final"]["models"]["site-a"]["dir"])
    carded = card.extra["federated"]["privacy"]
    assert carded["noise_multiplier"] == 2.0 and carded["epsilon"] == pytest.approx(spent[-1])
    assert carded["clipping_norm"] == 1.0 and carded["sampling_rate"] == 1.0


def test_a_central_target_one_round_exceeds_is_refused_with_the_smallest_reachable_epsilon(
    federation_file,
):
    path = federation_file(privacy="central", **{"dp-noise": 1.0, "dp-clip": 1.0})
    config = load_federation_file(path, target_epsilon=1.0)
    with pytest.raises(FederationConfigError, match=r"smallest reachable ε .* is 4\.73"):
        run_inprocess(config.to_run_config(), 3)


def test_local_dp_accounts_every_site_and_records_it_in_its_model_card(federation_file):
    path = federation_file(
        rounds=2, privacy="local", **{"dp-noise": 1.0, "dp-clip": 1.0, "local-steps": 2}
    )
    history = run_inprocess(load_federation_file(path).to_run_config(), 3)
    first, second = (r["privacy"]["epsilon"] for r in history["rounds"])
    assert sorted(first) == ["site-a", "site-b", "site-c"]
    assert all(0 < first[site] < second[site] for site in first)
    _, card = load_decoder(history["final"]["models"]["site-a"]["dir"])
    account = card.extra["federated"]["privacy"]
    assert account["mechanism"] == "local" and account["rounds"] == 2
    expected = epsilon_of(
        [Release(1.0, account["sampling_rate"], account["steps_per_round"] * 2)], 1e-5
    )
    assert account["epsilon"] == pytest.approx(expected) == pytest.approx(second["site-a"])


def test_a_local_target_one_round_exceeds_stops_the_run_naming_each_site(federation_file):
    path = federation_file(
        rounds=2, privacy="local", **{"dp-noise": 0.5, "dp-clip": 1.0, "local-steps": 2}
    )
    config = load_federation_file(path, target_epsilon=0.5)
    history = run_inprocess(config.to_run_config(), 3)
    assert not history["rounds"][0]["accepted"]
    reasons = sorted(failure["reason"] for failure in history["rounds"][0]["failed"])
    for site, reason in zip(("site-a", "site-b", "site-c"), reasons, strict=True):
        assert f"site {site}: target-epsilon 0.5 cannot be reached" in reason
        assert "the smallest reachable ε with these settings is" in reason
    assert history["stopped"]["before_round"] == 2


def test_a_resumed_run_continues_the_central_account(federation_file):
    path = federation_file(rounds=1, privacy="central", **{"dp-noise": 2.0, "dp-clip": 1.0})
    run_inprocess(load_federation_file(path).to_run_config(), 3)
    resumed = load_federation_file(path, rounds=2, resume=True)
    history = run_inprocess(resumed.to_run_config(), 3)
    assert history["resumed_after"] == [1] and history["privacy"]["rounds"] == 2
    expected = epsilon_of([Release(2.0, 1.0, 2)], 1e-5)
    assert history["rounds"][-1]["privacy"]["epsilon"] == pytest.approx(expected)
