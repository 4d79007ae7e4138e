"""RLEEGNet under the decoder contract: csp space + 1D-CNN-LSTM Q-network trained by DQN.

Honest evaluation is built in: the CSP filters and the standardisation are fitted in
:meth:`RLEEGNet.train_module` from the training trials it receives and nothing else (the
harness never hands it test trials), and the Q-network is selected on the validation trials
only. Online adaptation (:meth:`RLEEGNet.partial_fit`, :meth:`RLEEGNet.rollback`) updates the
Q-network from labelled feedback trials inside a trust region; CSP stays frozen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from decoders.contract import Decoder, InputSpec, OutputSpec
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.history import History, TrainingRun
from decoders.preprocessing import apply_to_trials

from .settings import AdaptationSettings, DqnConfig

if TYPE_CHECKING:
    import torch

    from .adaptation import AdaptationReport, TrustRegionAdapter


class RLEEGNet(Decoder):
    """One-versus-rest CSP in csp space, then a 1D-CNN-LSTM Q-network trained as a DQN.

    Parameters
    ----------
    n_components : int
        CSP filters per one-versus-rest problem (capped at the channel count).
    band : list of float, optional
        ``[low, high]`` Hz of a declared causal band-pass applied before CSP.
    conv_channels, kernel_s, lstm_steps, hidden, dropout
        Q-network: convolution width, kernel length in seconds, LSTM steps per window (the
        pooling length follows), LSTM size and dropout.
    episodes, patience, gamma, lr, batch_size, replay_size, parallel_trials, target_sync,
    epsilon_start, epsilon_end, epsilon_decay
        DQN settings (:class:`~decoders.models.rl.settings.DqnConfig`).
    max_drift, drift_policy, adapt_lr, adapt_updates, adapt_epsilon, feedback_memory
        Online adaptation settings (:class:`~decoders.models.rl.settings.AdaptationSettings`).
    """

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        n_components: int = 4,
        band: list[float] | None = None,
        conv_channels: int = 16,
        kernel_s: float = 0.05,
        lstm_steps: int = 25,
        hidden: int = 32,
        dropout: float = 0.25,
        episodes: int = 60,
        patience: int = 15,
        gamma: float = 0.1,
        lr: float = 1e-3,
        batch_size: int = 32,
        replay_size: int = 4096,
        parallel_trials: int = 16,
        target_sync: int = 25,
        epsilon_start: float = 1.0,
        epsilon_end: float = 0.05,
        epsilon_decay: float = 0.85,
        max_drift: float = 0.1,
        drift_policy: str = "clip",
        adapt_lr: float = 5e-4,
        adapt_updates: int = 20,
        adapt_epsilon: float = 0.1,
        feedback_memory: int = 256,
    ) -> None:
        super().__init__(seed, hop_s)
        self.n_components = n_components
        self.architecture = {
            "conv_channels": conv_channels,
            "hidden": hidden,
            "dropout": dropout,
        }
        self.kernel_s = kernel_s
        self.lstm_steps = lstm_steps
        self.dqn_config = DqnConfig(
            episodes=episodes,
            patience=patience,
            gamma=gamma,
            lr=lr,
            batch_size=batch_size,
            replay_size=replay_size,
            parallel_trials=parallel_trials,
            target_sync=target_sync,
            epsilon_start=epsilon_start,
            epsilon_end=epsilon_end,
            epsilon_decay=epsilon_decay,
            seed=seed,
        )
        self.adaptation_settings = AdaptationSettings(
            max_drift=max_drift,
            policy=drift_policy,
            lr=adapt_lr,
            updates=adapt_updates,
            epsilon=adapt_epsilon,
            memory=feedback_memory,
        )
        self._adapter: TrustRegionAdapter | None = None

    # ------------------------------------------------------------------ contract hooks
    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return csp space + Q-network for windows of ``spec.n_times`` samples."""
        from .csp_space import CspSpace, n_csp_filters
        from .qnetwork import QNetwork, RleegnetModule, pooling

        if spec.n_times < 1:
            raise DataError(self.name, f"windows of {spec.n_times} samples cannot be decoded")
        n_channels, n_classes = len(spec.ch_names), len(output.names)
        n_filters = n_csp_filters(n_channels, n_classes, self.n_components)
        qnet = QNetwork(
            n_filters,
            n_classes,
            spec.n_times,
            kernel=max(2, round(self.kernel_s * spec.sfreq)),
            pools=pooling(max(1, spec.n_times // self.lstm_steps)),
            **self.architecture,
        )
        return RleegnetModule(CspSpace(n_channels, n_filters), qnet)

    def train_module(
        self, module: torch.nn.Module, train: TrialSet, valid: TrialSet, run: TrainingRun
    ) -> History:
        """Fit CSP on ``train`` only, then train the Q-network by DQN, selected on ``valid``."""
        import torch

        from .dqn import train_dqn

        module.front.fit(train.data, train.labels, train.n_classes, self.n_components)
        with torch.no_grad():
            train_states = module.front(torch.as_tensor(train.data, dtype=torch.float32))
            valid_states = module.front(torch.as_tensor(valid.data, dtype=torch.float32))
        return train_dqn(
            module.qnet,
            train_states,
            torch.as_tensor(train.labels, dtype=torch.long),
            valid_states,
            torch.as_tensor(valid.labels, dtype=torch.long),
            self.dqn_config,
            run,
        )

    def streaming_module(self) -> torch.nn.Module:
        """Return the one-step module (block, *state) -> (Q-values, *state)."""
        from .qnetwork import RleegnetStream

        self._require_fitted()
        return RleegnetStream(self.module_).eval()

    # ------------------------------------------------------------------ online adaptation
    def partial_fit(
        self, data: np.ndarray, labels: Sequence[int | str] | np.ndarray
    ) -> AdaptationReport:
        """Update the Q-network from labelled feedback trials, within the trust region.

        Parameters
        ----------
        data : ndarray, shape (n_trials, n_channels, n_times)
            Feedback trials in SI units, as the decoder's input (its declared preprocessing
            is applied here).
        labels : sequence of int or str
            The true class of each trial, by index or by name.

        Returns
        -------
        AdaptationReport
            Accuracy before the update, drift from the reference weights, and whether the
            update was clipped to the bound or refused.
        """
        import torch

        from .adaptation import TrustRegionAdapter

        states, targets = self.check_feedback(data, labels)
        if self._adapter is None:
            self._adapter = TrustRegionAdapter(
                self.module_.qnet, self.adaptation_settings, seed=self.seed
            )
        with torch.no_grad():
            states = self.module_.front(torch.as_tensor(states, dtype=torch.float32))
        report = self._adapter.update(states, torch.as_tensor(targets, dtype=torch.long))
        self.module_.eval()
        return report

    def rollback(self, steps: int = 1) -> None:
        """Undo the last ``steps`` accepted online updates (ValueError when there are fewer)."""
        if self._adapter is None:
            raise ValueError("cannot roll back: no online update was made")
        self._adapter.rollback(steps)
        self.module_.eval()

    @property
    def adaptation_depth(self) -> int:
        """Return how many online updates can be rolled back."""
        return 0 if self._adapter is None else self._adapter.depth

    def drift(self) -> float:
        """Return the relative distance of the Q-network from the weights adaptation began at."""
        return 0.0 if self._adapter is None else self._adapter.drift()

    def snapshot(self) -> RLEEGNet:
        """Return an independent fitted decoder with the current weights (to publish)."""
        self._require_fitted()
        state = {key: value.detach().clone() for key, value in self.module_.state_dict().items()}
        copy = type(self)(**self.config())
        copy.name = self.name
        copy.restore(self.input_spec_, self.output_spec_, state)
        copy.history_ = self.history_
        return copy

    def check_feedback(
        self, data: np.ndarray, labels: Sequence[int | str] | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Check feedback trials against the decoder's input; return them and class indices."""
        self._require_fitted()
        spec, classes = self.input_spec_, self.output_spec_.names
        data = np.asarray(data, dtype=float)
        expected = (len(spec.ch_names), spec.n_times)
        if data.ndim != 3 or data.shape[1:] != expected or len(data) == 0:
            raise DataError(
                "feedback trials",
                f"must be (n >= 1, {expected[0]}, {expected[1]}) like the decoder's windows, "
                f"got {data.shape}",
            )
        if not np.isfinite(data).all():
            raise DataError("feedback trials", "hold NaN or Inf samples")
        labels = list(labels)
        if len(labels) != len(data):
            raise DataError("feedback trials", f"{len(data)} trials but {len(labels)} labels")
        indices = []
        for label in labels:
            if isinstance(label, str):
                if label not in classes:
                    raise DataError(
                        "feedback trials", f"unknown class '{label}' (known: {classes})"
                    )
                indices.append(classes.index(label))
            elif 0 <= int(label) < len(classes):
                indices.append(int(label))
            else:
                raise DataError("feedback trials", f"label {label} outside 0..{len(classes) - 1}")
        if spec.preprocessing:
            data = apply_to_trials(
                spec.preprocessing, data, spec.sfreq, spec.ch_names, spec.ch_types
            )
        return data, np.asarray(indices)
