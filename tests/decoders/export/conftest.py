"""Toy trials and test-only decoders for the export tests."""

from __future__ import annotations

import pytest

from decoders.datasets.trials import TrialSet
from decoders.models.braindecode_zoo.survey import survey_trials


@pytest.fixture(scope="session")
def toy_split() -> tuple[TrialSet, TrialSet]:
    """Training and validation toy trials: 8 EEG channels named in the 10-20 system, 200 Hz,
    1 s, three classes (the trials every braindecode model is surveyed on)."""
    return survey_trials(60, 0, "toy/train"), survey_trials(30, 1, "toy/valid")
