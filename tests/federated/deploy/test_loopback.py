"""Real deployments: SuperLink and SuperNodes as separate processes over TLS on loopback."""

import json
import re
import time
from pathlib import Path

import pytest

from federated.deploy.loopback import LoopbackDeployment

pytestmark = [pytest.mark.federated, pytest.mark.slow, pytest.mark.timeout(900)]


def checkpointed_round(output: Path) -> int:
    path = output / "checkpoint" / "state.json"
    try:
        return json.loads(path.read_text())["round"]
    except (OSError, ValueError):
        return 0


def wait_for_round(output: Path, server_round: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while checkpointed_round(output) < server_round:
        assert time.monotonic() < deadline, f"round {server_round} not checkpointed in time"
        time.sleep(0.5)


def start_sites(deployment: LoopbackDeployment, sites: list[Path]) -> None:
    """Start the SuperLink, register every site's key and start its SuperNode."""
    names = [site.stem for site in sites]
    deployment.make_keys(names)
    deployment.start_superlink()
    assert deployment.register(names).returncode == 0
    for site in sites:
        deployment.start_supernode(site.stem, site)


def test_a_dropped_site_and_a_superlink_crash_do_not_lose_the_run(
    tmp_path, site_files, federation_file
):
    sites = site_files()
    federation = federation_file(sites, rounds=3, **{"round-timeout": 45.0})
    output = tmp_path / "server"
    names = [site.stem for site in sites]
    with LoopbackDeployment(tmp_path / "deployment") as deployment:
        start_sites(deployment, sites)
        deployment.start_run(federation)
        wait_for_round(output, 1, timeout=300)
        deployment.stop("site-c", crash=True)  # drops out during round 2
        wait_for_round(output, 2, timeout=300)
        deployment.stop("superlink", crash=True)
        deployment.stop("run")
        interrupted = json.loads((output / "history.json").read_text())
        assert [r["round"] for r in interrupted["rounds"]] == [1, 2]
        deployment.start_superlink()
        result = deployment.run(federation, "--resume")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    history = json.loads((output / "history.json").read_text())
    assert [r["round"] for r in history["rounds"]] == [1, 2, 3]
    assert history["resumed_after"] == [2]
    assert sorted(history["rounds"][0]["accepted"]) == names
    dropped = history["rounds"][1]
    assert sorted(dropped["accepted"]) == ["site-a", "site-b"] and not dropped["skipped"]
    # Once, under its own name, with a reason: the SuperLink's (no heartbeat) or, when the
    # round's timeout comes first on a loaded machine, the missing reply.
    [failure] = dropped["failed"]
    assert failure["site"] == "site-c"
    assert re.search("Node Unavailable|no reply within round-timeout", failure["reason"])
    assert sorted(history["rounds"][2]["accepted"]) == ["site-a", "site-b"]
    assert sorted(history["final"]["sites"]) == ["site-a", "site-b"]


def test_secure_aggregation_over_tls_survives_a_site_failing_after_sharing_its_keys(
    tmp_path, site_files, federation_file
):
    sites = site_files()
    sites[2].write_text(sites[2].read_text() + '[labels]\nmap = { right_hand = "feet" }\n')
    federation = federation_file(sites, rounds=1, **{"secure-aggregation": True})
    with LoopbackDeployment(tmp_path / "deployment") as deployment:
        start_sites(deployment, sites)
        result = deployment.run(federation)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    history = json.loads((tmp_path / "server" / "history.json").read_text())
    [record] = history["rounds"]
    assert sorted(record["accepted"]) == ["site-a", "site-b"]
    stages = {stage["stage"]: stage for stage in record["secure_aggregation"]}
    assert stages["key sharing"]["answered"] == 3  # site-c dropped out after sharing keys
    assert stages["masked update"]["answered"] == 2 and stages["unmasking"]["answered"] == 2
    [reason] = stages["masked update"]["failed"].values()
    assert "not one of the federation's classes" in reason
    assert sorted(history["final"]["sites"]) == ["site-a", "site-b"]
