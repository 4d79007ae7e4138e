import numpy as np
import pytest

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(120)]


def _shown(window, qtbot, name):
    viewer = window.viewer
    qtbot.waitUntil(lambda: viewer.inlet is not None and viewer.inlet.name == name, timeout=10_000)
    qtbot.waitUntil(
        lambda: viewer.traces.frame is not None and viewer.traces.frame.times.size > 0,
        timeout=10_000,
    )
    return viewer


def test_traces_update_as_the_stream_plays(window, qtbot, play, unique):
    play(unique)
    viewer = _shown(window, qtbot, unique)
    first = viewer.traces.frame.drawn
    qtbot.waitUntil(lambda: viewer.traces.frame.drawn > first + 64, timeout=10_000)
    frame, rows = viewer.traces.frame, viewer.traces.rows
    assert rows.shape == (8, frame.times.size) and np.isfinite(rows).all()
    assert -0.1 < frame.times[-1] <= 0
    (curve,) = [c for c in viewer.traces.curves.values() if c.isVisible()]  # one colour
    x, y = curve.getData()
    assert x.size == 8 * frame.times.size
    np.testing.assert_allclose(y[: frame.times.size], rows[0])
    assert abs(np.median(rows[5]) + 5) < 0.5  # row 5 sits one row below row 4
    assert viewer.traces.getAxis("left")._tickLevels[0][0][1] == "C0"
    qtbot.waitUntil(lambda: bool(viewer.traces.stats.summary()), timeout=5_000)
    summary = viewer.traces.stats.summary()
    assert summary["lag_p50_ms"] < 1000
    qtbot.waitUntil(lambda: f"{unique}: 8 ch @ 128 Hz, connected" in viewer.status.text())


def test_paging_selection_and_zoom(window, qtbot, play, unique):
    play(unique)
    viewer = _shown(window, qtbot, unique)
    viewer.page_size.setValue(3)
    assert viewer.page_label.text() == "page 1/3"
    viewer.set_page(1)
    qtbot.waitUntil(lambda: viewer.traces.frame.channels == (3, 4, 5), timeout=5_000)
    viewer.set_page(5)  # clamped to the last page
    qtbot.waitUntil(lambda: viewer.traces.frame.channels == (6, 7), timeout=5_000)
    viewer.channels.set_shown({"C1", "C6"})
    qtbot.waitUntil(lambda: viewer.traces.frame.channels == (1, 6), timeout=5_000)
    spans = viewer.spans.copy()
    viewer.zoom_in.click()
    np.testing.assert_allclose(viewer.spans, spans / 1.5)
    viewer.channels.set_gain("C6", 4.0)
    assert viewer.spans[1] == spans[1] / 1.5 / 4.0
    viewer.auto_scale()
    assert viewer._zoom == 1.0 and set(viewer._auto_spans) == {"C1", "C6"}


def test_display_filters_change_the_view_not_the_stream(window, qtbot, play, make_raw, unique):
    raw = make_raw(sfreq=250.0)
    inlet = play(unique, raw)
    viewer = _shown(window, qtbot, unique)
    viewer.bandpass.setChecked(True)
    viewer.l_freq.setValue(8.0)
    viewer.h_freq.setValue(12.0)
    viewer.notch_box.setCurrentIndex(1)
    viewer.reference_box.setCurrentIndex(1)
    settings = viewer.feed.settings
    assert settings.bandpass == (8.0, 12.0) and settings.notch == 50.0
    assert settings.reference == "car"
    qtbot.waitUntil(lambda: inlet.buffer.total > 500, timeout=10_000)
    chunk = inlet.buffer.read(inlet.buffer.oldest, inlet.buffer.total)
    values = raw.get_data().astype(np.float32)
    start = int(np.flatnonzero((values == chunk.data[:, :1]).all(axis=0))[0])
    np.testing.assert_array_equal(chunk.data, values[:, start : start + chunk.n_times])
    qtbot.waitUntil(lambda: viewer.traces.frame.problem is None, timeout=5_000)
    assert window.settings.get("viewer/l_freq") == 8.0


def test_markers_and_bad_channels_are_drawn(window, qtbot, play, unique):
    play(unique)
    viewer = _shown(window, qtbot, unique)
    qtbot.waitUntil(
        lambda: any(
            line.isVisible() and line.label.format == "mark" for line in viewer.traces.marker_lines
        ),
        timeout=10_000,
    )
    viewer.channels.set_bad("C2", True)
    assert window.controller.bad_channels[unique] == {"C2"}
    assert viewer._colour("C2", "eeg") == window.theme.plot_foreground
    window.controller.marker("operator note")
    qtbot.waitUntil(
        lambda: any(line.label.format == "operator note" for line in viewer.traces.marker_lines),
        timeout=5_000,
    )
    item = viewer.channels.item(2)
    assert item.font().strikeOut() and "marked bad" in item.toolTip()


def test_quality_flags_show_per_channel(window, qtbot, play, make_raw, unique):
    play(unique, make_raw(flat=("C5",)))
    viewer = _shown(window, qtbot, unique)
    qtbot.waitUntil(lambda: "C5" in viewer.channels.flagged, timeout=10_000)
    assert viewer.channels.flagged["C5"] == ["flat"]
    assert viewer.channels.item(5).foreground().color().name() == window.theme.bad
    assert viewer._colour("C5", "eeg") == window.theme.bad


def test_overview_and_spectrum_views(window, qtbot, play, unique):
    play(unique)
    viewer = _shown(window, qtbot, unique)
    viewer.mode_box.setCurrentIndex(1)
    qtbot.waitUntil(lambda: viewer.overview.image.image is not None, timeout=10_000)
    assert viewer.overview.image.image.shape[0] == 8
    viewer.mode_box.setCurrentIndex(2)
    qtbot.waitUntil(lambda: len(viewer.spectrum.curves) == 8, timeout=10_000)
    freqs, psd = viewer.spectrum.curves[0].getOriginalDataset()
    assert freqs.max() <= 64.0 and (psd > 0).all()
