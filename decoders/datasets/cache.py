"""Where fetched recordings live on disk."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "BCI_APP_DATA"


def data_home() -> Path:
    """Return the directory holding fetched recordings.

    ``$BCI_APP_DATA`` when set, else ``$XDG_CACHE_HOME/bci-app`` (``~/.cache/bci-app``).
    """
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "bci-app"
