"""Tiny MEG-GPT models pretrained in both stages on the real VectorView recording."""

from pathlib import Path

import pytest

from decoders.pretraining.run import pretrain
from decoders.pretraining.trainer import PretrainSettings

SETTINGS = PretrainSettings(steps=3, global_batch=4, micro_batch=4, checkpoint_every=3)
PARCELS = {"space": "parcels", "ch_types": ["mag", "grad"], "max_channels": 12, "n_parcels": 4}
"""Four parcels of the first 12 MEG sensors (four sensor locations of three sensors each)."""


@pytest.fixture(scope="session")
def meg_file(real_data) -> Path:
    """The real 306-sensor VectorView recording of ``bci-app data fetch``."""
    from decoders.datasets.archives import MEG_EEG
    from decoders.datasets.fetch import fetch

    return fetch(MEG_EEG, log=lambda message: None) / "test_raw.fif"


def _stages(corpus: Path, root: Path, overrides: dict) -> tuple[Path, Path]:
    one, two = root / "tokeniser", root / "gpt"
    pretrain("meg-gpt", [corpus], one, SETTINGS, size="tiny", overrides=overrides, progress=False)
    pretrain(
        "meg-gpt", [corpus], two, SETTINGS, size="tiny", overrides={**overrides, "stage": "gpt"},
        init=one, progress=False,
    )  # fmt: skip
    return one, two


@pytest.fixture(scope="session")
def sensor_stages(meg_file, tmp_path_factory) -> tuple[Path, Path]:
    """Stage 1 and 2 on the first 8 channels as they are (MEG 0113, 0112, ...)."""
    return _stages(meg_file, tmp_path_factory.mktemp("meggpt-sensors"), {})


@pytest.fixture(scope="session")
def parcel_stages(meg_file, tmp_path_factory) -> tuple[Path, Path]:
    """Stage 1 and 2 on four sensor-space parcels."""
    return _stages(meg_file, tmp_path_factory.mktemp("meggpt-parcels"), PARCELS)
