"""``bci-app fed init``: a working, self-documented example, and the help a newcomer gets."""

import re
import socket
from dataclasses import fields

from bci_app.cli import main
from federated.config import FederationConfig, load_federation_file
from federated.deploy.connection import flwr_home
from federated.deploy.network import free_port
from federated.deploy.processes import flower_environment
from federated.sites.config import load_site

SITE_KEYS = {
    "site": ("name", "state_dir", "registry_dir"),
    "data": ("simulator", "trial_set", "recordings", "labelled_folders", "tmin", "tmax"),
    "data.partition": ("index", "weights", "test_weights", "seed"),
    "montage": ("channels", "types", "rename", "sfreq"),
    "labels": ("map", "drop"),
    "split": ("validation", "test", "seed"),
}


def test_init_writes_certificates_sites_and_federations_with_every_option_commented(
    tmp_path, capsys
):
    folder = tmp_path / "example"

    assert main(["fed", "init", str(folder)]) == 0

    printed = capsys.readouterr().out
    for name in (
        "ca.crt",
        "server.pem",
        "server.key",
        "supernodes/site-a",
        "supernodes/site-c.pub",
    ):
        assert (folder / "certs" / name).is_file()
    federations = [folder / "federation.toml", folder / "federation-hand-movement.toml"]
    for federation in federations:
        config = load_federation_file(federation)
        assert len(config.sites) == 3 and config.strategy == "personalised"
        text = federation.read_text()
        for item in fields(FederationConfig):
            key = item.name.replace("_", "-")
            line = next(line for line in text.splitlines() if line.startswith(f"{key} ="))
            assert "#" in line or text.split(line, 1)[1].lstrip(" \n").startswith("#"), key
        for site in config.sites:
            loaded = load_site(site)
            assert loaded.name in ("site-a", "site-b", "site-c")
            site_text = loaded.path.read_text()
            for table, keys in SITE_KEYS.items():
                assert f"[{table}]" in site_text, table
                for key in keys:
                    assert re.search(rf"^(# )?{key} = .*", site_text, re.M), (site, key)
    assert load_site(folder / "hand-movement" / "site-c.toml").partition.index == 2
    # The commands to run it on this host, in order, with the paths just written.
    assert f"bci-app fed superlink --certs {folder}/certs" in printed
    assert f"bci-app fed register --certs {folder}/certs {folder}/certs/supernodes/*.pub" in printed
    assert printed.count("bci-app fed supernode --site") == 3
    assert f"bci-app fed run --config {folder}/federation.toml --certs {folder}/certs" in printed

    assert main(["fed", "init", str(folder)]) == 1
    assert "already holds an example (give --force" in capsys.readouterr().err


def test_a_supernode_port_in_use_is_one_line_and_no_port_picks_a_free_one(tmp_path, capsys):
    main(["fed", "init", str(tmp_path)])
    capsys.readouterr()
    site = tmp_path / "simulated" / "site-a.toml"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = main(
            ["fed", "supernode", "--site", str(site), "--superlink", "127.0.0.1:1",
             "--certs", str(tmp_path / "certs"), "--port", str(port)]
        )  # fmt: skip
    captured = capsys.readouterr()
    assert status == 1 and "Traceback" not in captured.err
    assert captured.err.strip() == (
        f"bci-app: error: port {port} of 127.0.0.1 is in use (another SuperNode on this "
        "host?): leave --port out to pick a free one, or give another"
    )
    # Without --port the key is found in --certs by the site's name, a free port is taken,
    # and only the SuperLink is missing.
    address = f"127.0.0.1:{free_port()}"
    status = main(
        ["fed", "supernode", "--site", str(site), "--superlink", address,
         "--certs", str(tmp_path / "certs"), "--retries", "1"]
    )  # fmt: skip
    assert status == 1
    assert f"SuperLink {address} not reachable after 1 attempts" in capsys.readouterr().err


def test_flowers_home_is_in_the_apps_state_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("FLWR_HOME")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert flwr_home() == tmp_path / "state" / "bci-app" / "flower"
    environment = flower_environment()
    assert environment["FLWR_HOME"] == str(tmp_path / "state" / "bci-app" / "flower")
    # Flower finds bci-app's reaping SuperExec first on its PATH.
    shim = tmp_path / "state" / "bci-app" / "flower" / "bin" / "flower-superexec"
    assert environment["PATH"].split(":")[0] == str(shim.parent)
    assert "federated.deploy.superexec" in shim.read_text()
    monkeypatch.setenv("FLWR_HOME", str(tmp_path / "elsewhere"))
    assert flower_environment()["FLWR_HOME"] == str(tmp_path / "elsewhere")
