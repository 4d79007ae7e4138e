import numpy as np
import pytest

from federated.server.screening import check_update, norm_outliers, screen, update_norm

REFERENCE = {"w": np.zeros((2, 3)), "b": np.zeros(2)}


def update(scale: float = 0.1, **changes):
    arrays = {"w": np.full((2, 3), scale), "b": np.full(2, scale)}
    arrays.update(changes)
    return arrays


@pytest.mark.parametrize(
    ("arrays", "weight", "message"),
    [
        (update(b=np.array([np.nan, 0.0])), 10, "holds 1 NaN/Inf"),
        (update(w=np.full((2, 3), np.inf)), 10, "holds 6 NaN/Inf"),
        (update(w=np.zeros((3, 2))), 10, r"shape \(3, 2\)"),
        ({"w": np.zeros((2, 3))}, 10, r"missing \['b'\]"),
        (update(extra=np.zeros(1)), 10, r"unexpected \['extra'\]"),
        (update(), 0, "sample count 0"),
        (update(), float("nan"), "sample count nan"),
        (update(), "many", "sample count 'many'"),
    ],
)
def test_malformed_updates_are_named(arrays, weight, message):
    reason = check_update(arrays, REFERENCE, weight)
    assert reason is not None and __import__("re").search(message, reason)


def test_a_sound_update_passes_and_has_its_distance_as_norm():
    assert check_update(update(), REFERENCE, 12) is None
    assert update_norm(update(0.5), REFERENCE) == pytest.approx(0.5 * np.sqrt(8))


def test_an_update_far_outside_the_others_is_an_outlier():
    assert norm_outliers([1.0, 1.2, 0.9, 40.0], factor=10) == [False, False, False, True]
    assert norm_outliers([1.0, 30.0], factor=10) == [False, True]
    assert norm_outliers([1.0, 30.0], factor=0) == [False, False]
    assert norm_outliers([5.0], factor=10) == [False]


def test_screening_rejects_bad_and_outlying_updates_and_keeps_the_rest():
    verdicts = screen(
        [
            (1, "a", update(0.1), 10),
            (2, "b", update(0.12), 20),
            (3, "c", update(b=np.array([np.inf, 0.0])), 30),
            (4, "d", update(25.0), 40),
        ],
        REFERENCE,
        outlier_factor=10,
    )
    assert [v.accepted for v in verdicts] == [True, True, False, False]
    assert "NaN/Inf" in verdicts[2].reason and "update norm" in verdicts[3].reason
