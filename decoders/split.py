"""The contract of decoders that federated training can split into site-local and shared parts.

A :class:`SplitDecoder`'s module keeps every layer sized to a site's montage or sampling rate
under the ``local.`` prefix and every layer whose shape depends only on federation-wide
settings (window length, classes, options) under ``shared.``. A personalised federation
averages the shared part only; FedAvg and FedProx average everything, which needs every site
on the same channels and rate.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from decoders.contract import InputSpec, OutputSpec
from decoders.datasets.trials import TrialSet
from decoders.network import NetworkDecoder

if TYPE_CHECKING:
    import torch

LOCAL_PREFIX = "local."
SHARED_PREFIX = "shared."


def shared_keys(keys: Iterable[str], *, personalised: bool) -> list[str]:
    """Return the state-dict keys a site sends for aggregation.

    Parameters
    ----------
    keys : iterable of str
        Keys of the module's state dict.
    personalised : bool
        True for the personalised strategy (only ``shared.`` keys travel), False for
        FedAvg/FedProx (every key travels).
    """
    keys = list(keys)
    if not personalised:
        return keys
    return [key for key in keys if key.startswith(SHARED_PREFIX)]


class SplitDecoder(NetworkDecoder):
    """A network decoder whose module is ``local`` (per site) then ``shared`` layers.

    Subclasses implement :meth:`build` returning a module with ``local`` and ``shared``
    children, and :meth:`check_input` naming why a site's input cannot be served. Trained
    alone (centralised or local-only) it is a :class:`~decoders.network.NetworkDecoder`;
    federated rounds use their own settings.
    """

    local_prefix: ClassVar[str] = LOCAL_PREFIX

    @abstractmethod
    def check_input(self, spec: InputSpec, source: str) -> None:
        """Raise a :class:`~decoders.datasets.errors.DataError` if ``spec`` cannot feed it.

        The message names ``source`` and the problem (no usable channels, rate too low, ...).
        """

    def fit(self, train: TrialSet, valid: TrialSet, **kwargs: Any) -> SplitDecoder:
        """Check the input, then fit as every decoder does (see :meth:`Decoder.fit`)."""
        self.check_input(self.spec_for(train), train.name)
        super().fit(train, valid, **kwargs)
        return self

    @abstractmethod
    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the untrained module with ``local`` and ``shared`` children."""
