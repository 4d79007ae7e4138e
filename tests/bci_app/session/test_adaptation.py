import numpy as np
import pytest

from acquisition.session import AcquisitionSession
from bci_app.models.registry import ModelRegistry
from bci_app.session.adaptation import OnlineAdaptation, adapts_online, feedback_epochs
from bci_app.session.calibration import CalibrationPlan, CueEvent, Phase
from bci_app.session.cues import CueOutlet

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(180)]

PLAN = CalibrationPlan(
    trials_per_class=8,
    fixation_s=0.5,
    cue_s=0.5,
    imagery_s=1.5,
    rest_s=(0.5, 0.5),
    tmin=0.5,
    tmax=1.5,
)
TINY_RLEEGNET = {"episodes": 2, "patience": 2, "conv_channels": 4, "hidden": 4, "lstm_steps": 4}


def test_which_decoders_adapt_online():
    assert adapts_online("rleegnet") and not adapts_online("csp-lda")


def test_feedback_trials_are_cut_after_each_cue_at_the_models_channels_and_rate(
    live_outlet, stream_name, model_files, tmp_path, wait_for
):
    from bci_app.session.models import read_card

    signal = live_outlet(stream_name, sfreq=256.0)  # the model takes 128 Hz: resampled
    registry = ModelRegistry(tmp_path)
    card = read_card(registry, registry.register(model_files["small"], "small"))
    cues = CueOutlet(f"{stream_name}-cues", f"{stream_name}-cues")
    plan = CalibrationPlan(classes=("move", "still"), trials_per_class=1, tmin=0.0, tmax=1.0)
    with AcquisitionSession() as session:
        inlet = session.open(name=stream_name, timeout=5.0)
        markers = session.open(source_id=f"{stream_name}-cues", timeout=5.0)
        wait_for(lambda: inlet.buffer.total > 64 and markers.status.value == "connected")
        epochs = feedback_epochs(inlet.buffer, markers.markers, card, plan)
        now = inlet.buffer.latest(n_times=1).timestamps[-1]
        for marker in ("fixation", "move", "imagery"):
            cues.push(CueEvent(now, Phase.CUE, None, marker))
        found = []
        wait_for(lambda: found.extend(epochs.read()) or found, timeout=10.0)
    (epoch,) = found
    assert epoch.marker.value == "move" and epoch.data.shape == (4, 128)
    assert signal.shape[1] == 8 and np.isfinite(epoch.data).all()
    cues.close()


@pytest.mark.slow
def test_rleegnet_adapts_from_feedback_and_each_update_is_a_new_version(tmp_path):
    from bci_app.session.simulated import simulated_participant
    from bci_app.session.training import train_calibration

    participant = simulated_participant(PLAN, extra_s=0.0, channels=8, sfreq=100.0)
    path = tmp_path / "calibration_raw.fif"
    participant.raw.save(path, verbose="error")
    result = train_calibration(
        path,
        PLAN,
        decoder="rleegnet",
        name="rl",
        out=tmp_path / "run",
        registry_dir=tmp_path / "registry",
        options=TINY_RLEEGNET,
    )
    assert result.adapts_online  # the run adapts it during feedback
    adaptation = OnlineAdaptation(result.folder, "rl", tmp_path / "registry")
    data = participant.raw.get_data()
    trials = participant.trials[:4]
    windows = np.stack(
        [
            data[:, round((t.cue + PLAN.tmin) * 100) : round((t.cue + PLAN.tmax) * 100)]
            for t in trials
        ]
    )
    outcome = adaptation.update(windows, [t.label for t in trials])
    assert outcome.n_trials == 4 and 0.0 <= outcome.accuracy_before <= 1.0
    assert outcome.drift <= 0.1 + 1e-6 and not outcome.refused
    assert outcome.record.ref == "rl:2" and adaptation.updates == 1
    assert ModelRegistry(tmp_path / "registry").get("rl").version == 2


def test_a_decoder_that_does_not_adapt_is_refused(tmp_path, write_toy_recording):
    from decoders.training.runner import TrainingJob, train
    from decoders.training.sources import DataRequest

    path = write_toy_recording(tmp_path / "toy_raw.fif", n_events=20)
    train(
        TrainingJob("csp-lda", DataRequest(str(path)), "kfold5", (0,), {"n_components": 2}),
        tmp_path / "run",
        progress=False,
    )
    with pytest.raises(ValueError, match="does not adapt online"):
        OnlineAdaptation(tmp_path / "run", "toy")
