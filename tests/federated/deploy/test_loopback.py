"""Real deployments: SuperLink and SuperNodes as separate processes over TLS on loopback."""

import json
import re
import socket
import ssl
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


def test_authenticated_sites_train_over_tls_and_an_unknown_key_is_refused(
    tmp_path, site_files, federation_file
):
    sites = site_files(("site-a", "site-b"))
    federation = federation_file(sites, export=True, rounds=2)
    with LoopbackDeployment(tmp_path / "deployment") as deployment:
        deployment.make_keys(["site-a", "site-b", "intruder"])
        deployment.start_superlink()
        registered = deployment.register(["site-a", "site-b"])
        assert registered.returncode == 0, registered.stderr
        for site in sites:
            deployment.start_supernode(site.stem, site)
        intruder = deployment.start_supernode("intruder", sites[0])
        # The SuperLink speaks TLS with a certificate of our CA.
        context = ssl.create_default_context(cafile=str(deployment.certs.ca))
        raw = socket.create_connection(("127.0.0.1", deployment.port))
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
        result = deployment.run(federation)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert intruder.wait(timeout=120) == 1
        said = deployment.log("intruder")
        assert "Failed to activate SuperNode" in said  # Flower's own words, passed through
        assert (
            "bci-app: error: this node's key is not registered with the SuperLink "
            f"{deployment.address}" in said
        )
        public_key = deployment.certs.node_public_key("intruder")
        assert f"bci-app fed register --superlink {deployment.address} --certs" in said
        assert str(public_key) in said and "Traceback" not in said
        for site in sites:
            assert "SuperNode ID" in deployment.log(site.stem)
    output = tmp_path / "server"
    history = json.loads((output / "history.json").read_text())
    assert [r["round"] for r in history["rounds"]] == [1, 2]
    for record in history["rounds"]:
        assert sorted(record["accepted"]) == ["site-a", "site-b"] and not record["failed"]
        assert record["bytes_sent"] > 0 and record["wall_s"] > 0
    assert sorted(history["final"]["models"]) == ["site-a", "site-b"]
    manifest = json.loads((tmp_path / "models" / "manifest.json").read_text())
    assert sorted(m["name"] for m in manifest["models"]) == ["fed-test-site-a", "fed-test-site-b"]
    assert (output / "history.png").is_file()


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
