import pytest

from decoders.pretraining.corpus import CorpusIndex, scan_corpus


def test_a_corpus_of_files_and_folders_is_indexed_with_hashes(eeg_corpus, tmp_path):
    broken = tmp_path / "broken.edf"
    broken.write_bytes(b"0       not an EDF header")
    index = scan_corpus([eeg_corpus, broken, tmp_path / "missing.fif"])

    assert sorted(item.path.rsplit("/", 1)[1] for item in index.files) == [
        "a_raw.fif",
        "b_raw.fif",
        "c.edf",
    ]
    rates = sorted(item.sfreq for item in index.files)
    assert rates == [250.0, 250.0, 256.0]
    assert all(len(item.sha256) == 64 and item.ch_types == ("eeg",) * 4 for item in index.files)
    assert index.hours_per_type()["eeg"] == pytest.approx(4 * (24 + 16 + 20) / 3600, rel=0.01)
    reasons = {item.path.rsplit("/", 1)[1]: item.reason for item in index.skipped}
    assert reasons["missing.fif"] == "not found"
    assert reasons.get("broken.edf")


def test_the_index_round_trips_and_a_rescan_reuses_unchanged_files(eeg_corpus, tmp_path):
    first = scan_corpus([eeg_corpus])
    first.save(tmp_path / "corpus.json")
    loaded = CorpusIndex.load(tmp_path / "corpus.json")
    assert loaded == first and loaded.fingerprint() == first.fingerprint()

    scanned = []
    again = scan_corpus([eeg_corpus], previous=loaded, on_file=scanned.append)
    assert again.files == first.files and len(scanned) == 3
    (eeg_corpus / "a_raw.fif").touch()  # changed modification time: hashed again
    rescanned = scan_corpus([eeg_corpus], previous=loaded)
    changed = [new for new, old in zip(rescanned.files, first.files, strict=True) if new != old]
    assert [item.path.rsplit("/", 1)[1] for item in changed] == ["a_raw.fif"]
    assert changed[0].sha256 == first.files[0].sha256  # same bytes, same hash
