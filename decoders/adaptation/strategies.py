"""Ways a fitted decoder adapts while a user is decoded, trial by trial.

Each strategy decides on a trial first (:meth:`OnlineStrategy.decide`), then may adapt: from
the trial alone as soon as it is decided (:meth:`OnlineStrategy.observe`, unsupervised:
re-centering, the LDA bias) or from its true class once the label arrives
(:meth:`OnlineStrategy.learn`, supervised: RLEEGNet's DQN update, online fine-tuning). Every
strategy is bounded and reversible: its drift from the calibrated decoder is capped at
``max_drift`` (clipped back onto the bound) and each update can be rolled back.

- :class:`Static`: no adaptation (the reference every other one must beat).
- :class:`RleegnetFeedback`: RLEEGNet's own ``partial_fit`` (its Q-network within a trust
  region).
- :class:`Recentering`: Riemannian re-centering (Zanini et al. 2018) in front of the
  tangent-space pipeline: the session's covariances are whitened by their running
  Riemannian mean (pyRiemann) instead of the calibration's.
- :class:`AdaptiveLdaBias`: CSP + LDA whose bias follows the running mean of the features
  (Vidaurre et al. 2011, unsupervised).
- :class:`OnlineFineTuning`: a network (EEGNet) fine-tuned on the labelled feedback trials,
  a few gradient steps per trial on a bounded memory of recent ones, batch-norm frozen.

A strategy's :meth:`~OnlineStrategy.snapshot` is an independent fitted decoder with the
adapted weights, to export and publish for the live path.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from decoders.datasets.errors import DataError

if TYPE_CHECKING:
    from decoders.contract import Decoder


@dataclass(frozen=True)
class UpdateReport:
    """What one adaptation step did.

    Parameters
    ----------
    drift : float
        Distance of the adapted decoder from the calibrated one (the strategy's own measure).
    clipped : bool
        Whether the step was brought back onto the drift bound.
    """

    drift: float
    clipped: bool


class OnlineStrategy:
    """A fitted decoder that decides trial by trial and may adapt (see the module docstring).

    Parameters
    ----------
    decoder : Decoder
        Fitted; adapted in place.
    max_drift : float
        Largest drift from the calibrated decoder, in the strategy's own measure.
    history : int
        Updates that can be rolled back.
    """

    name: ClassVar[str] = "static"
    supervised: ClassVar[bool] = False
    """Whether the strategy learns from labels (it then pauses while labels stop)."""

    def __init__(self, decoder: Decoder, max_drift: float = 1.0, history: int = 50) -> None:
        if not decoder.is_fitted:
            raise ValueError(f"decoder {decoder.name} must be fitted before it adapts")
        if max_drift <= 0:
            raise ValueError(f"max_drift must be positive, got {max_drift}")
        self.decoder = decoder
        self.max_drift = max_drift
        self.history = history
        self.updates = 0
        self._states: list[np.ndarray] = []

    def decide(self, trial: np.ndarray) -> np.ndarray:
        """Return the decoder's outputs for one trial (n_channels, n_times)."""
        return self.decoder.predict_proba(np.asarray(trial)[None])[0]

    def observe(self, trial: np.ndarray) -> UpdateReport | None:
        """Adapt from a decided trial without its label; None when the strategy does not."""
        return None

    def learn(self, trial: np.ndarray, label: int) -> UpdateReport | None:
        """Adapt from a trial and its true class; None when the strategy does not."""
        return None

    def rollback(self, steps: int = 1) -> None:
        """Undo the last ``steps`` updates (ValueError when there are fewer)."""
        raise ValueError(f"{self.name} made no update to roll back")

    def _remember(self, state: np.ndarray) -> None:
        """Keep the state an update replaces, to roll back to (the last ``history``)."""
        self._states = [*self._states, state][-self.history :]

    def _recall(self, steps: int) -> np.ndarray:
        """Return the state before the last ``steps`` updates, forgetting the later ones."""
        if steps < 1 or steps > len(self._states):
            raise ValueError(
                f"cannot roll back {steps} update(s): {len(self._states)} can be undone"
            )
        state = self._states[-steps]
        del self._states[-steps:]
        return state

    def snapshot(self) -> Decoder:
        """Return an independent fitted decoder with the current weights, to publish."""
        return copy.deepcopy(self.decoder)


class Static(OnlineStrategy):
    """The calibrated decoder, unchanged."""


class RleegnetFeedback(OnlineStrategy):
    """RLEEGNet's online DQN update from each labelled trial (its own trust region)."""

    name = "rleegnet-feedback"
    supervised = True

    def __init__(self, decoder: Decoder, max_drift: float = 1.0, history: int = 50) -> None:
        super().__init__(decoder, max_drift, history)
        if not hasattr(decoder, "partial_fit"):
            raise DataError(decoder.name, "does not learn from feedback (no partial_fit)")

    def learn(self, trial: np.ndarray, label: int) -> UpdateReport:
        """Update the Q-network from the trial within RLEEGNet's trust region."""
        report = self.decoder.partial_fit(np.asarray(trial)[None], [int(label)])
        self.updates += 0 if report.refused else 1
        return UpdateReport(report.drift, report.clipped)

    def rollback(self, steps: int = 1) -> None:
        """Undo RLEEGNet's last updates."""
        self.decoder.rollback(steps)


class Recentering(OnlineStrategy):
    """Riemannian re-centering in front of the tangent-space pipeline (``cov-ts-lr``).

    The tangent space is taken at the running Riemannian mean of the session's covariances
    (each new one pulled in along the geodesic with weight ``1 / (n + 1)``, starting from the
    calibration's mean), so that a session whose covariances moved as a whole is brought back
    to where the classifier was fitted. The drift is the affine-invariant Riemannian
    distance between the two means; beyond ``max_drift`` the mean is clipped along the
    geodesic.
    """

    name = "recentering"

    def __init__(self, decoder: Decoder, max_drift: float = 3.0, history: int = 50) -> None:
        super().__init__(decoder, max_drift, history)
        module = decoder.module_
        if not hasattr(module, "whitening") or hasattr(module, "filters"):
            raise DataError(decoder.name, "re-centering needs the plain tangent-space pipeline")
        whitening = module.whitening.double().numpy()
        self.reference = np.linalg.inv(whitening @ whitening)  # the calibration's mean
        self.mean = self.reference.copy()
        self.count = 1

    def observe(self, trial: np.ndarray) -> UpdateReport:
        """Pull the session mean towards this trial's covariance; re-whiten the pipeline."""
        from pyriemann.estimation import Covariances
        from pyriemann.geometry.distance import distance_riemann
        from pyriemann.geometry.geodesic import geodesic_riemann

        scale = float(self.decoder.module_.scale)
        data = self._preprocessed(trial) * scale
        covariance = Covariances(estimator="oas").transform(data[None])[0]
        self._remember(self.mean)
        self.count += 1
        proposed = geodesic_riemann(self.mean, covariance, 1.0 / self.count)
        drift = float(distance_riemann(self.reference, proposed))
        clipped = drift > self.max_drift
        if clipped:
            proposed = geodesic_riemann(self.reference, proposed, self.max_drift / drift)
            drift = self.max_drift
        self.mean = proposed
        self._whiten()
        self.updates += 1
        return UpdateReport(drift, clipped)

    def rollback(self, steps: int = 1) -> None:
        """Return to the session mean before the last ``steps`` trials."""
        self.mean = self._recall(steps)
        self.count -= steps
        self._whiten()

    def _whiten(self) -> None:
        import torch
        from scipy.linalg import fractional_matrix_power

        whitening = np.real(fractional_matrix_power(self.mean, -0.5))
        with torch.no_grad():
            self.decoder.module_.whitening.copy_(torch.as_tensor(whitening, dtype=torch.float32))

    def _preprocessed(self, trial: np.ndarray) -> np.ndarray:
        from decoders.preprocessing import apply_to_trials

        spec = self.decoder.input_spec_
        return apply_to_trials(
            spec.preprocessing, np.asarray(trial)[None], spec.sfreq, spec.ch_names, spec.ch_types
        )[0]


class AdaptiveLdaBias(OnlineStrategy):
    """CSP + LDA (``csp-lda``) whose bias follows the running mean of its features.

    The features' global mean is tracked with an exponential forgetting factor ``rate``,
    starting from the calibration trials' mean; the LDA's intercepts are shifted so that the
    decision boundary moves with it (Vidaurre et al. 2011's unsupervised bias adaptation).
    The drift is the shift of the mean in units of the calibration features' standard
    deviation (Euclidean norm), clipped at ``max_drift``.

    Parameters
    ----------
    calibration : ndarray, shape (n_trials, n_channels, n_times)
        The calibration trials (for the features' starting mean and spread).
    rate : float
        Weight of each new trial in the running mean.
    """

    name = "adaptive-lda-bias"

    def __init__(
        self,
        decoder: Decoder,
        calibration: np.ndarray,
        rate: float = 0.05,
        max_drift: float = 3.0,
        history: int = 50,
    ) -> None:
        super().__init__(decoder, max_drift, history)
        module = decoder.module_
        if not hasattr(module, "coef") or not hasattr(module, "filters"):
            raise DataError(decoder.name, "the adaptive LDA bias needs the CSP + LDA pipeline")
        features = self._features(np.asarray(calibration))
        self.reference = features.mean(axis=0)
        self.spread = np.where(features.std(axis=0) > 0, features.std(axis=0), 1.0)
        self.mean = self.reference.copy()
        self.intercept = module.intercept.double().numpy().copy()
        self.rate = rate

    def observe(self, trial: np.ndarray) -> UpdateReport:
        """Move the running mean towards this trial's features; shift the intercepts."""
        self._remember(self.mean)
        proposed = (1 - self.rate) * self.mean + self.rate * self._features(
            np.asarray(trial)[None]
        )[0]
        shift = (proposed - self.reference) / self.spread
        drift = float(np.linalg.norm(shift))
        clipped = drift > self.max_drift
        if clipped:
            proposed = self.reference + (proposed - self.reference) * self.max_drift / drift
            drift = self.max_drift
        self.mean = proposed
        self._shift()
        self.updates += 1
        return UpdateReport(drift, clipped)

    def rollback(self, steps: int = 1) -> None:
        """Return to the running mean before the last ``steps`` trials."""
        self.mean = self._recall(steps)
        self._shift()

    def _shift(self) -> None:
        import torch

        coef = self.decoder.module_.coef.double().numpy()
        intercept = self.intercept + coef @ (self.reference - self.mean)
        with torch.no_grad():
            self.decoder.module_.intercept.copy_(torch.as_tensor(intercept, dtype=torch.float32))

    def _features(self, data: np.ndarray) -> np.ndarray:
        """Return the CSP log-power features the LDA sees (n_trials, n_components)."""
        from decoders.preprocessing import apply_to_trials

        spec = self.decoder.input_spec_
        data = apply_to_trials(spec.preprocessing, data, spec.sfreq, spec.ch_names, spec.ch_types)
        filters = self.decoder.module_.filters.double().numpy()
        sources = np.einsum("kc,nct->nkt", filters, data)
        return np.log(np.mean(sources**2, axis=-1))


class OnlineFineTuning(OnlineStrategy):
    """A network decoder fine-tuned on each labelled trial, within a trust region.

    After each label, ``steps`` Adam steps at ``lr`` on minibatches drawn from the last
    ``memory`` labelled trials (batch-norm statistics frozen, no dropout); the weights stay
    within ``max_drift`` (relative L2 distance) of the calibrated ones.
    """

    name = "fine-tuning"
    supervised = True

    def __init__(
        self,
        decoder: Decoder,
        max_drift: float = 0.05,
        history: int = 50,
        lr: float = 1e-4,
        steps: int = 5,
        memory: int = 32,
        batch_size: int = 8,
        seed: int = 0,
    ) -> None:
        import torch

        from .trust_region import TrustRegion

        super().__init__(decoder, max_drift, history)
        self.region = TrustRegion(decoder.module_, max_drift, "clip", history)
        self.lr, self.steps, self.memory, self.batch_size = lr, steps, memory, batch_size
        self.trials: list[np.ndarray] = []
        self.labels: list[int] = []
        self.generator = torch.Generator().manual_seed(seed)

    def learn(self, trial: np.ndarray, label: int) -> UpdateReport:
        """Take a few gradient steps on the recent labelled trials; enforce the bound."""
        import torch

        from decoders.preprocessing import apply_to_trials

        spec = self.decoder.input_spec_
        prepared = apply_to_trials(
            spec.preprocessing, np.asarray(trial)[None], spec.sfreq, spec.ch_names, spec.ch_types
        )[0]
        self.trials = [*self.trials, prepared.astype(np.float32)][-self.memory :]
        self.labels = [*self.labels, int(label)][-self.memory :]
        data = torch.as_tensor(np.stack(self.trials))
        targets = torch.as_tensor(self.labels, dtype=torch.long)
        module = self.decoder.module_
        module.eval()  # frozen batch-norm statistics, no dropout
        self.region.snapshot()
        optimizer = torch.optim.Adam(module.parameters(), lr=self.lr)
        for _ in range(self.steps):
            picks = torch.randint(
                len(targets), (min(self.batch_size, len(targets)),), generator=self.generator
            )
            loss = torch.nn.functional.cross_entropy(module(data[picks]), targets[picks])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        bound = self.region.enforce()
        self.updates += 1
        return UpdateReport(bound.drift, bound.clipped)

    def rollback(self, steps: int = 1) -> None:
        """Undo the last ``steps`` fine-tuning updates."""
        self.region.rollback(steps)
