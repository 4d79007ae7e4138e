"""Du-IN's two pretraining stages on the shared framework, across subjects.

``stage`` ``vqvae`` (stage 1): per-subject input layers, tokenizer and encoder, then the
encoded tokens are projected to ``code_dim``, quantised by a cosine codebook (EMA, k-means
initialisation, :class:`~decoders.pretraining.vq.VectorQuantizer`), decoded by a Transformer
and a transposed-convolution regressor, and mapped back to each subject's contacts by a
per-subject output layer; the loss is the MSE of the z-scored signal plus the commitment
loss (``beta``).

``stage`` ``mae`` (stage 2) starts from a stage-1 model (``bci-app pretrain duin --stage mae
--init STAGE1``): that model, frozen, gives every token its code; a copy of its input
layers, tokenizer and encoder (trainable, starting from its weights) sees half the tokens
replaced by a learnt mask token and predicts the codes of the masked ones (cross-entropy).
Masks are symmetric: each item is seen with a mask and with its complement.

Each corpus file is a subject's (its BIDS ``sub-`` label, else the file itself); a segment
is the file's first ``max_channels`` sEEG/ECoG/DBS contacts. Sizes: ``tiny`` (tests),
``small`` (500 Hz, CPU benchmarks), ``base`` (the paper's: 1000 Hz, 100 ms tokens of width
160, 8 blocks, 2048 x 64 codes).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F

from decoders.datasets.errors import DataError
from decoders.pretraining.model import (
    Losses,
    PretrainingModel,
    require_settings,
    require_stage_one,
)
from decoders.pretraining.segments import SegmentSpec
from decoders.pretraining.vq import VectorQuantizer

from .network import DuINEncoder, SubjectLayers, standardise
from .subjects import layer_key, subject_of, subjects_of_plan

if TYPE_CHECKING:
    from pathlib import Path

    from decoders.pretraining.checkpoint import Pretrained
    from decoders.pretraining.segments import CorpusPlan

CH_TYPES = ("seeg", "ecog", "dbs")
STAGES = ("vqvae", "mae")

_PAPER = {
    "stage": "vqvae",
    "sfreq": 1000.0,
    "segment_s": 3.0,
    "max_channels": 128,
    "n_channels": 16,
    "patch": 100,
    "filters": [128, 128, 16],
    "kernels": [19, 3, 3],
    "strides": [10, 1, 1],
    "depth": 8,
    "heads": 8,
    "decoder_depth": 4,
    "n_codes": 2048,
    "code_dim": 64,
    "beta": 1.0,
    "decay": 0.99,
    "dead_threshold": 0.5,
    "mask_ratio": 0.5,
    "dropout": 0.2,
    "seed": 0,
}
SIZES = {
    "tiny": {
        **_PAPER,
        "sfreq": 200.0,
        "segment_s": 1.0,
        "max_channels": 96,
        "n_channels": 8,
        "patch": 20,
        "filters": [8, 8, 4],
        "kernels": [5, 3, 3],
        "strides": [5, 1, 1],
        "depth": 1,
        "heads": 2,
        "decoder_depth": 1,
        "n_codes": 32,
        "code_dim": 8,
        "dropout": 0.0,
    },
    "small": {
        **_PAPER,
        "sfreq": 500.0,
        "patch": 50,
        "filters": [32, 32, 8],
        "kernels": [9, 3, 3],
        "strides": [5, 1, 1],
        "depth": 2,
        "heads": 4,
        "decoder_depth": 1,
        "n_codes": 256,
        "code_dim": 32,
        "dropout": 0.1,
    },
    "base": _PAPER,
}
ENCODER_KEYS = ("n_channels", "patch", "filters", "kernels", "strides", "depth", "heads")
WEIGHT_KEYS = (*ENCODER_KEYS, "sfreq", "decoder_depth", "n_codes", "code_dim")
"""Settings that shape the weights: a pretrained model fits a model that agrees on them."""


def require_encoder_weights(
    encoder: torch.nn.Module, weights: dict[str, Any], source: Path | str
) -> None:
    """Raise a :class:`DataError` when ``weights`` hold other tensors than ``encoder``'s."""
    expected = set(encoder.state_dict())
    extra, missing = sorted(set(weights) - expected), sorted(expected - set(weights))
    if extra or missing:
        raise DataError(
            source,
            f"its encoder's weights do not fit this Du-IN encoder (only in the file: "
            f"{', '.join(extra[:4]) or 'none'}; missing: {', '.join(missing[:4]) or 'none'}): "
            "it was pretrained by another version of Du-IN (older encoders ended with a "
            "layer norm); pretrain it again (bci-app pretrain duin)",
        )


def require_architecture(
    pretrained: Pretrained, config: dict[str, Any], problem: str, side: str, remedy: str
) -> None:
    """Raise a :class:`DataError` naming the weight-shaping settings ``pretrained`` differs on."""
    require_settings(pretrained, config, WEIGHT_KEYS, problem, remedy, side)


def encoder_of(config: dict[str, Any]) -> DuINEncoder:
    """Return an untrained encoder (tokenizer and Transformer) for a configuration."""
    return DuINEncoder(
        **{key: config[key] for key in ENCODER_KEYS},
        dropout=config["dropout"],
    )


class Codebook(torch.nn.Module):
    """Stage 1 past the encoder: projection, cosine codebook, decoder, regressor."""

    def __init__(self, config: dict[str, Any], d_model: int) -> None:
        super().__init__()
        from decoders.models.eegformer.backbone import Stack

        self.to_code = torch.nn.Linear(d_model, config["code_dim"])
        self.quantizer = VectorQuantizer(
            config["n_codes"],
            config["code_dim"],
            cosine=True,
            beta=config["beta"],
            decay=config["decay"],
            dead_threshold=config["dead_threshold"],
            seed=config["seed"],
        )
        self.from_code = torch.nn.Linear(config["code_dim"], d_model)
        self.decoder = Stack(d_model, config["decoder_depth"], config["heads"], config["dropout"])
        stride = math.prod(config["strides"])
        self.features, self.step = config["filters"][-1], config["patch"] // stride
        self.regressor = torch.nn.ConvTranspose1d(
            self.features, config["n_channels"], stride, stride
        )

    def reconstruct(self, codes: torch.Tensor) -> torch.Tensor:
        """Return virtual channels (batch, n_channels, tokens * patch) from quantised tokens."""
        hidden = self.decoder(self.from_code(codes))
        batch, tokens, _ = hidden.shape
        features = hidden.reshape(batch * tokens, self.features, self.step)
        patches = self.regressor(features)  # (batch * tokens, n_channels, patch)
        channels, patch = patches.shape[1:]
        return patches.reshape(batch, tokens, channels, patch).permute(0, 2, 1, 3).flatten(2)


class DuINPretraining(PretrainingModel):
    """Du-IN pretrained across subjects: stage ``vqvae`` or ``mae`` (see the module)."""

    sizes: ClassVar[dict[str, dict[str, Any]]] = SIZES

    @classmethod
    def check(cls, config: dict[str, Any]) -> None:
        """Refuse an unknown stage, segments shorter than a token, widths heads cannot split."""
        if config["stage"] not in STAGES:
            raise DataError(
                "duin", f"unknown stage '{config['stage']}' (stages: {', '.join(STAGES)})"
            )
        n_times = round(config["segment_s"] * config["sfreq"])
        if n_times < config["patch"]:
            raise DataError(
                "duin",
                f"segments of {config['segment_s']:g} s ({n_times} samples at {config['sfreq']:g} "
                f"Hz) are shorter than one token of {config['patch']} samples",
            )
        width = config["filters"][-1] * config["patch"] // math.prod(config["strides"])
        if width % config["heads"]:
            raise DataError(
                "duin", f"a token width of {width} does not split into {config['heads']} heads"
            )

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self.config = dict(config)
        self.stage = config["stage"]
        self.subjects: dict[str, tuple[str, ...]] = {}
        self.subject_in = SubjectLayers(config["n_channels"])
        self.encoder = encoder_of(config)
        d_model = self.encoder.d_model
        if self.stage == "vqvae":
            self.codebook = Codebook(config, d_model)
            self.subject_out = SubjectLayers(config["n_channels"], inverse=True)
        else:
            self.mask_token = torch.nn.Parameter(torch.zeros(d_model))
            self.head = torch.nn.Linear(d_model, config["n_codes"])
            self.target = DuINPretraining(**{**config, "stage": "vqvae"})
            self.target.requires_grad_(False)
        self._start: Pretrained | None = None
        self.register_buffer("file_subject", torch.zeros(0, dtype=torch.long), persistent=False)
        self._keys: list[str] = []

    @staticmethod
    def segment_spec(config: dict[str, Any]) -> SegmentSpec:
        """Return ``segment_s`` of up to ``max_channels`` intracranial contacts per item."""
        return SegmentSpec(
            config["sfreq"],
            round(config["segment_s"] * config["sfreq"]),
            CH_TYPES,
            n_channels=config["max_channels"],
        )

    # ------------------------------------------------------------------ subjects
    def attach(self, plan: CorpusPlan) -> None:
        """Build one input (and output) layer per subject of the corpus."""
        limit = self.config["max_channels"]
        files = [
            (item.file.path, tuple(item.file.ch_names[i] for i in item.picks[:limit]))
            for item in plan.files
        ]
        self.subjects = subjects_of_plan(files)
        self._keys = list(self.subjects)
        index = {subject: number for number, subject in enumerate(self._keys)}
        self.file_subject = torch.tensor([index[subject_of(path)] for path, _ in files])
        for subject, channels in self.subjects.items():
            self._add_subject(subject, len(channels))
        if self.stage == "mae":
            target = self.target
            target.subjects, target._keys = dict(self.subjects), self._keys
            target.file_subject = self.file_subject
            for subject, channels in self.subjects.items():
                target._add_subject(subject, len(channels))
            target.requires_grad_(False)
        if self._start is not None:
            self._load_stage_one(self._start)

    def _add_subject(self, subject: str, n_contacts: int) -> None:
        self.subject_in.add(layer_key(subject), n_contacts)
        if self.stage == "vqvae":
            self.subject_out.add(layer_key(subject), n_contacts)

    def start_from(self, pretrained: Pretrained) -> dict[str, Any]:
        """Keep a stage-1 model to start stage 2 from (loaded once the corpus is attached)."""
        stage = require_stage_one(pretrained, "duin", "Du-IN", ("vqvae", "mae"), self.stage)
        require_architecture(
            pretrained,
            self.config,
            "its architecture differs from stage 2's",
            "here",
            "give stage 2 the same --size and settings as stage 1",
        )
        self._start = pretrained
        return {"source": str(pretrained.path), "sha256": pretrained.sha256, "stage": stage}

    def _load_stage_one(self, pretrained: Pretrained) -> None:
        known = pretrained.card.get("subjects", {})
        for subject, channels in self.subjects.items():
            if subject not in known:
                raise DataError(
                    pretrained.path,
                    f"has no input layer for subject {subject} of this corpus (its subjects: "
                    f"{', '.join(sorted(known))}); stage 2 needs every subject in stage 1",
                )
            if tuple(known[subject]) != channels:
                raise DataError(
                    pretrained.path,
                    f"subject {subject}'s contacts differ from stage 1's "
                    f"({len(channels)} here, {len(known[subject])} there): pretrain both "
                    "stages on the same recordings",
                )
        own = set(self.subjects)
        state = {
            key: value
            for key, value in pretrained.state.items()
            if not key.startswith(("subject_in.layers.", "subject_out.layers."))
            or key.split(".")[2] in {layer_key(s) for s in own}
        }
        encoder = {
            key.removeprefix("encoder."): value
            for key, value in state.items()
            if key.startswith("encoder.")
        }
        require_encoder_weights(self.target.encoder, encoder, pretrained.path)
        self.target.load_state_dict(state)
        trainable = {
            key: value
            for key, value in state.items()
            if key.startswith(("subject_in.", "encoder."))
        }
        self.load_state_dict(trainable, strict=False)

    def card(self) -> dict[str, Any]:
        """Return the subjects and their contacts (the fine-tuning decoder checks them)."""
        card: dict[str, Any] = {"subjects": {s: list(c) for s, c in self.subjects.items()}}
        if self._start is not None:
            card["stage_one"] = {
                "source": str(self._start.path),
                "sha256": self._start.sha256,
                "corpus": self._start.card.get("corpus", {}).get("fingerprint"),
            }
        return card

    # ------------------------------------------------------------------ losses
    def fuse(self, data: torch.Tensor, source: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Return every item's virtual channels and the items of each subject present."""
        subjects = self.file_subject.to(source.device)[source]
        fused = data.new_zeros(data.shape[0], self.config["n_channels"], data.shape[-1])
        groups = {}
        for number in torch.unique(subjects).tolist():
            key = layer_key(self._keys[number])
            items = torch.nonzero(subjects == number).flatten()
            contacts = len(self.subjects[self._keys[number]])
            signal = standardise(data[items, :contacts])
            fused = fused.index_put((items,), self.subject_in.mix(key, signal))
            groups[key] = (items, signal)
        return fused, groups

    def losses(self, data: torch.Tensor, weight: torch.Tensor, source: torch.Tensor) -> Losses:
        """Return the stage's losses on segments ``data`` (items, max_channels, times)."""
        if self.stage == "vqvae":
            return self._vqvae_losses(data, weight, source)
        return self._mae_losses(data, weight, source)

    def _vqvae_losses(self, data, weight, source) -> Losses:
        fused, groups = self.fuse(data, source)
        tokens = self.encoder(fused)
        codes = self.codebook.to_code(tokens)
        quantised = self.codebook.quantizer(codes, weight[:, None].expand(codes.shape[:2]))
        virtual = self.codebook.reconstruct(quantised.vectors)
        squared, count = fused.new_zeros(()), fused.new_zeros(())
        for key, (items, signal) in groups.items():
            recon = self.subject_out.mix(key, virtual[items])
            error = (recon - signal[..., : recon.shape[-1]]).pow(2).mean(dim=(1, 2))
            squared = squared + (error * weight[items]).sum()
            count = count + weight[items].sum()
        reconstruction = squared / count.clamp_min(1.0)
        idle = self.subject_in.idle_term(set(groups)) + self.subject_out.idle_term(set(groups))
        total = reconstruction + quantised.loss + idle.to(reconstruction.device)
        return Losses(
            total,
            {
                "reconstruction_loss": float(reconstruction.detach()),
                "commitment_loss": float(quantised.loss.detach()),
            },
        )

    def codes(self, data: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        """Return the code of every token (items, tokens) of a stage-1 model."""
        fused, _ = self.fuse(data, source)
        return self.codebook.quantizer.codes_of(self.codebook.to_code(self.encoder(fused)))

    def _mae_losses(self, data, weight, source) -> Losses:
        self.target.eval()
        with torch.no_grad():
            targets = self.target.codes(data, source)
        fused, groups = self.fuse(data, source)
        mask = self._mask(targets.shape)
        entropy, correct, count = fused.new_zeros(()), fused.new_zeros(()), fused.new_zeros(())
        for masked in (mask, ~mask):  # symmetric masks: every token is predicted once
            logits = self.head(self.encoder.masked(fused, masked, self.mask_token))
            token_weight = masked.float() * weight[:, None]
            loss = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
            entropy = entropy + (loss * token_weight).sum()
            correct = correct + ((logits.argmax(-1) == targets).float() * token_weight).sum()
            count = count + token_weight.sum()
        prediction = entropy / count.clamp_min(1.0)
        idle = self.subject_in.idle_term(set(groups)).to(prediction.device)
        return Losses(
            prediction + idle,
            {
                "prediction_loss": float(prediction.detach()),
                "masked_accuracy": float(correct / count.clamp_min(1.0)),
            },
        )

    def _mask(self, shape: torch.Size) -> torch.Tensor:
        """Return a random mask (items, tokens) hiding ``mask_ratio`` of each item's tokens."""
        items, tokens = shape
        hidden = max(1, min(tokens - 1, round(self.config["mask_ratio"] * tokens)))
        ranks = torch.rand(items, tokens).argsort(dim=1).argsort(dim=1)
        return (ranks < hidden).to(self.mask_token.device)

    def quantizers(self) -> list[VectorQuantizer]:
        """Return the codebook of stage 1 (stage 2's targets come from a frozen one)."""
        return [self.codebook.quantizer] if self.stage == "vqvae" else []
