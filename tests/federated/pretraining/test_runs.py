"""Federated pretraining in process: sites' own corpora, bad corpora left out, resume, fine-tune."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from decoders import registry
from decoders.datasets.trials import TrialSet
from decoders.models.eegformer.classifier import EEGFormer
from federated.config import load_federation_file
from federated.inprocess import run_inprocess

sys.path.insert(0, str(Path(__file__).parents[2]))
from conftest import write_recording


def write_pretraining_site(folder: Path, name: str, n_eeg: int | None, broken: bool = False) -> str:
    """Write a site with a corpus of one recording of ``n_eeg`` channels (None: empty)."""
    corpus = folder / f"{name}-corpus"
    corpus.mkdir()
    if broken:
        (corpus / "scan_raw.fif").write_bytes(b"not a FIF file")
    elif n_eeg:
        write_recording(corpus / "night_raw.fif", seconds=20, n_eeg=n_eeg, seed=n_eeg)
    path = folder / f"{name}.toml"
    path.write_text(
        f'[site]\nname = "{name}"\nstate_dir = "{name}-state"\n'
        f'[corpus]\nsources = ["{name}-corpus"]\n'
    )
    return str(path)


def write_pretraining(folder: Path, sites: list[str], **settings) -> Path:
    values = {
        "output-dir": "server",
        "pretrain": "eegformer",
        "pretrain-size": "tiny",
        "rounds": 2,
        "local-steps": 2,
        "batch-size": 4,
        "min-sites": 2,
        "experiment": "pre",
        "sites": sites,
        **settings,
    }
    path = folder / "federation.toml"
    path.write_text("\n".join(f"{key} = {json.dumps(value)}" for key, value in values.items()))
    return path


def trials(n, seed):
    """Two classes: class 1 carries a 20 Hz rhythm on its first two channels."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    data = rng.standard_normal((n, 4, 200)) * 10e-6
    data[labels == 1, :2] += 30e-6 * np.sin(2 * np.pi * 20 * np.arange(200) / 200.0)
    names = ("C3", "C4", "Cz", "Pz")
    return TrialSet(data, labels, ("rest", "move"), 200.0, names, ("eeg",) * 4, f"toy{seed}")


@pytest.mark.slow
def test_sites_of_different_montages_pretrain_resume_and_the_checkpoint_fine_tunes(tmp_path):
    sites = [
        write_pretraining_site(tmp_path, "site-a", 4),
        write_pretraining_site(tmp_path, "site-b", 6),
        write_pretraining_site(tmp_path, "site-c", None),  # an empty corpus
        write_pretraining_site(tmp_path, "site-d", 3, broken=True),  # an unreadable file
    ]
    history = run_inprocess(
        load_federation_file(write_pretraining(tmp_path, sites)).to_run_config(), 4
    )
    for record in history["rounds"]:
        assert sorted(record["accepted"]) == ["site-a", "site-b"]
        reasons = {failure["reason"] for failure in record["failed"]}
        assert len(reasons) == 2
        assert any(
            "site-c.toml" in r and "its corpus is empty: no recording in" in r for r in reasons
        ), reasons
        assert any("site-d.toml" in r and "shorter than a FIF tag" in r for r in reasons)
        assert record["codebooks"]["backbone.quantizer"]["usage"] > 0
    assert history["rounds"][0]["codebooks"]["backbone.quantizer"]["aggregation"].startswith(
        "merged"
    )
    assert history["rounds"][1]["codebooks"]["backbone.quantizer"]["aggregation"] == (
        "summed counts and sums"
    )
    output = tmp_path / "server"
    assert json.loads((output / "checkpoint" / "state.json").read_text())["round"] == 2

    resumed = load_federation_file(write_pretraining(tmp_path, sites, rounds=3, resume=True))
    history = run_inprocess(resumed.to_run_config(), 4)
    assert [r["round"] for r in history["rounds"]] == [1, 2, 3]
    assert history["resumed_after"] == [2]

    pretrained = Path(history["final"]["pretrained"])
    options = EEGFormer.options_from(pretrained)
    decoder = registry.create("eegformer", tuning="linear", max_epochs=1, patience=1, **options)
    decoder.fit(trials(20, 0), trials(10, 1), init=pretrained)
    assert decoder.initialization_["pretraining_steps"] == 6
    state = torch.load(pretrained / "pretrained.pt", weights_only=True)
    for key, value in decoder.module_.backbone.state_dict().items():
        assert torch.equal(value, state[f"backbone.{key}"]), key
    assert decoder.predict_proba(trials(4, 2).data).shape == (4, 2)
