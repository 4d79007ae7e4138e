"""The ``meg-gpt`` decoder: MEG-GPT's causal Transformer fine-tuned to classify windows.

With ``--init`` (a ``bci-app pretrain meg-gpt --stage gpt`` folder) the tokeniser, the
Transformer and the channel embeddings start from the pretrained model, whose channels the
trials must have: the sensors its parcels are made of, or the channel names it was pretrained
on; trials of another channel set are refused unless ``channels=new``, which keeps the
tokeniser and the Transformer but gives the trials' channels new embeddings (and, with
``parcels`` > 0, parcels fitted on the training trials). Without ``--init`` the same network
starts from scratch. The tokeniser stays frozen; the Transformer, the embeddings and the head
are trained.
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

NEW_CHANNELS = "new"
REMEDY = (
    ". Give trials of those channels, or pass --set channels=new to fine-tune the pretrained "
    "tokeniser and Transformer with new embeddings for these channels (with --set parcels=0 "
    "when their sensors have no positions)"
)


class MEGGPT(NetworkDecoder):
    """MEG-GPT fine-tuned for a classification task.

    Parameters
    ----------
    size : str
        ``tiny``, ``small`` or ``base`` (with ``--init``: the pretrained model's).
    architecture : dict, optional
        Settings overriding the size's (with ``--init``: the pretrained model's).
    channels : str, optional
        ``new``: with ``--init``, give the trials' channels new embeddings instead of
        requiring the pretrained model's channels.
    parcels : int
        Parcels the sensors are mapped to (with ``--init``: the pretrained model's; 0 keeps
        the channels as they are). Fitted on the training trials unless pretrained.
    pool_bins : int
        Stretches of the window whose hidden states are averaged for the head.
    head_dropout : float
        Dropout before the linear head.
    **training
        Band and training settings of :class:`~decoders.network.NetworkDecoder`.
    """

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        size: str = "small",
        architecture: dict[str, Any] | None = None,
        channels: str | None = None,
        parcels: int = 0,
        pool_bins: int = 4,
        head_dropout: float = 0.5,
        **training: Any,
    ) -> None:
        from .pretraining import MEGGPTPretraining

        if channels not in (None, NEW_CHANNELS):
            raise ValueError(f"channels is '{NEW_CHANNELS}' or unset, got {channels!r}")
        super().__init__(seed, hop_s, **training)
        self.architecture_config = MEGGPTPretraining.configuration(size, **(architecture or {}))
        self.channels, self.parcels = channels, parcels
        self.pool_bins, self.head_dropout = pool_bins, head_dropout
        self._parcels_pretrained = False

    @classmethod
    def options_from(cls, source: Path) -> dict[str, Any]:
        """Return the pretrained model's size, architecture settings and parcels."""
        from decoders.pretraining.checkpoint import implied_architecture, load_pretrained

        from .pretraining import SIZES, WEIGHT_KEYS

        pretrained = load_pretrained(source)
        implied = implied_architecture(pretrained, SIZES, WEIGHT_KEYS)
        if pretrained.model != "meg-gpt" or not implied:
            return {}
        parcels = pretrained.config["n_parcels"] if pretrained.config["space"] == "parcels" else 0
        return {**implied, "parcels": parcels}

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return resampling, standardisation, parcels, tokeniser, Transformer and head."""
        from .network import MEGGPTNet
        from .pretraining import tokeniser_of, transformer_of

        config = self.architecture_config
        n_inputs = len(spec.ch_names)
        self._parcels_pretrained = False
        resampled = round(spec.n_times * config["sfreq"] / spec.sfreq)
        if resampled < config["token_kernel"]:
            raise DataError(
                self.name,
                f"windows of {spec.window_s:g} s give {resampled} samples at "
                f"{config['sfreq']:g} Hz, shorter than one token kernel "
                f"({config['token_kernel']} samples)",
            )
        if self.parcels > n_inputs:
            raise DataError(self.name, f"{self.parcels} parcels need at least as many channels")
        return MEGGPTNet(
            tokeniser_of(config),
            transformer_of(config, self.parcels or n_inputs),
            n_inputs=n_inputs,
            n_times=spec.n_times,
            resampled_times=resampled,
            n_parcels=self.parcels,
            n_classes=len(output.names),
            pool_bins=self.pool_bins,
            dropout=self.head_dropout,
        )

    def initialize(self, module: torch.nn.Module, source: Path) -> dict[str, Any]:
        """Load a stage-2 MEG-GPT; map its channels onto the trials' (or give new ones)."""
        import torch

        from decoders.pretraining.checkpoint import load_pretrained
        from decoders.pretraining.model import require_settings

        from .pretraining import WEIGHT_KEYS, restore

        pretrained = load_pretrained(source)
        if pretrained.model != "meg-gpt":
            raise DataError(pretrained.path, f"is a pretrained {pretrained.model}, not a meg-gpt")
        if pretrained.config["stage"] != "gpt":
            raise DataError(
                pretrained.path,
                "is a stage-1 (tokeniser) MEG-GPT model where stage 2 (gpt) is expected: run "
                "bci-app pretrain meg-gpt --stage gpt --init THIS_FOLDER first",
            )
        require_settings(
            pretrained,
            self.architecture_config,
            WEIGHT_KEYS,
            "its architecture does not fit the decoder asked for",
            "leave size and architecture unset to take the pretrained model's",
        )
        model = restore(pretrained)
        module.tokeniser.load_state_dict(model.tokeniser.state_dict())
        embedding = module.transformer.channel.weight
        state = {k: v for k, v in model.gpt.state_dict().items() if not k.startswith("channel.")}
        module.transformer.load_state_dict(state, strict=False)
        names = self.input_spec_.ch_names
        if self.channels is None:
            with torch.no_grad():
                embedding.copy_(self._pretrained_rows(model, names, pretrained.path, module))
        return {
            "source": str(pretrained.path),
            "sha256": pretrained.sha256,
            "model": pretrained.model,
            "config": pretrained.config,
            "space": model.space,
            "channels": "pretrained" if self.channels is None else NEW_CHANNELS,
            "corpus": pretrained.card.get("corpus", {}).get("fingerprint"),
            "corpus_files": pretrained.card.get("corpus", {}).get("n_files"),
            "corpus_hours": pretrained.card.get("corpus", {}).get("hours_used"),
            "pretraining_steps": pretrained.card.get("steps"),
        }

    def _pretrained_rows(self, model, names: tuple[str, ...], path: Path, module) -> torch.Tensor:
        """Return the channel embeddings of the trials' channels; set the pretrained parcels."""
        import torch

        table = model.gpt.channel.weight.detach()
        if model.space == "parcels":
            if self.parcels != len(model.channels):
                raise DataError(
                    path,
                    f"has {len(model.channels)} parcels, the decoder asked for {self.parcels} "
                    "(leave parcels unset to take the pretrained model's)",
                )
            parcellation = model.parcellation
            what = (
                f"{len(parcellation.sensors)} sensors ({', '.join(parcellation.sensors[:4])} ...)"
            )
            columns = parcellation.columns(
                names, path, f"; it was pretrained on parcels of {what}{REMEDY}"
            )
            with torch.no_grad():
                module.parcels.zero_()
                module.parcels[:, torch.as_tensor(columns)] = model.parcel_weights
            self._parcels_pretrained = True
            return table
        known = {name: row for row, name in enumerate(model.channels)}
        unknown = [name for name in names if name not in known]
        if unknown or self.parcels:
            shown = ", ".join(model.channels[:8]) + (" ..." if len(model.channels) > 8 else "")
            problem = (
                f"these trials have {len(unknown)} channels it was not pretrained on "
                f"({', '.join(unknown[:6])})"
                if unknown
                else "it takes channels as they are, not parcels"
            )
            raise DataError(path, f"{problem}; its channels: {shown}{REMEDY}")
        return table[torch.as_tensor([known[name] for name in names])]

    def prepare(self, module: torch.nn.Module, train: TrialSet) -> None:
        """Fit parcels (unless pretrained) and the per-channel scales on the training trials."""
        import torch

        from .parcels import fit_parcellation

        data = torch.as_tensor(train.data, dtype=torch.float32)
        if module.parcels is not None and not self._parcels_pretrained:
            if train.ch_pos is None or any(name not in train.ch_pos for name in train.ch_names):
                raise DataError(
                    train.name,
                    f"has no position for some channels; {self.parcels} parcels group "
                    "sensors by position (pass --set parcels=0 to keep the channels)",
                )
            positions = np.array([train.ch_pos[name] for name in train.ch_names])
            fit_scales(module, data)
            with torch.no_grad():
                centred = module.centred(data).numpy()
            fitted = fit_parcellation(train.ch_names, positions, centred, self.parcels, train.name)
            module.parcels.copy_(torch.as_tensor(fitted.weights, dtype=torch.float32))
        fit_scales(module, data)

    def window_conditioning(self) -> dict[str, str]:
        """Return the network's own conditioning (see :mod:`.network`)."""
        return {
            "dc_and_drift": "each channel's window mean removed",
            "scale": "each channel divided by its sd over the training windows (and each parcel "
            "by its own), so amplitude differences between windows remain",
        }

    def card_extra(self) -> dict[str, Any]:
        """Return the input conditioning and the channels the model sees."""
        self._require_fitted()
        return {
            **super().card_extra(),
            "model_channels": "parcels" if self.parcels else "channels",
            "n_model_channels": int(self.module_.channel_ids.numel()),
            "channel_embeddings": "new"
            if self.channels == NEW_CHANNELS
            else "pretrained or scratch",
        }


def fit_scales(module: torch.nn.Module, data: torch.Tensor) -> None:
    """Set a MEG-GPT module's per-input and per-channel scales from windows ``data``."""
    import torch

    with torch.no_grad():
        module.input_scale.fill_(1.0)
        module.input_scale.copy_(_scale(module.centred(data)))
        module.channel_scale.fill_(1.0)
        module.channel_scale.copy_(_scale(module.mapped(data)))


def _scale(x: torch.Tensor) -> torch.Tensor:
    """Return each channel's standard deviation over windows and time (1 where it is 0)."""
    scale = x.transpose(0, 1).reshape(x.shape[1], -1).std(dim=1)
    return scale.where(scale > 0, scale.new_ones(()))
