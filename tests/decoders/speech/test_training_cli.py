"""``bci-app train`` on a BIDS listening data set: retrieval by block, a rank histogram."""

import json

import pytest

from bci_app.cli import main

from .conftest import sound
from .test_bids import write_dataset

pytestmark = pytest.mark.slow


def test_train_a_speech_decoder_from_a_bids_folder(tmp_path, capsys):
    root = write_dataset(tmp_path / "bids", [sound(seed) for seed in range(6)], blocks=True)
    out = tmp_path / "run"
    status = main(
        [
            "train",
            "brain-speech",
            "--data",
            str(root),
            "--speech",
            "window_s=1.0",
            "n_mels=8",
            "frame_rate=10",
            "--seeds",
            "0",
            *("--set", "max_epochs=2", "--set", "hidden=8", "--set", "n_virtual=8"),
            *("--set", "fourier_dim=32", "--set", "n_blocks=1"),
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert (
        "by recording block" in printed and "top10" in printed and "rank_histogram.png" in printed
    )
    record = json.loads((out / "result.json").read_text())
    assert record["protocol"] == "blocks" and record["metrics"]["n_candidates"]["mean"] > 1
    card = json.loads((out / "card.json").read_text())
    assert card["output"]["kind"] == "embedding" and card["extra"]["speech"]["window_s"] == 1.0
    assert (out / "rank_histogram.png").is_file() and not (out / "confusion_matrix.png").exists()
