"""Pretrained braindecode weights from a local folder, checked against the decoder they start.

braindecode publishes weights for several of its models (LaBraM, CBraMod, EEGPT, BIOT,
BENDR, SignalJEPA, REVE, LUNA; Du-IN re-hosted) in the format its ``save_pretrained`` writes
and ``from_pretrained`` reads: ``config.json`` (the model's constructor arguments),
``model.safetensors`` (or another single ``*.safetensors``, or ``pytorch_model.bin``) and a
``README.md`` whose front matter names the licence and the model class. A user downloads such
a folder on a connected machine and brings it; here it is only read from disk (no hub call:
Hugging Face's offline mode is forced while the model is built), safetensors first, a pickle
only through ``torch.load(weights_only=True)``.

The folder must fit: the model class, the sampling rate, and every tensor's shape; the
network is rebuilt with the pretrained architecture (the folder's constructor arguments,
which the decoder then records as its ``network`` option, so that the fine-tuned model
rebuilds from its card); only the classification head may differ (other classes), and is
left as initialised. Anything else is a :class:`~decoders.datasets.errors.DataError` naming
the mismatch.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.datasets.errors import DataError

from .nets import SIGNAL_PARAMETERS, braindecode_network, model_class

if TYPE_CHECKING:
    import torch

    from .nets import BraindecodeClassifier

CONFIG_NAME = "config.json"
README_NAME = "README.md"
PICKLED_WEIGHTS = "pytorch_model.bin"
IGNORED_CONFIG = ("braindecode_version", "input_window_seconds", "return_features")


def load_pretrained(
    decoder: BraindecodeClassifier, module: torch.nn.Module, source: Path
) -> dict[str, Any]:
    """Load the weights in ``source`` (a folder, or a weights file in it) into ``module``.

    Returns the provenance written to the card: origin, model class, weights file and
    sha256, licence, what was loaded and what was left as initialised.

    Raises
    ------
    DataError
        When the folder is incomplete or does not fit the decoder (the message names the
        mismatch).
    """
    import torch

    folder, weights_file = _locate(Path(source))
    config = _read_config(folder)
    front_matter = _front_matter(folder / README_NAME)
    architecture = decoder.architecture
    saved = _saved_class(front_matter)
    if saved is not None and not issubclass(model_class(architecture), saved):
        raise DataError(
            str(folder),
            f"holds weights of {saved.__name__}, not of {architecture} (train "
            f"{_registry_name(saved.__name__)} with these weights)",
        )
    spec = decoder.input_spec_
    saved_sfreq = config.get("sfreq")
    if saved_sfreq is not None and not np.isclose(float(saved_sfreq), spec.sfreq):
        raise DataError(
            str(folder),
            f"{architecture} was pretrained on data at {float(saved_sfreq):g} Hz, the training "
            f"data are at {spec.sfreq:g} Hz: resample the recordings to {float(saved_sfreq):g} "
            "Hz first",
        )
    architecture_options = _architecture(config)
    conflicts = {
        key: (value, architecture_options[key])
        for key, value in decoder.network.items()
        if key in architecture_options and architecture_options[key] != value
    }
    if conflicts:
        described = ", ".join(
            f"{key}={mine!r} (pretrained: {theirs!r})" for key, (mine, theirs) in conflicts.items()
        )
        raise DataError(
            str(folder), f"the decoder's network options differ from the weights': {described}"
        )
    options = {**architecture_options, **decoder.network}
    positions = getattr(module, "channel_positions", None)
    positions = None if positions is None else positions.numpy()
    network = decoder.make_network(spec, len(decoder.output_spec_.names), positions, options)
    state = _read_weights(weights_file)
    target = braindecode_network(torch.nn.Sequential(module[0], network))
    report = _load_matching(target, state, str(folder))
    module[1] = network
    decoder.network = options
    decoder._options["network"] = options  # the card's config rebuilds the pretrained architecture
    return {
        "origin": str(folder.resolve()),
        "hub_repository": _hub_repository(folder),
        "model": f"braindecode.models.{architecture}",
        "weights_file": weights_file.name,
        "sha256": hashlib.sha256(weights_file.read_bytes()).hexdigest(),
        "licence": front_matter.get("license", "not stated in the folder's README.md"),
        "pretrained_input": {
            key: config.get(key) for key in ("n_chans", "n_times", "sfreq", "n_outputs")
        },
        **report,
    }


def architecture_of(source: Path) -> dict[str, Any]:
    """Return ``{"network": ...}``: the model options a pretrained folder was saved with.

    Empty when ``source`` is no braindecode ``save_pretrained`` folder (loading then says why).
    """
    try:
        folder, _ = _locate(source)
        return {"network": _architecture(_read_config(folder))}
    except DataError:
        return {}


def _architecture(config: dict[str, Any]) -> dict[str, Any]:
    """Return a saved config's model options: everything but the signal's description."""
    return {
        key: value
        for key, value in config.items()
        if key not in SIGNAL_PARAMETERS and key not in IGNORED_CONFIG
    }


def _locate(source: Path) -> tuple[Path, Path]:
    """Return the folder and its weights file (safetensors preferred)."""
    if source.is_file():
        return source.parent, source
    if not source.is_dir():
        raise DataError(str(source), "no such pretrained-weights folder")
    candidates = sorted(source.glob("*.safetensors"))
    if len(candidates) > 1:
        named = [path for path in candidates if path.name == "model.safetensors"]
        if not named:
            raise DataError(
                str(source),
                f"holds several weights files ({', '.join(p.name for p in candidates)}): pass "
                "the one to use as --init FOLDER/FILE",
            )
        candidates = named
    if candidates:
        return source, candidates[0]
    if (source / PICKLED_WEIGHTS).is_file():
        return source, source / PICKLED_WEIGHTS
    raise DataError(
        str(source),
        f"holds no weights (*.safetensors or {PICKLED_WEIGHTS}): not a braindecode "
        "save_pretrained folder",
    )


def _read_config(folder: Path) -> dict[str, Any]:
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise DataError(
            str(folder), f"has no {CONFIG_NAME}: not a braindecode save_pretrained folder"
        )
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DataError(str(path), f"is not valid JSON ({error})") from None
    if not isinstance(config, dict):
        raise DataError(str(path), "does not hold the model's constructor arguments")
    return config


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    """Return the state dict in ``path``: safetensors, or a weights-only torch pickle."""
    import torch

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise DataError(str(path), f"cannot be read as model weights ({error})") from None


def _load_matching(
    network: torch.nn.Module, state: dict[str, torch.Tensor], source: str
) -> dict[str, Any]:
    """Copy ``state`` into ``network``; only the classification head may differ in shape."""
    import torch

    own = network.state_dict()
    mapping = getattr(network, "mapping", None) or {}
    state = {mapping.get(key, key): value for key, value in state.items()}
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = sorted(
        key for key in set(own) & set(state) if tuple(own[key].shape) != tuple(state[key].shape)
    )
    head = [key for key in [*missing, *mismatched] if _is_head(key)]
    problems = [key for key in [*missing, *mismatched] if not _is_head(key)]
    if problems or unexpected:
        details = []
        if problems:
            shapes = [
                f"{key} {tuple(state[key].shape)} vs {tuple(own[key].shape)}"
                if key in state
                else f"{key} missing"
                for key in problems[:6]
            ]
            details.append(f"tensors that do not fit: {'; '.join(shapes)}")
        if unexpected:
            details.append(f"tensors the model does not have: {', '.join(unexpected[:6])}")
        raise DataError(
            source,
            "does not fit the decoder's network (" + " / ".join(details) + "); check the "
            "architecture, the channel count and the window length",
        )
    with torch.no_grad():
        for key in set(own) & set(state):
            if key not in head:
                own[key].copy_(state[key])
    network.load_state_dict(own)
    return {"loaded_tensors": len(own) - len(head), "initialised_tensors": head}


def _is_head(key: str) -> bool:
    """Return True for tensors built for this data rather than learnt in pretraining.

    They are the classification head (rebuilt for the classes) and a channel-interpolation
    layer (made from the channels' positions).
    """
    pattern = r"(^|\.)(final_layer|classifier|head|fc_out|clf|final|interpolation_layer)(\.|$)"
    return bool(re.search(pattern, key))


def _saved_class(front_matter: dict[str, Any]) -> type | None:
    """Return the braindecode class a model card's tags name, if any."""
    import braindecode.models

    for tag in front_matter.get("tags", []):
        cls = getattr(braindecode.models, tag, None)
        if isinstance(cls, type) and tag != "EEGModuleMixin":
            return cls
    return None


def _front_matter(path: Path) -> dict[str, Any]:
    """Return ``license`` and ``tags`` from a model card's YAML front matter, if any."""
    if not path.is_file():
        return {}
    text = path.read_text(errors="replace")
    match = re.match(r"---\n(.*?)\n---", text, re.DOTALL)
    if not match:
        return {}
    fields: dict[str, Any] = {"tags": []}
    key = None
    for line in match.group(1).splitlines():
        if line.startswith("- ") and key == "tags":
            fields["tags"].append(line[2:].strip())
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip()
            if value.strip():
                fields[key] = value.strip()
    return fields


def _hub_repository(folder: Path) -> str | None:
    """Return ``owner/name`` when ``folder`` is a Hugging Face cache snapshot, else None."""
    for part in folder.resolve().parts:
        if part.startswith("models--"):
            return part[len("models--") :].replace("--", "/")
    return None


def _registry_name(architecture: str) -> str:
    from .catalog import registry_name

    return registry_name(architecture)
