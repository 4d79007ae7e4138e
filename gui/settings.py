r"""Settings persisted per user in the platform's place (QSettings, native format).

Linux: ``$XDG_CONFIG_HOME/bci-app/bci-app.conf``; Windows: the registry under
``HKEY_CURRENT_USER\Software\bci-app``; macOS: ``~/Library/Preferences``.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "bci-app"
APPLICATION = "bci-app"

DEFAULTS: dict[str, Any] = {
    "appearance/theme": "dark",
    "viewer/window_s": 10.0,
    "viewer/page_size": 16,
    "viewer/scale": 1.0,
    "viewer/bandpass": False,
    "viewer/l_freq": 1.0,
    "viewer/h_freq": 40.0,
    "viewer/notch": 0.0,
    "viewer/reference": "none",
    "streams/required": [],
    "paths/sessions": "",
    "paths/registry": "",
    "session/operator": "",
    "recording/max_mb": 0,
    "markers/buttons": ["artifact", "seizure", "event"],
    "calibration/classes": ["left_hand", "right_hand"],
    "calibration/trials_per_class": 10,
    "calibration/fixation_s": 2.0,
    "calibration/cue_s": 1.25,
    "calibration/imagery_s": 2.75,
    "calibration/rest_min_s": 1.5,
    "calibration/rest_max_s": 2.5,
    "calibration/decoder": "csp-lda",
    "calibration/feedback_trials": 10,
    "shortcuts/record": "Ctrl+R",
    "shortcuts/stop": "Ctrl+Shift+R",
    "shortcuts/marker": "Ctrl+M",
}

T = TypeVar("T")


class Settings:
    """Typed access to the user's settings, with the defaults above.

    Parameters
    ----------
    qsettings : QSettings, optional
        The store (default: the user's native settings of bci-app).
    """

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.store = qsettings or QSettings(
            QSettings.Format.NativeFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
        )

    @property
    def path(self) -> str:
        """Return where the settings live (a file, or a registry key on Windows)."""
        return self.store.fileName()

    def get(self, key: str, default: T | None = None) -> T:
        """Return the value of ``key`` converted to the type of its default."""
        fallback = DEFAULTS.get(key) if default is None else default
        raw = self.store.value(key)
        if raw is None:
            return fallback
        try:
            if isinstance(fallback, bool):
                return raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1")
            if isinstance(fallback, int):
                return int(raw)
            if isinstance(fallback, float):
                return float(raw)
            if isinstance(fallback, list):
                value = json.loads(raw) if isinstance(raw, str) else list(raw)
                return value if isinstance(value, list) else fallback
            return str(raw) if fallback is not None else raw
        except (TypeError, ValueError):
            return fallback

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` (lists as JSON)."""
        self.store.setValue(key, json.dumps(value) if isinstance(value, list | tuple) else value)

    def get_bytes(self, key: str) -> QByteArray | None:
        """Return a stored byte array (window geometry), or None."""
        raw = self.store.value(key)
        return raw if isinstance(raw, QByteArray) else None

    def sync(self) -> None:
        """Write pending changes to their store."""
        self.store.sync()
