import pytest

from bci_app.session.sources import PlaySource

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(120)]


def _row(panel, name):
    return next(row for row in panel.rows() if row["name"] == name)


def test_a_played_file_appears_connected_with_its_markers(
    window, qtbot, tmp_path, make_raw, unique
):
    path = tmp_path / "toy_raw.fif"
    make_raw(seconds=10).save(path, verbose="error")
    panel = window.streams
    panel.play(PlaySource("file", str(path)), unique, True)
    qtbot.waitUntil(lambda: unique in window.controller.acquisition.inlets, timeout=15_000)
    qtbot.waitUntil(lambda: _row(panel, unique)["status"] == "connected", timeout=10_000)
    row = _row(panel, unique)
    assert (row["type"], row["channels"], row["rate"]) == ("EEG", "8", "128 Hz")
    qtbot.waitUntil(lambda: f"{unique}-markers" in window.controller.acquisition.inlets)
    assert _row(panel, f"{unique}-markers")["rate"] == "events"
    assert any(unique in panel.players.item(i).text() for i in range(panel.players.count()))
    panel.render()
    panel.select(unique)
    assert panel.selected_name() == unique


def test_a_missing_required_stream_is_red_and_named(window, unique):
    panel = window.streams
    window.settings.set("streams/required", [unique])
    panel.render()
    row = _row(panel, unique)
    assert row["status"] == "missing" and row["required"] == "★"
    assert f"missing required: {unique}" in panel.summary.text()
    item = panel.table.item(
        next(i for i in range(panel.table.rowCount()) if panel.table.item(i, 1).text() == unique), 1
    )
    assert item.foreground().color().name() == window.theme.bad


def test_discovery_lists_a_stream_that_can_then_be_connected(window, qtbot, play, unique):
    controller = window.controller
    play(unique)
    controller.close_stream(unique)
    qtbot.waitUntil(lambda: unique not in controller.acquisition.inlets, timeout=10_000)
    window.streams.refresh()
    qtbot.waitUntil(lambda: any(s.name == unique for s in controller.discovered), timeout=10_000)
    assert _row(window.streams, unique)["status"] == "available"
    window.streams.select(unique)
    window.streams.connect_selected()
    qtbot.waitUntil(lambda: unique in controller.acquisition.inlets, timeout=10_000)


def test_an_unreadable_file_is_reported_in_the_log(window, qtbot, tmp_path, unique):
    broken = tmp_path / "broken_raw.fif"
    broken.write_bytes(b"not a fif file")
    window.streams.play(PlaySource("file", str(broken)), unique, False)
    qtbot.waitUntil(lambda: bool(window.log.messages("error")), timeout=10_000)
    assert str(broken) in window.log.messages("error")[-1]
    assert unique not in window.controller.players


def test_the_player_dialog_refuses_an_empty_file(window):
    from gui.streams_panel import PlayerDialog

    dialog = PlayerDialog(window)
    dialog._accept()
    assert "no file given" in dialog.error.text()
    dialog.kind.setCurrentIndex(2)
    assert dialog.source().kind == "simulator"
