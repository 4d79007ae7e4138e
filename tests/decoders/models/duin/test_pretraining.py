"""Du-IN pretraining: per-subject layers, masking, both stages' losses, staged starts."""

import pytest
import torch

from decoders.datasets.errors import DataError
from decoders.models.duin.pretraining import DuINPretraining
from decoders.pretraining.checkpoint import load_pretrained, save_pretrained
from decoders.pretraining.corpus import scan_corpus
from decoders.pretraining.segments import plan_corpus


def tiny(**overrides):
    return DuINPretraining.configuration("tiny", **overrides)


@pytest.fixture(scope="module")
def plan(seeg_bids):
    """The corpus of the simulated data set: 2 subjects x (reading, rest)."""
    return plan_corpus(scan_corpus([seeg_bids]), DuINPretraining.segment_spec(tiny()))


@pytest.fixture
def batch():
    """A fixed batch: four random-walk segments, each four times, of both subjects' files."""
    generator = torch.Generator().manual_seed(0)
    prototypes = torch.randn(4, 96, 200, generator=generator).cumsum(-1)
    return prototypes.repeat(4, 1, 1), torch.ones(16), torch.tensor([0, 2, 1, 3] * 4)


def stage_one(plan, **overrides):
    torch.manual_seed(0)
    model = DuINPretraining.from_config(tiny(**overrides))
    model.attach(plan)
    return model


def train(model, batch, steps):
    data, weight, source = batch
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss, _ = model(data, weight, source)
        loss.backward()
        optimizer.step()
        for quantizer in model.quantizers():
            quantizer.update()
        history.append(float(loss.detach()))
    return history


def saved(model, folder):
    folder.mkdir(exist_ok=True)
    card = {"model": "duin", "size": "tiny", "config": model.config, **model.card()}
    save_pretrained(folder, model.state_dict(), card)
    return load_pretrained(folder)


def test_each_subject_gets_its_own_input_and_output_layer(plan, batch):
    model = stage_one(plan)
    assert set(model.subjects) == {"01", "02"}
    for subject, contacts in model.subjects.items():
        layer = model.subject_in.layers[f"s_{subject}"]
        assert layer.in_features == len(contacts) and layer.out_features == 8
        assert model.subject_out.layers[f"s_{subject}"].out_features == len(contacts)
    data, weight, source = batch
    loss, _ = model(data[:1], weight[:1], source[:1])
    loss.backward()
    seen = model._keys[int(model.file_subject[source[0]])]
    for key, layer in model.subject_in.layers.items():
        grad = layer.weight.grad
        assert grad is not None  # every layer takes part (data parallelism needs it)
        assert (grad.abs().sum() > 0) == (key == f"s_{seen}")


def test_the_vqvae_loss_decreases_on_a_fixed_batch(plan, batch):
    model = stage_one(plan, dead_threshold=0.5)
    losses = train(model, batch, 40)
    assert losses[-1] < 0.8 * losses[0]
    assert model.quantizers()[0].usage > 1 / 32


def test_masks_hide_half_the_tokens_of_every_item(plan):
    model = DuINPretraining.from_config(tiny(stage="mae"))
    mask = model._mask(torch.Size((64, 10)))
    assert mask.shape == (64, 10) and (mask.sum(1) == 5).all()
    assert len({tuple(row.tolist()) for row in mask}) > 20  # drawn per item


def test_the_mae_loss_decreases_on_a_fixed_batch_with_frozen_targets(plan, batch, tmp_path):
    first = stage_one(plan)
    train(first, batch, 10)
    model = DuINPretraining.from_config(tiny(stage="mae"))
    model.start_from(saved(first, tmp_path))
    model.attach(plan)
    assert torch.equal(
        model.encoder.stack.blocks[0].qkv.weight, first.encoder.stack.blocks[0].qkv.weight
    )
    targets_before = model.target.codes(batch[0], batch[2])
    losses = train(model, batch, 30)
    assert losses[-1] < 0.6 * losses[0] and model.quantizers() == []
    assert torch.equal(model.target.codes(batch[0], batch[2]), targets_before)
    assert all(not p.requires_grad for p in model.target.parameters())


def test_stage_two_refuses_what_is_not_a_stage_one_model(plan, tmp_path):
    first = stage_one(plan)
    stage_one_model = saved(first, tmp_path / "one")
    second = DuINPretraining.from_config(tiny(stage="mae"))
    second.start_from(stage_one_model)
    second.attach(plan)
    stage_two_model = saved(second, tmp_path / "two")
    with pytest.raises(DataError, match=r"is a stage-2 \(mae\) Du-IN model; stage mae starts"):
        DuINPretraining.from_config(tiny(stage="mae")).start_from(stage_two_model)
    with pytest.raises(DataError, match="stage vqvae starts from random weights"):
        DuINPretraining.from_config(tiny()).start_from(stage_one_model)
    with pytest.raises(DataError, match=r"architecture differs .*depth 1 \(here: 2\)"):
        DuINPretraining.from_config(tiny(stage="mae", depth=2)).start_from(stage_one_model)


def test_files_of_one_subject_with_other_contacts_are_refused(plan):
    from dataclasses import replace

    renamed = replace(plan.files[1].file, ch_names=("Z1", *plan.files[1].file.ch_names[1:]))
    files = [plan.files[0], replace(plan.files[1], file=renamed), *plan.files[2:]]
    model = DuINPretraining.from_config(tiny())
    with pytest.raises(DataError, match=r"subject 01 has other contacts here .*differing: A1, Z1"):
        model.attach(replace(plan, files=files))


def test_a_stage_one_encoder_of_other_layers_is_refused_with_the_way_out(plan, tmp_path):
    first = stage_one(plan)
    width = first.encoder.stack.blocks[0].norm1.weight.shape
    older = {**first.state_dict(), "encoder.stack.norm.weight": torch.ones(width)}
    card = {"model": "duin", "size": "tiny", "config": first.config, **first.card()}
    save_pretrained(tmp_path, older, card)
    model = DuINPretraining.from_config(tiny(stage="mae"))
    model.start_from(load_pretrained(tmp_path))
    with pytest.raises(
        DataError, match=r"only in the file: stack.norm.weight; missing: none.*pretrain it again"
    ):
        model.attach(plan)
