"""The CHB-MIT layout: written and read back, real-database quirks, and summaries that lie."""

import numpy as np
import pytest

from decoders.datasets.chbmit import is_chbmit, parse_summary, read_chbmit, write_chbmit_subject
from decoders.datasets.errors import DataError
from decoders.datasets.seizures import Segment, Seizure, SeizureSubject

SFREQ = 64.0
CHANNELS = ("FP1-F7", "F7-T7", "T8-P8")
LAYOUT = ["FP1-F7", "F7-T7", "T8-P8", "T8-P8"]  # T8-P8 twice, as in the database


def _subject(name="chb01", durations=(60.0, 40.0), gap=5.0, seizures=((20.0, 30.0),)):
    rng = np.random.default_rng(0)
    data, segments, start = [], [], 0.0
    for number, duration in enumerate(durations):
        signals = rng.normal(0, 20e-6, (len(CHANNELS), round(duration * SFREQ)))
        data.append(signals)
        segments.append(Segment(f"{name}_{number + 1:02d}", start, duration, lambda s=signals: s))
        start += duration + gap
    events = tuple(Seizure(onset, end) for onset, end in seizures)
    return SeizureSubject(name, SFREQ, CHANNELS, tuple(segments), events), data


def test_a_subject_written_in_the_layout_reads_back_with_its_seizures_and_signals(tmp_path):
    subject, data = _subject(seizures=((20.0, 30.0), (75.0, 80.0)))

    folder = write_chbmit_subject(tmp_path, subject, LAYOUT, clock_start_s=23 * 3600 + 59 * 60)

    names = sorted(p.name for p in folder.iterdir())
    assert names == ["chb01-summary.txt", "chb01_01.edf", "chb01_02.edf"]
    summary = parse_summary(folder / "chb01-summary.txt")
    assert summary.channels == LAYOUT and summary.sfreq == SFREQ
    assert [f.start_s for f in summary.files] == [23 * 3600 + 59 * 60, 65 - 60]  # past midnight
    assert is_chbmit(tmp_path) and is_chbmit(folder)
    read = read_chbmit(tmp_path).subjects[0]
    assert read.ch_names == CHANNELS  # the repeated T8-P8 read once
    assert [(s.start_s, s.duration_s) for s in read.segments] == [(0.0, 60.0), (65.0, 40.0)]
    assert [(s.onset_s, s.end_s) for s in read.seizures] == [(20.0, 30.0), (75.0, 80.0)]
    assert "chb01_02.edf seizure 1" in read.seizures[1].source
    back = read.segments[1].read()
    assert back.shape == data[1].shape
    assert np.abs(back - data[1]).max() < 0.01e-6  # EDF's 16-bit resolution


def test_the_database_summary_formats_are_understood(tmp_path):
    folder = tmp_path / "chb12"
    folder.mkdir()
    (folder / "chb12-summary.txt").write_text(
        "Data Sampling Rate: 256 Hz\n\nChannels in EDF Files:\nChannel 1: FP1-F7\n"
        "Channel 2: -\n\nFile Name: chb12_06.edf\nFile Start Time: 13:43:04\n"
        "File End Time: 14:43:04\nNumber of Seizures in File: 2\n"
        "Seizure 1 Start Time: 1665 seconds\nSeizure 1 End Time:   1726 seconds\n"
        "Seizure 2 Start Time: 3415 seconds\nSeizure 2 End Time: 3447 seconds\n\n"
        "File Name: chb12_07.edf\nNumber of Seizures in File: 0\n"
    )

    summary = parse_summary(folder / "chb12-summary.txt")

    assert summary.sfreq == 256.0 and summary.channels == ["FP1-F7", "-"]
    assert summary.files[0].seizures == [(1665.0, 1726.0), (3415.0, 3447.0)]
    assert summary.files[1].start_s is None and summary.files[1].seizures == []


def _edit_summary(folder, old, new):
    path = folder / f"{folder.name}-summary.txt"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_seizure_past_the_end_of_its_edf_is_refused_naming_both(tmp_path):
    subject, _ = _subject()
    folder = write_chbmit_subject(tmp_path, subject, LAYOUT)
    _edit_summary(folder, "Seizure End Time: 30 seconds", "Seizure End Time: 95 seconds")

    with pytest.raises(
        DataError,
        match=r"chb01-summary.txt: chb01_01.edf: seizure 1 \(20-95 s\) "
        r"runs past the end of the EDF file \(60 s long\)",
    ):
        read_chbmit(folder)


def test_overlapping_seizures_are_refused(tmp_path):
    subject, _ = _subject(seizures=((10.0, 20.0), (40.0, 50.0)))
    folder = write_chbmit_subject(tmp_path, subject, LAYOUT)
    _edit_summary(folder, "Seizure 2 Start Time: 40 seconds", "Seizure 2 Start Time: 15 seconds")

    with pytest.raises(DataError, match=r"seizure 2: seizure at 15 s overlaps the one at 10-20 s"):
        read_chbmit(folder)


def test_a_count_of_seizures_that_disagrees_with_the_times_is_refused(tmp_path):
    subject, _ = _subject()
    folder = write_chbmit_subject(tmp_path, subject, LAYOUT)
    _edit_summary(folder, "Number of Seizures in File: 1", "Number of Seizures in File: 2")

    with pytest.raises(DataError, match=r"chb01_01.edf declares 2 seizure\(s\) but lists 1"):
        read_chbmit(folder)


def test_a_listed_file_missing_from_the_folder_is_skipped_and_noted(tmp_path):
    subject, _ = _subject(seizures=((20.0, 30.0),))
    folder = write_chbmit_subject(tmp_path, subject, LAYOUT)
    (folder / "chb01_02.edf").unlink()

    read = read_chbmit(folder).subjects[0]

    assert [s.name for s in read.segments] == ["chb01_01.edf"]
    assert read.notes == ("chb01_02.edf: listed in the summary but not in the folder; skipped",)


def test_a_folder_without_the_layout_says_what_it_lacks(tmp_path):
    with pytest.raises(DataError, match="holds no CHB-MIT subject folder"):
        read_chbmit(tmp_path)
