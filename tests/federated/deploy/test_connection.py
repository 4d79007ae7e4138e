import tomllib

import pytest

from federated.deploy.connection import write_connection


def test_a_connection_is_added_and_the_others_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("FLWR_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text(
        '[superlink]\ndefault = "local"\n\n[superlink.local]\naddress = ":local:"\n'
    )
    write_connection("bci", "10.0.0.5:9092", root_certificates=tmp_path / "ca.crt")
    path = write_connection("plain", "127.0.0.1:9092", insecure=True)
    document = tomllib.loads(path.read_text())
    assert document["superlink"]["default"] == "local"
    assert document["superlink"]["local"] == {"address": ":local:"}
    assert document["superlink"]["bci"] == {
        "address": "10.0.0.5:9092",
        "root-certificates": str(tmp_path / "ca.crt"),
    }
    assert document["superlink"]["plain"] == {"address": "127.0.0.1:9092", "insecure": True}


def test_tls_connections_need_the_ca(tmp_path, monkeypatch):
    monkeypatch.setenv("FLWR_HOME", str(tmp_path))
    with pytest.raises(ValueError, match="CA certificate"):
        write_connection("bci", "127.0.0.1:9092")
