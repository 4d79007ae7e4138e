"""MEG-GPT on the pretraining framework: both stages, checkpoints and cards, staged starts."""

import json

import numpy as np
import pytest
import torch

from decoders.datasets.errors import DataError
from decoders.models.meggpt.pretraining import MEGGPTPretraining, restore
from decoders.pretraining.checkpoint import load_pretrained
from decoders.pretraining.run import pretrain

from .conftest import PARCELS, SETTINGS


def test_both_stages_leave_a_checkpoint_and_a_card_with_their_channels(sensor_stages):
    one, two = sensor_stages
    first, second = load_pretrained(one), load_pretrained(two)
    assert first.config["stage"] == "tokeniser" and second.config["stage"] == "gpt"
    card = json.loads((two / "pretrained.json").read_text())
    assert card["model"] == "meg-gpt" and card["space"] == "sensors"
    assert card["channels"] == ["MEG 0113", "MEG 0112", "MEG 0111", "MEG 0122", "MEG 0123",
                                "MEG 0121", "MEG 0132", "MEG 0133"]  # fmt: skip
    assert card["tokeniser"]["sha256"] == first.sha256
    assert np.isfinite(card["final_losses"]["prediction_loss"])
    # stage 2 keeps stage 1's tokeniser frozen, and learns next-token prediction
    for key, value in first.state.items():
        if key.startswith("tokeniser."):
            assert torch.equal(second.state[key], value), key
    model = restore(second)
    assert model.gpt.channel.num_embeddings == 8 and not model.training


def test_parcels_are_fitted_on_the_corpus_and_travel_with_the_model(parcel_stages):
    pretrained = load_pretrained(parcel_stages[1])
    described = pretrained.card["parcellation"]
    assert described["parcels"] == ["P01", "P02", "P03", "P04"]
    assert "sensor-space" in described["kind"] and len(described["sensors"]) == 12
    model = restore(pretrained)
    weights = model.parcel_weights.numpy()
    assert weights.shape == (4, 12)
    for parcel, row in enumerate(weights):  # each parcel weighs its own region's sensors only
        outside = np.array(described["regions"]) != parcel
        assert np.all(row[outside] == 0) and np.any(row[~outside] != 0)
    assert np.allclose(np.linalg.norm(weights, axis=1), 1.0, atol=1e-5)


def test_the_next_token_loss_decreases_on_a_fixed_batch(sensor_stages):
    model = MEGGPTPretraining(**{**load_pretrained(sensor_stages[1]).config})
    model.channels = restore(load_pretrained(sensor_stages[1])).channels
    model.file_channels = torch.arange(8)[None]
    model.gpt.channel = torch.nn.Embedding(8, model.config["width"])
    model.tokeniser.load_state_dict(
        restore(load_pretrained(sensor_stages[0])).tokeniser.state_dict()
    )
    generator = torch.Generator().manual_seed(0)
    data = torch.randn(4, 8, 50, generator=generator).cumsum(-1)
    weight, source = torch.ones(4), torch.zeros(4, dtype=torch.long)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss, _ = model(data, weight, source)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.7 * losses[0]


def test_stage_two_starts_only_from_a_stage_one_model_with_its_tokeniser(
    meg_file, sensor_stages, tmp_path
):
    with pytest.raises(DataError, match="is a stage-2 \\(gpt\\) MEG-GPT model; stage gpt starts"):
        pretrain("meg-gpt", [meg_file], tmp_path / "a", SETTINGS, size="tiny",
                 overrides={"stage": "gpt"}, init=sensor_stages[1], progress=False)  # fmt: skip
    with pytest.raises(DataError, match="n_tokens 16 \\(here: 32\\)"):
        pretrain("meg-gpt", [meg_file], tmp_path / "b", SETTINGS, size="tiny",
                 overrides={"stage": "gpt", "n_tokens": 32}, init=sensor_stages[0], progress=False)  # fmt: skip
    with pytest.raises(DataError, match="--init is for stage gpt"):
        pretrain("meg-gpt", [meg_file], tmp_path / "c", SETTINGS, size="tiny",
                 init=sensor_stages[0], progress=False)  # fmt: skip


def test_settings_that_cannot_work_are_refused_together():
    with pytest.raises(DataError, match=r"unknown stage 'mae'.*unknown space 'source'"):
        MEGGPTPretraining.configuration("tiny", stage="mae", space="source")
    with pytest.raises(DataError, match="16 parcels need at least as many sensors"):
        MEGGPTPretraining.configuration("tiny", **{**PARCELS, "n_parcels": 16})


@pytest.mark.parametrize("unit", [1e-13, 1e-5, 1.0])
def test_segments_are_standardised_whatever_their_unit(sensor_stages, parcel_stages, unit):
    generator = torch.Generator().manual_seed(0)
    data = unit * torch.randn(2, 8, 50, generator=generator).cumsum(-1)
    data[1, 7] = 0.0  # a flat channel stays 0, marked absent
    model = restore(load_pretrained(sensor_stages[1]))
    model.file_channels = torch.arange(8)[None]
    signal, ids, present = model.inputs(data, torch.zeros(2, dtype=torch.long))
    assert torch.allclose(signal[present].std(-1), torch.ones(int(present.sum())), atol=1e-4)
    assert not bool(present[1, 7]) and bool(present[0].all())
    assert torch.equal(ids[0], torch.arange(8))
