import pytest

from bci_app.session.sources import PlaySource, load_source, simulated_tasks


def test_sources_name_their_stream_and_origin(tmp_path):
    assert PlaySource("file", str(tmp_path / "sub01_raw.fif")).default_name == "sub01_raw"
    assert PlaySource("recording", "meg-eeg").origin == "real recording meg-eeg"
    simulator = PlaySource("simulator", "motor_imagery", seed=3)
    assert simulator.default_name == "sim-motor_imagery"
    assert simulator.origin == "simulator motor_imagery (seed 3)"


@pytest.mark.parametrize(
    ("kind", "value", "problem"),
    [
        ("tape", "x", "unknown source kind"),
        ("file", " ", "no file given"),
        ("recording", "eeg", "unknown recording"),
    ],
)
def test_bad_sources_are_refused(kind, value, problem):
    with pytest.raises(ValueError, match=problem):
        PlaySource(kind, value)


def test_a_simulator_and_a_file_load(tmp_path, write_toy_recording):
    raw = load_source(PlaySource("simulator", "motor_imagery", duration_s=6.0))
    assert raw.n_times == 6 * 250 and "motor_imagery" in simulated_tasks()
    path = write_toy_recording(tmp_path / "toy_raw.fif", n_events=4)
    assert load_source(PlaySource("file", str(path))).ch_names == ["C3", "C4", "Cz", "Pz"]


def test_a_missing_file_is_named(tmp_path):
    from decoders.datasets.errors import DataError

    with pytest.raises(DataError, match=r"missing_raw\.fif"):
        load_source(PlaySource("file", str(tmp_path / "missing_raw.fif")))
