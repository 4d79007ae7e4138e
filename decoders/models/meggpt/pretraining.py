"""MEG-GPT's two pretraining stages on the shared framework.

``stage`` ``tokeniser`` (stage 1): every channel of a segment, standardised over the segment,
is tokenised one token per sample and reconstructed from its tokens
(:class:`~.tokeniser.Tokeniser`); loss: mean squared error plus the commitment loss.

``stage`` ``gpt`` (stage 2) starts from a stage-1 model (``bci-app pretrain meg-gpt --stage gpt
--init STAGE1``), whose tokeniser, frozen, turns every channel into tokens; the causal
Transformer (:class:`~.transformer.CausalTransformer`) predicts every channel's next token
(cross-entropy).

Channels (``space``):

- ``parcels`` (MEG, default): the first ``max_channels`` MEG sensors of each file are mapped to
  ``n_parcels`` sensor-space parcels (:mod:`.parcels`), fitted at the start of the run on up to
  ``fit_segments`` segments of the corpus; every file must hold the sensors of the first one.
- ``sensors`` (EEG, or MEG kept as it is): the first ``max_channels`` channels of the types
  ``ch_types``, each with a channel embedding learnt per channel name over the corpus.

Sizes: ``tiny`` (tests: sensors, 50 Hz), ``small`` (100 Hz, 16 parcels, the CPU benchmark's),
``base`` (250 Hz, 52 parcels as the paper's Cam-CAN model, a width-128, 8-block Transformer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from decoders.datasets.errors import DataError
from decoders.pretraining.model import (
    Losses,
    PretrainingModel,
    require_settings,
    require_stage_one,
)
from decoders.pretraining.segments import SegmentSpec, resample
from decoders.pretraining.vq import VectorQuantizer

from .parcels import Parcellation, fit_parcellation
from .tokeniser import Tokeniser, standardise
from .transformer import CausalTransformer

if TYPE_CHECKING:
    from decoders.pretraining.checkpoint import Pretrained
    from decoders.pretraining.segments import CorpusPlan

STAGES = ("tokeniser", "gpt")
SPACES = ("parcels", "sensors")
KNOWN_TYPES = ("mag", "grad", "eeg", "seeg", "ecog")

_BASE = {
    "stage": "tokeniser",
    "sfreq": 250.0,
    "segment_s": 1.0,
    "space": "parcels",
    "ch_types": ["mag", "grad"],
    "max_channels": 306,
    "n_parcels": 52,
    "fit_segments": 64,
    "n_tokens": 256,
    "code_dim": 16,
    "encoder_width": 64,
    "encoder_layers": 3,
    "encoder_kernel": 9,
    "token_kernel": 21,
    "width": 128,
    "depth": 8,
    "heads": 8,
    "dropout": 0.1,
    "beta": 0.25,
    "decay": 0.99,
    "dead_threshold": 0.5,
    "seed": 0,
}
SIZES = {
    "tiny": {
        **_BASE,
        "sfreq": 50.0,
        "segment_s": 1.0,
        "space": "sensors",
        "ch_types": ["mag", "grad", "eeg"],
        "max_channels": 8,
        "n_parcels": 4,
        "fit_segments": 8,
        "n_tokens": 16,
        "code_dim": 4,
        "encoder_width": 8,
        "encoder_layers": 1,
        "encoder_kernel": 5,
        "token_kernel": 5,
        "width": 16,
        "depth": 1,
        "heads": 2,
        "dropout": 0.0,
    },
    "small": {
        **_BASE,
        "sfreq": 100.0,
        "n_parcels": 16,
        "n_tokens": 64,
        "code_dim": 8,
        "encoder_width": 16,
        "encoder_layers": 2,
        "encoder_kernel": 7,
        "token_kernel": 9,
        "width": 32,
        "depth": 2,
        "heads": 4,
    },
    "base": _BASE,
}
TOKENISER_KEYS = (
    "sfreq",
    "n_tokens",
    "code_dim",
    "encoder_width",
    "encoder_layers",
    "encoder_kernel",
    "token_kernel",
)
WEIGHT_KEYS = (*TOKENISER_KEYS, "width", "depth", "heads")
"""Settings that shape the weights: a pretrained model fits a model that agrees on them."""


def tokeniser_of(config: dict[str, Any]) -> Tokeniser:
    """Return an untrained tokeniser for a configuration."""
    return Tokeniser(
        n_tokens=config["n_tokens"],
        code_dim=config["code_dim"],
        width=config["encoder_width"],
        layers=config["encoder_layers"],
        kernel=config["encoder_kernel"],
        token_kernel=config["token_kernel"],
        beta=config["beta"],
        decay=config["decay"],
        dead_threshold=config["dead_threshold"],
        seed=config["seed"],
    )


def transformer_of(config: dict[str, Any], n_channels: int) -> CausalTransformer:
    """Return an untrained causal Transformer for a configuration and ``n_channels`` ids."""
    return CausalTransformer(
        n_tokens=config["n_tokens"],
        n_channels=n_channels,
        width=config["width"],
        depth=config["depth"],
        heads=config["heads"],
        dropout=config["dropout"],
    )


class MEGGPTPretraining(PretrainingModel):
    """MEG-GPT pretrained in two stages: ``tokeniser`` then ``gpt`` (see the module)."""

    sizes: ClassVar[dict[str, dict[str, Any]]] = SIZES

    @classmethod
    def check(cls, config: dict[str, Any]) -> None:
        """Refuse unknown stages, spaces and types, and shapes that cannot work."""
        problems = []
        if config["stage"] not in STAGES:
            problems.append(f"unknown stage '{config['stage']}' (stages: {', '.join(STAGES)})")
        if config["space"] not in SPACES:
            problems.append(f"unknown space '{config['space']}' (spaces: {', '.join(SPACES)})")
        unknown = [kind for kind in config["ch_types"] if kind not in KNOWN_TYPES]
        if unknown or not config["ch_types"]:
            problems.append(f"ch_types must be some of {', '.join(KNOWN_TYPES)}")
        n_times = round(config["segment_s"] * config["sfreq"])
        if n_times < 2 * config["token_kernel"]:
            problems.append(
                f"segments of {n_times} samples are shorter than two token kernels "
                f"({config['token_kernel']} samples each)"
            )
        if config["encoder_kernel"] % 2 == 0 or config["token_kernel"] % 2 == 0:
            problems.append("encoder_kernel and token_kernel must be odd")
        if config["width"] % config["heads"]:
            problems.append(
                f"a width of {config['width']} does not split into {config['heads']} heads"
            )
        if config["space"] == "parcels" and config["n_parcels"] > config["max_channels"]:
            problems.append(f"{config['n_parcels']} parcels need at least as many sensors")
        if problems:
            raise DataError("meg-gpt", "; ".join(problems))

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self.config = dict(config)
        self.stage, self.space = config["stage"], config["space"]
        self.tokeniser = tokeniser_of(config)
        parcels = config["space"] == "parcels"
        if self.stage == "gpt":
            self.gpt = transformer_of(config, config["n_parcels"] if parcels else 1)
            self.tokeniser.requires_grad_(False)
            self.tokeniser.quantizer.frozen = True
        self.channels: tuple[str, ...] = ()
        self.parcellation: Parcellation | None = None
        self.register_buffer("parcel_weights", torch.zeros(0, 0))
        self.register_buffer("file_inputs", torch.zeros(0, 0, 0), persistent=False)
        self.register_buffer("file_channels", torch.zeros(0, 0, dtype=torch.long), persistent=False)
        self._start: Pretrained | None = None

    @staticmethod
    def segment_spec(config: dict[str, Any]) -> SegmentSpec:
        """Return ``segment_s`` of up to ``max_channels`` channels of ``ch_types`` per item."""
        return SegmentSpec(
            config["sfreq"],
            round(config["segment_s"] * config["sfreq"]),
            tuple(config["ch_types"]),
            n_channels=config["max_channels"],
        )

    # ------------------------------------------------------------------ channels
    def attach(self, plan: CorpusPlan) -> None:
        """Fit the parcels on the corpus, or learn one embedding per channel name."""
        limit = self.config["max_channels"]
        names = [tuple(item.file.ch_names[i] for i in item.picks[:limit]) for item in plan.files]
        if self.space == "sensors":
            self.channels = tuple(dict.fromkeys(name for file in names for name in file))
            rows = {name: row for row, name in enumerate(self.channels)}
            table = torch.full((len(names), limit), -1, dtype=torch.long)
            for number, file in enumerate(names):
                table[number, : len(file)] = torch.tensor([rows[name] for name in file])
            self.file_channels = table
            if self.stage == "gpt":
                self.gpt.channel = torch.nn.Embedding(len(self.channels), self.config["width"])
            return
        self.parcellation = self._fit_parcels(plan, names)
        self.parcel_weights = torch.as_tensor(self.parcellation.weights, dtype=torch.float32)
        self.channels = self.parcellation.names
        inputs = torch.zeros(len(names), len(self.channels), limit)
        for number, file in enumerate(names):
            columns = self.parcellation.columns(
                file, plan.files[number].file.path, ": every file needs the first file's sensors"
            )
            inputs[number][:, torch.as_tensor(columns)] = self.parcel_weights
        self.file_inputs = inputs

    def _fit_parcels(self, plan: CorpusPlan, names: list[tuple[str, ...]]) -> Parcellation:
        """Fit the parcels of the first file's sensors on up to ``fit_segments`` segments."""
        from decoders.datasets.readers import read_recording

        first = plan.files[0]
        raw = read_recording(first.file.path, preload=False)
        locations = {ch["ch_name"]: ch["loc"][:3] for ch in raw.info["chs"]}
        positions = np.array([locations[name] for name in names[0]])
        return fit_parcellation(
            names[0],
            positions,
            self._fitting_segments(plan, names[0]),
            self.config["n_parcels"],
            first.file.path,
        )

    def _fitting_segments(self, plan: CorpusPlan, sensors: tuple[str, ...]):
        """Yield up to ``fit_segments`` segments (sensors, times), taken from file to file."""
        from decoders.datasets.readers import read_recording

        spec = plan.spec
        budget = self.config["fit_segments"]
        for item in plan.files:
            raw = read_recording(item.file.path, preload=False)
            picks = [raw.ch_names.index(name) for name in sensors if name in raw.ch_names]
            if len(picks) != len(sensors):
                continue  # refused with its missing sensors once the parcels exist
            for segment in range(min(item.n_segments, max(1, budget // len(plan.files)))):
                start = segment * item.source_times
                samples = raw.get_data(picks=picks, start=start, stop=start + item.source_times)
                yield resample(samples, item.file.sfreq, spec.sfreq, spec.n_times)
                budget -= 1
                if budget <= 0:
                    return

    def inputs(
        self, data: torch.Tensor, source: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return standardised model channels, their ids and presence of items ``data``.

        ``data`` (items, max_channels, times) are the files' kept channels; the result is
        (items, channels, times) with ids (items, channels) and a mask of real channels.
        """
        signal = standardise(data)
        if self.space == "parcels":
            mixed = standardise(self.file_inputs.to(data.device)[source] @ signal)
            ids = torch.arange(mixed.shape[1], device=data.device).expand(len(data), -1)
            return mixed, ids, mixed.abs().sum(-1) > 0
        ids = self.file_channels.to(data.device)[source]
        present = (ids >= 0) & (signal.abs().sum(-1) > 0)
        return signal, ids.clamp_min(0), present

    # ------------------------------------------------------------------ stages
    def start_from(self, pretrained: Pretrained) -> dict[str, Any]:
        """Take the tokeniser of a stage-1 model (stage ``gpt`` only)."""
        stage = require_stage_one(
            pretrained, "meg-gpt", "MEG-GPT", ("tokeniser", "gpt"), self.stage
        )
        require_settings(
            pretrained,
            self.config,
            TOKENISER_KEYS,
            "its tokeniser differs from the one stage 2 is set up for",
            "give stage 2 the same --size and tokeniser settings as stage 1",
        )
        self.tokeniser.load_state_dict(
            {
                key.removeprefix("tokeniser."): value
                for key, value in pretrained.state.items()
                if key.startswith("tokeniser.")
            }
        )
        self._start = pretrained
        return {"source": str(pretrained.path), "sha256": pretrained.sha256, "stage": stage}

    def card(self) -> dict[str, Any]:
        """Return the channels (parcels or sensor names) and how they were made."""
        card: dict[str, Any] = {"space": self.space, "channels": list(self.channels)}
        if self.parcellation is not None:
            card["parcellation"] = self.parcellation.describe()
        if self._start is not None:
            card["tokeniser"] = {
                "source": str(self._start.path),
                "sha256": self._start.sha256,
                "corpus": self._start.card.get("corpus", {}).get("fingerprint"),
                "final_losses": self._start.card.get("final_losses"),
            }
        return card

    def losses(self, data: torch.Tensor, weight: torch.Tensor, source: torch.Tensor) -> Losses:
        """Return the stage's losses on segments ``data`` (items, max_channels, times)."""
        signal, ids, present = self.inputs(data, source)
        row_weight = (weight[:, None] * present).reshape(-1)
        rows = signal.reshape(-1, signal.shape[-1])
        if self.stage == "tokeniser":
            reconstruction, commitment = self.tokeniser.losses(rows, row_weight)
            return Losses(
                reconstruction + commitment,
                {
                    "reconstruction_loss": float(reconstruction.detach()),
                    "commitment_loss": float(commitment.detach()),
                },
            )
        with torch.no_grad():
            tokens = self.tokeniser.tokens(rows).reshape(signal.shape)
        logits = self.gpt(tokens, ids, present)[:, :, :-1]
        targets = tokens[:, :, 1:]
        entropy = F.cross_entropy(logits.flatten(0, 2), targets.flatten(), reduction="none")
        token_weight = row_weight.reshape(present.shape)[..., None].expand(targets.shape)
        count = token_weight.sum().clamp_min(1.0)
        prediction = (entropy * token_weight.flatten()).sum() / count
        correct = ((logits.argmax(-1) == targets).float() * token_weight).sum() / count
        return Losses(
            prediction,
            {"prediction_loss": float(prediction.detach()), "next_token_accuracy": float(correct)},
        )

    def quantizers(self) -> list[VectorQuantizer]:
        """Return the tokeniser's codebook in stage 1 (frozen in stage 2)."""
        return [self.tokeniser.quantizer] if self.stage == "tokeniser" else []


def restore(pretrained: Pretrained) -> MEGGPTPretraining:
    """Return the pretrained MEG-GPT of ``pretrained`` with its channels, in evaluation mode."""
    if pretrained.model != "meg-gpt":
        raise DataError(pretrained.path, f"is a pretrained {pretrained.model}, not a meg-gpt")
    model = MEGGPTPretraining(**pretrained.config)
    model.channels = tuple(pretrained.card.get("channels", ()))
    if model.stage == "gpt":
        model.gpt.channel = torch.nn.Embedding(len(model.channels), model.config["width"])
    model.parcel_weights = torch.zeros_like(pretrained.state["parcel_weights"])
    model.load_state_dict(pretrained.state)
    described = pretrained.card.get("parcellation")
    if described is not None:
        model.parcellation = Parcellation(
            tuple(described["sensors"]),
            tuple(described["regions"]),
            model.parcel_weights.numpy().astype(float),
        )
    return model.eval()
