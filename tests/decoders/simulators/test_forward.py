import numpy as np

from decoders.simulators.forward import REFERENCE, head_model, lead_field
from decoders.simulators.montages import select_channels


def test_lead_field_is_computed_once_per_channel_set():
    names = select_channels(8)
    assert lead_field(names) is lead_field(tuple(names))
    field = lead_field(names)
    assert field.gain.shape == (8, len(head_model().grid), 3)
    assert np.isfinite(field.gain).all()


def test_radial_dipole_peaks_under_its_electrode():
    model = head_model()
    field = lead_field(select_channels(22))
    for electrode in ("C3", "Cz", "C4", "POz"):
        index = model.nearest(model.depth_below(electrode, 0.022)[None])
        radial = model.grid[index] - model.center
        radial /= np.linalg.norm(radial)
        pattern = field.pattern(index, radial)[:, 0]
        assert field.ch_names[np.argmax(np.abs(pattern))] == electrode


def test_signals_are_referenced_to_linked_mastoids():
    field = lead_field((*REFERENCE, "Cz"))
    assert np.allclose(field.gain[0] + field.gain[1], 0.0, atol=1e-9 * np.abs(field.gain).max())
    assert np.abs(field.gain[2]).max() > 0


def test_sources_lie_inside_the_brain():
    model = head_model()
    radius = np.linalg.norm(model.grid - model.center, axis=1)
    assert radius.max() < model.brain_radius < model.scalp_radius
    assert len(model.grid) > 1000
