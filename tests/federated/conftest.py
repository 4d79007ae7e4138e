"""Fixtures of the federated tests: small simulated sites with different montages and rates."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

TINY_MODEL = {"n_spatial": 4, "filters": [8]}
SITES = {
    "site-a": {"channels": 8, "sfreq": 250.0, "trials_per_class": 8, "seed": 11},
    "site-b": {"channels": 16, "sfreq": 200.0, "trials_per_class": 10, "seed": 12},
    "site-c": {"channels": 22, "sfreq": 500.0, "trials_per_class": 12, "seed": 13},
}


def write_site(folder: Path, name: str, *, extra: str = "", **options) -> Path:
    """Write a site file of simulated motor imagery (left vs right hand, 2 s trials)."""
    settings = {**SITES.get(name, SITES["site-a"]), **options}
    seed = settings.pop("seed")
    lines = [
        "[site]",
        f'name = "{name}"',
        f'state_dir = "{name}-state"',
        'registry_dir = "models"',
        "[data]",
        'simulator = "motor_imagery"',
        "[data.options]",
        f"seed = {seed}",
        "n_subjects = 1",
        "n_runs = 1",
        'classes = ["left_hand", "right_hand"]',
        "snr_db = 0.0",
    ]
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    lines += ["[split]", "validation = 0.25", "test = 0.25"]
    path = Path(folder) / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def write_federation(folder: Path, sites: list[Path], **settings) -> Path:
    """Write a federation file over ``sites`` (2 rounds of a tiny personalised model)."""
    values = {
        "classes": ["left_hand", "right_hand"],
        "window-s": 2.0,
        "output-dir": "server",
        "registry-dir": "models",
        "decoder-options": json.dumps(TINY_MODEL),
        "rounds": 2,
        "min-sites": 2,
        "experiment": "test",
        "export": False,
        "sites": [str(path) for path in sites],
        **{key.replace("_", "-"): value for key, value in settings.items()},
    }
    path = Path(folder) / "federation.toml"
    path.write_text("\n".join(f"{key} = {json.dumps(value)}" for key, value in values.items()))
    return path


@pytest.fixture
def site_files(tmp_path) -> Callable[..., list[Path]]:
    """Return a function writing site files by name (default: the three sites)."""

    def make(names: tuple[str, ...] = tuple(SITES), **options) -> list[Path]:
        return [write_site(tmp_path, name, **options) for name in names]

    return make


@pytest.fixture
def federation_file(tmp_path, site_files) -> Callable[..., Path]:
    """Return a function writing a federation file over the three sites."""

    def make(sites: list[Path] | None = None, **settings) -> Path:
        return write_federation(tmp_path, sites if sites is not None else site_files(), **settings)

    return make
