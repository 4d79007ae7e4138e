import numpy as np
import pytest
from PySide6.QtWidgets import QDialogButtonBox

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(120)]


def _card_shown(panel, qtbot):
    panel.refresh_models()
    panel.select_model("toy:1")
    qtbot.waitUntil(lambda: panel.card is not None, timeout=10_000)
    return panel.card_view.toPlainText()


def test_the_card_tells_training_validation_and_channels(window, qtbot):
    text = _card_shown(window.decoder, qtbot)
    assert "csp-lda" in text and "8 ch @ 128 Hz" in text
    assert "Channels (8)" in text and "C0, C1" in text
    assert window.decoder.model_box.currentData() == "toy:1"


def test_a_loaded_model_decodes_the_stream_live(window, qtbot, play, unique):
    play(unique)
    panel = window.decoder
    _card_shown(panel, qtbot)
    panel.select_stream(unique)
    panel.start()
    qtbot.waitUntil(lambda: panel.live is not None, timeout=15_000)
    qtbot.waitUntil(lambda: len(panel.history) >= 5, timeout=15_000)
    outputs = np.array([o for _, o in panel.history])
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, atol=1e-5)
    assert panel.decision.text().split()[0] in ("rest", "move")
    x, y = panel.output_curves[0].getData()
    assert ((y >= 0) & (y <= 1)).all()
    assert len(x) >= 5 and x[-1] == 0.0
    qtbot.waitUntil(lambda: panel.latency.item(5, 0) is not None, timeout=5_000)
    assert float(panel.latency.item(3, 0).text()) > 0  # inference p50 in ms
    assert "predictions" in panel.counts.text()
    panel.stop()
    qtbot.waitUntil(lambda: panel.live is None, timeout=10_000)
    assert panel.start_button.isEnabled()


def test_a_model_that_does_not_fit_offers_the_channel_mapping(
    window, qtbot, play, make_raw, unique
):
    play(unique, make_raw(channels=tuple(f"EEG{i:03d}" for i in range(8))))
    panel = window.decoder
    _card_shown(panel, qtbot)
    panel.select_stream(unique)
    panel.start()
    qtbot.waitUntil(
        lambda: panel.mismatch_box is not None and panel.mismatch_box.isVisible(), timeout=15_000
    )
    box = panel.mismatch_box
    assert "does not fit" in box.windowTitle()
    assert "lacks 8 of the 8 channels" in box.informativeText()
    panel.mismatch_map_button.click()
    qtbot.waitUntil(lambda: panel.mapping_dialog is not None and panel.mapping_dialog.isVisible())
    dialog = panel.mapping_dialog
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled() and "8 model channels have no stream channel" in dialog.problem.text()
    dialog.map_by_order()
    assert ok.isEnabled()
    ok.click()
    assert panel.channel_map == {f"C{i}": f"EEG{i:03d}" for i in range(8)}
    panel.start()
    qtbot.waitUntil(lambda: panel.live is not None and len(panel.history) > 0, timeout=15_000)


def test_marker_locked_decoding_shows_the_marker(window, qtbot, play, unique):
    play(unique)
    panel = window.decoder
    _card_shown(panel, qtbot)
    panel.select_stream(unique, f"{unique}-markers")
    panel.marker_values.setText("mark")
    panel.start()
    qtbot.waitUntil(lambda: panel.live is not None and len(panel.history) > 0, timeout=20_000)
    assert "after marker mark" in panel.decision.text()
    assert panel.output_curves[0].opts["symbol"] == "o"  # one point per marker
