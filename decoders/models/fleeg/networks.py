"""Torch modules of the FLEEG-style network: a per-site front end and a shared trunk.

The front end is sized to one site's montage and sampling rate and turns its windows into a
fixed number of feature maps at a fixed frame rate (the log band power and the mean amplitude
of each filtered virtual channel), so that every site hands the shared trunk tensors of the
same shape.
"""

from __future__ import annotations

import zlib

import torch
from torch import nn
from torch.nn import functional

CHANNEL_TYPE_GAINS = {
    "eeg": 1e6,
    "eog": 1e6,
    "emg": 1e6,
    "ecg": 1e6,
    "ecog": 1e6,
    "seeg": 1e6,
    "dbs": 1e6,
    "mag": 1e13,
    "grad": 1e11,
}
"""Fixed gain bringing each channel type from SI units to order-one numbers (volts to
microvolts, magnetometers to units of 100 fT, gradiometers to units of 10 fT/cm)."""

MIN_WIDTH_HZ = 1.0
"""Narrowest band of the shared filters."""

LOG_FLOOR = 1e-4
"""Added to the band power before its logarithm (signals are in units of order one)."""


def frame_count(window_s: float, frame_rate: float) -> int:
    """Return the number of frames of a window handed to the shared trunk."""
    return int(window_s * frame_rate + 1e-6)


class BandFilters(nn.Module):
    """Band-pass filters defined in hertz, the same at every site whatever its rate.

    Windowed-sinc band-passes with learnable edges (after SincNet): the parameters are the
    low edge and the width of each band in Hz, so the filters can be shared by sites sampled
    at different rates; each site samples the kernels at its own rate.

    Parameters
    ----------
    n_bands : int
        Bands, initialised log-spaced between ``min_hz`` and ``max_hz``.
    min_hz, max_hz : float
        Range of the initial bands.
    """

    def __init__(self, n_bands: int, min_hz: float = 1.0, max_hz: float = 40.0) -> None:
        super().__init__()
        edges = torch.logspace(
            torch.log10(torch.tensor(min_hz)), torch.log10(torch.tensor(max_hz)), n_bands + 1
        )
        self.low_hz = nn.Parameter(edges[:-1].clone())
        self.width_hz = nn.Parameter(torch.diff(edges))

    def kernels(self, times: torch.Tensor, window: torch.Tensor, nyquist: float) -> torch.Tensor:
        """Return the bands' kernels (bands, samples) at the given sample times (seconds)."""
        low = self.low_hz.abs()[:, None]
        high = torch.clamp(low + self.width_hz.abs()[:, None] + MIN_WIDTH_HZ, max=0.98 * nyquist)
        kernel = 2 * high * torch.sinc(2 * high * times) - 2 * low * torch.sinc(2 * low * times)
        kernel = kernel * window
        return kernel / (kernel.norm(dim=1, keepdim=True) + 1e-8)


def name_keyed_weights(ch_names: tuple[str, ...], n_filters: int, seed: int) -> torch.Tensor:
    """Return (filters, channels) weights whose column of a channel depends on its name only.

    Values are uniform in +-1/sqrt(channels), as torch initialises a convolution, but each
    channel's values come from a generator seeded by ``seed`` and the channel's name.
    """
    columns = []
    for name in ch_names:
        generator = torch.Generator().manual_seed(
            (seed * 1_000_003 + zlib.crc32(name.encode())) % 2**63
        )
        columns.append(torch.rand(n_filters, generator=generator) * 2 - 1)
    return torch.stack(columns, dim=1) / len(ch_names) ** 0.5


def anchored_weights(
    ch_names: tuple[str, ...], n_filters: int, seed: int, anchors: tuple[str, ...] = ()
) -> torch.Tensor:
    """Return (filters, channels) initial spatial weights that start on the anchor channels.

    Filter ``k`` starts as anchor ``anchors[k]`` alone (weight 1 on it) and the other filters
    as :func:`name_keyed_weights` mixtures of the anchors the site has; its other channels
    start at weight 0 and join by training. Every site holding the anchors thus starts with
    the same virtual channels, whatever its other channels. Without anchors at the site, the
    filters mix all its channels (:func:`name_keyed_weights`).
    """
    present = [name for name in anchors if name in ch_names]
    if not present:
        return name_keyed_weights(ch_names, n_filters, seed)
    columns = [ch_names.index(name) for name in present]
    weights = torch.zeros(n_filters, len(ch_names))
    weights[:, columns] = name_keyed_weights(tuple(present), n_filters, seed)
    for index, anchor in enumerate(anchors[:n_filters]):
        if anchor in ch_names:
            weights[index] = 0.0
            weights[index, ch_names.index(anchor)] = 1.0
    return weights


class SiteFrontEnd(nn.Module):
    """Spatial filters, the shared band-pass filters, then per-frame log power and mean.

    Band power carries rhythm modulations (motor imagery), the mean amplitude slow potentials
    and evoked responses; both are computed over frames of ``1 / frame_rate`` seconds, then
    normalised per window (the power maps together, the amplitude maps together), so that
    an amplifier's gain changes nothing but the relations between maps remain. The front
    end's own parameters are its spatial filters (sized to the montage) and that
    normalisation. After the spatial filters, the signals are averaged over blocks of samples
    down to about ``4 * frame_rate`` Hz (the band-pass filters stop at 40 Hz at most); the
    band-pass filters come from the shared part, sampled at that rate, and the pooling into
    frames gives every site the same frames.

    The spatial weights start from values drawn per channel name (and ``seed``), so that sites
    sharing channels start with the same weights on them and their maps mean alike at first;
    averaging the shared part across sites relies on that. Random mixtures of montages that
    differ mostly in their other channels still mean different things (and a mixture of
    many channels drowns a focal rhythm), so ``anchors`` can name channels the filters start
    on (see :func:`anchored_weights`): then every site holding them starts with the same
    virtual channels, and its other channels join them by training.

    Parameters
    ----------
    ch_names, ch_types : sequence of str
        Name and MNE type of each input channel (the type sets the fixed gain).
    seed : int
        Seeds the spatial weights' initial values, with each channel's name.
    sfreq : float
        The site's sampling rate in Hz.
    n_times : int
        Samples per window.
    n_spatial : int
        Spatial filters (virtual channels).
    n_bands : int
        Bands of the shared filters; the front end yields ``2 * n_spatial * n_bands`` maps
        (power, then amplitude).
    kernel_s : float
        Length of the band-pass kernels in seconds (an odd number of samples).
    frame_rate : float
        Rate of the feature frames in Hz, the same at every site.
    anchors : tuple of str
        Channels the first spatial filters start on (at most ``n_spatial``).
    """

    def __init__(
        self,
        ch_names: tuple[str, ...],
        ch_types: tuple[str, ...],
        seed: int,
        sfreq: float,
        n_times: int,
        n_spatial: int,
        n_bands: int,
        kernel_s: float,
        frame_rate: float,
        anchors: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        if sfreq < 4 * frame_rate:
            raise ValueError(
                f"a sampling rate of {sfreq} Hz is below 4 x the frame rate ({frame_rate} Hz)"
            )
        unknown = sorted({kind for kind in ch_types if kind not in CHANNEL_TYPE_GAINS})
        if unknown:
            raise ValueError(f"channel types {unknown} carry no brain signal for this model")
        step = max(1, int(sfreq // (4 * frame_rate)))
        rate = sfreq / step
        kernel = round(kernel_s * rate) | 1
        pool = int(rate // frame_rate)
        self.n_frames = frame_count(n_times / sfreq, frame_rate)
        if (n_times // step) // pool < self.n_frames:
            raise ValueError(
                f"{n_times} samples at {sfreq} Hz give fewer than {self.n_frames} frames"
            )
        self.n_spatial, self.n_bands, self.nyquist = n_spatial, n_bands, rate / 2
        gains = [CHANNEL_TYPE_GAINS[kind] for kind in ch_types]
        times = (torch.arange(kernel) - kernel // 2) / rate
        self.register_buffer("gain", torch.tensor(gains)[None, :, None], persistent=False)
        self.register_buffer("times", times[None, :], persistent=False)
        self.register_buffer("window", torch.hann_window(kernel + 2)[1:-1], persistent=False)
        self.spatial = nn.Conv1d(len(ch_types), n_spatial, 1, bias=False)
        with torch.no_grad():
            initial = anchored_weights(tuple(ch_names), n_spatial, seed, tuple(anchors))
            self.spatial.weight.copy_(initial[:, :, None])
        self.norm = nn.GroupNorm(2, 2 * n_spatial * n_bands)
        self.decimate = nn.AvgPool1d(step, step)
        self.pool = nn.AvgPool1d(pool, pool)

    @property
    def n_maps(self) -> int:
        """Return the number of feature maps handed to the trunk."""
        return 2 * self.n_spatial * self.n_bands

    def forward(self, x: torch.Tensor, bands: BandFilters) -> torch.Tensor:
        """Map windows (batch, channels, times) to features (batch, maps, frames)."""
        x = functional.conv1d(x, self.spatial.weight * self.gain)
        x = self.decimate(x - x.mean(dim=-1, keepdim=True))
        kernels = bands.kernels(self.times, self.window, self.nyquist)
        weight = kernels.repeat(self.n_spatial, 1)[:, None, :]
        x = functional.conv1d(x, weight, padding=weight.shape[-1] // 2, groups=self.n_spatial)
        features = torch.cat([torch.log(self.pool(x * x) + LOG_FLOOR), self.pool(x)], dim=1)
        return self.norm(features[..., : self.n_frames])


HEADS = ("mean", "frames")


class SharedTrunk(nn.Module):
    """DeepConvNet-style convolution blocks over feature frames, then a linear head.

    Parameters
    ----------
    n_maps : int
        Feature maps coming from the front end.
    n_frames : int
        Frames per window.
    filters : sequence of int
        Output maps of each block (each block halves the frames).
    n_outputs : int
        Classes.
    dropout : float
        Dropout after each block.
    head : str
        ``mean``: the head sees each map averaged over the window (time-invariant, for
        rhythm modulations such as motor imagery); ``frames``: it sees every frame (for
        evoked responses and slow potentials, whose timing matters).
    """

    def __init__(
        self,
        n_maps: int,
        n_frames: int,
        filters: tuple[int, ...],
        n_outputs: int,
        dropout: float,
        head: str = "mean",
    ) -> None:
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        blocks: list[nn.Module] = []
        frames, previous = n_frames, n_maps
        for count in filters:
            if frames < 2:
                raise ValueError(f"{n_frames} frames are too few for {len(filters)} blocks")
            blocks += [
                nn.Conv1d(previous, count, 5, padding=2),
                nn.GroupNorm(min(4, count), count),
                nn.ELU(),
                nn.MaxPool1d(2),
                nn.Dropout(dropout),
            ]
            frames, previous = frames // 2, count
        self.blocks = nn.Sequential(*blocks)
        self.time_mean = head == "mean"
        self.head = nn.Linear(previous * (1 if self.time_mean else frames), n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map feature frames (batch, maps, frames) to class logits."""
        x = self.blocks(x)
        return self.head(x.mean(dim=-1) if self.time_mean else torch.flatten(x, 1))


class SharedLayers(nn.Module):
    """What every site shares: the band-pass filters, the convolution trunk and the head."""

    def __init__(self, bands: BandFilters, trunk: SharedTrunk) -> None:
        super().__init__()
        self.bands = bands
        self.trunk = trunk


class SplitNetwork(nn.Module):
    """A site front end (``local``) with the shared filters, trunk and head (``shared``)."""

    def __init__(self, local: SiteFrontEnd, shared: SharedLayers) -> None:
        super().__init__()
        self.local = local
        self.shared = shared

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits for windows (batch, channels, times)."""
        return self.shared.trunk(self.local(x, self.shared.bands))
