import numpy as np
import pytest

from decoders.simulators.errors import SimulatorError
from decoders.simulators.montages import LAYOUTS, electrode_positions, select_channels


@pytest.mark.parametrize("count", sorted(LAYOUTS))
def test_standard_layouts_have_their_count_and_known_names(count):
    names = select_channels(count)
    assert len(names) == len(set(names)) == count
    assert set(names) <= set(electrode_positions())
    assert {"C3", "C4"} <= set(names)


def test_other_counts_take_the_channels_nearest_the_sensorimotor_strip():
    assert set(select_channels(3)) == {"C3", "Cz", "C4"}
    names = select_channels(12)
    assert len(names) == 12 and {"C3", "Cz", "C4"} <= set(names)
    assert not {"Fp1", "O1", "Oz"} & set(names)


def test_explicit_names_are_matched_case_insensitively():
    assert select_channels(["c3", "CZ", "Cpz"]) == ("C3", "Cz", "CPz")


@pytest.mark.parametrize(
    ("channels", "problem"),
    [(["C3", "X9"], "X9"), (["C3", "C3"], "repeated"), ([], "empty"), (0, "count"), ("C3", "list")],
)
def test_bad_channel_requests_are_named(channels, problem):
    with pytest.raises(SimulatorError, match=problem):
        select_channels(channels)


def test_positions_are_in_the_head_frame():
    positions = electrode_positions()
    assert positions["C3"][0] < 0 < positions["C4"][0]  # x points right
    assert positions["Fz"][1] > positions["Pz"][1]  # y points forward
    assert 0.05 < np.linalg.norm(positions["Cz"]) < 0.2
