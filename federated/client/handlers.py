"""The ClientApp's work for each message: train a round, evaluate, finish (test and save).

Messages carry the arrays the site must use under ``arrays`` and the server's settings under
``config`` (``server-round``, ``run-key``, FedProx's ``proximal-mu``). Replies carry the site's
name in a ``site`` config record beside the metrics, so the server can report per site.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np

from decoders.card import DecoderCard
from federated.arrays import as_numpy, from_record, to_record
from federated.config import FederationConfig

from .job import SiteJob, load_state
from .training import RoundSettings, evaluate, train_round

if TYPE_CHECKING:
    from pathlib import Path

    import torch
    from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord

    from decoders.split import SplitDecoder

VALIDATION_METRICS = ("loss", "accuracy", "balanced_accuracy")
"""Validation scores every site reports (defined for any validation set, so the replies of all
sites carry the same keys, as Flower's aggregation requires)."""
RUN_KEY = "run-key"
PRIVACY_KEY = "privacy"
"""Config key of the finish message holding the server's central DP account (JSON)."""
SITE_RECORD = "site"
WEIGHT_KEY = "num-examples"


def handle_train(message: Message, context: Context) -> Message:
    """Train the received model on the site's trials for one round; reply its shared part.

    Under secure aggregation the message is SecAgg+'s masked-update stage and the reply the
    update for Flower's mod to mask (:mod:`.secure`).
    """
    import torch
    from flwr.app import MetricRecord

    from .secure import is_secure, masked_reply, received_model

    torch.set_num_threads(1)
    if FederationConfig.from_run_config(context.run_config).pretraining:
        from federated.pretraining.site import handle_pretrain

        return handle_pretrain(message, context)
    secure = is_secure(message)
    if secure:
        received, config = received_model(message)
    else:
        received, config = from_record(message.content["arrays"]), _config(message)
    job = _job(context, config)
    shared, facts, extra = _train(job, received, config)
    if secure:
        n_trials = job.data.train.n_trials
        return masked_reply(message, job.site.name, shared, received, n_trials, facts, extra)
    return _reply(message, job, MetricRecord(facts), to_record(shared), extra)


def _train(job: SiteJob, received: dict, config: dict) -> tuple[dict, dict, dict]:
    """Train one round from the received shared part; return it trained, facts and records.

    When the server asks (``evaluate-received``), the received model is first scored on the
    validation trials: its scores travel in an ``evaluation`` record of the reply.
    """
    import torch
    from flwr.app import ConfigRecord

    server_round = int(config["server-round"])
    module = job.build()
    _check_keys(job, module, received)
    load_state(module, received, f"the server's model (round {server_round})")
    extra = {}
    if config.get("evaluate-received"):
        extra["evaluation"] = ConfigRecord(_validation_scores(job, module))
    settings = RoundSettings(
        epochs=job.federation.local_epochs,
        lr=job.federation.lr,
        batch_size=job.federation.batch_size,
        weight_decay=job.federation.weight_decay,
        proximal_mu=float(config.get("proximal-mu", 0.0)),
        seed=job.seed + 7919 * server_round,
        steps=job.federation.local_steps,
    )
    train = job.data.train
    facts = {WEIGHT_KEY: train.n_trials}
    if job.federation.local_dp:
        loss, facts["epsilon"] = _private_round(job, module, settings)
    else:
        anchors = {key: torch.as_tensor(value) for key, value in received.items()}
        loss = train_round(module, train.data, train.labels, settings, anchors)
    job.state.save_local(job.local_part(module), server_round)
    state = as_numpy(module.state_dict())
    shared = {key: state[key] for key in job.shared_keys(module)}
    return shared, facts | {"train-loss": loss}, extra


def _private_round(job: SiteJob, module: torch.nn.Module, settings: RoundSettings) -> tuple:
    """Train one round with DP-SGD within the site's budget; return the loss and ε spent."""
    from federated.privacy.local import LocalPrivacy, load_ledger, private_round, save_ledger

    train = job.data.train
    privacy = LocalPrivacy.for_site(job.federation, train.n_trials)
    ledger = load_ledger(job.state.folder)
    privacy.check(ledger, job.site.name)
    loss = private_round(module, train.data, train.labels, settings, privacy)
    ledger.add(privacy.release)
    save_ledger(job.state.folder, ledger)
    return loss, ledger.epsilon(privacy.budget.delta)


def handle_evaluate(message: Message, context: Context) -> Message:
    """Score the received model (with the site's local layers) on the validation trials."""
    import torch
    from flwr.app import MetricRecord

    torch.set_num_threads(1)
    job, _ = _open(message, context)
    module = job.build()
    received = from_record(message.content["arrays"])
    _check_keys(job, module, received)
    load_state(module, received, "the server's model")
    return _reply(message, job, MetricRecord(_validation_scores(job, module)))


def _validation_scores(job: SiteJob, module: torch.nn.Module) -> dict[str, float]:
    """Return the module's scores on the site's validation trials (and their count)."""
    scores = evaluate(module, job.data.valid.data, job.data.valid.labels)
    return {WEIGHT_KEY: job.data.valid.n_trials} | {
        f"valid-{name}": scores[name] for name in VALIDATION_METRICS
    }


def handle_finish(message: Message, context: Context) -> Message:
    """Assemble the site's final model, score it once on the test trials, save and export it.

    The model is the received global model of the round the server chose (lowest validation
    loss over all sites); a personalised site joins to it its own local layers of that round.
    """
    import torch
    from flwr.app import ConfigRecord, MetricRecord

    from decoders.checkpoint import save_decoder
    from decoders.datasets.errors import DataError

    torch.set_num_threads(1)
    job, config = _open(message, context)
    chosen = int(config["server-round"])
    module = job.build()
    if job.federation.personalised:
        local = job.state.load_local(chosen)
        if local is None:
            raise DataError(job.site.path, f"has no local layers of round {chosen} or earlier")
        load_state(module, local, f"{job.site.name}'s local layers of round {chosen}")
    received = from_record(message.content["arrays"])
    _check_keys(job, module, received)
    load_state(module, received, "the server's model")
    decoder = job.decoder.restore(job.spec, job.output, module.state_dict())
    test = job.data.test
    scores = evaluate(decoder.module_, test.data, test.labels) if test.n_trials else {}
    privacy = _privacy_account(job, config)
    card = DecoderCard.for_decoder(
        decoder,
        data=_data_facts(job),
        evaluation={"test": scores, "protocol": "site's held-out test split, scored once"},
        extra={
            "federated": {
                "strategy": job.federation.strategy,
                "experiment": job.federation.experiment,
                "rounds": job.federation.rounds,
                "chosen_round": chosen,
                "secure_aggregation": job.federation.secure_aggregation,
                "privacy": privacy,
            }
        },
    )
    save_decoder(decoder, card, job.state.model_dir)
    model_ref = _export(job, decoder, card) if job.federation.export else ""
    metrics = MetricRecord(
        {WEIGHT_KEY: test.n_trials}
        | {f"test-{name}": value for name, value in scores.items() if np.isfinite(value)}
    )
    facts = ConfigRecord(
        {
            "model-dir": str(job.state.model_dir),
            "model-ref": model_ref,
            "model-registry": str(_registry_dir(job)) if model_ref else "",
            "input": _spec_json(job),
            "privacy": json.dumps(privacy),
        }
    )
    return _reply(message, job, metrics, extra={"model": facts})


def _privacy_account(job: SiteJob, config: dict) -> dict:
    """Return the privacy account of the site's model: the server's (central), its own (local)."""
    if job.federation.local_dp:
        from federated.privacy.local import LocalPrivacy, load_ledger

        privacy = LocalPrivacy.for_site(job.federation, job.data.train.n_trials)
        return privacy.report(load_ledger(job.state.folder), job.site.name)
    if job.federation.central_dp:
        return json.loads(str(config.get(PRIVACY_KEY, "{}")))
    return {"mechanism": "none"}


def _open(message: Message, context: Context) -> tuple[SiteJob, dict]:
    config = _config(message)
    return _job(context, config), config


def _config(message: Message) -> dict:
    return dict(message.content["config"]) if "config" in message.content else {}


def _job(context: Context, config: dict) -> SiteJob:
    federation = FederationConfig.from_run_config(context.run_config)
    return SiteJob.open(federation, context.node_config, str(config.get(RUN_KEY, "default")))


def _check_keys(job: SiteJob, module: torch.nn.Module, received: dict) -> None:
    from decoders.datasets.errors import DataError

    expected = set(job.shared_keys(module))
    if set(received) != expected:
        missing = sorted(expected - set(received))[:5]
        extra = sorted(set(received) - expected)[:5]
        raise DataError(
            str(job.site.path),
            f"the server's model does not match this site's shared layers (missing {missing}, "
            f"unexpected {extra}): are the site and the server on the same decoder options?",
        )


def _reply(
    message: Message,
    job: SiteJob,
    metrics: MetricRecord,
    arrays: ArrayRecord | None = None,
    extra: dict[str, ConfigRecord] | None = None,
) -> Message:
    from flwr.app import ConfigRecord, Message, RecordDict

    content = RecordDict({"metrics": metrics, SITE_RECORD: ConfigRecord({"name": job.site.name})})
    if arrays is not None:
        content["arrays"] = arrays
    for key, record in (extra or {}).items():
        content[key] = record
    return Message(content=content, reply_to=message)


def _data_facts(job: SiteJob) -> dict:
    return {
        "site": job.site.name,
        "site_file": str(job.site.path),
        "source": job.site.source.kind,
        "trials": {part: getattr(job.data, part).n_trials for part in ("train", "valid", "test")},
        "classes": list(job.federation.classes),
    }


def _spec_json(job: SiteJob) -> str:
    return json.dumps(job.spec.to_dict())


def _registry_dir(job: SiteJob) -> Path:
    """Return the registry the site's model goes to (its site file's, else the default)."""
    from bci_app.models.registry import default_registry_dir

    return job.site.registry_dir or default_registry_dir()


def _export(job: SiteJob, decoder: SplitDecoder, card: DecoderCard) -> str:
    """Export the site's model to ONNX and register it; return its registry reference."""
    from federated.export import model_name, publish_model

    name = model_name(job.federation.experiment, job.site.name)
    return publish_model(decoder, card, job.site.registry_dir, name)
