"""``bci-app fed``: the commands up to the point where they hand over to Flower."""

from bci_app.cli import main
from federated.deploy.loopback import free_port


def test_certs_creates_the_ca_the_server_certificate_and_node_keys(tmp_path, capsys):
    status = main(
        ["fed", "certs", "--out", str(tmp_path), "--node", "a", "--node", "b", "--host", "fl.x"]
    )
    assert status == 0
    for name in ("ca.crt", "server.pem", "server.key", "supernodes/a", "supernodes/b.pub"):
        assert (tmp_path / name).is_file()
    assert "fl.x" in capsys.readouterr().out


def test_a_supernode_checks_its_site_then_gives_up_on_an_unreachable_superlink(
    site_files, federation_file, capsys
):
    site = site_files(("site-a",))[0]
    federation = federation_file([site])
    address = f"127.0.0.1:{free_port()}"
    status = main(
        [
            "fed",
            "supernode",
            "--site",
            str(site),
            "--config",
            str(federation),
            "--superlink",
            address,
            "--insecure",
            "--retries",
            "2",
            "--backoff",
            "0.05",
        ]
    )
    captured = capsys.readouterr()
    assert status == 1
    assert (
        "site site-a: 9 training, 3 validation, 4 test trials, 8 channels at 250 Hz" in captured.out
    )
    assert f"SuperLink {address} not reachable after 2 attempts" in captured.err
    assert "retrying in" in captured.out


def test_tls_is_the_default_and_insecure_must_be_asked_for(site_files, federation_file, capsys):
    site = site_files(("site-a",))[0]
    status = main(["fed", "supernode", "--site", str(site), "--superlink", "127.0.0.1:1"])
    assert status == 1 and "TLS needs --ca" in capsys.readouterr().err
    status = main(["fed", "run", "--config", str(federation_file([site]))])
    assert status == 1 and "TLS is on by default: give --certs" in capsys.readouterr().err


def test_a_broken_site_file_is_refused_before_anything_starts(tmp_path, capsys):
    site = tmp_path / "site.toml"
    site.write_text('[data]\ntrial_set = "FingerMovements"\nsimulator = "motor_imagery"\n')
    status = main(["fed", "supernode", "--site", str(site), "--superlink", "127.0.0.1:1"])
    assert status == 1
    assert f"{site}: [data] must name exactly one source" in capsys.readouterr().err


def test_a_simulation_without_site_files_is_refused(tmp_path, capsys):
    federation = tmp_path / "federation.toml"
    federation.write_text('classes = ["a", "b"]\nwindow-s = 1.0\noutput-dir = "out"\n')
    status = main(["fed", "simulate", "--config", str(federation), "--port", str(free_port())])
    assert status == 1 and "simulation needs the site files" in capsys.readouterr().err


def test_a_target_epsilon_one_round_exceeds_is_refused_before_anything_starts(
    federation_file, capsys
):
    federation = federation_file(privacy="central", **{"dp-noise": 1.0, "dp-clip": 1.0})
    status = main(
        ["fed", "run", "--config", str(federation), "--target-epsilon", "1", "--insecure"]
    )
    err = capsys.readouterr().err
    assert status == 1 and "target-epsilon 1 cannot be reached" in err
    assert "the smallest reachable ε with these settings is 4.73" in err
