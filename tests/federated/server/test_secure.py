"""Secure aggregation (Flower's SecAgg+) in process: the sum only, dropouts, the threshold."""

import pytest

from federated.config import FederationConfigError, load_federation_file
from federated.inprocess import run_inprocess

BAD_LABELS = '[labels]\nmap = { right_hand = "feet" }\n'


def test_a_site_failing_after_sharing_its_keys_is_unmasked_by_the_others(
    federation_file, site_files
):
    sites = site_files()
    sites[2].write_text(sites[2].read_text() + BAD_LABELS)  # fails at the masked update
    path = federation_file(sites, rounds=1, **{"secure-aggregation": True})
    history = run_inprocess(load_federation_file(path).to_run_config(), 3)
    [record] = history["rounds"]
    assert sorted(record["accepted"]) == ["site-a", "site-b"]
    stages = {stage["stage"]: stage for stage in record["secure_aggregation"]}
    assert list(stages) == ["set-up", "key sharing", "masked update", "unmasking"]
    assert stages["key sharing"]["answered"] == 3
    assert stages["masked update"]["answered"] == 2
    [reason] = stages["masked update"]["failed"].values()
    assert "not one of the federation's classes" in reason
    assert stages["unmasking"]["answered"] == 2
    assert record["train"]["site-a"]["num-examples"] > 0  # the clear metrics still arrive
    assert sorted(history["final"]["sites"]) == ["site-a", "site-b"]


def test_fewer_sites_than_the_threshold_are_refused_with_the_numbers(federation_file, site_files):
    path = federation_file(site_files(("site-a", "site-b")), **{"secure-aggregation": True})
    with pytest.raises(
        FederationConfigError, match="needs at least 3 sites; the federation lists 2"
    ):
        load_federation_file(path, secagg_threshold=3, min_sites=3)
    with pytest.raises(FederationConfigError, match=r"min-sites \(2\) >= secagg-threshold \(3\)"):
        load_federation_file(federation_file(), secure_aggregation=True, secagg_threshold=3)
