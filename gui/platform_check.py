"""Can Qt open a window here? Checked before the application starts, without importing Qt.

Qt aborts the whole process, with its own text, when no platform plugin can start: its X11
plugin (``xcb``) needs system libraries that many Linux installations lack (``libxcb-cursor0``
since Qt 6.5, ``libxcb-icccm4``, ``libxcb-keysyms1``...), and every plugin but ``offscreen``,
``minimal`` and ``vnc`` needs a display. :func:`check_platform` finds the plugin Qt would
try, the libraries it lacks (``ldd`` marks them ``not found``) and whether its display
answers, and says how to fix what is wrong in one message.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

XCB_PACKAGES = (
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-xkb1",
    "libxkbcommon-x11-0",
)
"""Debian packages of the X11 libraries Qt's xcb plugin needs that minimal systems lack."""

_EXCEPTIONS = {"libglib-2.0.so.0": "libglib2.0-0", "libgobject-2.0.so.0": "libglib2.0-0"}
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


@dataclass(frozen=True)
class PlatformCheck:
    """What Qt will do here.

    Parameters
    ----------
    platform : str, optional
        The platform plugin that can start (None when none can).
    problem : str, optional
        Why none can, and how to fix it (None when one can).
    """

    platform: str | None
    problem: str | None = None


def check_platform(
    environ: Mapping[str, str] | None = None, *, plugins: Path | None = None
) -> PlatformCheck:
    """Return the platform Qt can start on, or the problem that stops every candidate.

    Parameters
    ----------
    environ : mapping, optional
        The environment (default ``os.environ``): ``QT_QPA_PLATFORM``, ``DISPLAY``,
        ``WAYLAND_DISPLAY``, ``XDG_SESSION_TYPE``, ``XDG_RUNTIME_DIR``.
    plugins : Path, optional
        Qt's ``platforms`` plugin folder (default: PySide6's).
    """
    environ = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return PlatformCheck(environ.get("QT_QPA_PLATFORM") or "native")
    plugins = plugins or _plugin_folder(environ)
    problems = []
    for platform in candidates(environ):
        problem = _problem(platform, environ, plugins)
        if problem is None:
            return PlatformCheck(platform)
        problems.append(problem)
    return PlatformCheck(None, "\n\n".join(problems) + "\n\n" + _ALTERNATIVES)


def candidates(environ: Mapping[str, str]) -> list[str]:
    """Return the platforms Qt tries, in order (``QT_QPA_PLATFORM``, else by session)."""
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return [entry.split(":")[0] for entry in chosen.split(";") if entry]
    if environ.get("XDG_SESSION_TYPE") == "wayland" or (
        environ.get("WAYLAND_DISPLAY") and not environ.get("DISPLAY")
    ):
        return ["wayland", "xcb"]
    return ["xcb"]


def missing_libraries(plugin: Path) -> list[str]:
    """Return the shared libraries ``plugin`` needs that the system lacks (empty: none).

    Empty too when ``ldd`` is not there to tell.
    """
    ldd = shutil.which("ldd")
    if ldd is None or not plugin.is_file():
        return []
    listed = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, check=False)
    return list(dict.fromkeys(_NOT_FOUND.findall(listed.stdout)))


def debian_package(soname: str) -> str:
    """Return the Debian package of the library ``soname`` (``libxcb-icccm.so.4``: ``libxcb-icccm4``)."""
    if soname in _EXCEPTIONS:
        return _EXCEPTIONS[soname]
    base, _, version = soname.partition(".so.")
    base = base.lower()
    return f"{base}-{version}" if base[-1].isdigit() else f"{base}{version}"


def _problem(platform: str, environ: Mapping[str, str], plugins: Path | None) -> str | None:
    if platform == "xcb" and not environ.get("DISPLAY"):
        return _no_display(environ)
    missing = missing_libraries(plugins / f"libq{platform}.so") if plugins else []
    if missing:
        return _missing_text(platform, missing)
    if platform == "xcb":
        return _x_display_problem(environ["DISPLAY"])
    if platform.startswith("wayland"):
        return _wayland_problem(environ)
    return None


def _missing_text(platform: str, missing: Sequence[str]) -> str:
    packages = list(dict.fromkeys([*map(debian_package, missing), *XCB_PACKAGES]))
    if platform != "xcb":
        packages = [debian_package(name) for name in missing]
    return (
        f"bci-app: error: Qt's '{platform}' platform plugin cannot load: the system lacks "
        f"{', '.join(missing)}. Install them (Debian, Ubuntu):\n"
        f"    sudo apt-get install {' '.join(packages)}\n"
        "Other distributions: the README's desktop section lists the packages of each family."
    )


def _no_display(environ: Mapping[str, str]) -> str:
    if environ.get("WAYLAND_DISPLAY"):
        return "bci-app: error: DISPLAY is unset (set it, or QT_QPA_PLATFORM=wayland)."
    return (
        "bci-app: error: no display: DISPLAY and WAYLAND_DISPLAY are unset, so the desktop "
        "has no screen to open its window on."
    )


def _x_display_problem(display: str) -> str | None:
    match = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display)
    if match is None:
        return None  # a display on another host: Qt finds out
    path = f"/tmp/.X11-unix/X{match.group(1)}"
    if _answers(f"\0{path}") or _answers(path):
        return None
    return (
        f"bci-app: error: no X server answers on DISPLAY={display} (nothing listens at {path}); "
        "start one, or point DISPLAY at the one of your desktop."
    )


def _wayland_problem(environ: Mapping[str, str]) -> str | None:
    name = environ.get("WAYLAND_DISPLAY", "wayland-0")
    path = Path(name) if name.startswith("/") else Path(environ.get("XDG_RUNTIME_DIR", "")) / name
    if _answers(str(path)):
        return None
    return f"bci-app: error: no Wayland compositor answers at {path}."


def _answers(address: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(address)
        except OSError:
            return False
        return True


def _plugin_folder(environ: Mapping[str, str]) -> Path | None:
    if environ.get("QT_QPA_PLATFORM_PLUGIN_PATH"):
        return Path(environ["QT_QPA_PLATFORM_PLUGIN_PATH"])
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms"


_ALTERNATIVES = """\
Without a screen:
    bci-app run --stream NAME --model NAME      decode headless (no desktop)
    QT_QPA_PLATFORM=offscreen bci-app gui       the desktop without a window (tests, screenshots)
    QT_QPA_PLATFORM=vnc bci-app gui             the desktop served to a VNC viewer on port 5900
    xvfb-run -s '-screen 0 1600x1000x24' bci-app gui   the desktop on a virtual X server"""
