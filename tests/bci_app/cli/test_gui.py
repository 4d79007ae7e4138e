import sys

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="displays are checked on Linux")
def test_the_gui_command_is_listed_and_explains_a_missing_display(monkeypatch, capsys):
    from bci_app.cli import build_parser, main

    assert "gui" in build_parser().format_help()
    for variable in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(variable, raising=False)
    assert main(["gui"]) == 1
    assert "no display" in capsys.readouterr().err
