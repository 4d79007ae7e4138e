import numpy as np
import pytest

from acquisition.preprocessing.channels import Bipolar, CommonAverage, Pick

NAMES = ["Fz", "Cz", "Pz", "A1", "A2", "A3", "EOG"]
TYPES = ["eeg", "eeg", "eeg", "seeg", "seeg", "seeg", "eog"]
DATA = np.random.default_rng(0).standard_normal((7, 50))


def test_common_average_references_each_type_to_its_own_mean():
    out = CommonAverage(NAMES, TYPES, 100.0).process(DATA)
    np.testing.assert_allclose(out[:3].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out[3:6].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out[:3], DATA[:3] - DATA[:3].mean(axis=0), atol=1e-12)
    np.testing.assert_array_equal(out[6], DATA[6])  # EOG untouched


def test_common_average_over_chosen_channels():
    out = CommonAverage(NAMES, TYPES, 100.0, channels=["Fz", "A1"]).process(DATA)
    np.testing.assert_allclose(out[0], (DATA[0] - DATA[3]) / 2)
    np.testing.assert_array_equal(out[1], DATA[1])


def test_bipolar_pairs_and_kept_channels():
    step = Bipolar(NAMES, TYPES, 100.0, pairs=[("A1", "A2"), ("A2", "A3")], keep_others=True)
    assert step.ch_names == ("A1-A2", "A2-A3", "Fz", "Cz", "Pz", "EOG")
    assert step.ch_types == ("seeg", "seeg", "eeg", "eeg", "eeg", "eog")
    out = step.process(DATA)
    np.testing.assert_allclose(out[1], DATA[4] - DATA[5])
    np.testing.assert_array_equal(out[5], DATA[6])
    assert Bipolar(NAMES, TYPES, 100.0, pairs=[("A1", "A2")]).process(DATA).shape == (1, 50)


def test_pick_by_name_or_type():
    step = Pick(NAMES, TYPES, 100.0, channels=["Pz", "Fz"])
    np.testing.assert_array_equal(step.process(DATA), DATA[[2, 0]])
    assert Pick(NAMES, TYPES, 100.0, types=["seeg"]).ch_names == ("A1", "A2", "A3")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Pick(NAMES, TYPES, 100.0, channels=["Fz", "T8"]), "not in the stream: T8"),
        (lambda: Pick(NAMES, TYPES, 100.0, types=["mag"]), "no channel of types"),
        (lambda: Pick(NAMES, TYPES, 100.0), "either channels or types"),
        (lambda: Bipolar(NAMES, TYPES, 100.0, pairs=[]), "at least one pair"),
        (lambda: Bipolar(NAMES, TYPES, 100.0, pairs=[("A1",)]), "anode, cathode"),
        (lambda: CommonAverage(["x"], ["eeg"], 100.0), "at least two"),
    ],
)
def test_bad_channel_steps_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()
