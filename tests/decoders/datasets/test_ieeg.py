"""The BIDS-iEEG reader: contacts, shafts, regions, positions, trials, channel choice."""

import json

import numpy as np
import pytest

from decoders.datasets.errors import DataError
from decoders.datasets.ieeg import rank_channels, read_ieeg, subject_of
from decoders.datasets.trials import TrialSet


def reading_file(root, subject="01"):
    return root / f"sub-{subject}" / "ieeg" / f"sub-{subject}_task-reading_ieeg.vhdr"


def test_a_bids_ieeg_recording_opens_with_its_contacts(seeg_bids):
    recording = read_ieeg(reading_file(seeg_bids))
    assert recording.subject == "01" and recording.raw.get_channel_types()[0] == "seeg"
    shafts = recording.shafts()
    assert len(shafts) >= 5 and all(name.startswith(s) for s, ns in shafts.items() for name in ns)
    regions = recording.regions()
    assert set(regions) & {"vSMC", "STG"} and "white_matter" in regions
    assert sum(map(len, regions.values())) == len(recording.contacts)
    positions = recording.positions()
    assert all(np.abs(p).max() < 0.1 for p in positions.values())  # millimetres -> metres
    trials = recording.trials()
    assert trials.classes == ("apple", "bread", "chair", "dance") and trials.n_trials == 16
    assert trials.n_times == 1200 and trials.ch_pos is not None


def test_contacts_are_chosen_by_region(seeg_bids):
    recording = read_ieeg(reading_file(seeg_bids))
    informative = [r for r in ("vSMC", "STG") if r in recording.regions()]
    picked = recording.pick_regions(informative)
    assert picked and all(
        recording.contacts[recording.names.index(n)].region in informative for n in picked
    )
    assert recording.trials(channels=picked).ch_names == tuple(picked)


def test_a_region_without_contacts_for_the_subject_is_named(seeg_bids):
    recording = read_ieeg(reading_file(seeg_bids))
    with pytest.raises(
        DataError, match=r"subject 01 has no contact in region\(s\) Broca .*its regions: "
    ):
        recording.pick_regions(["Broca"])


def test_contacts_without_regions_or_coordinates_say_what_is_missing(seeg_bids, tmp_path):
    recording = read_ieeg(reading_file(seeg_bids))
    tsv = reading_file(seeg_bids).parent / "sub-01_electrodes.tsv"
    original = tsv.read_text()
    try:
        rows = [line.split("\t") for line in original.splitlines()]
        stripped = ["\t".join([r[0], "n/a", "n/a", "n/a", r[4]]) for r in rows[1:]]
        tsv.write_text("name\tx\ty\tz\tsize\n" + "\n".join(stripped) + "\n")
        bare = read_ieeg(reading_file(seeg_bids))
        with pytest.raises(
            DataError, match=r"have no region .*no region column.*give a mapping file"
        ):
            bare.regions()
        with pytest.raises(DataError, match=r"contacts have no coordinates \(A1, A2.*fill x, y, z"):
            bare.positions()
        assert bare.trials().ch_pos is None
        mapping = tmp_path / "regions.tsv"
        mapping.write_text(
            "name\tregion\n" + "".join(f"{c.name}\t{c.region}\n" for c in recording.contacts)
        )
        assert read_ieeg(reading_file(seeg_bids), regions=mapping).regions() == recording.regions()
        as_json = tmp_path / "regions.json"
        as_json.write_text(json.dumps({c.name: "hippocampus" for c in recording.contacts}))
        assert list(read_ieeg(reading_file(seeg_bids), regions=as_json).regions()) == [
            "hippocampus"
        ]
        with pytest.raises(DataError, match="no column 'atlas'"):
            read_ieeg(reading_file(seeg_bids), region_column="atlas")
    finally:
        tsv.write_text(original)


def test_a_recording_without_intracranial_channels_is_refused(make_recording, tmp_path):
    path = make_recording(tmp_path / "scalp_raw.fif")
    with pytest.raises(DataError, match="holds no sEEG/ECoG/DBS channel"):
        read_ieeg(path)


def test_the_ranking_finds_the_contacts_whose_responses_differ_between_classes():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 20)
    data = rng.standard_normal((80, 6, 200))
    data[:, 2, 50:100] += labels[:, None] * 0.8  # a class-dependent response on contact 2
    trials = TrialSet(
        data, labels, ("a", "b", "c", "d"), 200.0, tuple("ABCDEF"), ("seeg",) * 6, "t"
    )
    scores = rank_channels(trials)
    assert scores.argmax() == 2 and scores[2] > 5 * np.median(scores)


def test_subjects_are_taken_from_bids_names_or_file_stems():
    assert subject_of("/data/sub-07/ses-1/ieeg/sub-07_ses-1_task-x_ieeg.vhdr") == "07"
    assert subject_of("sub-P3_task-reading_ieeg.vhdr") == "P3"
    assert subject_of("/archive/patient 4.edf") == "patient_4"
