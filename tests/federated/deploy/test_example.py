"""From `bci-app fed init` to a finished run on one host: SuperLink and three SuperNodes."""

import json
import socket
import ssl

import psutil
import pytest

from bci_app.cli import main
from federated.deploy.loopback import LoopbackDeployment

pytestmark = [pytest.mark.federated, pytest.mark.slow, pytest.mark.timeout(600)]
SITES = ["site-a", "site-b", "site-c"]


def zombies(process) -> list[str]:
    """Return the defunct processes below ``process``."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                found.append(f"{child.pid} {child.name()}")
        except psutil.NoSuchProcess:
            continue
    return found


def test_the_example_runs_on_three_supernodes_and_refuses_an_unknown_key(tmp_path, capsys):
    folder = tmp_path / "example"
    assert main(["fed", "init", str(folder)]) == 0
    capsys.readouterr()
    # The deployment's folder is the example's: certs/ and superlink-state/ as printed.
    with LoopbackDeployment(folder) as deployment:
        deployment.start_superlink()
        registered = deployment.register(SITES)
        assert registered.returncode == 0, registered.stderr
        for site in SITES:
            assert f"{site}: registered as SuperNode " in registered.stdout
        again = deployment.register(["site-a"])
        assert again.returncode == 0 and "site-a: already registered (key " in again.stdout
        for site in SITES:  # three SuperNodes on one host, no --port given
            deployment.start_supernode(site, folder / "simulated" / f"{site}.toml")
        deployment.make_keys(["intruder"])  # a key pair the SuperLink never registered
        intruder = deployment.start_supernode("intruder", folder / "simulated" / "site-a.toml")
        # The SuperLink speaks TLS with a certificate of the example's CA.
        context = ssl.create_default_context(cafile=str(deployment.certs.ca))
        raw = socket.create_connection(("127.0.0.1", deployment.port))
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
        result = deployment.run(folder / "federation.toml", "--set", "rounds=1", timeout=480)
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
        # Finished ClientApp and ServerApp processes do not linger.
        for name in ("superlink", *SITES):
            assert zombies(deployment.processes[name]) == [], name
        logs = {site: deployment.log(site) for site in SITES}
    ports = {site: log.split("SuperNode on port ")[1].split()[0] for site, log in logs.items()}
    assert len(set(ports.values())) == 3
    assert "Flower's home: " in result.stdout
    assert "personalised models stay at the sites" in result.stdout
    for site in SITES:
        registry = folder / "simulated" / f"{site}-models"
        assert f"  {site}: fed-simulated-{site}:1 in the registry {registry}" in result.stdout
        manifest = json.loads((registry / "manifest.json").read_text())
        assert manifest["models"][0]["name"] == f"fed-simulated-{site}"
    for site in SITES:
        assert "SuperNode ID" in logs[site]
    output = folder / "server-simulated"
    history = json.loads((output / "history.json").read_text())
    [record] = history["rounds"]
    assert sorted(record["accepted"]) == SITES and not record["failed"]
    assert record["bytes_sent"] > 0 and record["wall_s"] > 0
    assert (output / "history.png").is_file()
