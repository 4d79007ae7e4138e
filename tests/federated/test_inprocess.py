"""Whole federations run in process: the ServerApp's rounds against the ClientApp."""

import json
from pathlib import Path

import numpy as np
import pytest

from decoders.checkpoint import load_decoder
from federated.config import FederationConfigError, load_federation_file
from federated.inprocess import run_inprocess


def test_a_personalised_federation_trains_evaluates_and_exports_every_site(federation_file):
    config = load_federation_file(federation_file(export=True))
    history = run_inprocess(config.to_run_config(), 3)
    assert [r["round"] for r in history["rounds"]] == [1, 2]
    for record in history["rounds"]:
        assert sorted(record["accepted"]) == ["site-a", "site-b", "site-c"]
        assert sorted(record["evaluate"]) == ["site-a", "site-b", "site-c"]
        assert 0 <= record["aggregated"]["valid-accuracy"] <= 1
        assert record["bytes_sent"] > 0 and record["bytes_received"] > 0
    final = history["final"]
    assert sorted(final["sites"]) == ["site-a", "site-b", "site-c"]
    assert all("test-accuracy" in metrics for metrics in final["sites"].values())
    for name, channels in (("site-a", 8), ("site-b", 16), ("site-c", 22)):
        decoder, card = load_decoder(final["models"][name]["dir"])
        assert len(decoder.input_spec_.ch_names) == channels
        assert card.extra["federated"]["strategy"] == "personalised"
        assert final["models"][name]["ref"] == f"fed-test-{name}:1"
    manifest = json.loads(
        (
            config.output_dir and __import__("pathlib").Path(config.registry_dir) / "manifest.json"
        ).read_text()
    )
    assert sorted(m["name"] for m in manifest["models"]) == [
        "fed-test-site-a",
        "fed-test-site-b",
        "fed-test-site-c",
    ]
    output = Path(config.output_dir)
    assert json.loads((output / "history.json").read_text())["final"]["test"]
    assert (output / "history.png").is_file() and (output / "checkpoint" / "state.json").is_file()
    assert (output / "global" / "shared.npz").is_file()


def test_fedavg_on_common_channels_exports_one_global_model(federation_file):
    path = federation_file(
        strategy="fedavg", channels=["C3", "Cz", "C4"], sfreq=125.0, export=True, rounds=1
    )
    config = load_federation_file(path)
    history = run_inprocess(config.to_run_config(), 3)
    assert history["final"]["global"]["ref"] == "fed-test-global:1"
    decoder, card = load_decoder(history["final"]["global"]["dir"])
    assert decoder.input_spec_.ch_names == ("C3", "Cz", "C4") and decoder.input_spec_.sfreq == 125
    assert card.extra["federated"]["strategy"] == "fedavg"


def test_a_site_that_never_answers_or_fails_does_not_stop_the_rounds(federation_file, site_files):
    sites = site_files()
    sites[2].write_text(sites[2].read_text() + '[labels]\nmap = { right_hand = "feet" }\n')
    config = load_federation_file(federation_file(sites))
    history = run_inprocess(config.to_run_config(), 3, offline=[0])
    for record in history["rounds"]:
        assert record["accepted"] == ["site-b"] or record["skipped"]
        reasons = " ".join(item["reason"] for item in record["failed"])
        assert "no reply" in reasons and "not one of the federation's classes" in reasons
    config = load_federation_file(federation_file(sites), **{"min-sites": 1})
    history = run_inprocess(config.to_run_config(), 3, offline=[0])
    assert all(r["accepted"] == ["site-b"] and not r["skipped"] for r in history["rounds"])


def test_a_run_resumes_from_its_checkpoint(federation_file):
    path = federation_file(rounds=1)
    config = load_federation_file(path)
    first = run_inprocess(config.to_run_config(), 3)
    resumed_config = load_federation_file(path, rounds=3, resume=True)
    resumed = run_inprocess(resumed_config.to_run_config(), 3)
    assert [r["round"] for r in resumed["rounds"]] == [1, 2, 3]
    assert resumed["resumed_after"] == [1]
    assert resumed["rounds"][0] == first["rounds"][0]
    state_dir = (
        __import__("pathlib").Path(config.sites[0]).parent / "site-a-state" / "runs" / "test"
    )
    assert len(list(state_dir.iterdir())) == 1  # the same run key: local layers carried over
    changed = load_federation_file(path, rounds=3, resume=True, classes=["right_hand", "left_hand"])
    with pytest.raises(FederationConfigError, match="other settings"):
        run_inprocess(changed.to_run_config(), 3)


def test_central_differential_privacy_runs_end_to_end(federation_file):
    config = load_federation_file(
        federation_file(rounds=1), privacy="central", **{"dp-noise": 0.3, "dp-clip": 1.0}
    )
    history = run_inprocess(config.to_run_config(), 3)
    assert history["rounds"][0]["accepted"] and np.isfinite(history["final"]["test"]["test-loss"])


def test_fedprox_trains_with_its_proximal_term_end_to_end(federation_file):
    path = federation_file(
        strategy="fedprox", channels=["C3", "C4"], sfreq=125.0, rounds=1, **{"proximal-mu": 0.5}
    )
    history = run_inprocess(load_federation_file(path).to_run_config(), 3)
    assert sorted(history["rounds"][0]["accepted"]) == ["site-a", "site-b", "site-c"]
    assert history["config"]["proximal_mu"] == 0.5
