import numpy as np
import pytest
import torch

from decoders.models.speech.layout import layout_2d, sensor_positions
from decoders.models.speech.losses import clip_loss, regression_loss
from decoders.models.speech.network import BrainModule, deployed

INVALID = -0.1  # the position marking a padded channel


def module(**options):
    torch.manual_seed(0)
    settings = dict(n_features=3, pool=4, n_virtual=6, fourier_dim=32, hidden=8, n_blocks=2)
    return BrainModule(6, 16, 2, **{**settings, **options}).eval()


def test_two_montages_in_one_batch_each_attend_over_their_own_sensors():
    net = module()
    rng = np.random.default_rng(0)
    six = torch.as_tensor(rng.uniform(0.1, 0.9, (6, 2)), dtype=torch.float32)
    four = torch.full((6, 2), INVALID)
    four[:4] = torch.as_tensor(rng.uniform(0.1, 0.9, (4, 2)), dtype=torch.float32)
    x = torch.randn(4, 6, 16)
    positions = torch.stack([six, four, six, four])
    subjects = torch.tensor([0, 1, 2, 0])

    out = net(x, subjects, positions)

    # each window alone, with its own montage, gives the same output
    for index in range(4):
        alone = net(x[index : index + 1], subjects[index : index + 1], positions[index : index + 1])
        assert torch.allclose(out[index], alone[0], atol=1e-5)
    # the padded channels of the 4-sensor montage carry no weight
    changed = x.clone()
    changed[:, 4:] = 1e3
    after = net(changed, subjects, positions)
    assert torch.allclose(after[1], out[1], atol=1e-5) and torch.allclose(
        after[3], out[3], atol=1e-5
    )
    assert not torch.allclose(after[0], out[0])
    mixing = net.spatial.mixing(torch.stack([six, four]))
    assert torch.allclose(mixing.sum(-1), torch.ones(2, 6)) and torch.all(mixing[1, :, 4:] == 0)


def test_spatial_dropout_bans_sensors_near_a_random_point_only_in_training():
    net = module(dropout_radius=2.0)  # a radius covering the square bans every sensor
    net.spatial.positions.copy_(torch.rand(6, 2))
    x = torch.randn(2, 6, 16)
    net.train()
    assert torch.all(net.spatial(x) == 0)
    net.eval()
    assert torch.any(net.spatial(x) != 0)


def test_the_deployed_rewrite_is_the_module_for_its_montage_and_subject():
    net = module()
    net.spatial.positions.copy_(torch.rand(6, 2))
    net.default_subject.fill_(1)
    x = torch.randn(3, 6, 16)
    with torch.no_grad():
        expected = net(x, torch.ones(3, dtype=torch.long))
        assert torch.allclose(net(x), expected, atol=1e-6)
        assert torch.allclose(deployed(net)(x), expected, atol=1e-5)
    assert net(x).shape == (3, 3 * 4)


def test_clip_loss_matches_a_hand_computed_case():
    estimates = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    targets = torch.tensor([[3.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # unit norm after scaling
    keys = torch.tensor([0, 1, 2])
    # scores = estimates @ unit targets: [[1, 0, .7071], [0, 2, 1.4142], [1, 1, 1.4142]]
    s = 2**-0.5
    expected = np.mean(
        [
            -np.log(np.exp(1) / (np.exp(1) + np.exp(0) + np.exp(s))),
            -np.log(np.exp(2) / (np.exp(0) + np.exp(2) + np.exp(2 * s))),
            -np.log(np.exp(2 * s) / (np.exp(1) + np.exp(1) + np.exp(2 * s))),
        ]
    )
    assert float(clip_loss(estimates, targets, keys)) == pytest.approx(expected, rel=1e-6)
    # windows 0 and 2 hear the same segment: neither counts the other as a negative
    repeated = torch.tensor([0, 1, 0])
    expected = np.mean(
        [
            -np.log(np.exp(1) / (np.exp(1) + np.exp(0))),
            -np.log(np.exp(2) / (np.exp(0) + np.exp(2) + np.exp(2 * s))),
            -np.log(np.exp(2 * s) / (np.exp(1) + np.exp(2 * s))),
        ]
    )
    assert float(clip_loss(estimates, targets, repeated)) == pytest.approx(expected, rel=1e-6)


def test_regression_loss_is_the_mse_to_unit_variance_targets():
    targets = torch.tensor([[3.0, 4.0]])  # unit norm (0.6, 0.8), x sqrt(2)
    estimates = torch.tensor([[0.6, 0.8]]) * 2**0.5
    assert float(regression_loss(estimates, targets, torch.tensor([0]))) == pytest.approx(
        0.0, abs=1e-7
    )


def test_colocated_sensors_are_spread_and_the_layout_fills_the_unit_square():
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(20, 3))
    directions[:, 2] = np.abs(directions[:, 2])
    points = 0.09 * directions / np.linalg.norm(directions, axis=1, keepdims=True)
    points = np.vstack([points, points[:3]])  # three sensors sharing a location with others
    layout = layout_2d(points)
    assert layout.shape == (23, 2) and layout.min() >= 0 and layout.max() <= 1
    assert len(np.unique(np.round(layout, 4), axis=0)) == 23


def test_missing_positions_name_the_montage_option():
    with pytest.raises(
        ValueError, match=r"no sensor position for 2 of 3 channels.*montage=standard_1005"
    ):
        sensor_positions(["Cz", "A", "B"], {"Cz": np.zeros(3)}, None, "toy")
    positions = sensor_positions(["Cz", "Pz"], None, "standard_1005", "toy")
    assert positions.shape == (2, 3)
    with pytest.raises(
        ValueError, match="the montage standard_1005 gives no sensor position for 1"
    ):
        sensor_positions(["Cz", "C0"], None, "standard_1005", "toy")
