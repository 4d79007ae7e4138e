"""Zero-shot features: a frozen MEG-GPT's pooled hidden states, no weight trained on labels.

:func:`frozen_encoder` builds the ``meg-gpt`` network with a pretrained model's weights (or the
same network with random weights, the "scratch" control) for trials of one channel set; its
parcels (when not pretrained) are fitted on ``fitting`` trials, without their labels.
:func:`frozen_features` standardises each recording session on its own (each (subject, block)
of the trials, unsupervised, as the paper standardises every session) and returns the pooled
hidden states that a linear classifier trained on other sessions or subjects then reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.contract import OutputSpec

if TYPE_CHECKING:
    import torch

    from decoders.datasets.trials import TrialSet


def frozen_encoder(
    pretrained: Path | None, fitting: TrialSet, *, seed: int = 0, **options: Any
) -> torch.nn.Module:
    """Return the MEG-GPT network for ``fitting``'s channels, pretrained or random, frozen."""
    import torch

    from decoders import registry

    from .classifier import MEGGPT

    implied = {} if pretrained is None else MEGGPT.options_from(pretrained)
    decoder = registry.create("meg-gpt", seed=seed, **{**implied, **options})
    decoder.input_spec_ = decoder.spec_for(fitting)
    decoder.output_spec_ = OutputSpec("probabilities", fitting.classes)
    torch.manual_seed(seed)
    module = decoder.build(decoder.input_spec_, decoder.output_spec_)
    if pretrained is not None:
        decoder.initialize(module, Path(pretrained))
    decoder.prepare(module, fitting)
    return module.eval().requires_grad_(False)


def frozen_features(module: torch.nn.Module, trials: TrialSet, batch: int = 64) -> np.ndarray:
    """Return the pooled hidden states (trials, features), each session standardised alone."""
    import torch

    from .classifier import fit_scales

    features = np.zeros((trials.n_trials, module.head.in_features), dtype=np.float32)
    sessions = np.stack([trials.groups, trials.blocks], axis=1)
    with torch.no_grad():
        for session in np.unique(sessions, axis=0):
            rows = np.flatnonzero((sessions == session).all(axis=1))
            data = torch.as_tensor(trials.data[rows], dtype=torch.float32)
            fit_scales(module, data)
            for start in range(0, len(rows), batch):
                chunk = data[start : start + batch]
                features[rows[start : start + batch]] = module.embed(chunk).numpy()
    return features
