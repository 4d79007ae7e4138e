"""The federation's settings: one flat mapping, shared by the ServerApp and every ClientApp.

Flower passes run settings as a flat mapping of scalars (the app's ``[tool.flwr.app.config]``
overridden by ``flwr run --run-config``). A federation file written by a user may use TOML
lists for ``classes``, ``channels`` and ``sites``; :func:`load_federation_file` accepts both
and :meth:`FederationConfig.to_run_config` writes the flat form.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

STRATEGIES = ("personalised", "fedavg", "fedprox")
PRIVACY = ("none", "central", "local")
PRETRAINABLE = ("eegformer",)
"""Foundation models pretrained federated: their patches are channel-independent, so sites
with different montages share every weight."""
CLIPPINGS = ("fixed", "adaptive")


class FederationConfigError(ValueError):
    """Federation settings that cannot run, with the setting and the problem named."""


@dataclass(frozen=True)
class FederationConfig:
    """What every site and the server agree on.

    Parameters
    ----------
    classes : tuple of str
        The federation's label set, in the order of the model's outputs.
    window_s : float
        Trial length in seconds; every site's trials must have it.
    output_dir : str
        Server folder for checkpoints, history, plot and the global model.
    decoder : str
        Registry name of a :class:`~decoders.split.SplitDecoder`.
    decoder_options : dict
        Options of the decoder (architecture); JSON text in the flat form.
    strategy : str
        ``personalised`` (site-local input layers, shared trunk averaged), ``fedavg`` or
        ``fedprox`` (Flower's; the whole model averaged, on ``channels`` at ``sfreq``).
    proximal_mu : float
        FedProx proximal weight.
    rounds, local_epochs, batch_size : int
        Federated rounds, local passes over the site's training trials per round, batch size.
    local_steps : int
        Optimisation steps per round at every site whatever its size (0: count in
        ``local_epochs``); small sites otherwise take very few steps.
    lr, weight_decay : float
        AdamW settings of local training.
    channels : tuple of str
        Common channels of FedAvg/FedProx (every site picks them, in this order).
    sfreq : float
        Common sampling rate of FedAvg/FedProx (every site resamples to it).
    min_sites : int
        Sites that must reply with a valid update for a round to update the model.
    round_timeout : float
        Seconds the server waits for the replies of a round.
    outlier_factor : float
        An update whose norm exceeds this many times the median norm of the others is
        rejected (0 disables the check).
    privacy : str
        ``none``; ``central`` (the server clips each site's update and adds Gaussian noise to
        their average: site-level DP of the global model, Flower's wrappers); ``local``
        (DP-SGD at each site, per-trial clipping and noise: trial-level DP of everything a
        site sends, accounted per site). See :mod:`federated.privacy`.
    dp_noise : float
        Noise multiplier (0 with ``target_epsilon``: the noise that spends the budget in
        ``rounds`` rounds).
    dp_clip : float
        Clipping norm: of a site's update (central; the initial norm when adaptive) or of a
        trial's gradient (local).
    dp_clipping : str
        Central DP: ``fixed`` or ``adaptive`` clipping (Flower's wrappers).
    dp_delta : float
        The delta at which epsilon is reported and budgeted.
    target_epsilon : float
        Privacy budget: sets the noise when ``dp_noise`` is 0, else stops training (or a
        site's training, for local DP) before a round would exceed it; 0 for no budget.
    secure_aggregation : bool
        Aggregate the training updates with Flower's SecAgg+ protocol: the server learns only
        their (weighted) sum.
    secagg_threshold : int
        SecAgg+ reconstruction threshold: shares needed to remove the masks of a site that
        dropped out; fewer sites than this are refused, and up to ``sites - threshold``
        sites may drop out during a round.
    pretrain : str
        Federated self-supervised pretraining of this foundation model (``eegformer``) on the
        sites' unlabelled corpora instead of training ``decoder`` (``""``: decoder training).
    pretrain_size : str
        Size of the pretrained model (``tiny``, ``small``, ``base``, ``large``).
    pretrain_options : dict
        Model settings overriding the size's; JSON text in the flat form.
    micro_batch : int
        Pretraining: sequences per forward pass (``batch_size`` sequences per step; 0: one
        pass per step).
    experiment : str
        Names the run's persistent state at the server and the sites.
    resume : bool
        Continue from the server's last checkpoint of ``experiment``.
    seed : int
        Seeds initialisation, batch order and the server's choices.
    sites : tuple of str
        Simulation only: site files, one per virtual node (node ``partition-id`` takes one).
    export : bool
        Export the final models to ONNX and register them.
    registry_dir : str
        Model registry of the server's global model ("" for the default registry).
    """

    classes: tuple[str, ...] = ()
    window_s: float = 0.0
    output_dir: str = ""
    decoder: str = "fleeg-convnet"
    decoder_options: dict[str, Any] = field(default_factory=dict)
    strategy: str = "personalised"
    proximal_mu: float = 0.0
    rounds: int = 10
    local_epochs: int = 1
    local_steps: int = 0
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01
    channels: tuple[str, ...] = ()
    sfreq: float = 0.0
    min_sites: int = 2
    round_timeout: float = 600.0
    outlier_factor: float = 10.0
    privacy: str = "none"
    dp_noise: float = 0.0
    dp_clip: float = 0.0
    dp_clipping: str = "fixed"
    dp_delta: float = 1e-5
    target_epsilon: float = 0.0
    secure_aggregation: bool = False
    secagg_threshold: int = 2
    pretrain: str = ""
    pretrain_size: str = "small"
    pretrain_options: dict[str, Any] = field(default_factory=dict)
    micro_batch: int = 0
    experiment: str = "default"
    resume: bool = False
    seed: int = 0
    sites: tuple[str, ...] = ()
    export: bool = True
    registry_dir: str = ""

    def __post_init__(self) -> None:
        for name in ("classes", "channels", "sites"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        self._check()

    @property
    def personalised(self) -> bool:
        """Return True when only the shared part of the model is averaged."""
        return self.strategy == "personalised"

    @property
    def central_dp(self) -> bool:
        """Return True when the server adds the noise (central differential privacy)."""
        return self.privacy == "central"

    @property
    def local_dp(self) -> bool:
        """Return True when every site trains with DP-SGD (local differential privacy)."""
        return self.privacy == "local"

    @property
    def pretraining(self) -> bool:
        """Return True for federated self-supervised pretraining (no labels, no decoder)."""
        return bool(self.pretrain)

    def fingerprint(self) -> str:
        """Return a digest of the settings a resumed run must share with its checkpoint."""
        keys = ("decoder", "decoder_options", "strategy", "classes", "window_s")
        keys += ("channels", "sfreq", "seed", "privacy", "dp_noise", "dp_clip", "dp_clipping")
        keys += ("dp_delta", "secure_aggregation", "pretrain")
        keys += ("pretrain_size", "pretrain_options")
        text = json.dumps({key: _plain(getattr(self, key)) for key in keys}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_run_config(self) -> dict[str, str | int | float | bool]:
        """Return the flat mapping Flower carries (lists as comma-separated text)."""
        flat: dict[str, str | int | float | bool] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, tuple):
                value = ",".join(value)
            elif isinstance(value, dict):
                value = json.dumps(value, sort_keys=True)
            flat[item.name.replace("_", "-")] = value
        return flat

    @classmethod
    def from_run_config(cls, mapping: Mapping[str, Any]) -> FederationConfig:
        """Parse a flat mapping (dashed or underscored keys; lists as text or sequences)."""
        known = {item.name: item for item in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in mapping.items():
            name = str(key).replace("-", "_")
            if name not in known:
                raise FederationConfigError(
                    f"unknown federation setting '{key}' (known: "
                    f"{', '.join(sorted(n.replace('_', '-') for n in known))})"
                )
            values[name] = _parse(name, value, known[name].type)
        needed = (
            ("output_dir",) if values.get("pretrain") else ("classes", "window_s", "output_dir")
        )
        missing = [n for n in needed if not values.get(n)]
        if missing:
            raise FederationConfigError(
                f"the federation needs {', '.join(m.replace('_', '-') for m in missing)}"
            )
        return cls(**values)

    def _check(self) -> None:
        problems = []
        if self.strategy not in STRATEGIES:
            problems.append(f"strategy '{self.strategy}' is not one of {', '.join(STRATEGIES)}")
        if self.pretraining:
            problems += self._pretraining_problems()
        elif len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            problems.append(f"classes must be 2 or more distinct names, got {list(self.classes)}")
        if not self.pretraining and self.window_s <= 0:
            problems.append(f"window-s must be positive, got {self.window_s}")
        problems += self._privacy_problems() + self._secure_aggregation_problems()
        if (
            not self.pretraining
            and not self.personalised
            and (not self.channels or self.sfreq <= 0)
        ):
            problems.append(
                f"strategy {self.strategy} averages the whole model, so every site must use "
                "the same input: set channels (the common channels) and sfreq"
            )
        if self.rounds < 1 or self.local_epochs < 1 or self.batch_size < 2 or self.local_steps < 0:
            problems.append(
                "rounds and local-epochs must be >= 1, local-steps >= 0 and batch-size >= 2"
            )
        if self.min_sites < 1:
            problems.append(f"min-sites must be at least 1, got {self.min_sites}")
        if self.outlier_factor < 0 or self.proximal_mu < 0 or self.round_timeout <= 0:
            problems.append("outlier-factor and proximal-mu must be >= 0, round-timeout > 0")
        if problems:
            raise FederationConfigError("; ".join(problems))

    def _privacy_problems(self) -> list[str]:
        if self.privacy not in PRIVACY:
            return [f"privacy '{self.privacy}' is not one of {', '.join(PRIVACY)}"]
        if self.dp_clipping not in CLIPPINGS:
            return [f"dp-clipping '{self.dp_clipping}' is not one of {', '.join(CLIPPINGS)}"]
        if self.privacy == "none":
            given = [
                name
                for name in ("dp_noise", "dp_clip", "target_epsilon")
                if getattr(self, name) != 0
            ]
            if given:
                names = ", ".join(name.replace("_", "-") for name in given)
                return [f"{names}: set privacy = central or local to use them (privacy is none)"]
            return []
        problems = []
        if self.pretraining:
            problems.append("differential privacy is for decoder training, not pretraining")
        if self.dp_clip <= 0:
            problems.append(f"privacy {self.privacy} needs dp-clip > 0 (the clipping norm)")
        if self.dp_noise < 0 or self.target_epsilon < 0:
            problems.append("dp-noise and target-epsilon must be >= 0")
        elif self.dp_noise == 0 and self.target_epsilon == 0:
            problems.append(
                f"privacy {self.privacy} needs dp-noise > 0 (the noise multiplier) or "
                "target-epsilon > 0 (the noise is then chosen to spend it in `rounds` rounds)"
            )
        if not 0 < self.dp_delta < 1:
            problems.append(f"dp-delta must be between 0 and 1, got {self.dp_delta}")
        if self.dp_clipping == "adaptive" and self.privacy != "central":
            problems.append("dp-clipping adaptive is for central DP (local DP clips each trial)")
        return problems

    def _secure_aggregation_problems(self) -> list[str]:
        if not self.secure_aggregation:
            return []
        problems = []
        if self.secagg_threshold < 2:
            problems.append(f"secagg-threshold must be at least 2, got {self.secagg_threshold}")
        if self.central_dp:
            problems.append(
                "central DP clips each site's update at the server, which secure aggregation "
                "hides from it: use privacy = local with secure-aggregation"
            )
        if self.pretraining:
            problems.append("secure aggregation is for decoder training, not pretraining")
        if self.min_sites < self.secagg_threshold:
            problems.append(
                f"secure aggregation needs min-sites ({self.min_sites}) >= secagg-threshold "
                f"({self.secagg_threshold}): a round with fewer sites could not remove the "
                "masks of a site that dropped out"
            )
        if self.sites and len(self.sites) < self.secagg_threshold:
            problems.append(
                f"secure aggregation with secagg-threshold = {self.secagg_threshold} needs at "
                f"least {self.secagg_threshold} sites; the federation lists {len(self.sites)}"
            )
        return problems

    def _pretraining_problems(self) -> list[str]:
        if self.pretrain not in PRETRAINABLE:
            return [
                f"pretrain '{self.pretrain}' cannot be pretrained federated (models that can: "
                f"{', '.join(PRETRAINABLE)})"
            ]
        if self.local_steps < 1:
            return ["pretraining counts its rounds in local-steps: set local-steps >= 1"]
        if self.micro_batch < 0 or (self.micro_batch and self.batch_size % self.micro_batch):
            return [f"micro-batch ({self.micro_batch}) must divide batch-size ({self.batch_size})"]
        return []


def load_federation_file(path: str | Path, **overrides: Any) -> FederationConfig:
    """Read a federation TOML file (flat keys) and apply ``overrides``.

    Relative ``output-dir``, ``registry-dir`` and ``sites`` paths are taken relative to the
    file, so a federation folder can be moved as a whole.
    """
    path = Path(path)
    try:
        mapping = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise FederationConfigError(f"{path}: cannot be read as TOML: {error}") from error
    mapping.update({key.replace("_", "-"): value for key, value in overrides.items()})
    for key in ("output-dir", "registry-dir"):
        if mapping.get(key):
            mapping[key] = str((path.parent / str(mapping[key])).resolve())
    if mapping.get("sites"):
        mapping["sites"] = [
            str((path.parent / site).resolve()) for site in _split_list(mapping["sites"])
        ]
    try:
        return FederationConfig.from_run_config(mapping)
    except FederationConfigError as error:
        raise FederationConfigError(f"{path}: {error}") from error


def _parse(name: str, value: Any, annotation: Any) -> Any:
    kind = {"float": float, "int": int, "bool": bool, "str": str}.get(str(annotation))
    if kind is bool and isinstance(value, str):
        if value.lower() not in ("true", "false"):
            raise FederationConfigError(f"{name.replace('_', '-')} must be true or false")
        return value.lower() == "true"
    if kind in (float, int, str):
        try:
            return kind(value)
        except (TypeError, ValueError) as error:
            raise FederationConfigError(
                f"{name.replace('_', '-')} must be a {kind.__name__}, got {value!r}"
            ) from error
    if name in ("classes", "channels", "sites"):
        return tuple(_split_list(value))
    if name in ("decoder_options", "pretrain_options"):
        if isinstance(value, Mapping):
            return dict(value)
        try:
            options = json.loads(value) if value else {}
        except json.JSONDecodeError as error:
            raise FederationConfigError(f"{name.replace('_', '-')} is not JSON: {error}") from error
        if not isinstance(options, dict):
            raise FederationConfigError(f"{name.replace('_', '-')} must be a JSON object")
        return options
    return value


def _split_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part) for part in value]


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def as_dict(config: FederationConfig) -> dict[str, Any]:
    """Return the settings as JSON-serialisable data (for history files)."""
    return {key: _plain(value) for key, value in asdict(config).items()}
