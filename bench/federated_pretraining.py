"""Federated pretraining across three simulated hospitals (part of ``bench.federated``).

Three hospitals record motor imagery with different montages and rates (8 channels at 250 Hz,
22 at 500 Hz, 64 at 1000 Hz: the sites of ``bench.federated``'s simulated federation, one
simulated patient each). Each holds an unlabelled archive of continuous recordings of its
patient, their lengths 1:3:10, and a labelled task (left vs right hand, its own trials).

EEGFormer (size and steps in :data:`SETTINGS`) is pretrained three ways with the same number
of optimisation steps and global batch:

- ``federated``: ``bci-app fed``'s pretraining across the three sites in process (FedAvg of the
  weights by corpus size, EMA codebooks by counts and sums);
- ``largest site``: the largest hospital's archive alone (``decoders.pretraining``);
- ``pooled``: the three archives pooled (the upper reference privacy rules out).

Each pretrained encoder is fine-tuned (linear probe on its tokens, as ``bci-app train eegformer
--init``) at every site on 10 % of the site's training labels (stratified, at least two per
class; validation from the site's own validation split) and scored once on the site's held-out
test trials; mean ± sd over seeds (patients, corpora and label draws).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .federated import accuracy_table

HOSPITALS = {  # name: (channels, sfreq, archive share)
    "small-8ch": (8, 250.0, 1),
    "mid-22ch": (22, 500.0, 3),
    "large-64ch": (64, 1000.0, 10),
}
SETTINGS = {
    "quick": {"unit_s": 60.0, "rounds": 10, "local_steps": 10, "batch": 32, "seeds": (0, 1, 2),
              "finetune": {"max_epochs": 20, "patience": 5}, "trials_per_class": 60},
    "full": {"unit_s": 180.0, "rounds": 30, "local_steps": 20, "batch": 64, "seeds": (0, 1, 2),
             "finetune": {"max_epochs": 40, "patience": 10}, "trials_per_class": 80},
}  # fmt: skip
SIZE = "tiny"
LABEL_FRACTION = 0.1
METHODS = ("federated", "largest site", "pooled")


def write_hospitals(folder: Path, seed: int, settings: dict) -> list[Path]:
    """Write each hospital's archive and site file (corpus + labelled task); return the files."""
    from decoders.simulators.registry import simulate_raw

    paths = []
    for index, (name, (channels, sfreq, share)) in enumerate(HOSPITALS.items()):
        options = {"channels": channels, "sfreq": sfreq, "classes": ["left_hand", "right_hand"]}
        patient = 100 * seed + index
        archive = folder / f"{name}-archive"
        archive.mkdir(parents=True, exist_ok=True)
        raw = simulate_raw(
            "motor_imagery", seed=patient, duration_s=settings["unit_s"] * share, **options
        )  # the site's patient (its trials' anatomy), other noise than its trials
        raw.set_annotations(None)  # unlabelled: the archive carries no cues
        raw.save(archive / "archive_raw.fif", overwrite=True, verbose="error")
        path = folder / f"{name}.toml"
        path.write_text(
            f'[site]\nname = "{name}"\nstate_dir = "{name}"\n'
            f'[corpus]\nsources = ["{archive.name}"]\n'
            '[data]\nsimulator = "motor_imagery"\n[data.options]\n'
            f"seed = {patient}\nchannels = {channels}\nsfreq = {sfreq}\nn_subjects = 1\n"
            f"n_runs = 2\ntrials_per_class = {settings['trials_per_class'] // 2}\n"
            'classes = ["left_hand", "right_hand"]\nsnr_db = 0.0\n'
            f"[split]\nvalidation = 0.2\ntest = 0.3\nseed = {seed}\n"
        )
        paths.append(path)
    return paths


def federated(sites: list[Path], folder: Path, seed: int, settings: dict) -> Path:
    """Pretrain across the sites in process; return the pretrained folder."""
    from federated.config import FederationConfig
    from federated.inprocess import run_inprocess

    config = FederationConfig(
        output_dir=str(folder),
        pretrain="eegformer",
        pretrain_size=SIZE,
        rounds=settings["rounds"],
        local_steps=settings["local_steps"],
        batch_size=settings["batch"],
        min_sites=len(sites),
        sites=tuple(str(path) for path in sites),
        experiment=folder.name,
        seed=seed,
    )
    history = run_inprocess(config.to_run_config(), len(sites))
    return Path(history["final"]["pretrained"])


def centralised(sources: list[Path], folder: Path, seed: int, settings: dict) -> Path:
    """Pretrain on ``sources`` in one process with the same steps and batch; return the folder."""
    from decoders.pretraining.run import pretrain
    from decoders.pretraining.trainer import PretrainSettings

    steps = settings["rounds"] * settings["local_steps"]
    run = PretrainSettings(
        steps=steps,
        global_batch=settings["batch"],
        micro_batch=settings["batch"],
        checkpoint_every=steps,
        seed=seed,
    )
    pretrain("eegformer", sources, folder, run, size=SIZE, progress=False)
    return folder


def fine_tuned_accuracy(pretrained: Path, site_file: Path, seed: int, settings: dict) -> float:
    """Fine-tune at one site on 10 % of its training labels; return its test accuracy."""
    from decoders import registry
    from decoders.models.eegformer.classifier import EEGFormer
    from federated.client.training import evaluate
    from federated.sites.config import load_site
    from federated.sites.data import InputRequest, site_data

    data = site_data(load_site(site_file), InputRequest(("left_hand", "right_hand"), 2.0))
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(data.train.labels):
        members = np.flatnonzero(data.train.labels == label)
        count = max(2, round(LABEL_FRACTION * len(members)))
        chosen += list(rng.choice(members, count, replace=False))
    options = EEGFormer.options_from(pretrained) | settings["finetune"]
    decoder = registry.create("eegformer", tuning="linear", seed=seed, **options)
    decoder.fit(data.train.subset(np.sort(chosen)), data.valid, init=pretrained)
    return evaluate(decoder.module_, data.test.data, data.test.labels)["accuracy"]


def run_pretraining_part(workdir: Path, quick: bool) -> dict:
    """Run the comparison over the seeds; return per-method, per-site accuracies and times."""
    settings = SETTINGS["quick" if quick else "full"]
    records = []
    for seed in settings["seeds"]:
        folder = workdir / f"pretraining-{seed}"
        sites = write_hospitals(folder, seed, settings)
        archives = [folder / f"{name}-archive" for name in HOSPITALS]
        seconds, pretrained = {}, {}
        for method in METHODS:
            started = time.monotonic()
            if method == "federated":
                pretrained[method] = federated(sites, folder / "federated", seed, settings)
            else:
                sources = archives if method == "pooled" else archives[-1:]
                out = folder / method.replace(" ", "-")
                pretrained[method] = centralised(sources, out, seed, settings)
            seconds[method] = time.monotonic() - started
            print(f"   pretraining {method} (seed {seed}): {seconds[method]:.0f} s", flush=True)
        accuracy = {
            method: {site.stem: fine_tuned_accuracy(path, site, seed, settings) for site in sites}
            for method, path in pretrained.items()
        }
        records.append({"seed": seed, "accuracy": accuracy, "pretraining_s": seconds})
    return {"settings": settings, "records": records, "summary": summarise(records)}


def summarise(records: list[dict]) -> dict:
    """Return mean and sd over seeds per method and site, and the targets."""
    table = accuracy_table(records, METHODS, list(HOSPITALS))
    federated_, largest, pooled = (table[m]["mean over sites"] for m in METHODS)
    return {
        "accuracy": table,
        "targets": {
            "federated_beats_largest_site": federated_[0] > largest[0],
            "federated_within_spread_of_pooled": abs(federated_[0] - pooled[0])
            <= max(federated_[1], pooled[1]),
        },
    }


def markdown(part: dict) -> list[str]:
    """Return the table of the pretraining part."""
    summary, settings = part["summary"], part["settings"]
    lines = [
        f"### Federated pretraining (EEGFormer {SIZE}, fine-tuned at 10 % labels; test "
        f"accuracy, mean ± sd over {len(settings['seeds'])} seed(s))",
        "",
        "| site | " + " | ".join(METHODS) + " |",
        "|---" * (len(METHODS) + 1) + "|",
    ]
    for site in summary["accuracy"]["federated"]:
        cells = [f"{m:.3f} ± {s:.3f}" for m, s in (summary["accuracy"][k][site] for k in METHODS)]
        lines.append(f"| {site} | " + " | ".join(cells) + " |")
    targets = summary["targets"]
    lines += [
        "",
        f"- federated beats largest-site-only: {'yes' if targets['federated_beats_largest_site'] else 'no'}",
        "- federated within the seeds' spread of pooled: "
        f"{'yes' if targets['federated_within_spread_of_pooled'] else 'no'}",
        f"- {settings['rounds']} rounds x {settings['local_steps']} local steps (global batch "
        f"{settings['batch']}) federated; the same {settings['rounds'] * settings['local_steps']}"
        " steps and batch for largest-site and pooled; archives of "
        + ", ".join(f"{settings['unit_s'] * share:.0f} s" for _, _, share in HOSPITALS.values()),
        "",
    ]
    return lines
