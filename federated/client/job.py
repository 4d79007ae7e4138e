"""One site's view of a run: the federation's settings, its site file, trials and model."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.contract import InputSpec, OutputSpec
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.split import SplitDecoder, shared_keys
from federated.config import FederationConfig
from federated.sites.config import SiteConfig, load_site
from federated.sites.data import InputRequest, SiteData, site_data

from .state import SiteState

if TYPE_CHECKING:
    import torch

SITE_CONFIG_KEY = "site-config"
"""Node-config key naming a SuperNode's site file (``--node-config site-config=PATH``)."""


def site_path(node_config: Mapping[str, Any], federation: FederationConfig) -> Path:
    """Return the site file this node runs.

    A deployed SuperNode names it in its node config; a simulated node takes entry
    ``partition-id`` of the federation's ``sites``.
    """
    if node_config.get(SITE_CONFIG_KEY):
        return Path(str(node_config[SITE_CONFIG_KEY]))
    if "partition-id" in node_config and federation.sites:
        index = int(node_config["partition-id"])
        if index >= len(federation.sites):
            raise DataError(
                "federation",
                f"simulated node {index} has no site: the federation lists "
                f"{len(federation.sites)} site file(s) for more virtual nodes",
            )
        return Path(federation.sites[index])
    raise DataError(
        "supernode",
        f"this node has no site file: start the SuperNode with --node-config "
        f"'{SITE_CONFIG_KEY}=\"/path/site.toml\"' (bci-app fed supernode --site does it)",
    )


def input_request(federation: FederationConfig) -> InputRequest:
    """Return what the federation asks of every site's trials."""
    if federation.personalised:
        return InputRequest(federation.classes, federation.window_s)
    return InputRequest(
        federation.classes, federation.window_s, federation.channels, federation.sfreq
    )


def split_decoder(federation: FederationConfig) -> SplitDecoder:
    """Return the federation's decoder, unfitted, or raise naming why it cannot be federated."""
    from decoders.registry import REGISTRY, create

    decoder = create(federation.decoder, seed=federation.seed, **federation.decoder_options)
    if not isinstance(decoder, SplitDecoder):
        usable = sorted(
            name
            for name, entry in REGISTRY.items()
            if entry.target.startswith("decoders.models.fleeg")
        )
        raise DataError(
            federation.decoder,
            "cannot be trained federated: it does not split into site-local and shared "
            f"layers (decoders that do: {', '.join(usable)})",
        )
    return decoder


@dataclass
class SiteJob:
    """A site ready to build its module for the current run."""

    federation: FederationConfig
    site: SiteConfig
    data: SiteData
    decoder: SplitDecoder
    spec: InputSpec
    output: OutputSpec
    state: SiteState

    @classmethod
    def open(
        cls, federation: FederationConfig, node_config: Mapping[str, Any], run_key: str
    ) -> SiteJob:
        """Load the site file, its trials and the decoder, and check they fit together."""
        site = load_site(site_path(node_config, federation))
        data = site_data(site, input_request(federation))
        decoder = split_decoder(federation)
        spec = decoder.spec_for(data.train)
        decoder.check_input(spec, str(site.path))
        if spec.preprocessing:
            data = SiteData(
                *(_preprocessed(getattr(data, p), spec) for p in ("train", "valid", "test"))
            )
        output = OutputSpec(decoder.output_kind, federation.classes)
        return cls(
            federation,
            site,
            data,
            decoder,
            spec,
            output,
            SiteState(site.state_dir, federation.experiment, run_key),
        )

    @property
    def seed(self) -> int:
        """Return a seed of this site in this federation (stable across processes)."""
        return (self.federation.seed * 1_000_003 + zlib.crc32(self.site.name.encode())) % 2**31

    def shared_keys(self, module: torch.nn.Module) -> list[str]:
        """Return the keys this site exchanges with the server."""
        return shared_keys(module.state_dict(), personalised=self.federation.personalised)

    def build(self) -> torch.nn.Module:
        """Return the module with the site's own initialisation and last local layers."""
        import torch

        torch.manual_seed(self.seed)
        module = self.decoder.build(self.spec, self.output)
        local = self.state.load_local()
        if local is not None:
            load_state(module, local, str(self.site.path))
        return module

    def local_part(self, module: torch.nn.Module) -> dict[str, np.ndarray]:
        """Return the arrays that never leave the site."""
        from federated.arrays import as_numpy

        shared = set(self.shared_keys(module))
        state = as_numpy(module.state_dict())
        return {key: value for key, value in state.items() if key not in shared}


def load_state(module: torch.nn.Module, arrays: Mapping[str, np.ndarray], source: str) -> None:
    """Copy ``arrays`` into ``module``'s state, checking every name and shape.

    Raises
    ------
    DataError
        Naming ``source`` when an array is unknown to the module or has another shape.
    """
    import torch

    state = module.state_dict()
    for key, value in arrays.items():
        if key not in state:
            raise DataError(source, f"array '{key}' is not part of this site's model")
        if tuple(state[key].shape) != tuple(np.shape(value)):
            raise DataError(
                source,
                f"array '{key}' has shape {tuple(np.shape(value))}, this site's model "
                f"{tuple(state[key].shape)}",
            )
    module.load_state_dict(
        {key: torch.as_tensor(np.asarray(value)) for key, value in arrays.items()}, strict=False
    )


def _preprocessed(trials: TrialSet, spec: InputSpec) -> TrialSet:
    from decoders.preprocessing import apply_to_trials

    data = apply_to_trials(
        spec.preprocessing, trials.data, spec.sfreq, spec.ch_names, spec.ch_types
    )
    return replace(trials, data=data)
