"""Every registered decoder, present and future, exports to ONNX with parity: no skip list.

A decoder whose entry records an export failure (braindecode models torch cannot export, or
whose graph fails in ONNX Runtime) must still fail, for the recorded reason: the table of
those failures (README, ``bci-app decoders --all``) is checked here, so a fix upstream or a
new break fails the test.
"""

import numpy as np
import pytest

from bci_app.models.format import ModelCard, live_session, read_metadata
from decoders import registry
from decoders.export.onnx_export import export_decoder
from decoders.export.parity import PARITY_TOLERANCE, compare
from decoders.models.braindecode_zoo.survey import export_outcome, same_reason
from decoders.preprocessing import apply_to_trials


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(registry.REGISTRY))
def test_registered_decoder_exports_with_parity(name, toy_split, tmp_path):
    entry = registry.get(name)
    train, valid = toy_split
    decoder = entry.create(seed=0, **entry.tiny).fit(train, valid)
    if not entry.exports:
        outcome = export_outcome(decoder, tmp_path)
        assert outcome.status == "does not export", f"{name} now exports: regenerate the table"
        assert same_reason(entry.export_failure, outcome.reason), outcome.reason
        return

    # braindecode models: the inputs the table was made with (a fresh draw for the others)
    seed = 0 if entry.family == "braindecode" else None
    report = export_decoder(decoder, tmp_path / f"{name}.onnx", seed=seed)

    assert report.parity.passed and report.parity.max_relative_error <= PARITY_TOLERANCE
    assert report.parity.batch_sizes == (8, 1)
    assert report.parity.logits_checked == (decoder.output_spec_.kind == "probabilities")
    # Beyond random noise: the trials themselves, preprocessed as the live path does.
    spec = decoder.input_spec_
    inputs = apply_to_trials(
        spec.preprocessing, valid.data, spec.sfreq, spec.ch_names, spec.ch_types
    ).astype(np.float32)
    session = live_session(report.path)
    onnx_out = session.run(None, {"window": inputs})[0]
    relative, _ = compare(onnx_out, decoder.predict_proba(valid.data))
    assert relative <= PARITY_TOLERANCE
    # The live path reads the card back without torch.
    card = ModelCard.from_metadata(read_metadata(str(report.path)), str(report.path))
    assert card.decoder == decoder.name and card.ch_names == spec.ch_names
    assert (card.sfreq, card.n_times, card.hop_s) == (spec.sfreq, spec.n_times, spec.hop_s)
    assert card.output_names == decoder.output_spec_.names
    assert card.pipeline == [dict(step) for step in spec.preprocessing]
    if decoder.streaming_module() is not None:
        assert report.step_path is not None and report.step_path.is_file()
        assert report.step_parity is not None and report.step_parity.passed
    else:
        assert report.step_path is None


@pytest.mark.parametrize("name", ["eegformer", "bandpower-lr", "duin", "meg-gpt"])
def test_decoders_taking_spectra_or_scales_export_meg_in_tesla(name, toy_split, tmp_path):
    """MEG in tesla (sd near 1e-13) lies far below the epsilons of volt-sized code: a decoder
    that adds one to a scale or a power sees constant features, which near-ties turn into
    an export that ONNX Runtime cannot match."""
    from dataclasses import replace

    train, valid = (replace(t, data=t.data * 1e-8, ch_types=("mag",) * t.n_channels)
                    for t in toy_split)  # fmt: skip
    entry = registry.get(name)
    decoder = entry.create(seed=0, **entry.tiny).fit(train, valid)

    report = export_decoder(decoder, tmp_path / f"{name}.onnx")

    assert report.parity.passed
