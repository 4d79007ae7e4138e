"""Test-wide settings: everything the tests write goes to temporary directories, LSL stays on
this host, Qt renders offscreen."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_SANDBOX = Path(tempfile.mkdtemp(prefix="bci-app-tests-"))
atexit.register(shutil.rmtree, _SANDBOX, ignore_errors=True)

os.environ["LSLAPICFG"] = str(Path(__file__).with_name("lsl_api.cfg"))
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["MPLBACKEND"] = "Agg"
os.environ["BCI_APP_DATA"] = str(_SANDBOX / "data")
os.environ["XDG_CONFIG_HOME"] = str(_SANDBOX / "config")
os.environ["XDG_CACHE_HOME"] = str(_SANDBOX / "cache")
os.environ["_MNE_FAKE_HOME_DIR"] = str(_SANDBOX / "home")
os.environ["FLWR_HOME"] = str(_SANDBOX / "flwr")
os.environ["FLWR_TELEMETRY_ENABLED"] = "0"
os.environ["FLWR_DISABLE_UPDATE_CHECK"] = "1"
os.environ["FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION"] = "1"
(_SANDBOX / "home").mkdir()


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Fetch the real recordings once per test session into the sandbox and return its path."""
    from decoders.datasets.fetch import fetch_all

    fetch_all(log=lambda message: None)
    return Path(os.environ["BCI_APP_DATA"])
