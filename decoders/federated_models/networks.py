"""Torch modules of the FLEEG-style network: a per-site front end and a shared trunk.

The front end is sized to one site's montage and sampling rate and turns its windows into a
fixed number of feature maps at a fixed frame rate (the log band power and the mean amplitude
of each filtered virtual channel), so that every site hands the shared trunk tensors of the
same shape.
"""

from __future__ import annotations

import torch
from torch import nn

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

LOG_FLOOR = 1e-4
"""Added to the band power before its logarithm (powers are normalised to order one)."""


def frame_count(window_s: float, frame_rate: float) -> int:
    """Return the number of frames of a window handed to the shared trunk."""
    return int(window_s * frame_rate + 1e-6)


class SiteFrontEnd(nn.Module):
    """Spatial filters, depthwise temporal filters, then per-frame log power and mean.

    Band power carries rhythm modulations (motor imagery), the mean amplitude slow potentials
    and evoked responses; both are computed over frames of ``1 / frame_rate`` seconds.

    Parameters
    ----------
    ch_types : sequence of str
        MNE type of each input channel (sets the fixed gain of each).
    sfreq : float
        The site's sampling rate in Hz.
    n_times : int
        Samples per window.
    n_spatial : int
        Spatial filters (virtual channels).
    depth : int
        Temporal filters per virtual channel; the front end yields ``2 * n_spatial * depth``
        maps (power, then amplitude).
    kernel_s : float
        Length of the temporal filters in seconds (the kernel has an odd number of samples).
    frame_rate : float
        Rate of the feature frames in Hz, the same at every site.
    """

    def __init__(
        self,
        ch_types: tuple[str, ...],
        sfreq: float,
        n_times: int,
        n_spatial: int,
        depth: int,
        kernel_s: float,
        frame_rate: float,
    ) -> None:
        super().__init__()
        if sfreq < 4 * frame_rate:
            raise ValueError(
                f"a sampling rate of {sfreq} Hz is below 4 x the frame rate ({frame_rate} Hz)"
            )
        unknown = sorted({kind for kind in ch_types if kind not in CHANNEL_TYPE_GAINS})
        if unknown:
            raise ValueError(f"channel types {unknown} carry no brain signal for this model")
        kernel = round(kernel_s * sfreq) | 1
        stride = max(1, int(sfreq // (4 * frame_rate)))
        pool = int(sfreq // (stride * frame_rate))
        self.n_frames = frame_count(n_times / sfreq, frame_rate)
        self.register_buffer(
            "gain",
            torch.tensor([CHANNEL_TYPE_GAINS[kind] for kind in ch_types])[None, :, None],
            persistent=False,
        )
        self.spatial = nn.Conv1d(len(ch_types), n_spatial, 1, bias=False)
        self.temporal = nn.Conv1d(
            n_spatial,
            n_spatial * depth,
            kernel,
            stride=stride,
            padding=kernel // 2,
            groups=n_spatial,
            bias=False,
        )
        self.norm = nn.GroupNorm(1, n_spatial * depth)
        self.pool = nn.AvgPool1d(pool, pool)

    @property
    def n_maps(self) -> int:
        """Return the number of feature maps handed to the trunk."""
        return 2 * self.temporal.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map windows (batch, channels, times) to features (batch, maps, frames)."""
        x = x * self.gain
        x = x - x.mean(dim=-1, keepdim=True)
        x = self.norm(self.temporal(self.spatial(x)))
        power = torch.log(self.pool(x * x) + LOG_FLOOR)
        return torch.cat([power, self.pool(x)], dim=1)[..., : self.n_frames]


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
    """

    def __init__(
        self,
        n_maps: int,
        n_frames: int,
        filters: tuple[int, ...],
        n_outputs: int,
        dropout: float,
    ) -> None:
        super().__init__()
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
        self.head = nn.Linear(previous * frames, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map feature frames (batch, maps, frames) to class logits."""
        return self.head(torch.flatten(self.blocks(x), 1))


class SplitNetwork(nn.Module):
    """A site front end (``local``) followed by the shared trunk and head (``shared``)."""

    def __init__(self, local: SiteFrontEnd, shared: SharedTrunk) -> None:
        super().__init__()
        self.local = local
        self.shared = shared

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits for windows (batch, channels, times)."""
        return self.shared(self.local(x))
