import numpy as np

from decoders.models.braindecode_zoo.channels import (
    DEFAULT_MONTAGE,
    channel_positions,
    electrode_of,
    montage_positions,
)


def test_clinical_referential_labels_are_placed_at_their_electrode():
    assert [electrode_of(n) for n in ("EEG FP1-REF", "EEG T3-LE", "O2-AR", "Cz")] == [
        "FP1",
        "T3",
        "O2",
        "Cz",
    ]
    names = ("EEG FP1-REF", "EEG T3-LE", "Cz", "EEG X9-REF", "A1-Cz")
    positions = channel_positions(names, None, DEFAULT_MONTAGE)
    sites = montage_positions(DEFAULT_MONTAGE)
    assert np.allclose(positions[:3], [sites["fp1"], sites["t3"], sites["cz"]])
    assert np.isnan(positions[3]).all()  # no such electrode
    assert np.isnan(positions[4]).all()  # a derivation between two electrodes has no one site
