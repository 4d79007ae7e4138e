import pytest

from decoders.simulators.errors import SimulatorError
from decoders.simulators.options import as_number, parse_option


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n_subjects=4", ("n_subjects", 4)),
        ("snr_db=-3.5", ("snr_db", -3.5)),
        ("line_freq=None", ("line_freq", None)),
        ("sfreq=[250, 256]", ("sfreq", [250, 256])),
        ("sfreq=250,256", ("sfreq", (250, 256))),
        ("kinds=spikes,asymmetry", ("kinds", ("spikes", "asymmetry"))),
        ("kinds=spikes", ("kinds", "spikes")),
        (" channels = C3, Cz ", ("channels", ("C3", "Cz"))),
    ],
)
def test_options_are_read_from_text(text, expected):
    assert parse_option(text) == expected


@pytest.mark.parametrize("text", ["n_subjects", "=4", ""])
def test_text_without_key_and_value_is_refused(text):
    with pytest.raises(SimulatorError, match="KEY=VALUE"):
        parse_option(text)


def test_numbers_are_checked_by_kind():
    assert as_number("3", int, "n", "task") == 3 and as_number(2.0, int, "n", "task") == 2
    assert as_number("0.5", float, "x", "task") == 0.5
    with pytest.raises(SimulatorError, match="n must be a whole number"):
        as_number(2.5, int, "n", "task")
    with pytest.raises(SimulatorError, match="x must be a number, got 'a'"):
        as_number("a", float, "x", "task")
