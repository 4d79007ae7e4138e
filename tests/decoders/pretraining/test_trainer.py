import pytest
import torch

from decoders.datasets.errors import DataError
from decoders.models.eegformer.pretraining import EEGFormerPretraining
from decoders.pretraining.checkpoint import load_weights_only
from decoders.pretraining.distributed import World
from decoders.pretraining.run import pretrain
from decoders.pretraining.trainer import PretrainSettings


def test_the_loss_decreases_on_a_fixed_batch():
    torch.manual_seed(0)
    model = EEGFormerPretraining.from_config(EEGFormerPretraining.configuration("tiny"))
    time = torch.arange(500) / 250.0
    data = torch.sin(2 * torch.pi * torch.randint(4, 30, (32, 1)) * time) + 0.1 * torch.randn(
        32, 500
    )
    weight = torch.ones(32)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        optimizer.zero_grad()
        loss, _ = model(data, weight, torch.zeros(32, dtype=torch.long))
        loss.backward()
        optimizer.step()
        for quantizer in model.quantizers():
            quantizer.update()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]


def test_a_global_batch_that_does_not_split_is_refused():
    settings = PretrainSettings(steps=1, global_batch=24, micro_batch=16)
    with pytest.raises(DataError, match="does not split into micro-batches of 16 on 2 process"):
        settings.accumulation(World(rank=0, size=2))
    assert PretrainSettings(steps=1, global_batch=64, micro_batch=16).accumulation(World()) == 4


def test_settings_that_cannot_work_are_refused_by_name():
    with pytest.raises(DataError, match=r"segments of 0\.05 s .* shorter than one patch of 25"):
        EEGFormerPretraining.configuration("tiny", segment_s=0.05)
    with pytest.raises(DataError, match="has no setting layers"):
        EEGFormerPretraining.configuration("tiny", layers=3)
    with pytest.raises(DataError, match="unknown size 'huge'"):
        EEGFormerPretraining.configuration("huge")


def test_a_checkpoint_that_is_not_weights_only_is_refused(tmp_path):
    path = tmp_path / "state.pt"
    torch.save({"model": {}, "payload": World(rank=3)}, path)  # an object of a class
    with pytest.raises(DataError, match="not a weights-only file"):
        load_weights_only(path)


def test_a_folder_of_another_run_is_not_resumed(eeg_corpus, tmp_path):
    settings = PretrainSettings(steps=2, global_batch=8, micro_batch=8, checkpoint_every=1)
    pretrain("eegformer", [eeg_corpus], tmp_path, settings, size="tiny", progress=False, say=print)
    other = PretrainSettings(steps=2, global_batch=8, micro_batch=8, lr=1e-2)
    with pytest.raises(DataError, match="holds a pretraining run with other settings"):
        pretrain("eegformer", [eeg_corpus], tmp_path, other, size="tiny", progress=False)
