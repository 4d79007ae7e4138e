"""The ``eegformer`` decoder: EEGFormer's encoder and codebook, a linear head, fine-tuned.

Windows of any montage and rate: the module resamples them to 250 Hz (a fixed linear map,
part of the graph), encodes every channel on its own into quantised tokens, averages each
channel's tokens and classifies the channels' averages, standardised on the training windows,
with a linear head. It starts from a pretrained model (``--init``, the folder of ``bci-app
pretrain``) or from scratch; ``tuning`` ``full`` trains everything but the codebook, ``linear``
the head alone (a linear probe). A pretrained backbone learns at a tenth of the head's rate by
default: at the head's rate, two steps changed the code of half the tokens and the pretrained
codes were lost.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.contract import InputSpec, OutputSpec
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.network import NetworkDecoder

if TYPE_CHECKING:
    import torch

TUNINGS = ("full", "linear")
PRETRAINED_LR_SHARE = 0.1
"""A pretrained backbone's default learning rate, as a share of the head's."""


class EEGFormer(NetworkDecoder):
    """EEGFormer fine-tuned for a classification task.

    Parameters
    ----------
    size : str
        ``tiny``, ``small``, ``base`` or ``large`` (with ``--init``: the pretrained model's).
    architecture : dict, optional
        Settings overriding the size's (with ``--init``: the pretrained model's).
    tuning : str
        ``full`` (encoder and head) or ``linear`` (the head alone).
    head_dropout : float
        Dropout before the linear head.
    backbone_lr : float, optional
        Learning rate of the backbone; None: a tenth of ``lr`` when it starts from a
        pretrained model, ``lr`` from scratch.
    **training
        Band and training settings of :class:`~decoders.network.NetworkDecoder`.
    """

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        size: str = "small",
        architecture: dict[str, Any] | None = None,
        tuning: str = "full",
        head_dropout: float = 0.5,
        backbone_lr: float | None = None,
        **training: Any,
    ) -> None:
        from .pretraining import EEGFormerPretraining

        if tuning not in TUNINGS:
            raise ValueError(f"unknown tuning '{tuning}' (known: {', '.join(TUNINGS)})")
        super().__init__(seed, hop_s, **training)
        self.architecture_config = EEGFormerPretraining.configuration(size, **(architecture or {}))
        self.tuning, self.head_dropout = tuning, head_dropout
        self.backbone_lr = backbone_lr

    @classmethod
    def options_from(cls, source: Path) -> dict[str, Any]:
        """Return the pretrained model's size and architecture settings."""
        from decoders.pretraining.checkpoint import load_pretrained

        from .pretraining import ARCHITECTURE_KEYS, SIZES

        pretrained = load_pretrained(source)
        size = pretrained.card.get("size") or _size_of(pretrained.config)
        differing = {
            key: pretrained.config[key]
            for key in ARCHITECTURE_KEYS
            if pretrained.config[key] != SIZES[size][key]
        }
        return {"size": size, "architecture": differing or None}

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return resampling, the backbone and a linear head for windows of ``spec``."""
        from .network import EEGFormerNet
        from .pretraining import backbone_of

        n_times = round(spec.n_times * self.architecture_config["sfreq"] / spec.sfreq)
        patch = self.architecture_config["patch"]
        if n_times < patch:
            raise DataError(
                self.name,
                f"windows of {spec.window_s:g} s give {n_times} samples at "
                f"{self.architecture_config['sfreq']:g} Hz, shorter than one patch of {patch} samples",
            )
        return EEGFormerNet(
            backbone_of(self.architecture_config),
            n_channels=len(spec.ch_names),
            n_times=spec.n_times,
            resampled_times=n_times,
            n_classes=len(output.names),
            dropout=self.head_dropout,
        )

    def initialize(self, module: torch.nn.Module, source: Path) -> dict[str, Any]:
        """Load a pretrained EEGFormer's backbone; refuse one of another architecture."""
        from decoders.pretraining.checkpoint import load_pretrained

        from .pretraining import WEIGHT_KEYS

        pretrained = load_pretrained(source)
        if pretrained.model != "eegformer":
            raise DataError(source, f"is a pretrained {pretrained.model}, not an eegformer")
        mismatched = [
            f"{key} {pretrained.config[key]} (asked: {self.architecture_config[key]})"
            for key in WEIGHT_KEYS
            if pretrained.config[key] != self.architecture_config[key]
        ]
        if mismatched:
            raise DataError(
                source,
                "its architecture does not fit the decoder asked for: "
                + ", ".join(mismatched)
                + " (leave size and architecture unset to take the pretrained model's)",
            )
        backbone = {
            key.removeprefix("backbone."): value
            for key, value in pretrained.state.items()
            if key.startswith("backbone.")
        }
        module.backbone.load_state_dict(backbone)
        return {
            "source": str(pretrained.path),
            "sha256": pretrained.sha256,
            "model": pretrained.model,
            "config": pretrained.config,
            "corpus": pretrained.card.get("corpus", {}).get("fingerprint"),
            "corpus_files": pretrained.card.get("corpus", {}).get("n_files"),
            "corpus_hours": pretrained.card.get("corpus", {}).get("hours_used"),
            "pretraining_steps": pretrained.card.get("steps"),
        }

    def prepare(self, module: torch.nn.Module, train: TrialSet) -> None:
        """Freeze the codebook (and, for a linear probe, the whole backbone); standardise.

        On the training windows: a codebook never trained (from scratch) is set by k-means
        of the encoder's states, then the head's input standardisation is fitted.
        """
        import torch

        module.backbone.quantizer.frozen = True
        if self.tuning == "linear":
            for parameter in module.backbone.parameters():
                parameter.requires_grad_(False)
        module.eval()
        windows = torch.as_tensor(train.data, dtype=torch.float32)
        module.initialise_codebook(windows)
        module.standardise(windows)
        self._training_trials = train

    def parameter_groups(self, module: torch.nn.Module) -> list[dict[str, Any]]:
        """Return the backbone at ``backbone_lr`` and the head at ``lr``."""
        backbone = [p for p in module.backbone.parameters() if p.requires_grad]
        chosen = {id(p) for p in backbone}
        rest = [p for p in module.parameters() if id(p) not in chosen]
        lr = self.backbone_lr
        if lr is None:
            lr = self.train_config.lr * (PRETRAINED_LR_SHARE if self.initialization_ else 1.0)
        return [{"params": backbone, "lr": lr}, {"params": rest}]

    def trained(self, module: torch.nn.Module, valid: TrialSet) -> None:
        """Fit the token detector on the training windows' codes; describe validation's."""
        import torch

        from .interpret import TokenNaiveBayes, usage_by_class

        train, self._training_trials = self._training_trials, None
        n_codes = module.backbone.quantizer.n_codes
        train_codes, valid_codes = _codes(module, train.data), _codes(module, valid.data)
        detector = TokenNaiveBayes(n_codes).fit(train_codes, train.labels, train.n_classes)
        module.evidence.copy_(torch.as_tensor(detector.evidence(), dtype=torch.float32))
        proba = detector.predict_proba(valid_codes)
        usage = usage_by_class(valid_codes, valid.labels, valid.n_classes, n_codes)
        examples = [int(np.flatnonzero(valid.labels == c)[0]) for c in np.unique(valid.labels)]
        self.interpretation_ = {
            "detector": detector,
            "valid_accuracy": float(np.mean(proba.argmax(1) == valid.labels)),
            "usage": usage,
            "examples": [(int(valid.labels[i]), valid_codes[i]) for i in examples],
        }

    def window_conditioning(self) -> dict[str, str]:
        """Return the spectral tokens' own conditioning (see :mod:`.spectra`)."""
        return {
            "dc_and_drift": "each channel's window mean removed before its patch spectra",
            "scale": "each channel's window divided by its sd, then the log spectra "
            "standardised per window (insensitive to the input's gain)",
        }

    def card_extra(self) -> dict[str, Any]:
        """Return the input conditioning, the token detector and the codebook's use."""
        found = getattr(self, "interpretation_", None)
        if found is None:
            return super().card_extra()
        usage = found["usage"]
        return {
            **super().card_extra(),
            "token_detector": {
                "kind": "multinomial naive Bayes over code unigrams and bigrams",
                "valid_accuracy": found["valid_accuracy"],
            },
            "codebook": {
                "codes": int(usage.shape[1]),
                "codes_used_in_validation": int((usage.sum(axis=0) > 0).sum()),
            },
            "code_evidence": np.round(found["detector"].evidence(), 4).tolist(),
        }

    def explanation(self) -> dict[str, Any]:
        """Return the description of the evidence map the graph outputs beside its decision."""
        self._require_fitted()
        return {
            "kind": "token-evidence",
            "axes": ["channel", "token"],
            "rows": list(self.input_spec_.ch_names),
            "step_s": self.architecture_config["stride"] / self.architecture_config["sfreq"],
            "unit": "nats",
            "about": "evidence of each token's code for the decided class (naive Bayes "
            "over EEGFormer's codes, fitted on the training windows)",
        }

    def explaining_module(self) -> torch.nn.Module:
        """Return the module of the exported graph: probabilities, then the evidence map."""
        from .network import Explaining

        self._require_fitted()
        return Explaining(self.module_).eval()

    def save_figures(self, folder: Path) -> list[Path]:
        """Write the codebook usage per class and one token map per class (validation)."""
        from .interpret import plot_token_map, plot_usage, token_map

        found = getattr(self, "interpretation_", None)
        if found is None:
            return []
        classes = self.output_spec_.names
        paths = [Path(folder) / "codebook_usage.png"]
        plot_usage(found["usage"], classes, paths[0])
        evidence = found["detector"].evidence()
        token_s = self.architecture_config["stride"] / self.architecture_config["sfreq"]
        for label, codes in found["examples"]:
            path = Path(folder) / f"token_map_{_slug(classes[label])}.png"
            plot_token_map(
                token_map(codes, evidence, label),
                codes,
                self.input_spec_.ch_names,
                token_s,
                f"tokens of a validation window of class {classes[label]}: evidence for it",
                path,
            )
            paths.append(path)
        return paths

    def tokens(self, data: np.ndarray) -> np.ndarray:
        """Return the codebook index of every token of raw windows (n, channels, tokens)."""
        from decoders.preprocessing import apply_to_trials

        self._require_fitted()
        spec = self.input_spec_
        return _codes(
            self.module_, apply_to_trials(spec.preprocessing, np.asarray(data), spec.sfreq)
        )


def _codes(module: torch.nn.Module, data: np.ndarray) -> np.ndarray:
    """Return the codes (n, channels, tokens) of preprocessed windows, in batches."""
    import torch

    module.eval()
    with torch.no_grad():
        return np.concatenate(
            [
                module.codes(torch.as_tensor(data[start : start + 128], dtype=torch.float32))
                .cpu()
                .numpy()
                for start in range(0, len(data), 128)
            ]
        )


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)


def _size_of(config: dict[str, Any]) -> str:
    """Return the named size whose encoder depth and codebook match ``config``."""
    from .pretraining import SIZES

    for name, sizes in SIZES.items():
        if (sizes["depth"], sizes["n_codes"], sizes["dim"]) == (
            config["depth"],
            config["n_codes"],
            config["dim"],
        ):
            return name
    return "small"
