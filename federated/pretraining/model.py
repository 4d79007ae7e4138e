"""The model every site and the server pretrain: built from the federation, the same everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from decoders.datasets.errors import DataError

if TYPE_CHECKING:
    from decoders.pretraining.model import PretrainingModel
    from decoders.pretraining.trainer import PretrainSettings
    from federated.config import FederationConfig


def model_config(config: FederationConfig) -> dict[str, Any]:
    """Return the model's configuration (its size's, updated by ``pretrain-options``)."""
    from decoders.pretraining.registry import pretrainable

    cls = pretrainable(config.pretrain).load_class()
    return cls.configuration(config.pretrain_size, **config.pretrain_options)


def build_model(config: FederationConfig) -> PretrainingModel:
    """Return the untrained model of the federation (seeded, so every process builds one)."""
    import torch

    from decoders.pretraining.registry import pretrainable

    cls = pretrainable(config.pretrain).load_class()
    torch.manual_seed(config.seed)
    model = cls.from_config(model_config(config))
    quantizer_prefixes(model)
    return model


def quantizer_prefixes(model: PretrainingModel) -> list[str]:
    """Return the state-dict prefix of each of the model's codebooks.

    Raises
    ------
    DataError
        For a codebook learnt by gradient (federated aggregation sums EMA statistics).
    """
    quantizers = model.quantizers()
    prefixes = [name for name, module in model.named_modules() if module in quantizers]
    for name, module in model.named_modules():
        if module in quantizers and not module.ema:
            raise DataError(
                name, "federated pretraining aggregates EMA codebooks; this one learns by gradient"
            )
    return prefixes


def settings(config: FederationConfig) -> PretrainSettings:
    """Return the optimisation settings of every site's local steps (one schedule for the run)."""
    from decoders.pretraining.trainer import PretrainSettings

    return PretrainSettings(
        steps=config.rounds * config.local_steps,
        global_batch=config.batch_size,
        micro_batch=config.micro_batch or config.batch_size,
        lr=config.lr,
        weight_decay=config.weight_decay,
        seed=config.seed,
        device="cpu",
        precision="float32",
    )
