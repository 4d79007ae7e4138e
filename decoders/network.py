"""The base of decoders that are torch networks trained by the shared early-stopping loop.

A new network decoder is its :meth:`~decoders.contract.Decoder.build` and a registry entry:
the base owns the training options (:class:`~decoders.training.loop.TrainConfig`), the
optional declared band-pass or high-pass, and :meth:`NetworkDecoder.train_module`, which runs
:func:`~decoders.training.loop.fit_classifier` between two hooks (fit data-dependent layers
on the training trials before; measure the trained network on the validation trials after).

Every network states its input conditioning (:meth:`NetworkDecoder.input_conditioning`): how
it removes DC offsets and slow drift (a layer acting on each window, or a declared causal
high-pass) and how it scales its input (fitted on the training trials). The card carries it.
A network whose window-level conditioning is an option that may be ``"auto"``
(:attr:`NetworkDecoder.conditioning_option`) has it decided on the training trials by
:meth:`NetworkDecoder.fit`, and the decision is recorded as the option.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from decoders.contract import Decoder
from decoders.datasets.trials import TrialSet
from decoders.history import History, TrainingRun
from decoders.preprocessing import describe_filter, highpass_step

if TYPE_CHECKING:
    import torch


class NetworkDecoder(Decoder):
    """A network trained with cross-entropy and early stopping on the validation trials.

    Parameters
    ----------
    seed : int
        Seeds weight initialisation, batch order and dropout.
    hop_s : float
        Time between windows when decoding a stream.
    band : list of float, optional
        ``[low, high]`` Hz of a declared causal band-pass applied before the network, offline
        and live alike.
    highpass : float, optional
        Edge (Hz) of a declared causal first-order high-pass removing DC offsets and drift
        (unused when ``band`` is given, whose low edge does it).
    max_epochs, patience, lr, batch_size, weight_decay
        Training settings (:class:`~decoders.training.loop.TrainConfig`); a registry entry
        may set other defaults.
    """

    conditioning_option: ClassVar[str | None] = None
    """The option (``detrend``, ``baseline``) that removes each window's level, if any: true,
    false or ``"auto"``, decided by :meth:`fit` on the training trials."""

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        *,
        band: list[float] | None = None,
        highpass: float | None = None,
        max_epochs: int = 150,
        patience: int = 25,
        lr: float = 1e-3,
        batch_size: int = 32,
        weight_decay: float = 0.0,
    ) -> None:
        from decoders.training.loop import TrainConfig

        super().__init__(seed, hop_s)
        self.train_config = TrainConfig(
            max_epochs=max_epochs,
            patience=patience,
            lr=lr,
            weight_decay=weight_decay,
            batch_size=batch_size,
            seed=seed,
        )

    def fit(self, train: TrialSet, valid: TrialSet, **kwargs: Any) -> NetworkDecoder:
        """Decide the conditioning option on the training trials (recorded), then fit.

        ``"auto"`` becomes true when the training trials, after the declared preprocessing,
        carry offsets that dwarf their signal
        (:func:`~decoders.training.standardize.offsets_dominate`: an amplifier's DC), false
        otherwise (their level may be signal, such as slow cortical potentials).
        """
        name = self.conditioning_option
        if name is not None:
            from decoders.preprocessing import apply_to_trials
            from decoders.training.standardize import resolve_auto

            option = getattr(self, name)
            seen = train.data
            if option == "auto" and self.preprocessing():
                seen = apply_to_trials(
                    self.preprocessing(), train.data, train.sfreq, train.ch_names, train.ch_types
                )
            decided = resolve_auto(option, seen, name)
            setattr(self, name, decided)
            self.__dict__.setdefault("_options", {})[name] = decided
        super().fit(train, valid, **kwargs)
        return self

    def preprocessing(self) -> tuple[dict[str, Any], ...]:
        """Return the declared band-pass, else the declared high-pass, if any."""
        options = self.config()
        if options.get("band") or not options.get("highpass"):
            return super().preprocessing()
        return (highpass_step(options["highpass"]),)

    def window_conditioning(self) -> dict[str, str]:
        """Return what the network itself does to each window (none here).

        ``dc_and_drift``: against DC offsets and drift; ``scale``: to scale it. Networks with
        such layers override it.
        """
        return {"dc_and_drift": "none", "scale": "none"}

    def input_conditioning(self) -> dict[str, str]:
        """Return how the input is freed of DC and drift and scaled, for the card.

        The declared filter, if any, then :meth:`window_conditioning`.
        """
        conditioning = self.window_conditioning()
        steps = self.preprocessing()
        if steps:
            own = conditioning["dc_and_drift"]
            declared = describe_filter(steps[0])
            conditioning["dc_and_drift"] = declared if own == "none" else f"{declared}; {own}"
        return conditioning

    def card_extra(self) -> dict[str, Any]:
        """Return the input conditioning for the card."""
        return {"input_conditioning": self.input_conditioning()}

    def prepare(self, module: torch.nn.Module, train: TrialSet) -> None:
        """Fit data-dependent layers (a standardisation) on the training trials; none here."""

    def trained(self, module: torch.nn.Module, valid: TrialSet) -> None:
        """Measure the trained network on the validation trials (for the card); nothing here."""

    def parameter_groups(self, module: torch.nn.Module) -> list[dict[str, Any]] | None:
        """Return the optimiser's parameter groups (None: every parameter at ``lr``).

        A network that starts from pretrained weights may give them a lower learning rate
        than its new head.
        """
        return None

    def train_module(
        self, module: torch.nn.Module, train: TrialSet, valid: TrialSet, run: TrainingRun
    ) -> History:
        """Run :meth:`prepare`, the early-stopping loop on ``valid``, then :meth:`trained`."""
        from decoders.training.loop import fit_classifier

        self.prepare(module, train)
        groups = self.parameter_groups(module)
        history = fit_classifier(module, train, valid, self.train_config, run, groups)
        self.trained(module, valid)
        return history
