import pytest

from federated.deploy.certs import CertificateSet, make_certificates
from federated.deploy.processes import (
    flower_environment,
    run_command,
    superlink_command,
    supernode_command,
)


def test_the_superlink_runs_tls_with_node_auth_and_never_installs_dependencies(tmp_path):
    certs = make_certificates(tmp_path, [])
    command = superlink_command("127.0.0.1", 9092, certs=certs, database=tmp_path / "s.db")
    assert "--enable-supernode-auth" in command and "--insecure" not in command
    assert command[command.index("--ssl-certfile") + 1] == str(certs.server_certificate)
    assert "--disable-runtime-dependency-installation" in command
    plain = superlink_command("127.0.0.1", 9092, certs=None)
    assert "--insecure" in plain and "--enable-supernode-auth" not in plain
    with pytest.raises(FileNotFoundError, match="bci-app fed certs"):
        superlink_command("127.0.0.1", 9092, certs=CertificateSet(tmp_path / "none"))


def test_a_supernode_names_its_site_file_and_authenticates_with_its_key(tmp_path):
    command = supernode_command(
        "fl.example:9092",
        tmp_path / "site.toml",
        port=9100,
        ca=tmp_path / "ca.crt",
        private_key=tmp_path / "key",
    )
    assert command[command.index("--node-config") + 1] == f'site-config="{tmp_path / "site.toml"}"'
    assert command[command.index("--auth-supernode-private-key") + 1] == str(tmp_path / "key")
    assert "--insecure" not in command


def test_flower_runs_without_telemetry_update_checks_or_installs(tmp_path):
    environment = flower_environment()
    assert environment["FLWR_TELEMETRY_ENABLED"] == "0"
    assert environment["FLWR_DISABLE_UPDATE_CHECK"] == "1"
    assert environment["FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION"] == "1"
    command = run_command("bci-app", tmp_path / "run.toml")
    assert command[2].endswith("flower_app") and command[-1] == "--stream"


def test_the_superexec_polls_for_tasks_often_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("FLWR_SUPEREXEC_TASK_POLL_INTERVAL", raising=False)
    assert flower_environment()["FLWR_SUPEREXEC_TASK_POLL_INTERVAL"] == "0.25"
    monkeypatch.setenv("FLWR_SUPEREXEC_TASK_POLL_INTERVAL", "2")
    assert flower_environment()["FLWR_SUPEREXEC_TASK_POLL_INTERVAL"] == "2"
