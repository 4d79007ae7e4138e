"""The ``meg-gpt`` part of ``bench/seeds.py``: MEG-GPT pretrained, generating, zero-shot, fine-tuned.

Protocol
--------
Pretraining corpus (unlabelled): the real 306-sensor VectorView recording of ``bci-app data
fetch`` (24 s) and resting recordings of simulated subjects that are never evaluated (the
``meg`` simulator on the same sensors, one session each). ``small`` MEG-GPT: 16 sensor-space
parcels, 100 Hz, stage 1 (tokeniser) then stage 2 (causal Transformer), a fixed number of steps.

Generation: from a 1 s prompt of the real recording's parcels, tokens are sampled for
``generation_s`` seconds and decoded; their Welch spectra are compared with the real
recording's (correlation of log spectra, log-spectral distance), and with a control of tokens
drawn independently from the real tokens' frequencies.

Evaluation on the simulator (held-out subjects, two sessions each, four classes: auditory and
visual stimuli left and right, -0.1..0.5 s windows at 100 Hz):

- cross-session: per subject, trained on session 1 (20 % of it held out for early stopping),
  tested once on session 2;
- cross-subject: each subject left out in turn, trained on the others' sessions, tested once
  on the left-out subject.

Arms: zero-shot (the frozen pretrained MEG-GPT's pooled hidden states, each session
standardised alone, then an L2 logistic regression; the same frozen network with random
weights is its scratch control); fine-tuned (the ``meg-gpt`` decoder from the pretrained model
and the same decoder from scratch); the best baseline (Xdawn covariances + tangent space + LR,
and shrinkage LDA on 50 ms bins of the evoked fields: whichever scores higher).
HandMovementDirection (official split, 10 MEG channels without positions, so
``channels=new`` with ``parcels=0``): fine-tuned from the pretrained model vs from scratch, the
baseline is the registry's best on it (Xdawn covariances + tangent space + LR).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

FIGURE = Path(__file__).parent / "results" / "meg-gpt-spectra.png"
SIZE = "small"


def setup(quick: bool) -> dict:
    """Return the simulator options, pretraining budget, seeds and training budget."""
    return {
        "simulator": {
            "sfreq": 100.0,
            "n_subjects": 3,
            "n_sessions": 2,
            "trials_per_class": 15 if quick else 30,
            "snr_db": -5.0,
            "rest_s": 60.0 if quick else 240.0,
        },
        "pretraining_subjects": 2 if quick else 6,
        "steps": 100 if quick else 800,
        "global_batch": 8 if quick else 16,
        "lr": 2e-3,
        "generation_s": 10.0 if quick else 30.0,
        "seeds": [0] if quick else [0, 1, 2],
        "training": {"max_epochs": 12, "patience": 4}
        if quick
        else {"max_epochs": 60, "patience": 10},
    }


def bench_meggpt(quick: bool, folder: Path) -> tuple[dict, str]:
    """Return the MEG-GPT figures and their markdown."""
    from decoders.datasets.archives import MEG_EEG
    from decoders.datasets.fetch import fetch
    from decoders.simulators.meg import MegSimulator

    plan = setup(quick)
    real = fetch(MEG_EEG, log=lambda message: None) / "test_raw.fif"
    simulator = MegSimulator(seed=0, **plan["simulator"])
    print("  simulating", flush=True)
    corpus = _corpus(simulator, plan, folder / "corpus", real)
    trials = simulator.trials()
    snr = {
        f"{s}/{b}": simulator.recording(s, b).snr_db()
        for s in range(simulator.options.n_subjects)
        for b in range(simulator.options.n_sessions)
    }
    print("  pretraining", flush=True)
    pretraining = _pretrain(corpus, folder / "pretrained", plan)
    print("  generating", flush=True)
    generation = _generation(Path(pretraining["folders"]["gpt"]), real, plan)
    print("  zero-shot", flush=True)
    zero_shot = _zero_shot(trials, Path(pretraining["folders"]["gpt"]))
    print("  fine-tuning", flush=True)
    tuned = _fine_tuned(trials, Path(pretraining["folders"]["gpt"]), plan)
    print("  HandMovementDirection", flush=True)
    hmd = _hand_movement(Path(pretraining["folders"]["gpt"]), plan)
    results = {
        "setup": plan,
        "snr_db_measured": snr,
        "pretraining": pretraining,
        "generation": generation,
        "simulator": {"zero_shot": zero_shot, "fine_tuned": tuned},
        "hand_movement_direction": hmd,
    }
    results["targets"] = _targets(results)
    return results, _table(results)


# -- data and pretraining ------------------------------------------------------------------------


def _corpus(simulator, plan: dict, folder: Path, real: Path) -> list[Path]:
    """Write resting recordings of subjects never evaluated; return them with the real file."""
    folder.mkdir(parents=True)
    first = simulator.options.n_subjects
    files = []
    for subject in range(first, first + plan["pretraining_subjects"]):
        path = folder / f"sub-{subject + 1:02d}_task-rest_meg.fif"
        simulator.rest(subject, 0).to_raw().save(path, verbose="error")
        files.append(path)
    return [real, *files]


def _pretrain(corpus: list[Path], out: Path, plan: dict) -> dict:
    """Run stage 1 then stage 2; return their folders, times and final losses."""
    import json

    from decoders.pretraining.run import pretrain
    from decoders.pretraining.trainer import PretrainSettings

    settings = PretrainSettings(
        steps=plan["steps"],
        global_batch=plan["global_batch"],
        micro_batch=plan["global_batch"],
        lr=plan["lr"],
        warmup_steps=10,
        device="cpu",
        checkpoint_every=plan["steps"],
    )
    figures = {"folders": {}, "seconds": {}, "final_losses": {}}
    for stage, init in (("tokeniser", None), ("gpt", out / "tokeniser")):
        started = time.perf_counter()
        pretrain(
            "meg-gpt",
            corpus,
            out / stage,
            settings,
            size=SIZE,
            overrides={"stage": stage},
            init=init,
            progress=False,
            say=lambda _: None,
        )
        card = json.loads((out / stage / "pretrained.json").read_text())
        figures["folders"][stage] = str(out / stage)
        figures["seconds"][stage] = time.perf_counter() - started
        figures["final_losses"][stage] = card["final_losses"]
        figures["corpus"] = card["corpus"]["hours_used"]
    return figures


# -- generation ----------------------------------------------------------------------------------


def _generation(pretrained: Path, real: Path, plan: dict) -> dict:
    """Return how generated spectra compare with the real recording's; draw the figure."""
    import torch

    from decoders.models.meggpt.generation import (
        compare_spectra,
        generate,
        plot_spectra,
        recording_channels,
    )
    from decoders.models.meggpt.pretraining import restore
    from decoders.models.meggpt.tokeniser import variance_explained
    from decoders.pretraining.checkpoint import load_pretrained

    model = restore(load_pretrained(pretrained))
    channels = recording_channels(model, real)
    sfreq = model.config["sfreq"]
    context = round(model.config["segment_s"] * sfreq)
    with torch.no_grad():
        signal = torch.as_tensor(channels, dtype=torch.float32)
        tokens = model.tokeniser.tokens(signal)
        explained = variance_explained(signal, model.tokeniser.decode(tokens))
    started = time.perf_counter()
    steps = round(plan["generation_s"] * sfreq)
    sampled = generate(model, tokens[:, :context], steps)[:, context:]
    seconds = time.perf_counter() - started
    comparison = compare_spectra(model, channels, sampled)
    plot_spectra(
        comparison,
        FIGURE,
        f"{plan['generation_s']:g} s generated vs the real recording ({len(channels)} parcels)",
    )
    return {
        **comparison.summary(),
        "tokeniser_variance_explained": explained,
        "generated_s": plan["generation_s"],
        "real_s": channels.shape[1] / sfreq,
        "seconds": seconds,
        "figure": str(FIGURE.relative_to(Path(__file__).parent.parent)),
    }


# -- evaluation on the simulator -----------------------------------------------------------------


def _folds(trials) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Return (train, test) trial indices of the cross-session and cross-subject folds."""
    subjects = np.unique(trials.groups)
    session = {
        "cross-session": [
            (
                np.flatnonzero((trials.groups == s) & (trials.blocks == 0)),
                np.flatnonzero((trials.groups == s) & (trials.blocks == 1)),
            )
            for s in subjects
        ],
        "cross-subject": [
            (np.flatnonzero(trials.groups != s), np.flatnonzero(trials.groups == s))
            for s in subjects
        ],
    }
    return session


def _zero_shot(trials, pretrained: Path) -> dict:
    """Return zero-shot accuracies: frozen features + logistic regression, per protocol."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from decoders.evaluation.sealed import SealedTestSet
    from decoders.models.meggpt.zero_shot import frozen_encoder, frozen_features

    results: dict = {}
    for protocol, folds in _folds(trials).items():
        for arm, source in (("pretrained", pretrained), ("scratch", None)):
            scores = []
            for train, test in folds:
                options = {"size": SIZE, "parcels": 16} if source is None else {}
                encoder = frozen_encoder(source, trials.subset(train), **options)
                features = frozen_features(encoder, trials.subset(np.concatenate([train, test])))
                classifier = make_pipeline(
                    StandardScaler(), LogisticRegression(C=0.05, max_iter=2000)
                ).fit(features[: len(train)], trials.labels[train])
                held_out = features[len(train) :]
                outcome = SealedTestSet(trials.subset(test)).score(
                    lambda _, held_out=held_out, classifier=classifier: classifier.predict_proba(
                        held_out
                    )
                )
                scores.append(outcome.metrics["accuracy"])
            results.setdefault(protocol, {})[f"zero-shot {arm}"] = _summary(scores)
    return results


def _fine_tuned(trials, pretrained: Path, plan: dict) -> dict:
    """Return fine-tuned (pretrained vs scratch) and baseline accuracies per protocol."""
    from decoders import registry
    from decoders.evaluation.protocols import validation_split
    from decoders.evaluation.sealed import SealedTestSet
    from decoders.models.meggpt.classifier import MEGGPT

    results: dict = {}
    for protocol, folds in _folds(trials).items():
        arms: dict[str, list[float]] = {}
        for train_index, test_index in folds:
            train, test = trials.subset(train_index), trials.subset(test_index)
            for seed in plan["seeds"]:
                fit, valid = validation_split(train, 0.2, seed)
                for arm, init in (
                    ("fine-tuned pretrained", pretrained),
                    ("fine-tuned scratch", None),
                ):
                    options = MEGGPT.options_from(init) if init else {"size": SIZE, "parcels": 16}
                    decoder = registry.create("meg-gpt", seed=seed, **options, **plan["training"])
                    decoder.fit(fit, valid, init=init)
                    arms.setdefault(arm, []).append(
                        SealedTestSet(test).score(decoder.predict_proba).metrics["accuracy"]
                    )
            fit, valid = validation_split(train, 0.2, 0)
            baseline = registry.create("xdawncov-ts-lr").fit(fit, valid)
            arms.setdefault("Xdawn + tangent space + LR", []).append(
                SealedTestSet(test).score(baseline.predict_proba).metrics["accuracy"]
            )
            arms.setdefault("binned evoked + LDA", []).append(
                SealedTestSet(test).score(_binned_lda(train)).metrics["accuracy"]
            )
        results[protocol] = {arm: _summary(values) for arm, values in arms.items()}
    return results


def _binned_lda(train):
    """Return the predict_proba of shrinkage LDA on 50 ms bins of the windows (fitted)."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    width = max(1, round(0.05 * train.sfreq))

    def features(data):
        bins = data.shape[-1] // width
        return (
            data[..., : bins * width]
            .reshape(*data.shape[:2], bins, width)
            .mean(-1)
            .reshape(len(data), -1)
        )

    model = make_pipeline(
        StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    )
    model.fit(features(train.data), train.labels)
    return lambda data: model.predict_proba(features(data))


def _hand_movement(pretrained: Path, plan: dict) -> dict:
    """Return HandMovementDirection accuracies (official split): pretrained, scratch, baseline."""
    from decoders import registry
    from decoders.datasets.loaders import load_trial_set
    from decoders.evaluation.protocols import validation_split
    from decoders.evaluation.sealed import SealedTestSet
    from decoders.models.meggpt.classifier import MEGGPT

    split = load_trial_set("HandMovementDirection")
    arms: dict[str, list[float]] = {}
    for seed in plan["seeds"]:
        fit, valid = validation_split(split.train, 0.2, seed)
        implied = MEGGPT.options_from(pretrained)
        for arm, init, options in (
            ("fine-tuned pretrained", pretrained, {**implied, "channels": "new", "parcels": 0}),
            ("fine-tuned scratch", None, {"size": SIZE}),
        ):
            decoder = registry.create("meg-gpt", seed=seed, **options, **plan["training"])
            decoder.fit(fit, valid, init=init)
            arms.setdefault(arm, []).append(
                SealedTestSet(split.test).score(decoder.predict_proba).metrics["accuracy"]
            )
    fit, valid = validation_split(split.train, 0.2, 0)
    baseline = registry.create("xdawncov-ts-lr").fit(fit, valid)
    arms["Xdawn + tangent space + LR"] = [
        SealedTestSet(split.test).score(baseline.predict_proba).metrics["accuracy"]
    ]
    return {arm: _summary(values) for arm, values in arms.items()}


# -- summary -------------------------------------------------------------------------------------


def _summary(values: list[float]) -> dict:
    return {
        "mean": float(np.mean(values)),
        "sd": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
        "values": [float(v) for v in values],
    }


def _targets(results: dict) -> list[dict]:
    """Return the issue's target (pretrained above scratch) per protocol and arm kind."""
    rows = []
    simulator = results["simulator"]
    comparisons = [
        (protocol, kind, simulator[part][protocol])
        for part, kind in (("zero_shot", "zero-shot"), ("fine_tuned", "fine-tuned"))
        for protocol in simulator[part]
    ]
    comparisons.append(("HandMovementDirection", "fine-tuned", results["hand_movement_direction"]))
    for protocol, kind, arms in comparisons:
        pretrained, scratch = arms[f"{kind} pretrained"]["mean"], arms[f"{kind} scratch"]["mean"]
        rows.append(
            {
                "target": f"{protocol}, {kind}: pretrained above scratch",
                "measured": f"{pretrained:.3f} vs {scratch:.3f}",
                "met": bool(pretrained > scratch),
            }
        )
    return rows


def _cell(summary: dict | None) -> str:
    if summary is None:
        return "-"
    if len(summary["values"]) < 2:
        return f"{summary['mean']:.3f}"
    return f"{summary['mean']:.3f} ± {summary['sd']:.3f}"


def _table(results: dict) -> str:
    """Return the part's markdown."""
    plan, pretraining, generation = results["setup"], results["pretraining"], results["generation"]
    simulator = plan["simulator"]
    arms = [
        "zero-shot pretrained",
        "zero-shot scratch",
        "fine-tuned pretrained",
        "fine-tuned scratch",
        "Xdawn + tangent space + LR",
        "binned evoked + LDA",
    ]
    lines = [
        "#### MEG-GPT (simulated MEG on the real VectorView sensors, HandMovementDirection)",
        "",
        f"Pretraining: the real 306-sensor recording (24 s) and {plan['pretraining_subjects']} "
        f"simulated subjects' rest ({simulator['rest_s']:g} s each, never evaluated), "
        f"`{SIZE}` MEG-GPT (16 sensor-space parcels, 100 Hz), {plan['steps']} steps per stage "
        f"of {plan['global_batch']} segments (tokeniser {pretraining['seconds']['tokeniser']:.0f} s, "
        f"Transformer {pretraining['seconds']['gpt']:.0f} s). Evaluation: "
        f"{simulator['n_subjects']} other simulated subjects x {simulator['n_sessions']} sessions "
        f"x {4 * simulator['trials_per_class']} trials (4 classes, SNR {simulator['snr_db']:g} dB "
        "stated), -0.1..0.5 s; cross-session: trained on session 1, tested once on session 2, per "
        "subject; cross-subject: each subject left out in turn. Zero-shot: frozen network, "
        "per-session standardisation, logistic regression; fine-tuned: the `meg-gpt` decoder "
        f"(20 % of the training trials for early stopping, at most {plan['training']['max_epochs']} "
        f"epochs). Seeds {plan['seeds']} for the fine-tuned networks; mean ± sd over folds and "
        "seeds. Chance 0.25.",
        "",
        "| protocol | " + " | ".join(arms) + " |",
        "|---|" + "---|" * len(arms),
    ]
    for protocol in ("cross-session", "cross-subject"):
        merged = {
            **results["simulator"]["zero_shot"][protocol],
            **results["simulator"]["fine_tuned"][protocol],
        }
        lines.append(f"| {protocol} | " + " | ".join(_cell(merged.get(a)) for a in arms) + " |")
    hmd = results["hand_movement_direction"]
    lines.append(
        "| HandMovementDirection (official split) | - | - | "
        + " | ".join(_cell(hmd.get(a)) for a in arms[2:])
        + " |"
    )
    lines += [
        "",
        f"Generation: {generation['generated_s']:g} s sampled from a 1 s prompt of the real "
        f"recording's parcels; Welch spectra against the real recording's "
        f"({generation['real_s']:.0f} s): correlation of log spectra "
        f"{generation['spectral_correlation']:.3f} (independent-token control "
        f"{generation['control_spectral_correlation']:.3f}), log-spectral distance "
        f"{generation['log_spectral_distance_db']:.2f} dB (control "
        f"{generation['control_log_spectral_distance_db']:.2f} dB); the tokeniser explains "
        f"{100 * generation['tokeniser_variance_explained']:.1f} % of the real parcels' variance "
        f"([figure]({generation['figure']})).",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for target in results["targets"]:
        lines.append(
            f"| {target['target']} | {target['measured']} | {'yes' if target['met'] else 'no'} |"
        )
    return "\n".join(lines)
