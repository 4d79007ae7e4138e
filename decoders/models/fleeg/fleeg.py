"""FLEEG-style personalised network: per-site input layers, shared filters, trunk and head.

After FLEEG (Neural Networks 2024): sites with different amplifiers keep their own input
layers, sized to their montage and sampling rate, and share the deeper layers. Here a site's
own part (``local``) is its spatial filters (one weight per channel and filter) and a
normalisation; it applies band-pass filters defined in hertz (learnable edges, after
SincNet), which are shared and sampled at each site's rate, then takes the log power and the
mean of every filtered signal over frames of ``1 / frame_rate`` s. Whatever the site's
channels and rate, this yields ``2 * n_spatial * n_bands`` maps of ``window_s * frame_rate``
frames, which the shared DeepConvNet-style blocks and linear head classify. Keeping the
site-specific part that small lets small sites learn it from few trials. Normalisation is by
group norm, so the module holds no running statistics: its state is its parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from decoders.contract import InputSpec, OutputSpec
from decoders.datasets.errors import DataError
from decoders.split import SplitDecoder

if TYPE_CHECKING:
    import torch


class FleegConvNet(SplitDecoder):
    """Personalised filter-bank ConvNet for federations of sites with different montages.

    Parameters
    ----------
    seed : int
        Seeds weight initialisation and batch order.
    hop_s : float
        Time between windows when decoding a stream.
    n_spatial : int
        Spatial filters of the site front end.
    n_bands : int
        Shared band-pass filters (learnable edges in Hz) applied to every spatial filter.
    kernel_s : float
        Length of the band-pass kernels in seconds.
    frame_rate : float
        Band-power frames per second handed to the shared trunk.
    filters : list of int
        Maps of each shared convolution block.
    dropout : float
        Dropout after each shared block.
    head : str
        ``mean`` (the head sees the window's average: rhythms, motor imagery) or ``frames``
        (it sees every frame: evoked responses, slow potentials).
    anchor_channels : list of str
        Channels the spatial filters start on (at most ``n_spatial``; e.g. the channels every
        site records): filter ``k`` on channel ``k`` alone, the others on mixtures of them,
        a site's other channels at weight 0, so that sites with different montages hand the
        shared trunk maps that mean alike; empty: every filter starts as a name-keyed random
        mixture of all the site's channels.
    **training
        Band and training settings of :class:`~decoders.network.NetworkDecoder` for
        centralised or local-only training (the registry entry sets ``weight_decay`` 0.01).
    """

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        n_spatial: int = 8,
        n_bands: int = 4,
        kernel_s: float = 0.25,
        frame_rate: float = 25.0,
        filters: list[int] | tuple[int, ...] = (32, 32),
        dropout: float = 0.5,
        head: str = "mean",
        anchor_channels: list[str] | tuple[str, ...] = (),
        **training,
    ) -> None:
        anchors = [str(name) for name in anchor_channels]
        if len(anchors) > n_spatial or len(set(anchors)) != len(anchors):
            raise ValueError(
                f"anchor_channels must name at most n_spatial={n_spatial} distinct channels, "
                f"got {anchors}"
            )
        super().__init__(seed, hop_s, **training)
        self.n_spatial, self.n_bands, self.kernel_s = n_spatial, n_bands, kernel_s
        self.frame_rate, self.filters = frame_rate, tuple(filters)
        self.dropout, self.head, self.anchor_channels = dropout, head, tuple(anchors)

    def window_conditioning(self) -> dict[str, str]:
        """Return the front end's own conditioning: per-window demeaning and normalisation."""
        return {
            "dc_and_drift": "each window's mean removed after the spatial filters, then "
            "band-pass filters of at least 1 Hz",
            "scale": "fixed gain per channel type, then per-window group normalisation of the "
            "features (insensitive to the input's gain)",
        }

    def check_input(self, spec: InputSpec, source: str) -> None:
        """Raise :class:`DataError` naming ``source`` when ``spec`` cannot feed the network."""
        from .networks import CHANNEL_TYPE_GAINS, frame_count

        if not spec.ch_names:
            raise DataError(source, "has no usable channels for the model")
        unusable = sorted({kind for kind in spec.ch_types if kind not in CHANNEL_TYPE_GAINS})
        if unusable:
            raise DataError(
                source,
                f"holds channels of types {unusable}, which carry no brain signal; "
                f"keep only {sorted(CHANNEL_TYPE_GAINS)}",
            )
        frame_rate = self.frame_rate
        if spec.sfreq < 4 * frame_rate:
            raise DataError(
                source,
                f"is sampled at {spec.sfreq:g} Hz; the model needs at least "
                f"{4 * frame_rate:g} Hz (4 x its frame rate of {frame_rate:g} Hz)",
            )
        needed = 2 ** len(self.filters)
        frames = frame_count(spec.window_s, frame_rate)
        if frames < needed:
            raise DataError(
                source,
                f"windows of {spec.window_s:g} s give {frames} frames; the model needs "
                f"{needed} (lower the number of blocks or raise the frame rate)",
            )

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the front end for ``spec`` followed by the shared trunk and head."""
        from .networks import BandFilters, SharedLayers, SharedTrunk, SiteFrontEnd, SplitNetwork

        local = SiteFrontEnd(
            tuple(spec.ch_names),
            tuple(spec.ch_types),
            self.seed,
            spec.sfreq,
            spec.n_times,
            self.n_spatial,
            self.n_bands,
            self.kernel_s,
            self.frame_rate,
            self.anchor_channels,
        )
        trunk = SharedTrunk(
            local.n_maps,
            local.n_frames,
            self.filters,
            len(output.names),
            self.dropout,
            self.head,
        )
        return SplitNetwork(local, SharedLayers(BandFilters(self.n_bands), trunk))
