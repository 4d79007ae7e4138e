"""The ``nalsm`` decoder: a liquid state machine whose reservoir learns without gradients.

Training: the input standardisation is fitted on the training trials; the reservoir's
excitatory synapses then learn by astrocyte-gated STDP over the training windows, labels
unused (``plasticity_epochs`` passes); finally a logistic-regression readout of the spike
counts is fitted on the training trials, its regularisation chosen on the validation trials,
and folded into the module's linear readout. No gradient ever flows through the reservoir.
The branching factor's course is in the card and in ``branching_factor.png``; a reservoir
whose branching factor diverges stops the training with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.contract import Decoder, InputSpec, OutputSpec
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.history import TrainingRun

if TYPE_CHECKING:
    import torch

READOUT_C = (0.01, 0.1, 1.0, 10.0)


class Nalsm(Decoder):
    """Neuron-astrocyte liquid state machine (see the module docstring).

    Parameters
    ----------
    max_steps : int
        Most time steps per window.
    band : list of float, optional
        ``[low, high]`` Hz of a declared causal band-pass.
    n_neurons, density, length, input_weight, reservoir_weight, segments
        The reservoir (:class:`~decoders.models.spiking.reservoir.Reservoir`).
    plasticity_epochs : int
        Unsupervised passes of astrocyte-gated STDP over the training windows.
    stdp_lr : float
        STDP learning rate.
    batch_size : int
        Windows per plasticity update.
    """

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        max_steps: int = 64,
        band: list[float] | None = None,
        n_neurons: int = 256,
        density: float = 0.3,
        length: float = 2.0,
        input_weight: float = 0.2,
        reservoir_weight: float = 0.3,
        segments: int = 4,
        plasticity_epochs: int = 3,
        stdp_lr: float = 0.01,
        batch_size: int = 32,
    ) -> None:
        super().__init__(seed, hop_s)
        self.max_steps, self.plasticity_epochs = max_steps, plasticity_epochs
        self.stdp_lr, self.batch_size = stdp_lr, batch_size
        self.architecture = {
            "n_neurons": n_neurons,
            "density": density,
            "length": length,
            "input_weight": input_weight,
            "reservoir_weight": reservoir_weight,
            "segments": segments,
        }

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the reservoir for windows of ``spec.n_times`` samples."""
        from .binning import TimeBins
        from .reservoir import Reservoir

        bins = TimeBins.for_window(spec.n_times, self.max_steps, source=self.name)
        return Reservoir(
            len(spec.ch_names), len(output.names), bins, seed=self.seed, **self.architecture
        )

    def train_module(
        self, module: torch.nn.Module, train: TrialSet, valid: TrialSet, run: TrainingRun
    ) -> None:
        """Adapt the reservoir by STDP (unsupervised), then fit the readout; selected on valid."""
        from .synops import count_operations

        module.input.fit(train.data)
        self.branching_ = self._adapt(module, train.data)
        self._fit_readout(module, train, valid)
        self.operations_ = count_operations(module, valid.data)
        return None

    def _adapt(self, module: torch.nn.Module, data: np.ndarray) -> list[float]:
        import torch

        from .reservoir import Branching, Plasticity

        rule, branching = Plasticity(lr=self.stdp_lr), Branching()
        rng = np.random.default_rng(self.seed)
        generator = torch.Generator().manual_seed(self.seed)
        windows = torch.as_tensor(np.asarray(data), dtype=torch.float32)
        for _ in range(self.plasticity_epochs):
            order = rng.permutation(len(windows))
            for start in range(0, len(order), self.batch_size):
                batch = windows[order[start : start + self.batch_size]]
                try:
                    module.adapt(batch, rule, branching, generator)
                except FloatingPointError as error:
                    raise DataError(
                        self.name,
                        f"{error} after {len(branching.course)} plasticity updates: the "
                        "reservoir is unstable; lower density, reservoir_weight or stdp_lr",
                    ) from error
        return branching.course

    def _fit_readout(self, module: torch.nn.Module, train: TrialSet, valid: TrialSet) -> None:
        """Fit logistic regression on spike counts (C chosen on valid); fold it into the module."""
        import torch
        from sklearn.linear_model import LogisticRegression

        from decoders.models.classical.csp_lda import linear_logits

        train_features, valid_features = (
            _features(module, train.data),
            _features(module, valid.data),
        )
        mean = train_features.mean(axis=0)
        scale = np.where(train_features.std(axis=0) > 0, train_features.std(axis=0), 1.0)
        scores = []
        for c in READOUT_C:
            model = LogisticRegression(C=c, max_iter=2000).fit(
                (train_features - mean) / scale, train.labels
            )
            accuracy = model.score((valid_features - mean) / scale, valid.labels)
            scores.append((accuracy, -c, model))
        _, _, best = max(scores, key=lambda item: item[:2])
        coef, intercept = linear_logits(best, train.n_classes)
        with torch.no_grad():
            module.readout.weight.copy_(torch.as_tensor(coef / scale))
            module.readout.bias.copy_(torch.as_tensor(intercept - (coef / scale) @ mean))
        self.readout_c_ = float(best.C)

    def card_extra(self) -> dict[str, Any]:
        """Return SynOps and energy, the readout's regularisation and the branching course."""
        operations = getattr(self, "operations_", None)
        if operations is None:
            return {}
        course = self.branching_
        return {
            **operations.to_card_extra(),
            "readout_c": self.readout_c_,
            "branching_factor": {
                "first": course[0],
                "last": course[-1],
                "course": [round(value, 4) for value in course],
            },
            "gradient_through_reservoir": False,
        }

    def save_figures(self, folder: Path) -> list[Path]:
        """Plot the branching factor over the plasticity updates."""
        course = getattr(self, "branching_", None)
        if not course:
            return []
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        path = Path(folder) / "branching_factor.png"
        figure, axis = plt.subplots(figsize=(5.5, 3.2))
        axis.plot(course)
        axis.axhline(1.0, color="0.5", linestyle=":", label="critical (1)")
        axis.set(xlabel="plasticity update", ylabel="branching factor (smoothed)")
        axis.legend(frameon=False)
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
        return [path]


def _features(module: torch.nn.Module, data: np.ndarray) -> np.ndarray:
    import torch

    module.eval()
    with torch.no_grad():
        windows = torch.as_tensor(np.asarray(data), dtype=torch.float32)
        return np.concatenate(
            [
                module.features(module.spikes(windows[start : start + 128])[1]).numpy()
                for start in range(0, len(windows), 128)
            ]
        )
