"""The ``brain-speech`` decoder: the brain module, trained contrastively on speech pairs.

On :class:`~decoders.speech.trials.SpeechTrials` it maps each brain window into the space of
the speech features heard (output kind ``embedding``: one output per feature and frame),
trained with the CLIP-style loss (``loss="clip"``) or by regression (``loss="mse"``, the
ablation), and is scored by retrieval. On ordinary labelled trials (words read aloud in an
sEEG recording, for instance) the same network classifies them (output kind
``probabilities``, cross-entropy), which makes it a baseline for intracranial word decoding.

Subjects: every subject of the training data gets its own layer; windows of other subjects
go through the shared layer, which is also what an exported model uses unless
``live_subject`` names a training subject. The card says which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from decoders.contract import InputSpec, OutputSpec
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.history import History, TrainingRun
from decoders.network import NetworkDecoder
from decoders.preprocessing import apply_to_trials
from decoders.speech.trials import SpeechTrials

from .layout import layout_2d, sensor_positions

if TYPE_CHECKING:
    import torch

LOSS_NAMES = ("clip", "mse")


class BrainSpeechDecoder(NetworkDecoder):
    """The brain module of Défossez et al. (2023), reimplemented, behind the decoder contract.

    Parameters
    ----------
    seed : int
        Seeds weight initialisation, batch order, dropout and subject routing.
    hop_s : float
        Time between windows when decoding a stream.
    loss : str
        ``clip`` (contrastive) or ``mse`` (regression onto the speech features).
    spatial_attention : bool
        Attend over sensors by their positions (needs positions, from the data or
        ``montage``); False: a learnt linear map of the channels (for intracranial contacts
        without a meaningful 2-D layout).
    montage : str, optional
        MNE standard montage giving sensor positions by channel name, for data without them.
    n_virtual, fourier_dim, spatial_dropout
        Virtual channels of the spatial attention, size of its Fourier embedding, radius of
        the spatial dropout (unit-square layout).
    hidden, n_blocks, kernel, dropout
        Width of the convolution stack, its blocks, kernel size and dropout after a block.
    clip : float
        Standardised samples are clipped at this many deviations.
    shared_share : float
        Share of training windows routed through the shared subject layer.
    live_subject : int, optional
        A training subject (its group id) whose own layer the exported model uses; default
        the shared layer.
    **training
        Band and training settings of :class:`~decoders.network.NetworkDecoder`.
    """

    subject_aware: ClassVar[bool] = True

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.5,
        *,
        loss: str = "clip",
        spatial_attention: bool = True,
        montage: str | None = None,
        n_virtual: int = 270,
        fourier_dim: int = 2048,
        spatial_dropout: float = 0.2,
        hidden: int = 320,
        n_blocks: int = 5,
        kernel: int = 3,
        dropout: float = 0.0,
        clip: float = 20.0,
        shared_share: float = 0.1,
        live_subject: int | None = None,
        **training: Any,
    ) -> None:
        if loss not in LOSS_NAMES:
            raise ValueError(f"unknown loss '{loss}' (known: {', '.join(LOSS_NAMES)})")
        super().__init__(seed, hop_s, **training)
        self.loss = loss
        self.spatial_attention, self.montage = spatial_attention, montage
        self.n_virtual, self.fourier_dim, self.spatial_dropout = (
            n_virtual,
            fourier_dim,
            spatial_dropout,
        )
        self.hidden, self.n_blocks, self.kernel, self.dropout = hidden, n_blocks, kernel, dropout
        self.clip, self.shared_share, self.live_subject = clip, shared_share, live_subject
        self.subjects_: tuple[int, ...] = ()
        self.positions_: np.ndarray | None = None
        self.layout_: np.ndarray | None = None
        self.speech_: dict[str, Any] = {}

    # ------------------------------------------------------------------ fitting
    def fit(self, train: TrialSet, valid: TrialSet, **options: Any) -> BrainSpeechDecoder:
        """Fit on ``train`` (speech pairs or labelled trials); see :meth:`Decoder.fit`."""
        self.subjects_ = tuple(int(s) for s in np.unique(train.groups))
        if self.live_subject is not None and self.live_subject not in self.subjects_:
            raise DataError(
                train.name,
                f"live_subject {self.live_subject} is not a training subject "
                f"(subjects: {list(self.subjects_)})",
            )
        if self.spatial_attention:
            self.positions_ = sensor_positions(
                train.ch_names, train.ch_pos, self.montage, train.name
            )
            self.layout_ = layout_2d(self.positions_)
        self.speech_ = dict(train.speech) if isinstance(train, SpeechTrials) else {}
        return super().fit(train, valid, **options)

    def output_for(self, train: TrialSet) -> OutputSpec:
        """Return an embedding (one output per feature and frame) for speech, else classes."""
        if not isinstance(train, SpeechTrials):
            return OutputSpec("probabilities", train.classes)
        names, frames = train.feature_settings.names(), train.features.shape[2]
        if train.n_times % frames:
            raise DataError(
                train.name,
                f"windows of {train.n_times} samples do not split into the {frames} feature "
                f"frames: choose a brain rate that is a multiple of the frame rate",
            )
        return OutputSpec("embedding", tuple(f"{n}@{f}" for n in names for f in range(frames)))

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the brain module for ``spec`` with the training subjects and positions."""
        import torch

        from .network import BrainModule

        classify = output.kind == "probabilities"
        n_features = 0 if classify else sum(name.endswith("@0") for name in output.names)
        frames = 1 if classify else len(output.names) // n_features
        module = BrainModule(
            len(spec.ch_names),
            spec.n_times,
            len(self.subjects_),
            n_features=n_features,
            pool=spec.n_times // frames,
            n_classes=len(output.names) if classify else None,
            spatial_attention=self.spatial_attention,
            n_virtual=self.n_virtual,
            fourier_dim=self.fourier_dim,
            dropout_radius=self.spatial_dropout,
            hidden=self.hidden,
            n_blocks=self.n_blocks,
            kernel=self.kernel,
            dropout=self.dropout,
            clip=self.clip,
        )
        module.subject_ids.copy_(torch.as_tensor(self.subjects_, dtype=torch.long))
        module.default_subject.fill_(self._layer_of(self.live_subject))
        if self.layout_ is not None:
            module.spatial.positions.copy_(torch.as_tensor(self.layout_, dtype=torch.float32))
        return module

    def restore(self, spec: InputSpec, output: OutputSpec, state: dict[str, Any]):
        """Rebuild from a checkpoint (the training subjects are part of the weights)."""
        self.subjects_ = tuple(int(s) for s in state["subject_ids"].tolist())
        return super().restore(spec, output, state)

    def prepare(self, module: torch.nn.Module, train: TrialSet) -> None:
        """Set each channel's scale: its deviation in the training windows (centred)."""
        import torch

        centred = train.data - train.data.mean(axis=2, keepdims=True)
        scale = centred.std(axis=(0, 2))
        scale = np.where(scale > 0, scale, 1.0)
        module.scale.copy_(torch.as_tensor(scale, dtype=torch.float32)[None, :, None])

    def train_module(
        self, module: torch.nn.Module, train: TrialSet, valid: TrialSet, run: TrainingRun
    ) -> History:
        """Train on speech pairs (contrastive or regression) or on labelled trials."""
        from .training import fit_brain_module

        self.prepare(module, train)
        return fit_brain_module(
            module,
            train,
            valid,
            self.train_config,
            loss=self.loss if isinstance(train, SpeechTrials) else "cross-entropy",
            layers=(self._layers(train.groups), self._layers(valid.groups)),
            shared_share=self.shared_share,
            run=run,
        )

    # ------------------------------------------------------------------ using it
    def predict_proba(self, data: np.ndarray, subjects: np.ndarray | None = None) -> np.ndarray:
        """Return embeddings (or class probabilities) of raw windows ``data``.

        ``subjects`` (group ids) route each window through its subject's layer (the shared
        one for subjects not seen in training); default: the exported model's layer.
        """
        import torch

        if subjects is None:
            return super().predict_proba(data)
        spec = self.input_spec_
        data = apply_to_trials(
            spec.preprocessing, np.asarray(data), spec.sfreq, spec.ch_names, spec.ch_types
        ).astype(np.float32)
        layers = torch.as_tensor(self._layers(np.asarray(subjects)), dtype=torch.long)
        self.module_.eval()
        with torch.no_grad():
            outputs = torch.cat(
                [
                    self.module_(
                        torch.from_numpy(data[start : start + 256]), layers[start : start + 256]
                    )
                    for start in range(0, len(data), 256)
                ]
            )
            if self.output_spec_.kind == "probabilities":
                outputs = torch.softmax(outputs, dim=1)
        return outputs.numpy().astype(float)

    def export_module(self) -> torch.nn.Module:
        """Return the network with its spatial attention precomputed for the deployed montage."""
        import torch

        from .network import deployed

        module = deployed(self.module_)
        if self.output_spec_.kind != "probabilities":
            return module
        return torch.nn.Sequential(module, torch.nn.Softmax(dim=1)).eval()

    def window_conditioning(self) -> dict[str, str]:
        """Return the network's own conditioning: windows centred, channels scaled, clipped."""
        return {
            "dc_and_drift": "each window's per-channel mean removed",
            "scale": "per-channel sd of the training windows, then clipped",
        }

    def card_extra(self) -> dict[str, Any]:
        """Return the input conditioning, the speech settings, subjects, subject layer used live and parameter count."""
        layer = (
            f"subject {self.live_subject}'s own layer"
            if self.live_subject is not None
            else "the shared layer (learnt for subjects not seen in training)"
        )
        extra = {
            **super().card_extra(),
            "subjects": list(self.subjects_),
            "live_subject_layer": layer,
            "parameters": int(sum(p.numel() for p in self.module_.parameters())),
            "spatial_attention": (
                f"positions from the montage {self.montage}"
                if self.montage
                else "positions from the data"
            )
            if self.spatial_attention
            else "off (a learnt linear map of the channels)",
        }
        if self.speech_:
            extra["speech"] = self.speech_
        return extra

    def _layer_of(self, subject: int | None) -> int:
        """Return the layer index of a subject (the shared layer when not a training subject)."""
        return self.subjects_.index(subject) if subject in self.subjects_ else len(self.subjects_)

    def _layers(self, groups: np.ndarray) -> np.ndarray:
        return np.array([self._layer_of(int(group)) for group in groups], dtype=np.int64)
