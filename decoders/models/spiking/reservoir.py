"""A liquid state machine: a recurrent spiking reservoir tuned by astrocyte-gated STDP.

After NALSM (Ivanov & Michmizos 2021). Leaky integrate-and-fire neurons sit on a 3-D grid,
80 % excitatory and 20 % inhibitory, connected with a probability that falls with distance
(``density * exp(-(d / length)^2)``); inputs drive a random tenth of the neurons. Nothing in
the reservoir learns by gradient. Its excitatory synapses learn unsupervised, by spike-timing
dependent plasticity (pair-based, with traces) whose sign and size an astrocyte sets. The
astrocyte follows the network's branching factor (the spikes one spike causes over the next
steps, measured by perturbation and smoothed) and its activity, and turns
``tanh(gain * (1 - branching - excess activity))`` into a gate: positive when subcritical,
negative when supercritical or running away. The gate multiplies the STDP
update (Hebbian when subcritical, anti-Hebbian when supercritical) and drives a slow
multiplicative scaling of the excitatory weights, which together push the branching factor
towards 1, the critical regime where a reservoir's memory and separation are best. (NALSM's
astrocyte gates STDP by the network's activity; the scaling term is ours, for a controller
that converges whatever the input drive.) Only a linear readout of the reservoir's spike
counts is trained.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .binning import BinnedInput, TimeBins
from .synops import SynapticLayer, linear_fan_out

EXCITATORY_SHARE = 0.8
INPUT_SHARE = 0.1


@dataclass
class Plasticity:
    """Settings of astrocyte-gated STDP.

    Parameters
    ----------
    lr : float
        Learning rate of the excitatory weights.
    tau_trace : float
        Decay of the pre- and postsynaptic traces, in steps.
    depression : float
        Weight of depression against potentiation (above 1: net depression at random timing).
    tau_astrocyte : float
        Steps over which the astrocyte smooths the branching factor.
    gain : float
        How strongly the distance from criticality (1 - branching) sets the learning sign.
    scaling : float
        Rate of the astrocyte's multiplicative scaling of excitatory weights towards
        criticality (up when subcritical, down when supercritical).
    max_rate : float
        Share of neurons firing per step above which the astrocyte depresses whatever the
        branching factor (a saturated network's spikes cannot branch: its measured branching
        factor falls below 1 although it runs away).
    max_weight : float
        Upper bound of an excitatory weight.
    diverged_at : float
        A smoothed branching factor above this stops the learning with an error.
    saturated_at : float
        So does a share of neurons firing at every step above this (a saturated network's
        branching factor is 1, but it carries nothing).
    """

    lr: float = 0.01
    tau_trace: float = 3.0
    depression: float = 1.0
    tau_astrocyte: float = 20.0
    gain: float = 4.0
    scaling: float = 0.05
    max_rate: float = 0.2
    max_weight: float = 1.0
    diverged_at: float = 3.0
    saturated_at: float = 0.5


@dataclass
class Branching:
    """The astrocyte's estimate of the branching factor, and its course over training.

    The branching factor is the mean number of spikes one spike causes at the next step. It
    is measured by perturbation: one more spike of a random excitatory neuron at a random
    step of every window, and the spikes it adds at the next step (neurons whose membrane
    crosses the threshold only with its current), from the recorded membranes; stationary
    activity of a driven network leaves the ratio of successive spike counts near 1
    whatever the dynamics, so that ratio would not do.
    """

    smoothed: float | None = None
    course: list[float] = field(default_factory=list)

    def observe(self, measured: float, tau: float, steps: int) -> float:
        """Smooth one batch's measurement in; return the smoothed value."""
        if self.smoothed is None:
            self.smoothed = measured
        else:
            self.smoothed += (measured - self.smoothed) * min(1.0, steps / tau)
        self.course.append(self.smoothed)
        return self.smoothed


def grid_positions(n_neurons: int, seed: int) -> np.ndarray:
    """Return ``n_neurons`` positions on the smallest cubic grid that holds them (unit spacing)."""
    side = math.ceil(n_neurons ** (1 / 3))
    cells = np.stack(np.meshgrid(*[np.arange(side)] * 3, indexing="ij"), -1).reshape(-1, 3)
    chosen = np.random.default_rng(seed).choice(len(cells), n_neurons, replace=False)
    return cells[np.sort(chosen)].astype(float)


class Reservoir(torch.nn.Module):
    """Binned input -> recurrent LIF reservoir -> spike counts per time segment -> readout.

    Parameters
    ----------
    n_channels, n_classes : int
        Input channels and output classes.
    bins : TimeBins
        How windows are cut into steps.
    n_neurons : int
        Reservoir neurons.
    density, length : float
        Connection probability at distance 0, and its spatial scale in grid units.
    input_weight, reservoir_weight : float
        Mean strength of input and recurrent synapses (inhibitory ones count double).
    beta, threshold : float
        Leak and firing threshold of every neuron.
    segments : int
        Time segments over which spikes are counted for the readout.
    seed : int
        Seeds positions, connections and weights.
    """

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        bins: TimeBins,
        *,
        n_neurons: int = 256,
        density: float = 0.3,
        length: float = 2.0,
        input_weight: float = 0.2,
        reservoir_weight: float = 0.3,
        beta: float = 0.8,
        threshold: float = 1.0,
        segments: int = 4,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.input = BinnedInput(n_channels, bins)
        rng = np.random.default_rng(seed)
        positions = grid_positions(n_neurons, seed)
        distance = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
        connected = rng.random((n_neurons, n_neurons)) < density * np.exp(
            -((distance / length) ** 2)
        )
        np.fill_diagonal(connected, False)
        excitatory = np.zeros(n_neurons, bool)
        excitatory[rng.permutation(n_neurons)[: round(EXCITATORY_SHARE * n_neurons)]] = True
        strength = rng.gamma(2.0, reservoir_weight / 2.0, (n_neurons, n_neurons))
        sign = np.where(excitatory, 1.0, -2.0)[:, None]  # rows: presynaptic neuron
        weights = np.where(connected, strength * sign, 0.0)
        n_inputs = self.input.n_inputs
        fed = rng.random((n_inputs, n_neurons)) < INPUT_SHARE
        input_weights = np.where(fed, rng.normal(input_weight, input_weight / 4, fed.shape), 0.0)
        self.register_buffer("input_weight", torch.tensor(input_weights, dtype=torch.float32))
        self.register_buffer("weight", torch.tensor(weights, dtype=torch.float32))
        self.register_buffer("connected", torch.tensor(connected))
        self.register_buffer("excitatory", torch.tensor(excitatory))
        self.beta, self.threshold, self.segments = beta, threshold, segments
        self.n_neurons = n_neurons
        self.readout = torch.nn.Linear(segments * n_neurons, n_classes)

    def spikes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the step inputs (batch, steps, n_inputs) and the spikes (batch, steps, N)."""
        inputs, spikes, _ = self.run(x)
        return inputs, spikes

    def run(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return step inputs, spikes and membranes before threshold (batch, steps, N)."""
        inputs = self.input(x)
        drive = inputs @ self.input_weight
        membrane = drive.new_zeros(drive.shape[0], self.n_neurons)
        spike = torch.zeros_like(membrane)
        trains, potentials = [], []
        for step in range(drive.shape[1]):
            membrane = self.beta * membrane + drive[:, step] + spike @ self.weight
            potentials.append(membrane)
            spike = (membrane > self.threshold).to(membrane.dtype)
            membrane = membrane - spike * self.threshold
            trains.append(spike)
        return inputs, torch.stack(trains, dim=1), torch.stack(potentials, dim=1)

    def branching(
        self,
        potentials: torch.Tensor,
        generator: torch.Generator,
        per_window: int = 16,
        horizon: int = 5,
    ) -> float:
        """Return the mean number of spikes one extra excitatory spike causes (its descendants).

        ``per_window`` random (neuron, step) perturbations are measured in every window: the
        extra current reaches each target at the next step and leaks away with the membrane
        (``beta`` per step); a target counts once, at the first of the next ``horizon`` steps
        where its recorded membrane plus the leaked extra current crosses the threshold while
        the recorded one did not.
        """
        batch, steps, _ = potentials.shape
        sources = torch.nonzero(self.excitatory).flatten()
        count = batch * per_window
        neuron = sources[torch.randint(len(sources), (count,), generator=generator)]
        step = torch.randint(steps - 1, (count,), generator=generator)
        window = torch.arange(batch).repeat_interleave(per_window)
        extra = self.weight[neuron]  # (count, neurons)
        caused = torch.zeros_like(extra, dtype=torch.bool)
        for lag in range(1, horizon + 1):
            at = (step + lag).clamp(max=steps - 1)
            valid = (step + lag < steps)[:, None]
            before = potentials[window, at]
            after = before + extra * self.beta ** (lag - 1)
            caused |= valid & (after > self.threshold) & (before <= self.threshold)
        return float(caused.sum(dim=1).float().mean())

    def features(self, spikes: torch.Tensor) -> torch.Tensor:
        """Return spike counts per neuron in each of ``segments`` time segments, flattened."""
        steps = spikes.shape[1]
        edges = [round(k * steps / self.segments) for k in range(self.segments + 1)]
        counts = [spikes[:, a:b].sum(dim=1) for a, b in itertools.pairwise(edges)]
        return torch.cat(counts, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits of windows (batch, channels, n_times)."""
        return self.readout(self.features(self.spikes(x)[1]))

    def synaptic_layers(self, x: torch.Tensor) -> list[SynapticLayer]:
        """Return the activity entering each weight layer (for SynOps)."""
        inputs, spikes = self.spikes(x)
        return [
            SynapticLayer("input", (inputs,), linear_fan_out(self.input_weight.T), False),
            SynapticLayer("reservoir", (spikes,), linear_fan_out(self.weight.T), True),
            # each spike adds its neuron's readout weights to the class sums: one AC per class
            SynapticLayer(
                "readout", (spikes,), torch.full((self.n_neurons,), self.readout.out_features), True
            ),
        ]

    @torch.no_grad()
    def adapt(
        self,
        x: torch.Tensor,
        rule: Plasticity,
        branching: Branching,
        generator: torch.Generator,
    ) -> float:
        """Run windows ``x`` through the reservoir with astrocyte-gated STDP; return branching.

        Raises
        ------
        FloatingPointError
            When the branching factor diverges, the activity saturates or the weights stop
            being finite (the weights are then left as they were).
        """
        _, spikes, potentials = self.run(x)
        measured = self.branching(potentials, generator)
        sigma = branching.observe(measured, rule.tau_astrocyte, spikes.shape[1])
        rate = float(spikes.mean())
        if sigma > rule.diverged_at or rate > rule.saturated_at:
            raise FloatingPointError(
                f"the reservoir's branching factor reached {sigma:.2f} with {rate:.0%} of its "
                "neurons firing per step"
            )
        excess = max(0.0, rate / rule.max_rate - 1.0)
        sign = math.tanh(rule.gain * (1.0 - sigma - excess))  # > 0: potentiate, < 0: depress
        decay = math.exp(-1.0 / rule.tau_trace)
        pre = torch.zeros_like(spikes[:, 0])
        post = torch.zeros_like(pre)
        change = torch.zeros_like(self.weight)
        for step in range(spikes.shape[1]):
            now = spikes[:, step]
            # potentiation: pre before post (pre trace at a post spike); depression: post before pre
            change += pre.T @ now - rule.depression * (now.T @ post)
            pre = pre * decay + now
            post = post * decay + now
        change *= rule.lr * sign / (spikes.shape[0] * spikes.shape[1])
        change += rule.scaling * sign * self.weight  # the astrocyte's synaptic scaling
        plastic = self.connected & self.excitatory[:, None]
        updated = self.weight + torch.where(plastic, change, 0.0)
        updated = torch.where(plastic, updated.clamp(0.0, rule.max_weight), self.weight)
        if not bool(torch.isfinite(updated).all()):
            raise FloatingPointError("the reservoir weights are no longer finite")
        self.weight.copy_(updated)
        return sigma
