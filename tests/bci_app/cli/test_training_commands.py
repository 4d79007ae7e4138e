import numpy as np


def test_train_evaluate_compare_end_to_end(tmp_path, write_toy_recording, bci_app):
    recording = write_toy_recording(tmp_path / "toy_raw.fif")
    trained = bci_app("train", "csp-lda", "--data", recording, "--seeds", "0", "1",
                      "--set", "n_components=2", "--no-progress", cwd=tmp_path)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert "within-session stratified 5-fold" in trained.stdout
    run = tmp_path / "runs" / "csp-lda-toy_raw.fif"
    assert (run / "card.json").is_file()

    other = write_toy_recording(tmp_path / "other_raw.fif", seed=5)
    evaluated = bci_app(
        "evaluate", run, "--data", other, "--out", tmp_path / "m.json", cwd=tmp_path
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert "accuracy" in evaluated.stdout and (tmp_path / "m.json").is_file()

    compared = bci_app("compare", run, run / "card.json", cwd=tmp_path)
    assert compared.returncode == 0
    assert compared.stdout.count("| csp-lda |") == 2


def test_evaluate_refuses_data_with_other_channels(tmp_path, write_toy_recording, bci_app):
    import mne

    recording = write_toy_recording(tmp_path / "toy_raw.fif")
    bci_app("train", "csp-lda", "--data", recording, "--seeds", "0", "--set", "n_components=2",
            "--out", tmp_path / "run", "--no-progress", cwd=tmp_path)  # fmt: skip
    raw = mne.io.read_raw_fif(recording, preload=True, verbose="error")
    raw.rename_channels({"Cz": "FCz"})
    renamed = tmp_path / "renamed_raw.fif"
    raw.save(renamed, verbose="error")
    result = bci_app("evaluate", tmp_path / "run", "--data", renamed, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "lacks 1 of the 4 channels of csp-lda: Cz" in result.stderr


def test_own_train_and_test_files_of_different_formats_give_one_sealed_score(
    tmp_path, write_toy_recording, bci_app
):
    import json

    from decoders.datasets.readers import read_recording
    from decoders.training.epoching import epochs_from_annotations

    def trials_of(path):
        return epochs_from_annotations(read_recording(path), source=path.name, tmax=1.0)

    train = trials_of(write_toy_recording(tmp_path / "a_raw.fif", n_events=30))
    test = trials_of(write_toy_recording(tmp_path / "b_raw.fif", n_events=20, seed=4))
    npz = tmp_path / "session1.npz"
    np.savez(npz, X=train.data, y=np.array(train.classes)[train.labels], sfreq=train.sfreq,
             ch_names=np.array(train.ch_names))  # fmt: skip
    test.to_epochs().save(tmp_path / "session2-epo.fif", verbose="error")

    trained = bci_app("train", "csp-lda", "--data", npz, "--test-data",
                      tmp_path / "session2-epo.fif", "--seeds", "0", "--set", "n_components=2",
                      "--out", tmp_path / "run", "--no-progress", cwd=tmp_path)  # fmt: skip

    assert trained.returncode == 0, trained.stderr
    assert "official train/test split" in trained.stdout
    assert f"split: the user's own split: train {npz}, test" in trained.stdout
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert record["split"]["n_test"] == 20 and record["folds"][0]["n_test"] == 20
    assert record["folds"][0]["n_train"] + record["folds"][0]["n_valid"] == 30
    card = json.loads((tmp_path / "run" / "card.json").read_text())
    assert card["data"]["split"]["test"] == "session2-epo.fif"
    assert record["metrics"]["accuracy"]["mean"] > 0.8


def test_decoders_lists_the_registry(tmp_path, bci_app):
    listed = bci_app("decoders", cwd=tmp_path)
    assert listed.returncode == 0 and "csp-lda" in listed.stdout and "eegnet" in listed.stdout


def test_reject_auto_records_thresholds_and_drops_in_record_and_card(
    tmp_path, write_toy_recording, bci_app
):
    import json

    recording = write_toy_recording(tmp_path / "toy_raw.fif")
    trained = bci_app("train", "csp-lda", "--data", recording, "--seeds", "0", "--refit",
                      "--reject", "auto", "--set", "n_components=2", "--out", tmp_path / "run",
                      "--no-progress", cwd=tmp_path)  # fmt: skip

    assert trained.returncode == 0, trained.stderr
    assert trained.stdout.count("rejection (auto), seed 0") == 5  # one line per fold
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert [r["fold"] for r in record["rejection"]] == [f["name"] for f in record["folds"]]
    assert all(0 <= r["n_dropped"] < r["n_trials"] for r in record["rejection"])
    card = json.loads((tmp_path / "run" / "card.json").read_text())
    rejection = card["extra"]["training_rejection"]
    assert rejection["method"] == "auto" and rejection["thresholds"]["eeg"] > 0
