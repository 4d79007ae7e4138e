"""MiniRocket and MultiRocket: random dilated convolutions, pooled, then a ridge classifier.

Fitted with aeon (its kernels, dilations, channel combinations and biases, then
scikit-learn's ``RidgeClassifierCV`` on the standardised features, as aeon's classifiers do);
inference is the same computation as a torch module, which is what is exported:

- each of the 84 MiniRocket kernels (length 9, weights -1 and 2) at each dilation, summed
  over the kernel's random channel combination, is a matrix product of the zero-padded,
  dilated taps with a (kernel x channel) weight matrix, in float64 so that ONNX Runtime and
  torch put the same samples above a bias (a float32 rounding flips them);
- pooling against each bias: MiniRocket's proportion of positive values (PPV); MultiRocket's
  PPV, longest stretch (aeon's definition: the largest gap between successive samples below
  the bias, the window's ends included), mean of positive values (aeon adds the bias to each)
  and mean index of positive values, on the signal and on its first difference;
- every other (dilation, kernel) pair pools over the window without its padded edges;
- as in aeon, MultiRocket's difference series reuses the signal's channel combinations, and
  its four left taps sit one sample nearer the centre than the right ones (aeon computes the
  shifts for the signal's length, one sample longer);
- the ridge classifier's decision values are the logits (a binary problem: ``[0, d]``).

The torch module reproduces aeon's features up to its float32 arithmetic (aeon computes the
convolutions in float32 with fast-math: a sample within rounding of a bias may land on the
other side; the tests bound how often).
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.contract import Decoder, InputSpec, OutputSpec
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.history import TrainingRun

from .csp_lda import linear_logits

if TYPE_CHECKING:
    import torch

KINDS = ("minirocket", "multirocket")
KERNEL_TAPS = np.array(list(combinations(range(9), 3)))
"""The 84 MiniRocket kernels: the three taps (of nine) weighted 2, the others -1."""
POOLINGS = {"minirocket": 1, "multirocket": 4}


class RocketDecoder(Decoder):
    """MiniRocket or MultiRocket features with a ridge classifier (see the module docstring).

    Parameters
    ----------
    kind : str
        ``minirocket`` or ``multirocket``.
    n_kernels : int
        aeon's ``n_kernels``: features per series and pooling operator (rounded down to a
        multiple of 84).
    max_dilations_per_kernel : int
        Upper bound on the dilations of each kernel.
    """

    predict_batch_size = 8

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        kind: str = "minirocket",
        n_kernels: int = 10_000,
        max_dilations_per_kernel: int = 32,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind} (known: {', '.join(KINDS)})")
        super().__init__(seed, hop_s)
        self.kind = kind
        self.n_kernels = n_kernels
        self.max_dilations_per_kernel = max_dilations_per_kernel

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the module with the kernels' layout and zeroed biases and classifier.

        The layout (dilations, features per dilation, channel combinations) depends only on
        the window length, the channel count, the options and the seed.
        """
        if spec.n_times < 10:
            raise DataError(
                self.name, f"windows of {spec.n_times} samples: ROCKET needs at least 10"
            )
        shape = np.zeros((2, len(spec.ch_names), spec.n_times), dtype=np.float32)
        transform = self._transform().fit(shape)
        return RocketModule(transform, len(spec.ch_names), len(output.names), self.kind)

    def train_module(
        self, module: torch.nn.Module, train: TrialSet, valid: TrialSet, run: TrainingRun
    ) -> None:
        """Fit on training and validation trials together: nothing is selected on validation.

        The ridge penalty is chosen by leave-one-out cross-validation on them.
        """
        import torch
        from sklearn.linear_model import RidgeClassifierCV
        from sklearn.preprocessing import StandardScaler

        train = train.concat(valid)
        scale = 1.0 / float(np.std(train.data))
        data = (train.data * scale).astype(np.float32)
        transform = self._transform().fit(data)
        features = np.asarray(transform.transform(data), dtype=float)
        scaler = StandardScaler(with_mean=False).fit(features)
        ridge = RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)).fit(
            scaler.transform(features), train.labels
        )
        coef, intercept = linear_logits(ridge, train.n_classes)
        fitted = RocketModule(transform, train.n_channels, train.n_classes, self.kind)
        with torch.no_grad():
            for name, value in fitted.state_dict().items():
                module.get_buffer(name).copy_(value)
            module.scale.fill_(scale)
            module.coef.copy_(torch.as_tensor(coef / scaler.scale_[None, :], dtype=torch.float64))
            module.intercept.copy_(torch.as_tensor(intercept, dtype=torch.float64))
        self.transform_ = transform  # aeon's transform, for tests and benchmarks
        return None

    def card_extra(self) -> dict[str, Any]:
        """Return the feature count and the classifier, for the card."""
        if not self.is_fitted:
            return {}
        return {"features": int(self.module_.coef.shape[1]), "classifier": "RidgeClassifierCV"}

    def _transform(self):
        try:
            from aeon.transformations.collection import convolution_based
        except ImportError as error:
            raise ImportError(
                f"{self.kind} is fitted with aeon: pip install 'aeon>=1.0'"
            ) from error
        cls = (
            convolution_based.MiniRocket
            if self.kind == "minirocket"
            else convolution_based.MultiRocket
        )
        return cls(
            n_kernels=self.n_kernels,
            max_dilations_per_kernel=self.max_dilations_per_kernel,
            random_state=self.seed,
            n_jobs=1,
        )


def rocket_parameters(transform) -> list[tuple]:
    """Return aeon's fitted parameter tuples: one per series (signal, then its difference).

    Each is ``(n_channels_per_combination, channel_indices, dilations,
    n_features_per_dilation, biases)``; for one-channel data (where aeon keeps no channel
    combinations) every combination is that channel.
    """
    fitted = (
        [transform.parameters]
        if hasattr(transform, "parameters")
        else [
            transform.parameter,
            transform.parameter1,
        ]
    )
    series = []
    for parameters in fitted:
        if len(parameters) == 3:
            dilations, per_dilation, biases = parameters
            n_combinations = len(KERNEL_TAPS) * len(dilations)
            ones = np.ones(n_combinations, dtype=int)
            parameters = (
                ones,
                np.zeros(n_combinations, dtype=int),
                dilations,
                per_dilation,
                biases,
            )
        series.append(parameters)
    return series


def RocketModule(transform, n_channels: int, n_classes: int, kind: str) -> torch.nn.Module:
    """Return the torch module computing a fitted aeon transform's features and logits."""
    import torch
    import torch.nn.functional as F

    series = rocket_parameters(transform)
    n_pooling = POOLINGS[kind]
    n_features = sum(len(KERNEL_TAPS) * int(np.sum(p[3])) for p in series) * n_pooling

    class Rocket(torch.nn.Module):
        """Dilated -1/2 convolutions over channel combinations, pooled, then linear logits."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("scale", torch.ones((), dtype=torch.float64))
            self.layout: list[list[tuple[int, int]]] = []
            # aeon's difference series reuses the signal's channel combinations
            per_combination, indices = series[0][0], series[0][1]
            for s, (_, _, dilations, per_dilation, biases) in enumerate(series):
                layout = []
                combination = start = offset = 0
                for j, (dilation, count) in enumerate(zip(dilations, per_dilation, strict=True)):
                    weights = np.zeros((9, len(KERNEL_TAPS), n_channels))
                    for k, taps in enumerate(KERNEL_TAPS):
                        chosen = indices[start : start + per_combination[combination]]
                        start += per_combination[combination]
                        combination += 1
                        tap_weights = np.full(9, -1.0)
                        tap_weights[taps] = 2.0
                        weights[:, k, chosen] = tap_weights[:, None]
                    size = len(KERNEL_TAPS) * int(count)
                    block = np.asarray(biases[offset : offset + size], dtype=float)
                    offset += size
                    cropped = (j + np.arange(len(KERNEL_TAPS))) % 2 == 1
                    self.register_buffer(f"w{s}_{j}", torch.as_tensor(weights))
                    self.register_buffer(
                        f"b{s}_{j}", torch.as_tensor(block.reshape(len(KERNEL_TAPS), int(count)))
                    )
                    self.register_buffer(f"c{s}_{j}", torch.as_tensor(cropped))
                    layout.append((int(dilation), int(count)))
                self.layout.append(layout)
            self.register_buffer("coef", torch.zeros(n_classes, n_features, dtype=torch.float64))
            self.register_buffer("intercept", torch.zeros(n_classes, dtype=torch.float64))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x.double() * self.scale
            signals = [x] if len(self.layout) == 1 else [x, x[..., 1:] - x[..., :-1]]
            blocks = []
            for s, (signal, layout) in enumerate(zip(signals, self.layout, strict=True)):
                pooled = []
                for j, (dilation, _) in enumerate(layout):
                    weights = getattr(self, f"w{s}_{j}")
                    conv = _dilated(signal, weights, dilation, nearer_left=s == 1)
                    bias = getattr(self, f"b{s}_{j}")
                    edge = 4 * dilation
                    full = _pool(conv, bias, n_pooling)
                    inner = _pool(conv[..., edge:-edge], bias, n_pooling)
                    crop = getattr(self, f"c{s}_{j}")[None, None, :, None]
                    pooled.append(torch.where(crop, inner, full))  # (op, n, kernel, feature)
                # aeon's order: per operator, (dilation, kernel, feature) flattened
                per_operator = [p.flatten(2) for p in pooled]
                blocks.append(torch.cat(per_operator, dim=2))
            features = torch.cat([b.permute(1, 0, 2).flatten(1) for b in blocks], dim=1)
            return (features @ self.coef.T + self.intercept).float()

    def _dilated(
        signal: torch.Tensor, weights: torch.Tensor, dilation: int, nearer_left: bool
    ) -> torch.Tensor:
        """Return (n, 84, T): each kernel's 'same' dilated convolution, summed over channels.

        ``nearer_left``: the four left taps one sample nearer the centre, as aeon computes
        MultiRocket's difference series (for dilation 1 the nearest left tap is the centre).
        """
        n_times = signal.shape[-1]
        padded = F.pad(signal, (4 * dilation, 4 * dilation))
        out = None
        for tap in range(9):
            start = tap * dilation + (1 if nearer_left and tap < 4 else 0)
            taps = padded[..., start : start + n_times]
            term = torch.matmul(weights[tap], taps)
            out = term if out is None else out + term
        return out

    def _pool(conv: torch.Tensor, bias: torch.Tensor, n_ops: int) -> torch.Tensor:
        """Return (n_ops, n, 84, F) pooled features of (n, 84, T) against biases (84, F)."""
        values = conv[:, :, None, :]
        above = values > bias[None, :, :, None]
        length = conv.shape[-1]
        positives = above.double()
        count = positives.sum(-1)
        ppv = count / length
        if n_ops == 1:
            return ppv[None]
        index = torch.arange(length, dtype=torch.float64)
        some = count > 0
        safe = torch.where(some, count, torch.ones_like(count))
        mpv = torch.where(some, ((values + bias[None, :, :, None]) * positives).sum(-1) / safe, 0.0)
        mipv = torch.where(some, (index * positives).sum(-1) / safe, -1.0)
        below = values < bias[None, :, :, None]
        last = torch.where(below, index, torch.zeros_like(index))
        step = 1
        while step < length:  # running maximum by doubling: the last sample below the bias
            last = torch.maximum(last, F.pad(last[..., :-step], (step, 0)))
            step *= 2
        previous = F.pad(last[..., :-1], (1, 0))
        gaps = torch.where(below, index - previous, torch.zeros_like(index))
        lspv = torch.maximum(gaps.amax(-1), (length - 1) - last[..., -1])
        return torch.stack([ppv, lspv, mpv, mipv])

    return Rocket()
