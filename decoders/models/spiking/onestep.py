"""The ``spiking-lif-1step`` decoder: a LIF network that answers in one time step.

After IIR-SNN's gradual time-step reduction (Datta et al. 2022): the network is first
trained over ``start_steps`` time steps with surrogate gradients, then fine-tuned with half as
many, and so on down to one step, each stage starting from the previous stage's weights
(early stopping on the validation trials at every stage). Every step takes the features of
``sub_bins`` consecutive parts of its bin, so with one step a window's features (mean, RMS and
trend of each channel in each of its ``sub_bins`` parts) drive the encoding neurons once: the
whole decision is a single pass of spikes, the lowest-latency spiking decoder, that still sees
the window's coarse time course. The weights do not depend on the number of steps (per-input
encoders, per-neuron leaks, the synapses and the readout; the inputs per step stay the same),
which is what lets one stage hand them to the next.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from decoders.datasets.trials import TrialSet
from decoders.history import History, TrainingRun

from .decoders import SpikingLif

if TYPE_CHECKING:
    import torch


def step_schedule(start_steps: int) -> list[int]:
    """Return the time steps of each stage: ``start_steps``, halved down to 1."""
    if start_steps < 1:
        raise ValueError(f"start_steps must be at least 1, got {start_steps}")
    schedule = [start_steps]
    while schedule[-1] > 1:
        schedule.append(max(1, schedule[-1] // 2))
    return schedule


class OneStepLif(SpikingLif):
    """A LIF network trained with time steps reduced from ``start_steps`` to one.

    With one step the network sees a window's features once, in ``sub_bins`` parts; beside
    each channel's mean and RMS it takes their trend (``slope``) by default. Both keep the
    window's slow course (a slow cortical potential's drift) that the mean of a single bin
    would average out.

    Parameters
    ----------
    start_steps : int
        Time steps of the first stage (halved at each following stage down to 1).
    features : list of str
        Per-bin features of each channel (see :mod:`~decoders.models.spiking.binning`).
    sub_bins : int
        Parts of each step (of the whole window at the last stage) with features of their own.
        Two by default: on SelfRegulationSCP1 (official split, 3 seeds) one part gave 0.66 and
        two 0.82, on the motor-imagery simulator 0.62 and 0.64 (measured with the harness of
        ``bench/seeds.py --part spiking`` beside its run; README).
    **options
        Options of :class:`~decoders.models.spiking.decoders.SpikingLif` (without
        ``max_steps``, which is 1, nor ``max_delay``: delays need several steps).
    """

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        start_steps: int = 16,
        features: list[str] | tuple[str, ...] = ("mean", "rms", "slope"),
        sub_bins: int = 2,
        **options: Any,
    ) -> None:
        for fixed in ("max_steps", "max_delay"):
            if options.get(fixed) not in (None, 1 if fixed == "max_steps" else 0):
                raise ValueError(f"{fixed} is fixed for a one-step network")
            options.pop(fixed, None)
        super().__init__(seed, hop_s, max_steps=1, features=tuple(features), **options)
        if not (isinstance(sub_bins, int) and sub_bins >= 1):
            raise ValueError(f"sub_bins must be a positive integer, got {sub_bins!r}")
        self.schedule = step_schedule(start_steps)
        self.sub_bins = sub_bins

    def train_module(
        self, module: torch.nn.Module, train: TrialSet, valid: TrialSet, run: TrainingRun
    ) -> History:
        """Train stage by stage, from ``start_steps`` time steps to one (the module)."""
        from decoders.training.loop import fit_classifier

        from .binning import TimeBins

        history, weights, stages = History(), None, []
        n_channels, n_classes = train.n_channels, train.n_classes
        for steps in self.schedule:
            bins = TimeBins.for_window(train.n_times, steps, self.name, self.sub_bins)
            network = module if steps == 1 else self.network(n_channels, n_classes, bins)
            if weights is not None:
                network.load_state_dict(weights)
            network.input.fit(train.data)
            stage = fit_classifier(network, train, valid, self.train_config, _stage_run(run, steps))
            weights = network.state_dict()
            best = stage.epochs[stage.best_epoch] if stage.epochs else {}
            stages.append({"steps": steps, "valid_accuracy": best.get("valid_accuracy")})
            offset = len(history.epochs)
            history.epochs += [
                {**row, "epoch": offset + i, "steps": steps} for i, row in enumerate(stage.epochs)
            ]
            history.best_epoch = offset + stage.best_epoch
        self.stages_ = stages
        self.trained(module, valid)
        return history

    def card_extra(self) -> dict[str, Any]:
        """Return SynOps and energy, the time steps and each stage's validation accuracy."""
        extra = super().card_extra()
        stages = getattr(self, "stages_", None)
        if stages is None:
            return extra
        return {
            **extra,
            "time_steps": 1,
            "step_schedule": self.schedule,
            "stages": stages,
            "sub_bins": self.sub_bins,
        }


def _stage_run(run: TrainingRun, steps: int) -> TrainingRun:
    """Return the run of one stage: its own checkpoint file beside the run's."""
    checkpoint = None
    if run.checkpoint is not None:
        checkpoint = run.checkpoint.with_name(f"{run.checkpoint.stem}.steps{steps}.pt")
    return TrainingRun(run.progress, run.on_epoch, checkpoint)
