import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gui.platform_check import (
    XCB_PACKAGES,
    candidates,
    check_platform,
    debian_package,
    missing_libraries,
)

ROOT = Path(__file__).resolve().parents[3]
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="checked on Linux")


@linux
def test_the_gui_command_is_listed_and_explains_a_missing_display(monkeypatch, capsys):
    from bci_app.cli import build_parser, main

    assert "gui" in build_parser().format_help()
    for variable in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(variable, raising=False)
    assert main(["gui"]) == 2
    error = capsys.readouterr().err
    assert "no display" in error
    assert "bci-app run --stream NAME --model NAME" in error
    assert "QT_QPA_PLATFORM=offscreen bci-app gui" in error and "QT_QPA_PLATFORM=vnc" in error


def _fake_ldd(folder: Path, missing: str) -> Path:
    """Write an ``ldd`` that lists ``missing`` as not found, as on a machine that lacks it."""
    folder.mkdir()
    ldd = folder / "ldd"
    ldd.write_text(
        "#!/bin/sh\n"
        f"printf '\\t{missing} => not found\\n'\n"
        "printf '\\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0000000000)\\n'\n"
    )
    ldd.chmod(0o755)
    return folder


@linux
def test_a_missing_x11_library_is_named_with_the_line_that_installs_it(tmp_path):
    bin_folder = _fake_ldd(tmp_path / "bin", "libxcb-cursor.so.0")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(
        DISPLAY=":0",
        PATH=f"{bin_folder}{os.pathsep}{env['PATH']}",
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
    )
    started = subprocess.run(
        [sys.executable, "-m", "bci_app", "gui", "--demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2, started.stderr
    error = started.stderr
    assert "Qt's 'xcb' platform plugin cannot load: the system lacks libxcb-cursor.so.0" in error
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in error
    assert "QT_QPA_PLATFORM=offscreen bci-app gui" in error
    assert "Reinstalling the application" not in error and "qt.qpa" not in error


def test_the_platforms_qt_would_try():
    assert candidates({}) == ["xcb"]
    assert candidates({"QT_QPA_PLATFORM": "offscreen:configfile=/x.json"}) == ["offscreen"]
    assert candidates({"QT_QPA_PLATFORM": "wayland;xcb"}) == ["wayland", "xcb"]
    assert candidates({"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"}) == ["wayland", "xcb"]
    assert candidates({"WAYLAND_DISPLAY": "wayland-0"}) == ["wayland", "xcb"]


@linux
def test_offscreen_needs_no_display_and_a_silent_x_display_is_named(tmp_path):
    no_plugins = tmp_path / "platforms"  # no plugin files: only the displays are checked
    offscreen = check_platform({"QT_QPA_PLATFORM": "offscreen"}, plugins=no_plugins)
    assert offscreen.platform == "offscreen" and offscreen.problem is None
    silent = check_platform({"DISPLAY": ":187"}, plugins=no_plugins)
    assert silent.platform is None
    assert "no X server answers on DISPLAY=:187 (nothing listens at /tmp/.X11-unix/X187)" in (
        silent.problem
    )
    assert "bci-app run" in silent.problem
    remote = check_platform({"DISPLAY": "somehost:0"}, plugins=no_plugins)
    assert remote.platform == "xcb"  # another host's display: Qt finds out


@linux
@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (installed by .ci/run)")
def test_the_real_xcb_plugin_is_checked_against_a_real_x_server(tmp_path):
    from gui.platform_check import _plugin_folder

    number = 200 + os.getpid() % 300
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "640x480x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        socket = Path(f"/tmp/.X11-unix/X{number}")
        for _ in range(100):
            if socket.exists() or server.poll() is not None:
                break
            time.sleep(0.05)
        check = check_platform({"DISPLAY": f":{number}"})
        missing = missing_libraries(_plugin_folder({}) / "libqxcb.so")
        if missing:  # a machine without the libraries: the check names them
            assert check.platform is None and all(name in check.problem for name in missing)
        else:
            assert check.platform == "xcb" and check.problem is None
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libEGL.so.1", "libegl1"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
    ],
)
def test_libraries_are_named_by_their_debian_package(soname, package):
    assert debian_package(soname) == package


def test_ci_installs_every_package_the_message_recommends():
    script = (ROOT / ".ci" / "run").read_text()
    assert all(package in script for package in XCB_PACKAGES)
    assert "make test\n" in script and "make test-x11" in script
