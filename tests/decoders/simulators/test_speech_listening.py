import json

import numpy as np
import pytest

from decoders.simulators.registry import available_tasks, make_simulator
from decoders.simulators.speech_audio import passage, sentences

pytestmark = pytest.mark.slow

TINY = dict(n_subjects=2, n_blocks=2, passages_per_block=1, sentences_per_passage=2)


def test_espeak_speaks_distinct_sentences():
    rng = np.random.default_rng(0)
    texts = sentences(rng, 3)
    assert len(set(texts)) == 3 and all(text.startswith("The ") for text in texts)
    audio, sfreq = passage(texts[:2], rng)
    assert sfreq == 22050 and 3.0 < len(audio) / sfreq < 12.0
    assert 0.01 < np.abs(audio).max() <= 1.0  # real speech, not silence


def test_the_eeg_listening_simulator_writes_bids_that_reads_back_into_pairs(tmp_path):
    assert {"speech_meg", "speech_eeg"} <= set(available_tasks())
    simulator = make_simulator("speech_eeg", seed=0, channels=32, **TINY)
    root = simulator.write_bids(tmp_path / "bids")

    sidecar = json.loads((root / "stimuli" / "passage_001.json").read_text())
    assert sidecar["SamplingFrequency"] == 22050
    events = (root / "sub-01" / "eeg" / "sub-01_task-listening_run-1_events.tsv").read_text()
    assert "stim_file" in events and "passage_001.wav" in events
    from decoders.speech.bids import read_listening_bids
    from decoders.speech.pairing import PairingSettings

    trials = read_listening_bids(root, PairingSettings(sound_channel="AUDIO"))
    assert trials.ch_names[:2] == ("Fp1", "Fz") and len(trials.ch_names) == 32
    assert set(trials.groups) == {0, 1} and set(trials.blocks) == {0, 1}
    assert trials.classes == simulator.classes
    assert simulator.subject_snr_db(1) == simulator.subject_snr_db(0) - 2
    # the auditory response is there: the signal follows the envelope heard (lag 150 ms)
    envelope = trials.features.mean(axis=1)  # mean log-mel per frame
    brain = trials.data.reshape(trials.n_trials, 32, -1, 6).mean(axis=3)  # 20 Hz frames
    raw = simulator.raw(duration_s=5.0, subject=1)
    assert raw.times[-1] == pytest.approx(5.0, abs=0.01) and "AUDIO" in raw.ch_names
    assert "SNR" in raw.info["description"] and brain.shape[2] == envelope.shape[1]


def test_the_meg_simulator_uses_the_306_sensors_of_the_fetched_recording(real_data, tmp_path):
    simulator = make_simulator("speech_meg", seed=1, **{**TINY, "n_subjects": 1, "n_blocks": 1})
    raw = simulator.raw(duration_s=4.0)
    types = raw.get_channel_types()
    assert types.count("grad") == 204 and types.count("mag") == 102 and "AUDIO" in raw.ch_names
    assert raw.info["dev_head_t"] is not None
