import json

import pytest

from bci_app.cli import main
from federated.deploy.loopback import free_port


@pytest.mark.federated
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_same_site_files_drive_virtual_nodes_in_flowers_simulation(
    tmp_path, site_files, federation_file
):
    federation = federation_file(site_files(("site-a", "site-b")), rounds=1)
    status = main(
        ["fed", "simulate", "--config", str(federation), "--port", str(free_port()), "--no-stream"]
    )
    assert status == 0
    history = json.loads((tmp_path / "server" / "history.json").read_text())
    assert sorted(history["rounds"][0]["accepted"]) == ["site-a", "site-b"]
    assert sorted(history["final"]["sites"]) == ["site-a", "site-b"]
