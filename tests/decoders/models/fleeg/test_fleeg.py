import numpy as np
import pytest
import torch

from decoders.contract import InputSpec, OutputSpec
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.registry import create
from decoders.split import shared_keys

OUTPUT = OutputSpec("probabilities", ("left", "right"))


def spec(n_channels: int, sfreq: float, window_s: float = 2.0, kind: str = "eeg") -> InputSpec:
    names = tuple(f"E{i}" for i in range(n_channels))
    return InputSpec(names, (kind,) * n_channels, sfreq, round(window_s * sfreq), 0.1)


@pytest.mark.parametrize(
    ("n_channels", "sfreq"), [(8, 250.0), (22, 500.0), (64, 1000.0), (3, 100.0)]
)
def test_every_montage_and_rate_feeds_the_same_shared_trunk(n_channels, sfreq):
    decoder = create("fleeg-convnet")
    reference = decoder.build(spec(8, 250.0), OUTPUT).state_dict()
    module = decoder.build(spec(n_channels, sfreq), OUTPUT).eval()
    state = module.state_dict()
    shared = shared_keys(state, personalised=True)
    assert shared and all(key.startswith("shared.") for key in shared)
    assert all(state[key].shape == reference[key].shape for key in shared)
    assert state["local.spatial.weight"].shape[1] == n_channels
    window = torch.randn(3, n_channels, round(2.0 * sfreq)) * 1e-5
    features = module.local(window, module.shared.bands)
    assert features.shape == (3, 2 * 8 * 4, 50)  # power and mean of 8 filters x 4 bands, 25 Hz
    assert module(window).shape == (3, 2)


def test_the_head_sees_the_window_mean_or_every_frame():
    input_spec = spec(8, 250.0)
    mean = create("fleeg-convnet").build(input_spec, OUTPUT)
    frames = create("fleeg-convnet", head="frames").build(input_spec, OUTPUT)
    assert mean.shared.trunk.head.in_features == 32
    assert frames.shared.trunk.head.in_features == 32 * 12  # 50 frames halved by two blocks
    window = torch.randn(2, 8, 500) * 1e-5
    assert frames.eval()(window).shape == (2, 2)


@pytest.mark.parametrize("sfreq", [100.0, 250.0, 1000.0])
def test_the_shared_band_filters_pass_their_band_at_every_rate(sfreq):
    from decoders.models.fleeg.networks import BandFilters, SiteFrontEnd

    bands = BandFilters(4)
    front = SiteFrontEnd(("Cz",), ("eeg",), 0, sfreq, int(2 * sfreq), 1, 4, 0.5, 25.0)
    with torch.no_grad():
        kernels = bands.kernels(front.times, front.window, front.nyquist).numpy()
        low, high = bands.low_hz.numpy(), (bands.low_hz + bands.width_hz).numpy()
    spectrum = np.abs(np.fft.rfft(kernels, n=8192, axis=1))
    peaks = np.fft.rfftfreq(8192, 1 / (2 * front.nyquist))[spectrum.argmax(axis=1)]
    assert np.all(peaks >= low - 1.5) and np.all(peaks <= high + 1.5)


def test_fedavg_shares_everything_and_the_state_is_parameters_only():
    module = create("fleeg-convnet").build(spec(8, 250.0), OUTPUT)
    state = module.state_dict()
    assert shared_keys(state, personalised=False) == list(state)
    assert set(state) == {name for name, _ in module.named_parameters()}


@pytest.mark.parametrize(
    ("input_spec", "message"),
    [
        (spec(0, 250.0), "no usable channels"),
        (spec(4, 250.0, kind="stim"), "carry no brain signal"),
        (spec(4, 80.0), "needs at least 100 Hz"),
        (spec(4, 250.0, window_s=0.1), "needs 4"),
    ],
)
def test_inputs_the_network_cannot_serve_are_named(input_spec, message):
    with pytest.raises(DataError, match=message) as error:
        create("fleeg-convnet").check_input(input_spec, "site.toml")
    assert "site.toml" in str(error.value)


def test_it_fits_and_exports_like_any_decoder(tmp_path):
    from decoders.export.onnx_export import export_decoder

    rng = np.random.default_rng(0)
    labels = np.arange(40) % 2
    data = rng.standard_normal((40, 4, 200)) * 1e-5
    data[labels == 1, 0] *= 3
    trials = TrialSet(
        data, labels, ("left", "right"), 100.0, ("C3", "Cz", "C4", "Pz"), ("eeg",) * 4, "toy"
    )
    decoder = create("fleeg-convnet", n_spatial=4, filters=[8], max_epochs=30)
    decoder.fit(trials.subset(slice(0, 30)), trials.subset(slice(30, 40)))
    assert (decoder.predict_proba(data[:30]).argmax(1) == labels[:30]).mean() > 0.8
    report = export_decoder(decoder, tmp_path / "fleeg.onnx")
    assert report.path.is_file()


def test_sites_sharing_channels_start_with_the_same_spatial_weights_on_them():
    small = create("fleeg-convnet", seed=3).build(spec(8, 250.0), OUTPUT)
    names = (*[f"E{i}" for i in range(8)], "X1", "X2")
    other = create("fleeg-convnet", seed=3).build(
        InputSpec(names, ("eeg",) * 10, 500.0, 1000, 0.1), OUTPUT
    )
    a = small.local.spatial.weight[:, :, 0] * 8**0.5
    b = other.local.spatial.weight[:, :8, 0] * 10**0.5
    torch.testing.assert_close(a, b)
    reseeded = create("fleeg-convnet", seed=4).build(spec(8, 250.0), OUTPUT)
    assert not torch.allclose(reseeded.local.spatial.weight, small.local.spatial.weight)


def test_anchored_filters_start_alike_at_every_site_whatever_its_other_channels():
    anchors = ["C3", "Cz", "C4"]
    narrow = ("C3", "Cz", "C4", "Pz")
    wide = ("Fp1", "C4", "F3", "Cz", "O1", "C3", "P4", "T7")
    weights = []
    for names in (narrow, wide):
        module = create("fleeg-convnet", seed=2, n_spatial=4, anchor_channels=anchors).build(
            InputSpec(names, ("eeg",) * len(names), 250.0, 500, 0.1), OUTPUT
        )
        weight = module.local.spatial.weight[:, :, 0]
        others = [i for i, name in enumerate(names) if name not in anchors]
        assert torch.count_nonzero(weight[:, others]) == 0  # other channels join by training
        weights.append(weight[:, [names.index(name) for name in anchors]])
    torch.testing.assert_close(weights[0][:3], torch.eye(3))  # filter k on anchor k alone
    torch.testing.assert_close(weights[0], weights[1])
    assert torch.count_nonzero(weights[0][3]) == 3  # the free filter mixes the anchors


def test_a_site_holding_no_anchor_keeps_name_keyed_mixtures():
    from decoders.models.fleeg.networks import anchored_weights, name_keyed_weights

    names = ("C3", "C4", "Pz")
    torch.testing.assert_close(
        anchored_weights(names, 3, 5, ("Oz", "Fz")), name_keyed_weights(names, 3, 5)
    )
    partial = anchored_weights(names, 3, 5, ("Oz", "C4"))
    torch.testing.assert_close(partial[1], torch.tensor([0.0, 1.0, 0.0]))
    torch.testing.assert_close(partial[0], name_keyed_weights(("C4",), 3, 5)[0, 0] * partial[1])


@pytest.mark.parametrize("anchors", [["C3", "C4", "Cz"], ["C3", "C3"]])
def test_more_anchors_than_filters_or_repeated_anchors_are_refused(anchors):
    with pytest.raises(ValueError, match="anchor_channels"):
        create("fleeg-convnet", n_spatial=2, anchor_channels=anchors)
