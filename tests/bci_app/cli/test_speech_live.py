"""A speech model exported, its candidate set made from sound files, ranked live over LSL."""

import numpy as np
import pytest

from bci_app.cli import main
from decoders import registry
from decoders.card import DecoderCard
from decoders.checkpoint import save_decoder
from decoders.speech.features import FeatureSettings
from decoders.speech.pairing import PairingSettings
from decoders.speech.trials import SpeechTrials

pytestmark = [pytest.mark.lsl, pytest.mark.slow]

CHANNELS = tuple(f"E{i}" for i in range(4))


def speech_trials(n=24, seed=0):
    rng = np.random.default_rng(seed)
    settings = PairingSettings(window_s=1.0, sfreq=40.0, features=FeatureSettings("mel", 10.0, 4))
    return SpeechTrials(
        data=rng.normal(size=(n, 4, 40)) * 1e-5,
        labels=np.arange(n) % 6,
        classes=tuple(f"s{i}.wav" for i in range(6)),
        sfreq=40.0,
        ch_names=CHANNELS,
        ch_types=("eeg",) * 4,
        name="speech",
        features=rng.normal(size=(n, 4, 10)),
        segments=np.arange(n) // 6,
        speech={**settings.to_dict(), "alignment": "event markers"},
    )


def write_sounds(folder, count=3):
    import soundfile

    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(count):
        soundfile.write(folder / f"sentence{index}.wav", rng.normal(size=8000 * 3) * 0.1, 8000)
    return folder


def test_export_candidates_and_live_ranking_through_the_cli(
    tmp_path, capsys, live_outlet, stream_name
):
    trials = speech_trials()
    decoder = registry.create(
        "brain-speech", spatial_attention=False, hidden=8, n_virtual=8, n_blocks=1, max_epochs=1
    )
    fit, valid = trials.split_by_sound(0.3, seed=0)
    decoder.fit(fit, valid)
    save_decoder(
        decoder, DecoderCard.for_decoder(decoder, extra=decoder.card_extra()), tmp_path / "run"
    )
    registry_dir = str(tmp_path / "registry")
    assert (
        main(
            [
                "export",
                str(tmp_path / "run"),
                "-o",
                str(tmp_path / "speech.onnx"),
                "--register",
                "speech",
                "--registry",
                registry_dir,
            ]
        )
        == 0
    )

    sounds = write_sounds(tmp_path / "sounds")
    candidates = ["candidates", "--model", "speech", "--registry", registry_dir, "--sounds"]
    made = main(
        [*candidates, str(sounds), "--register", "sentences", "-o", str(tmp_path / "s.npz")]
    )
    assert made == 0
    assert "9 segments, dimension 40" in capsys.readouterr().out  # 3 sounds x 3 s / 1 s
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([*candidates, str(empty), "-o", str(tmp_path / "x.npz")]) == 1
    assert "holds no sound file" in capsys.readouterr().err

    live_outlet(stream_name, channels=CHANNELS, sfreq=40.0, seconds=20.0)
    status = main(
        [
            "run",
            "--stream",
            stream_name,
            "--model",
            "speech",
            "--candidates",
            "sentences",
            "--top-k",
            "3",
            "--registry",
            registry_dir,
            "--duration",
            "3",
            "--no-follow",
        ]
    )
    printed = capsys.readouterr().out
    assert status == 0
    assert "top 3: sentence" in printed and "ranking" in printed
    assert "| ranking |" in printed  # the latency summary has the ranking stage
