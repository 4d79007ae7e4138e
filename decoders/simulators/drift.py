"""Simulated motor imagery over sessions that drift apart, and within a session.

Model
-----
The subjects of :mod:`.motor_imagery`, recorded in ``n_sessions`` sessions. Session 0 is
the calibration; every later session differs from it by

- an electrode shift: the cap put on turned about the head's centre by angles drawn with
  sd ``cap_shift_deg`` per axis (4 degrees move a central electrode by about 6 mm); the
  signals are the field of the same sources at the displaced electrodes, obtained from the
  calibration positions by the minimum-norm source estimate on the cortical grid mapped
  through the displaced lead field;
- a gain change per channel (electrode impedance): log-normal with sd ``gain_sd``;
- a changed spatial pattern: the sensorimotor generators moved (sd ``position_sd_m`` per
  axis) and turned (orientation jitter sd ``pattern_sd``);
- changed rhythm power: each generator's resting mu/beta power scaled log-normally (sd
  ``power_sd``) and each class's desynchronisation depth by ``exp(N(0, erd_sd))``.

Within every session (the calibration's too), channel gains drift linearly from 1 to a
log-normal end value (sd ``within_gain_sd``, drying gel) and the background grows by
``within_background`` by the session's end (fatigue). ``drift`` scales every change: 0 gives
sessions that differ only in their noise and trial order (the control without drift).

The SNR stated by the base simulator holds for session 0 at its start; the drifted sessions'
measured SNR (:meth:`~.recording.SimulatedRecording.snr_db`) differs by their changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from .errors import SimulatorError
from .forward import head_model, lead_field, unit_vectors
from .motor_imagery import MotorImagerySimulator, _SubjectModel
from .paradigm import schedule_duration, schedule_labels
from .recording import SimulatedRecording
from .registry import register

TASK = "motor_imagery_drift"
_SESSION_STREAM = 10_000  # random streams of sessions, apart from the base simulator's runs


@register(TASK, "motor imagery over sessions that drift (cap shift, gains, patterns, power)")
class DriftingMotorImagerySimulator(MotorImagerySimulator):
    """Motor imagery of several subjects over drifting sessions (see the module docstring).

    Parameters
    ----------
    seed : int
        Same seed and options give identical output.
    n_sessions : int
        Sessions per subject (session 0 is the calibration; the trial set's ``blocks``); each
        holds ``n_runs`` runs of ``trials_per_class`` trials per class.
    drift : float
        Scale of every between- and within-session change (0: none).
    cap_shift_deg, gain_sd, position_sd_m, pattern_sd, power_sd, erd_sd, within_gain_sd,
    within_background : float
        Sizes of the changes (see the module docstring).
    **options
        Options of :class:`~.motor_imagery.MotorImageryOptions`.
    """

    def __init__(
        self,
        seed: int = 0,
        n_sessions: int = 3,
        drift: float = 1.0,
        cap_shift_deg: float = 4.0,
        gain_sd: float = 0.2,
        position_sd_m: float = 0.004,
        pattern_sd: float = 0.3,
        power_sd: float = 0.3,
        erd_sd: float = 0.2,
        within_gain_sd: float = 0.15,
        within_background: float = 0.3,
        **options: object,
    ) -> None:
        if n_sessions < 1 or drift < 0:
            raise SimulatorError(TASK, "n_sessions must be at least 1 and drift not negative")
        super().__init__(seed=seed, **options)
        self.n_sessions = n_sessions
        self.drift = float(drift)
        self.sizes = {
            "cap_shift_deg": cap_shift_deg,
            "gain_sd": gain_sd,
            "position_sd_m": position_sd_m,
            "pattern_sd": pattern_sd,
            "power_sd": power_sd,
            "erd_sd": erd_sd,
            "within_gain_sd": within_gain_sd,
            "within_background": within_background,
        }
        self._sessions: dict[tuple[int, int], tuple[_SubjectModel, np.ndarray, np.ndarray]] = {}

    def session_recording(
        self, subject: int = 0, session: int = 0, run: int = 0
    ) -> SimulatedRecording:
        """Return run ``run`` of ``session`` of ``subject``, with its components."""
        rng = self._rng(subject, _SESSION_STREAM + session * 100 + run)
        per_class = np.repeat(np.arange(len(self.classes)), self.options.trials_per_class)
        schedule = schedule_labels(rng, rng.permutation(per_class), self.options.timing)
        return self._drifting(subject, session, schedule, rng, f"session {session} run {run}")

    task = TASK

    def _recordings(self) -> Iterator[tuple[int, int, SimulatedRecording]]:
        """Yield (subject, session, recording): every subject's sessions in recorded order."""
        for subject in range(self.options.n_subjects):
            for session in range(self.n_sessions):
                for run in range(self.options.n_runs):
                    yield subject, session, self.session_recording(subject, session, run)

    def live_recording(self, duration_s: float = 60.0, subject: int = 0) -> SimulatedRecording:
        """Return a continuous recording of a session after the last one, for live use."""
        if duration_s <= 0:
            raise SimulatorError(TASK, f"duration_s must be positive, got {duration_s}")
        rng = self._rng(subject, _SESSION_STREAM - 1)
        schedule = schedule_duration(rng, len(self.classes), self.options.timing, duration_s)
        return self._drifting(subject, self.n_sessions, schedule, rng, "live")

    def _drifting(self, subject, session, schedule, rng, label) -> SimulatedRecording:
        """Simulate ``schedule`` in ``session``, then apply its shift, gains and ramps."""
        model, mapping, gains = self._session(subject, session)
        recording = self._simulate(subject, schedule, rng, label, model)
        n_times = recording.task_signal.shape[1]
        ramp = np.linspace(0.0, 1.0, n_times)
        end_gain = np.exp(rng.normal(0.0, self.sizes["within_gain_sd"] * self.drift, len(gains)))
        gain = gains[:, None] * (1.0 + (end_gain - 1.0)[:, None] * ramp[None, :])
        fatigue = 1.0 + self.sizes["within_background"] * self.drift * ramp
        return replace(
            recording,
            task_signal=gain * (mapping @ recording.task_signal),
            background=gain * (mapping @ (recording.background * fatigue)),
            artifacts=gain * (mapping @ recording.artifacts),
            description=f"{recording.description}; drift x{self.drift:g}",
        )

    def _session(self, subject: int, session: int) -> tuple[_SubjectModel, np.ndarray, np.ndarray]:
        """Return the subject's model, electrode mapping and gains in ``session`` (cached)."""
        key = (subject, session)
        if key in self._sessions:
            return self._sessions[key]
        base = self._model(subject)
        n_channels = len(self.ch_names)
        if session == 0 or self.drift == 0:
            result = (base, np.eye(n_channels), np.ones(n_channels))
            self._sessions[key] = result
            return result
        rng = self._rng(subject, _SESSION_STREAM + session * 100 + 99)
        sizes, scale = self.sizes, self.drift
        truth = base.truth
        head = head_model()
        grid = head.nearest(
            truth.source_pos
            + rng.normal(0.0, sizes["position_sd_m"] * scale, truth.source_pos.shape)
        )
        orientation = unit_vectors(
            truth.source_ori + rng.normal(0.0, sizes["pattern_sd"] * scale, truth.source_ori.shape)
        )
        power = np.exp(rng.normal(0.0, sizes["power_sd"] * scale, len(truth.source_names)))
        changes = {
            name: {
                source: float(max(change * np.exp(rng.normal(0.0, sizes["erd_sd"] * scale)), -0.95))
                for source, change in sources.items()
            }
            for name, sources in truth.power_change.items()
        }
        model = replace(
            base,
            truth=replace(
                truth, source_pos=head.grid[grid], source_ori=orientation, power_change=changes
            ),
            rhythm_patterns=lead_field(self.ch_names).pattern(grid, orientation),
            rhythm_moment=base.rhythm_moment * np.sqrt(power),
        )
        angles = tuple(float(a) for a in rng.normal(0.0, sizes["cap_shift_deg"] * scale, 3))
        gains = np.exp(rng.normal(0.0, sizes["gain_sd"] * scale, n_channels))
        result = (model, _shift_mapping(self.ch_names, angles), gains)
        self._sessions[key] = result
        return result


def _shift_mapping(ch_names: tuple[str, ...], angles: tuple[float, float, float]) -> np.ndarray:
    """Return the map (n_channels, n_channels) from the calibration field to the displaced one.

    The field at the displaced electrodes is that of the minimum-norm estimate on the source
    grid of the field at the calibration positions.
    """
    before = lead_field(ch_names).gain.reshape(len(ch_names), -1)
    after = lead_field(ch_names, angles).gain.reshape(len(ch_names), -1)
    return after @ np.linalg.pinv(before, rcond=1e-6)
