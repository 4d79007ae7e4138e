"""The seizure-alarm banner: alone, and in the decoder panel running a forecaster live."""

import numpy as np
import pytest

from bci_app.models.alarm import AlarmPolicy, AlarmStatus
from gui.decoder.seizure_alarm import SeizureAlarmBanner
from gui.theme import THEMES

POLICY = AlarmPolicy(k=1, n=1, threshold=1e-6, refractory_s=600.0, sph_s=60.0, sop_s=300.0)


def test_the_banner_follows_the_alarm_state(qtbot):
    banner = SeizureAlarmBanner(THEMES["dark"])
    qtbot.addWidget(banner)
    banner.show()

    banner.show_status(AlarmStatus(1.0, 0.9, 1, True, True, 1.0))  # no policy: stays hidden
    assert banner.kind == ""
    banner.follow(POLICY)
    assert banner.kind == "info" and "no alarm yet" in banner.text()
    banner.show_status(AlarmStatus(100.0, 0.2, 0, False, False, None))
    assert banner.kind == "info" and "preictal probability 0.20" in banner.text()
    banner.show_status(AlarmStatus(160.0, 0.9, 1, True, False, 100.0))
    assert banner.kind == "alarm"
    assert "SEIZURE ALARM, raised 1.0 min ago: seizure expected 1-6 min after" in banner.text()
    banner.follow(None)
    assert banner.kind == ""


@pytest.mark.lsl
@pytest.mark.timeout(180)
def test_the_decoder_panel_shows_the_alarm_of_a_forecaster_running_live(
    window, qtbot, play, unique, tmp_path
):
    from decoders import registry
    from decoders.card import DecoderCard
    from decoders.datasets.trials import TrialSet
    from decoders.export.publish import publish

    rng = np.random.default_rng(0)
    labels = np.arange(40) % 2
    data = rng.standard_normal((40, 8, 128)) * 10e-6
    data[labels == 1, 0] *= 3.0
    names = tuple(f"C{i}" for i in range(8))
    trials = TrialSet(data, labels, ("interictal", "preictal"), 128.0, names, ("eeg",) * 8, "t")
    decoder = registry.create("bandpower-lr", hop_s=0.5, bands=[[4, 30]])
    decoder.fit(trials.subset(np.arange(30)), trials.subset(np.arange(30, 40)))
    card = DecoderCard.for_decoder(decoder, extra={"forecasting": {"alarm": POLICY.to_dict()}})
    publish(decoder, tmp_path / "models", "forecaster", card=card)
    window.controller.settings.set("paths/registry", str(tmp_path / "models"))
    panel = window.decoder
    play(unique)
    panel.refresh_models()
    panel.select_model("forecaster:1")
    qtbot.waitUntil(lambda: panel.card is not None, timeout=10_000)
    assert "seizure alarm" in panel.card_view.toPlainText()
    panel.select_stream(unique)
    panel.start()

    qtbot.waitUntil(lambda: panel.alarm_banner.kind == "alarm", timeout=20_000)
    assert "SEIZURE ALARM" in panel.alarm_banner.text()
    panel.stop()
    qtbot.waitUntil(lambda: panel.live is None, timeout=10_000)
    assert panel.alarm_banner.kind == ""  # no stale alarm once the decoder stopped
