"""The duin decoder: fine-tuning per patient from pretrained stages, new patients, bad starts."""

import pytest

from decoders import registry
from decoders.datasets.errors import DataError
from decoders.datasets.ieeg import read_ieeg
from decoders.evaluation.protocols import validation_split
from decoders.pretraining.run import pretrain
from decoders.pretraining.trainer import PretrainSettings

SETTINGS = PretrainSettings(steps=2, global_batch=4, micro_batch=4, checkpoint_every=2)


@pytest.fixture(scope="module")
def stages(seeg_bids, tmp_path_factory):
    """Stage 1 then stage 2 pretrained on both simulated subjects."""
    one, two = tmp_path_factory.mktemp("vqvae"), tmp_path_factory.mktemp("mae")
    pretrain("duin", [seeg_bids], one, SETTINGS, size="tiny", progress=False)
    pretrain(
        "duin", [seeg_bids], two, SETTINGS, size="tiny", overrides={"stage": "mae"}, init=one,
        progress=False,
    )  # fmt: skip
    return one, two


def trials_of(seeg_bids, subject="01"):
    path = seeg_bids / f"sub-{subject}" / "ieeg" / f"sub-{subject}_task-reading_ieeg.vhdr"
    return read_ieeg(path).trials()


def duin(**options):
    return registry.create("duin", **{**registry.get("duin").tiny, **options})


def test_a_patient_of_the_pretraining_keeps_its_layer_columns(seeg_bids, stages):
    from decoders.pretraining.checkpoint import load_pretrained

    trials = trials_of(seeg_bids)
    fit, valid = validation_split(trials, 0.25, 0)
    decoder = duin(max_epochs=0).fit(fit, valid, init=stages[1])
    assert decoder.initialization_["subject_layer"] == "pretrained (subject 01)"
    assert decoder.initialization_["stage"] == "mae"
    pretrained = load_pretrained(stages[1])
    contacts = pretrained.card["subjects"]["01"]
    used = decoder.card_extra()["contacts_used"]
    columns = [contacts.index(name) for name in used]
    expected = pretrained.state["subject_in.layers.s_01.weight"][:, columns]
    assert decoder.module_.subject.weight.detach().allclose(expected)
    assert decoder.predict_proba(valid.data).shape == (valid.n_trials, 4)


def test_a_patient_unseen_in_pretraining_gets_a_new_layer(seeg_bids, stages):
    from dataclasses import replace

    trials = replace(trials_of(seeg_bids), name="sub-99_task-reading_ieeg.vhdr")
    fit, valid = validation_split(trials, 0.25, 0)
    decoder = duin(max_epochs=1).fit(fit, valid, init=stages[1])
    assert decoder.initialization_["subject"] == "99"
    assert decoder.initialization_["subject_layer"] == "new"
    assert decoder.initialization_["pretraining_subjects"] == ["01", "02"]


def test_a_patient_whose_contacts_changed_is_refused_with_the_way_out(seeg_bids, stages):
    trials = trials_of(seeg_bids)
    from dataclasses import replace

    fewer = replace(
        trials, data=trials.data[:, 1:], ch_names=trials.ch_names[1:], ch_types=trials.ch_types[1:]
    )
    fit, valid = validation_split(fewer, 0.25, 0)
    with pytest.raises(
        DataError,
        match=r"subject 01's contacts differ .*only in pretraining: A1; only here: none.*--set subject=new",
    ):
        duin().fit(fit, valid, init=stages[1])
    decoder = duin(subject="new", max_epochs=0).fit(fit, valid, init=stages[1])
    assert decoder.initialization_["subject_layer"] == "new"


def test_a_stage_one_model_where_stage_two_is_expected_is_refused(seeg_bids, stages):
    fit, valid = validation_split(trials_of(seeg_bids), 0.25, 0)
    with pytest.raises(
        DataError,
        match=r"stage-1 \(vqvae\) Du-IN model where stage 2 \(mae\) is expected: run stage 2 first",
    ):
        duin().fit(fit, valid, init=stages[0])
    decoder = duin(pretraining="vqvae", max_epochs=0).fit(fit, valid, init=stages[0])
    assert decoder.initialization_["stage"] == "vqvae"


def test_another_model_or_architecture_is_refused(seeg_bids, stages, eeg_corpus, tmp_path):
    fit, valid = validation_split(trials_of(seeg_bids), 0.25, 0)
    with pytest.raises(DataError, match=r"its architecture does not fit .*depth 1 \(asked: 2\)"):
        duin(architecture={"depth": 2}).fit(fit, valid, init=stages[1])
    pretrain("eegformer", [eeg_corpus], tmp_path, SETTINGS, size="tiny", progress=False)
    with pytest.raises(DataError, match="is a pretrained eegformer, not a duin"):
        duin().fit(fit, valid, init=tmp_path)


def test_subjects_at_other_rates_are_resampled_and_said(seeg_bids, tmp_path, capsys):
    import shutil

    import mne
    import mne_bids

    root = tmp_path / "bids"
    shutil.copytree(seeg_bids, root)
    rest = mne_bids.BIDSPath(
        subject="02", task="rest", datatype="ieeg", root=root, suffix="ieeg", extension=".vhdr"
    )
    raw = mne_bids.read_raw_bids(rest, verbose="error").load_data().resample(500.0, verbose="error")
    raw.set_annotations(mne.Annotations([], [], []))
    mne_bids.write_raw_bids(
        raw, rest, format="BrainVision", allow_preload=True, overwrite=True, verbose="error"
    )
    pretrain("duin", [root], tmp_path / "run", SETTINGS, size="tiny", progress=False)
    assert (
        "files sampled at 400, 500 Hz are resampled to the model's 200 Hz"
        in capsys.readouterr().out
    )


def test_an_encoder_pretrained_with_other_layers_is_refused_with_the_way_out(
    seeg_bids, stages, tmp_path
):
    import torch

    from decoders.pretraining.checkpoint import load_pretrained, save_pretrained

    pretrained = load_pretrained(stages[1])
    width = pretrained.state["encoder.stack.blocks.0.norm1.weight"].shape
    older = {**pretrained.state, "encoder.stack.norm.weight": torch.ones(width)}
    save_pretrained(tmp_path, older, pretrained.card)
    fit, valid = validation_split(trials_of(seeg_bids), 0.25, 0)
    with pytest.raises(
        DataError,
        match=r"encoder's weights do not fit .*only in the file: stack.norm.weight; "
        r"missing: none.*pretrain it again",
    ):
        duin().fit(fit, valid, init=tmp_path)
