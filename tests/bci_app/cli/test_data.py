import json

import pytest

from bci_app.cli import main


def test_simulate_writes_a_tuh_corpus_with_its_truth(tmp_path, capsys):
    out = tmp_path / "corpus"
    status = main(
        [
            "data",
            "simulate",
            "abnormal_eeg",
            "--out",
            str(out),
            "--seed",
            "3",
            "--set",
            "n_subjects=4",
            "recording_s=20",
            "--set",
            "recordings_per_subject=1",
            "kinds=spikes,asymmetry",
            "sfreq=[250,256]",
        ]
    )
    assert status == 0
    assert "5 files in" in capsys.readouterr().out
    truth = json.loads((out / "truth.json").read_text())
    assert truth["seed"] == 3
    assert truth["options"]["kinds"] == ["spikes", "asymmetry"]
    assert truth["options"]["sfreq"] == [250, 256]
    assert len(list((out / "edf").rglob("01_tcp_ar/*.edf"))) == 4


def test_simulate_names_bad_options_and_tasks_without_files(tmp_path, capsys):
    out = str(tmp_path / "corpus")
    assert main(["data", "simulate", "abnormal_eeg", "--out", out, "--set", "n_subject=4"]) == 1
    assert "unknown option(s) n_subject" in capsys.readouterr().err
    assert main(["data", "simulate", "abnormal_eeg", "--out", out, "--set", "recording_s"]) == 1
    assert "KEY=VALUE" in capsys.readouterr().err
    args = ["data", "simulate", "abnormal_eeg", "--out", out, "--set", "abnormal_fraction=2"]
    assert main(args) == 1
    assert "abnormal_fraction must be within 0..1" in capsys.readouterr().err
    assert main(["data", "simulate", "motor_imagery", "--out", out]) == 1
    assert "writes no corpus" in capsys.readouterr().err
    assert main(["data", "simulate", "speech", "--out", out]) == 1
    assert "unknown task" in capsys.readouterr().err
    assert not (tmp_path / "corpus").exists()


def test_simulate_help_describes_the_corpus(capsys):
    with pytest.raises(SystemExit):
        main(["data", "simulate", "--help"])
    text = capsys.readouterr().out
    assert "01_tcp_ar" in text and "truth.json" in text and "--set KEY=VALUE" in text
