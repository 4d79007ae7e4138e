"""wav2vec 2.0-style checkpoints loaded from a local path (never fetched), for speech features.

Two formats are read, both into torchaudio's ``Wav2Vec2Model`` (pure torch, no download):

- Hugging Face transformers: a folder with ``config.json`` (``model_type`` ``wav2vec2``) and
  ``model.safetensors`` or ``pytorch_model.bin`` (read with ``weights_only``), as written by
  ``save_pretrained``; ``preprocessor_config.json`` says whether clips are normalised.
- torchaudio: a state-dict file (``.pt``/``.pth``, as torchaudio's pipelines store them) with
  a JSON sidecar of the same stem holding either ``wav2vec2_model`` keyword arguments or
  ``{"bundle": NAME}``, a torchaudio pipeline whose architecture torchaudio ships.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.datasets.errors import DataError

from .features import AUDIO_SFREQ, frame_average

if TYPE_CHECKING:
    import torch

_HF_DROPPED = ("lm_head.", "quantizer.", "project_q.", "project_hid.", "masked_spec_embed")


class Wav2Vec:
    """A loaded wav2vec 2.0 encoder, evaluated without gradients.

    Parameters
    ----------
    model : torchaudio.models.Wav2Vec2Model
        The encoder with its weights.
    normalize : bool
        Whether clips are standardised before the encoder (as the checkpoint was trained).
    source : str
        The checkpoint's path, for messages.
    """

    def __init__(self, model: torch.nn.Module, normalize: bool, source: str) -> None:
        self.model = model.eval()
        self.normalize = normalize
        self.source = source
        self.n_layers = len(model.encoder.transformer.layers)
        self.dimension = int(model.encoder.feature_projection.projection.out_features)
        self.stride = int(
            np.prod([layer.conv.stride[0] for layer in model.feature_extractor.conv_layers])
        )

    def hidden_states(
        self, clip: np.ndarray, layers: tuple[int, ...], frame_rate: float, n_frames: int
    ) -> np.ndarray:
        """Return the mean hidden states of ``layers`` (1 = first; empty: last) per frame.

        Returns an array (dimension, n_frames): the encoder's frames (one every ``stride``
        samples) averaged within each output frame.
        """
        import torch

        chosen = layers or (self.n_layers,)
        outside = [layer for layer in chosen if not 1 <= layer <= self.n_layers]
        if outside:
            raise DataError(
                self.source, f"has {self.n_layers} transformer layers; no layer {outside}"
            )
        signal = np.asarray(clip, dtype=np.float32)
        if self.normalize:
            signal = (signal - signal.mean()) / (signal.std() + 1e-7)
        with torch.inference_mode():
            states, _ = self.model.extract_features(torch.from_numpy(signal)[None])
        mean = torch.stack([states[layer - 1][0] for layer in chosen]).mean(0).numpy()
        times = (np.arange(len(mean)) + 0.5) * self.stride / AUDIO_SFREQ
        return frame_average(mean.T, times, frame_rate, n_frames)


@lru_cache(maxsize=2)
def load_wav2vec(path: str) -> Wav2Vec:
    """Return the checkpoint at ``path`` (a transformers folder or a torchaudio state dict).

    Raises
    ------
    DataError
        When nothing is there, the format is not recognised or the weights do not fit.
    """
    location = Path(path)
    if location.is_dir():
        return _load_transformers(location)
    if location.is_file():
        return _load_torchaudio(location)
    raise DataError(path, "no wav2vec 2.0 checkpoint there (a folder or a state-dict file)")


def _load_transformers(folder: Path) -> Wav2Vec:
    config = _read_json(folder / "config.json", "a transformers wav2vec2 folder's config.json")
    if config.get("model_type") != "wav2vec2":
        raise DataError(
            folder, f"config.json has model_type {config.get('model_type')!r}, not 'wav2vec2'"
        )
    state = _hf_state(folder)
    arguments = {
        "extractor_mode": f"{config.get('feat_extract_norm', 'group')}_norm",
        "extractor_conv_layer_config": list(
            zip(config["conv_dim"], config["conv_kernel"], config["conv_stride"], strict=True)
        ),
        "extractor_conv_bias": bool(config.get("conv_bias", False)),
        "encoder_embed_dim": config["hidden_size"],
        "encoder_pos_conv_kernel": config["num_conv_pos_embeddings"],
        "encoder_pos_conv_groups": config["num_conv_pos_embedding_groups"],
        "encoder_num_layers": config["num_hidden_layers"],
        "encoder_num_heads": config["num_attention_heads"],
        "encoder_ff_interm_features": config["intermediate_size"],
        "encoder_layer_norm_first": bool(config.get("do_stable_layer_norm", False)),
    }
    preprocessing = folder / "preprocessor_config.json"
    normalize = preprocessing.is_file() and bool(
        _read_json(preprocessing, "preprocessor_config.json").get("do_normalize", False)
    )
    return Wav2Vec(_built(arguments, state, folder), normalize, str(folder))


def _hf_state(folder: Path) -> dict[str, Any]:
    """Return the folder's weights renamed to torchaudio's module names."""
    import torch

    if (folder / "model.safetensors").is_file():
        from safetensors.torch import load_file

        raw = load_file(folder / "model.safetensors")
    elif (folder / "pytorch_model.bin").is_file():
        raw = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    else:
        raise DataError(folder, "holds neither model.safetensors nor pytorch_model.bin")
    renamed = {}
    for key, value in raw.items():
        key = key.removeprefix("wav2vec2.")
        if key.startswith(_HF_DROPPED):
            continue
        if key.startswith("feature_projection."):
            key = f"encoder.{key}"
        elif key.startswith("encoder."):
            key = f"encoder.transformer.{key.removeprefix('encoder.')}"
        key = key.replace("conv.weight_g", "conv.parametrizations.weight.original0")
        key = key.replace("conv.weight_v", "conv.parametrizations.weight.original1")
        renamed[key] = value
    return renamed


def _load_torchaudio(path: Path) -> Wav2Vec:
    import torch

    sidecar = path.with_suffix(".json")
    arguments = _read_json(sidecar, "the architecture sidecar of a torchaudio state dict")
    if "bundle" in arguments:
        import torchaudio.pipelines

        bundle = getattr(torchaudio.pipelines, str(arguments["bundle"]), None)
        if bundle is None or not hasattr(bundle, "_params"):
            raise DataError(
                sidecar, f"torchaudio has no wav2vec 2.0 bundle {arguments['bundle']!r}"
            )
        arguments = dict(bundle._params)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # not a tensor file
        raise DataError(path, f"is not a state dict of tensors: {error}") from error
    return Wav2Vec(
        _built(arguments, state, path), bool(arguments.pop("normalize", False)), str(path)
    )


def _built(arguments: dict[str, Any], state: dict[str, Any], source: Path) -> torch.nn.Module:
    from torchaudio.models import wav2vec2_model

    settings = {key: value for key, value in arguments.items() if key != "normalize"}
    settings["aux_num_out"] = None
    for key in (
        "encoder_projection_dropout",
        "encoder_attention_dropout",
        "encoder_ff_interm_dropout",
        "encoder_dropout",
        "encoder_layer_drop",
    ):
        settings[key] = 0.0
    try:
        model = wav2vec2_model(**settings)
        model.load_state_dict(state)
    except (TypeError, RuntimeError, KeyError) as error:
        raise DataError(source, f"weights do not fit a wav2vec 2.0 model: {error}") from error
    return model


def _read_json(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise DataError(path, f"missing: {what} is needed")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DataError(path, f"is not JSON ({error})") from error
