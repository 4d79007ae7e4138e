"""Flower's home and connections: the ``[superlink.NAME]`` sections of its ``config.toml``.

``flwr run`` and ``flwr supernode`` reach a SuperLink through a named connection; this module
writes one, keeping every other section of the file as it was. Flower's home is
``$FLWR_HOME``, else the ``flower`` folder of bci-app's state directory
(``$XDG_STATE_HOME/bci-app``, ``~/.local/state/bci-app`` by default), never ``~/.flwr``:
it holds ``config.toml`` (connections) and ``apps/`` (the Flower app, installed there by the
SuperLink and each SuperNode for every run).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from federated.toml_writer import write_toml


def state_dir() -> Path:
    """Return bci-app's state directory: ``$XDG_STATE_HOME/bci-app`` (``~/.local/state``)."""
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "bci-app"


def flwr_home() -> Path:
    """Return Flower's home: ``$FLWR_HOME``, else ``state_dir() / "flower"``."""
    explicit = os.environ.get("FLWR_HOME")
    return Path(explicit).expanduser() if explicit else state_dir() / "flower"


def write_connection(
    name: str,
    address: str,
    *,
    root_certificates: Path | None = None,
    insecure: bool = False,
) -> Path:
    """Add or replace connection ``name`` to the SuperLink at ``address``; return the file.

    Parameters
    ----------
    name : str
        Connection name, as given to ``flwr run APP NAME``.
    address : str
        ``host:port`` of the SuperLink.
    root_certificates : Path, optional
        CA certificate the SuperLink's certificate is checked against (TLS).
    insecure : bool
        Plain text instead of TLS (loopback experiments only).
    """
    if not insecure and root_certificates is None:
        raise ValueError("a TLS connection needs the CA certificate (root_certificates)")
    path = flwr_home() / "config.toml"
    document: dict[str, Any] = tomllib.loads(path.read_text()) if path.is_file() else {}
    superlink = document.setdefault("superlink", {})
    entry: dict[str, Any] = {"address": address}
    if insecure:
        entry["insecure"] = True
    else:
        entry["root-certificates"] = str(Path(root_certificates).resolve())
    superlink[name] = entry
    return write_toml(path, document)
