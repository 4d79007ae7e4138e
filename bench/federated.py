"""Federated training across sites with different montages, rates and sizes.

Two federations of three sites each, as hospitals with different amplifiers would be:

- ``simulated``: motor imagery (left vs right hand) from the simulator, one simulated patient
  per site: 8 channels at 250 Hz with 20 training trials, 22 channels at 500 Hz with 56,
  64 channels at 1000 Hz with 192; 2 s trials.
- ``HandMovementDirection``: the real MEG trial set (4 wrist directions), its official train
  part split 6:3:1 into sites (stratified) and its official test part split evenly, the sites
  seeing 10, 7 and 5 of its channels at 400, 200 and 250 Hz; 1 s trials.

Every method trains the same FLEEG-style network with the same options; its spatial filters
start on the federation's common channels (``anchor_channels``: filter ``k`` on common channel
``k``, the others on mixtures of them, a site's other channels at weight 0), so that a site's
virtual channels mean the same as another's whatever its other channels (with random
mixtures of all 22 or 64 channels the network learned nothing from the simulated sites, and
the shared trunk averaged maps that meant different things at each site).

Per site, test accuracy (each site's held-out test trials, scored once) of:

- ``local``: the site alone (early stopping on its validation trials);
- ``central``: one model on the pooled trials of every site, on the channels all sites share,
  resampled to a common rate (the upper reference that privacy rules out);
- ``fedavg``: Flower's FedAvg on the same common channels and rate;
- ``personalised``: the FLEEG-style strategy (each site keeps its input layers on its own
  montage and rate; the trunk and head are averaged, weighted by training trials);
- ``personalised+dp``: the same with Flower's central DP wrapper (server-side fixed clipping
  at about the median update norm, noise multiplier ``DP_NOISE``), for the accuracy cost of DP
  (personalised minus personalised+dp: positive when DP loses accuracy).

Federated runs keep the global model of the round with the lowest validation loss over sites
(each site's loss weighted by its validation trials); with the personalised strategy each
site joins to it its own local layers of that round. Each round is 10 local steps per site
(AdamW, lr 1e-3, a fresh optimiser per round); with ``--quick``, 15 rounds give every site
150 steps, as many as or more than local training's 40 epochs (one to four batches each).

Federated runs use the federated app's ServerApp and ClientApp in one process
(:mod:`federated.inprocess`); 3 seeds (simulated patients, site partitions and weights).

Part ``privacy`` (accuracy against ε): the personalised strategy with central DP (the server
clips each site's update at the median update norm without DP and adds Gaussian noise; the
average is unweighted) and with local DP (DP-SGD at each site, per-trial clipping at
``LOCAL_CLIP``), at target ε in ``EPSILONS`` (δ = ``DELTA``; the noise multiplier is the one
that spends the target in the run's rounds, by Opacus's RDP accountant; ε = ∞ is the
personalised run), beside local-only training. Target: at ε = 8 the personalised model still
beats local-only on the smallest site.

Part ``deployment``: the simulated federation with the personalised strategy over TLS on
loopback (SuperLink and SuperNodes as separate processes, authenticated nodes), plain and
with SecAgg+ one after the other on the same SuperLink and SuperNodes, beside the same rounds
in process: bytes and wall time per round, and where a round's time goes (per stage: pick-up,
ClientApp process start, work, return; :mod:`federated.server.timing`). The sites' trials are
prepared (and cached at each site) before any run is timed; the first deployed round is
reported apart (it also ships the app to the SuperNodes and starts their ClientApp runtime).
A plain deployed round is one stage (training; each site scores the model it receives before
training, so evaluation rides along), SecAgg+ four (set-up, key sharing, masked update,
unmasking); in each, every SuperNode notices the message at its next request, its SuperExec
picks the task up (every 0.25 s, see :data:`federated.deploy.processes.PROMPT_ENVIRONMENT`)
and starts a fresh ClientApp process for it, and the server pulls the replies every 0.2 s.

Part ``pretraining``: federated EEGFormer pretraining across three simulated hospitals
(:mod:`bench.federated_pretraining`).

    python -m bench.federated [--quick] [--parts accuracy privacy deployment pretraining]
        [--seeds 0 1 2] [--federations simulated hand_movement]

``--quick`` uses fewer rounds and epochs and a smaller large site. Writes
``bench/results/federated.json`` and ``.md`` (``federated_PARTS.*`` when only some parts run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .output import save_results

ROOT = Path(__file__).resolve().parent.parent
SEEDS = (0, 1, 2)
METHODS = ("local", "central", "fedavg", "personalised", "personalised+dp")
DP_NOISE = 0.2
EPSILONS = (1.0, 3.0, 8.0)
"""Privacy budgets of the accuracy-against-ε part (ε = ∞ is the personalised run)."""
DELTA = 1e-5
LOCAL_CLIP = 1.0
"""Per-trial gradient clipping norm of local DP (DP-SGD)."""
PARTS = ("accuracy", "privacy", "deployment", "pretraining")
MODEL = {"n_spatial": 8, "filters": [32, 32], "dropout": 0.5}


@dataclass(frozen=True)
class Site:
    """One site of a benchmark federation: its name and the body of its site file."""

    name: str
    body: str


@dataclass(frozen=True)
class Setting:
    """A benchmark federation."""

    name: str
    classes: tuple[str, ...]
    window_s: float
    common_channels: tuple[str, ...]
    common_sfreq: float
    head: str
    sites: tuple[Site, ...] = field(default=())

    def model_options(self) -> dict:
        """Return the network options of every method: heads per task, anchored filters."""
        return {**MODEL, "head": self.head, "anchor_channels": list(self.common_channels)}


def simulated(seed: int, quick: bool) -> Setting:
    """Return the simulated federation of ``seed`` (a new patient per site and seed).

    Sites hold 50, 80 and 240 trials (160 with ``quick``); the smallest keeps 60 % of its
    trials for testing so that its test accuracy is not all noise (it trains on 20).
    """
    sites_ = {
        "small-8ch": (8, 250.0, 50, 0.6),
        "mid-22ch": (22, 500.0, 80, 0.3),
        "large-64ch": (64, 1000.0, 160 if quick else 240, 0.2),
    }
    sites = []
    for index, (name, (channels, sfreq, trials, test)) in enumerate(sites_.items()):
        body = f"""
[data]
simulator = "motor_imagery"
[data.options]
seed = {100 * seed + index}
channels = {channels}
sfreq = {sfreq}
n_subjects = 1
n_runs = 2
trials_per_class = {trials // 4}
classes = ["left_hand", "right_hand"]
snr_db = 0.0
[split]
validation = 0.2
test = {test}
seed = {seed}
"""
        sites.append(Site(name, body))
    common = ("Fz", "FC3", "FC4", "C3", "Cz", "C4", "CP3", "CP4")
    classes = ("left_hand", "right_hand")
    return Setting("simulated", classes, 2.0, common, 250.0, "mean", tuple(sites))


def hand_movement(seed: int, quick: bool) -> Setting:
    """Return HandMovementDirection split 6:3:1 into sites with their own channels and rates."""
    montages = {
        "big-10ch-400Hz": ([f"MEG{i:02d}" for i in range(1, 11)], 400.0),
        "mid-7ch-200Hz": ([f"MEG{i:02d}" for i in range(1, 8)], 200.0),
        "small-5ch-250Hz": ([f"MEG{i:02d}" for i in range(4, 9)], 250.0),
    }
    sites = []
    for index, (name, (channels, sfreq)) in enumerate(montages.items()):
        body = f"""
[data]
trial_set = "HandMovementDirection"
[data.partition]
index = {index}
weights = [6, 3, 1]
test_weights = [1, 1, 1]
seed = {seed}
[montage]
channels = {json.dumps(channels)}
sfreq = {sfreq}
[split]
validation = 0.2
seed = {seed}
"""
        sites.append(Site(name, body))
    common = tuple(f"MEG{i:02d}" for i in range(4, 8))
    classes = ("right", "forward", "left", "backward")
    return Setting("HandMovementDirection", classes, 1.0, common, 200.0, "frames", tuple(sites))


FEDERATIONS = {"simulated": simulated, "hand_movement": hand_movement}


def write_sites(setting: Setting, folder: Path) -> list[Path]:
    """Write the setting's site files (state and cache beside them)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for site in setting.sites:
        path = folder / f"{site.name}.toml"
        path.write_text(f'[site]\nname = "{site.name}"\nstate_dir = "{site.name}"\n' + site.body)
        paths.append(path)
    return paths


def federation(setting: Setting, sites: list[Path], folder: Path, seed: int, **settings):
    """Return the federation config of a run."""
    from federated.config import FederationConfig

    values = {
        "classes": setting.classes,
        "window_s": setting.window_s,
        "output_dir": str(folder),
        "decoder_options": setting.model_options(),
        "sites": tuple(str(p) for p in sites),
        "seed": seed,
        "min_sites": 2,
        "export": False,
        "experiment": folder.name,
        **settings,
    }
    if values.get("strategy") in ("fedavg", "fedprox"):
        values |= {"channels": setting.common_channels, "sfreq": setting.common_sfreq}
    return FederationConfig(**values)


def local_and_central(setting: Setting, sites: list[Path], seed: int, epochs: int) -> dict:
    """Return per-site test accuracy of local-only and centralised (pooled) training."""
    from decoders.registry import create
    from federated.client.training import evaluate
    from federated.sites.config import load_site
    from federated.sites.data import InputRequest, site_data

    own = InputRequest(setting.classes, setting.window_s)
    common = InputRequest(
        setting.classes, setting.window_s, setting.common_channels, setting.common_sfreq
    )
    options = {**setting.model_options(), "max_epochs": epochs, "patience": max(5, epochs // 4)}
    results: dict[str, dict[str, float]] = {"local": {}, "central": {}}
    pooled = []
    for path in sites:
        site = load_site(path)
        data = site_data(site, own)
        decoder = create("fleeg-convnet", seed=seed, **options).fit(data.train, data.valid)
        results["local"][site.name] = evaluate(decoder.module_, data.test.data, data.test.labels)[
            "accuracy"
        ]
        pooled.append((site.name, site_data(site, common)))
    train, valid = pooled[0][1].train, pooled[0][1].valid
    for _, data in pooled[1:]:
        train, valid = train.concat(data.train), valid.concat(data.valid)
    decoder = create("fleeg-convnet", seed=seed, **options).fit(train, valid)
    for name, data in pooled:
        results["central"][name] = evaluate(decoder.module_, data.test.data, data.test.labels)[
            "accuracy"
        ]
    return results


def federated_run(config) -> dict:
    """Run a federation in process; return per-site test accuracy and per-round figures."""
    from federated.inprocess import run_inprocess

    started = time.monotonic()
    history = run_inprocess(config.to_run_config(), len(config.sites))
    rounds = history["rounds"]
    norms = [m["update-norm"] for r in rounds for m in r["train"].values()]
    return {
        "accuracy": {s: m["test-accuracy"] for s, m in history["final"]["sites"].items()},
        "bytes_per_round": float(np.mean([r["bytes_sent"] + r["bytes_received"] for r in rounds])),
        "bytes_sent_per_round": float(np.mean([r["bytes_sent"] for r in rounds])),
        "wall_s_per_round": float(np.mean([r["wall_s"] for r in rounds])),
        "median_update_norm": float(np.median(norms)) if norms else float("nan"),
        "seconds": time.monotonic() - started,
        "rounds_trained": sum(1 for r in rounds if r["accepted"]),
        "stopped": (history.get("stopped") or {}).get("reason", ""),
        "privacy": _spent(history),
    }


def _spent(history: dict) -> dict:
    """Return the (ε, δ) a run spent and its noise: the server's (central) or each site's."""
    if history.get("privacy"):
        account = history["privacy"]
        return {key: account[key] for key in ("epsilon", "delta", "noise_multiplier", "rounds")}
    sites = (history.get("final") or {}).get("privacy") or {}
    return {
        site: {key: account[key] for key in ("epsilon", "delta", "noise_multiplier", "rounds")}
        for site, account in sites.items()
    }


def one_setting(make, seed: int, args, workdir: Path) -> dict:
    """Run every method on one setting and seed."""
    setting = make(seed, args.quick)
    folder = workdir / f"{setting.name}-{seed}"
    sites = write_sites(setting, folder / "sites")
    print(f"\n== {setting.name}, seed {seed}", flush=True)
    started = time.monotonic()
    results = local_and_central(setting, sites, seed, args.epochs)
    print(f"   local + central: {time.monotonic() - started:.0f} s", flush=True)
    runs = {}
    common = {"rounds": args.rounds, "local_steps": args.local_steps}
    for strategy in ("fedavg", "personalised"):
        config = federation(setting, sites, folder / strategy, seed, strategy=strategy, **common)
        runs[strategy] = federated_run(config)
        print(f"   {strategy}: {runs[strategy]['seconds']:.0f} s", flush=True)
    clip = runs["personalised"]["median_update_norm"]
    config = federation(
        setting,
        sites,
        folder / "personalised-dp",
        seed,
        strategy="personalised",
        privacy="central",
        dp_noise=DP_NOISE,
        dp_clip=clip,
        **common,
    )
    runs["personalised+dp"] = federated_run(config)
    with np.load(folder / "personalised" / "global" / "shared.npz") as shared:
        averaged = int(sum(shared[key].size for key in shared.files))
    runs["personalised+dp"]["dp"] = {
        "noise_multiplier": DP_NOISE,
        "clipping_norm": clip,
        "averaged_parameters": averaged,
        # Flower adds noise of sd DP_NOISE * clip / sites to every averaged parameter
        "noise_norm_over_clip": DP_NOISE * averaged**0.5 / len(sites),
    }
    for method, run in runs.items():
        results[method] = run.pop("accuracy")
    if "privacy" in args.parts:
        results |= privacy_sweep(setting, sites, folder, seed, common, clip, runs)
    return {
        "setting": setting.name,
        "seed": seed,
        "accuracy": results,
        "runs": runs,
        "sites": [site.name for site in setting.sites],
    }


def privacy_sweep(setting, sites, folder, seed, common, clip, runs) -> dict:
    """Return per-site test accuracy of the personalised strategy at each target ε.

    Central DP clips each site's update at ``clip`` (the median update norm without DP);
    local DP clips each trial's gradient at :data:`LOCAL_CLIP`. The noise is the one that
    spends the target in the run's rounds (at each site's sampling rate, for local DP).
    """
    from federated.config import FederationConfigError

    results = {}
    for mechanism in ("central", "local"):
        for epsilon in EPSILONS:
            name = f"{mechanism} ε={epsilon:g}"
            config = federation(
                setting, sites, folder / f"{mechanism}-{epsilon:g}", seed,
                strategy="personalised", privacy=mechanism, target_epsilon=epsilon,
                dp_delta=DELTA, dp_clip=clip if mechanism == "central" else LOCAL_CLIP, **common,
            )  # fmt: skip
            try:
                runs[name] = federated_run(config)
            except FederationConfigError as error:  # the budget cannot be reached
                runs[name] = {"refused": str(error)}
                results[name] = {s.name: float("nan") for s in setting.sites}
                continue
            results[name] = runs[name].pop("accuracy")
            print(f"   {name}: {runs[name]['seconds']:.0f} s", flush=True)
    return results


def deployment(workdir: Path, rounds: int, quick: bool) -> dict:
    """Run the simulated federation in process, then over TLS on loopback, plain and SecAgg+.

    The sites' trials are prepared (and cached at each site) first, so no run times that;
    both deployed runs use the same SuperLink and SuperNodes, one after the other; each
    run's first round (which also ships the app) is reported apart.
    """
    from federated.client.job import input_request
    from federated.deploy.loopback import LoopbackDeployment
    from federated.sites.config import load_site
    from federated.sites.data import site_data
    from federated.toml_writer import write_toml

    setting = simulated(0, quick)
    folder = workdir / "deployment"
    sites = write_sites(setting, folder / "sites")
    configs = {
        name: federation(
            setting,
            sites,
            folder / name,
            0,
            strategy="personalised",
            rounds=rounds,
            secure_aggregation=secure,
        )
        for name, secure in (("plain", False), ("secagg+", True))
    }
    for site_file in sites:
        site_data(load_site(site_file), input_request(configs["plain"]))
    in_process = federated_run(
        federation(setting, sites, folder / "in-process", 0, strategy="personalised", rounds=rounds)
    )
    names = [site.name for site in setting.sites]
    results = {"sites": names, "in_process_wall_s_per_round": in_process["wall_s_per_round"]}
    with LoopbackDeployment(folder / "deploy") as deploy:
        deploy.make_keys(names)
        deploy.start_superlink()
        if deploy.register(names).returncode:
            raise RuntimeError("registering the SuperNodes failed")
        for site, site_file in zip(names, sites, strict=True):
            deploy.start_supernode(site, site_file)
        for name, config in configs.items():
            path = write_toml(folder / f"{name}.toml", config.to_run_config())
            started = time.monotonic()
            result = deploy.run(path)
            total = time.monotonic() - started
            if result.returncode:
                raise RuntimeError(f"deployment run {name} failed: {result.stderr[-2000:]}")
            history = json.loads((folder / name / "history.json").read_text())
            results[name] = deployed_rounds(history, total, in_process["wall_s_per_round"])
    return results


def deployed_rounds(history: dict, total: float, in_process_s: float) -> dict:
    """Return a deployed run's bytes and wall time per round, and where the time went.

    ``stages``: per stage of a round, the mean over later rounds and sites of its parts
    (:mod:`federated.server.timing`: pick-up, process start, work, return; all on one host).
    """
    rounds = history["rounds"]
    walls = [r["wall_s"] for r in rounds]
    later = rounds[1:] or rounds
    stages: dict[str, dict[str, list[float]]] = {}
    for record in later:
        for stage, per_site in record.get("timing", {}).items():
            for times in per_site.values():
                for part, value in times.items():
                    stages.setdefault(stage, {}).setdefault(part, []).append(value)
    later_wall = float(np.mean([r["wall_s"] for r in later]))
    return {
        "rounds": len(rounds),
        "bytes_sent_per_round": float(np.mean([r["bytes_sent"] for r in rounds])),
        "bytes_received_per_round": float(np.mean([r["bytes_received"] for r in rounds])),
        "wall_s_per_round": walls,
        "first_round_wall_s": walls[0],
        "later_rounds_wall_s": later_wall,
        "run_total_s": total,
        "over_in_process": later_wall / in_process_s,
        "stages": {
            stage: {part: float(np.mean(values)) for part, values in parts.items()}
            for stage, parts in stages.items()
        },
    }


def accuracy_table(runs: list[dict], methods, sites) -> dict:
    """Return (mean, sd) over ``runs`` (seeds) of each site's accuracy and of their mean, per method."""
    table = {}
    for method in methods:
        table[method] = {
            site: (
                float(np.mean(v := [r["accuracy"][method][site] for r in runs])),
                float(np.std(v)),
            )
            for site in sites
        }
        means = [np.mean([r["accuracy"][method][s] for s in sites]) for r in runs]
        table[method]["mean over sites"] = (float(np.mean(means)), float(np.std(means)))
    return table


def summarise(records: list[dict]) -> dict:
    """Return mean and sd over seeds of each site's accuracy per method, and the targets."""
    summary = {}
    for name in dict.fromkeys(r["setting"] for r in records):
        runs = [r for r in records if r["setting"] == name]
        sites = runs[0]["sites"]
        table = accuracy_table(runs, METHODS, sites)
        smallest = min(sites, key=lambda s: ("small" not in s, s))
        personalised, local = table["personalised"], table["local"]
        summary[name] = {
            "accuracy": table,
            "smallest_site": smallest,
            "bytes_per_round": {
                m: float(np.mean([r["runs"][m]["bytes_per_round"] for r in runs]))
                for m in ("fedavg", "personalised")
            },
            "targets": {
                "personalised_beats_local_on_smallest_site": personalised[smallest][0]
                > local[smallest][0],
                "personalised_beats_fedavg_on_average": personalised["mean over sites"][0]
                > table["fedavg"]["mean over sites"][0],
            },
            "dp_cost": table["personalised"]["mean over sites"][0]
            - table["personalised+dp"]["mean over sites"][0],
            "dp_noise_norm_over_clip": float(
                np.mean([r["runs"]["personalised+dp"]["dp"]["noise_norm_over_clip"] for r in runs])
            ),
        }
    return summary


def markdown(summary: dict, records: list[dict], deploy: dict | None, protocol: str) -> str:
    """Return the result tables."""
    lines = [protocol, ""]
    for name, part in summary.items():
        seeds = len([r for r in records if r["setting"] == name])
        lines += [f"### {name} (test accuracy, mean ± sd over {seeds} seed(s))", ""]
        lines.append("| site | " + " | ".join(METHODS) + " |")
        lines.append("|---" * (len(METHODS) + 1) + "|")
        for site in part["accuracy"]["local"]:
            cells = [f"{m:.3f} ± {s:.3f}" for m, s in (part["accuracy"][k][site] for k in METHODS)]
            lines.append(f"| {site} | " + " | ".join(cells) + " |")
        targets = part["targets"]
        lines += [
            "",
            f"- personalised beats local-only on the smallest site ({part['smallest_site']}): "
            f"{'yes' if targets['personalised_beats_local_on_smallest_site'] else 'no'}",
            "- personalised beats FedAvg on average: "
            f"{'yes' if targets['personalised_beats_fedavg_on_average'] else 'no'}",
            f"- accuracy cost of DP (personalised minus personalised+dp; noise multiplier "
            f"{DP_NOISE}, clip at the median update norm, so the noise added per round has "
            f"{part['dp_noise_norm_over_clip']:.0f}x the norm of a clipped update): "
            f"{part['dp_cost']:+.3f}",
            "- payload per round (sent + received): "
            + ", ".join(f"{m} {b / 1e3:.0f} kB" for m, b in part["bytes_per_round"].items()),
            "",
        ]
        lines += privacy_table(name, part, records)
    if deploy:
        lines += deployment_table(deploy)
    return "\n".join(lines)


def privacy_table(name: str, part: dict, records: list[dict]) -> list[str]:
    """Return the accuracy-against-ε table of one setting (mean over sites; smallest site)."""
    runs = [r for r in records if r["setting"] == name]
    smallest = part["smallest_site"]
    methods = [m for m in runs[0]["accuracy"] if " ε=" in m]
    if not methods:
        return []
    lines = [
        f"#### {name}: accuracy against ε (δ = {DELTA:g}; ε = ∞ is personalised without DP)",
        "",
        f"| privacy | mean over sites | {smallest} | ε spent (max over sites) | rounds trained |",
        "|---|---|---|---|---|",
    ]
    for method in ["personalised", *methods, "local"]:
        means = [np.nanmean(list(r["accuracy"][method].values())) for r in runs]
        small = [r["accuracy"][method][smallest] for r in runs]
        spent = [_max_epsilon(r["runs"].get(method, {}).get("privacy", {})) for r in runs]
        trained = [r["runs"].get(method, {}).get("rounds_trained", float("nan")) for r in runs]
        label = {"personalised": "none (ε = ∞)", "local": "local-only training"}.get(method, method)
        lines.append(
            f"| {label} | {np.mean(means):.3f} ± {np.std(means):.3f} | "
            f"{np.mean(small):.3f} ± {np.std(small):.3f} | {_figure(spent, '.2f')} | "
            f"{_figure(trained, '.1f')} |"
        )
    return [*lines, ""]


def _figure(values: list[float], form: str) -> str:
    """Return the mean of ``values`` (NaN: not applicable) formatted, or '-'."""
    finite = [value for value in values if np.isfinite(value)]
    return format(float(np.mean(finite)), form) if finite else "-"


def _max_epsilon(spent: dict) -> float:
    if "epsilon" in spent:
        return float(spent["epsilon"])
    values = [site["epsilon"] for site in spent.values()]
    return float(max(values)) if values else float("nan")


def deployment_table(deploy: dict) -> list[str]:
    """Return the deployment's tables: plain against SecAgg+, and where a round's time goes."""
    lines = [
        "### Deployment over TLS on loopback (simulated federation, personalised)",
        "",
        "| aggregation | rounds | sent/round | received/round | first round | later rounds "
        "| ratio to in process |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("plain", "secagg+"):
        run = deploy[name]
        lines.append(
            f"| {name} | {run['rounds']} | {run['bytes_sent_per_round'] / 1e3:.0f} kB | "
            f"{run['bytes_received_per_round'] / 1e3:.0f} kB | {run['first_round_wall_s']:.1f} s "
            f"| {run['later_rounds_wall_s']:.1f} s | {run['over_in_process']:.0f}x |"
        )
    lines += [
        "",
        f"In process: {deploy['in_process_wall_s_per_round']:.2f} s per round. Where a later "
        "round's time goes (mean over rounds and sites, seconds; pick-up: push to the ClientApp "
        "process's start; start: process start to the app's function; work: the app's "
        "function; return: its end to the server's pull):",
        "",
        "| aggregation | stage | total | pick-up | start | work | return |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("plain", "secagg+"):
        for stage, parts in deploy[name]["stages"].items():
            cells = " | ".join(
                f"{parts[p]:.2f}" if p in parts else "-"
                for p in ("total", "pick-up", "start", "work", "return")
            )
            lines.append(f"| {name} | {stage} | {cells} |")
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and epochs")
    parser.add_argument(
        "--parts", nargs="+", choices=PARTS, default=list(PARTS), help="parts to run (all)"
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument(
        "--federations", nargs="+", choices=list(FEDERATIONS), default=list(FEDERATIONS)
    )
    args = parser.parse_args()
    args.rounds, args.local_steps, args.epochs = (15, 10, 40) if args.quick else (40, 10, 150)
    deploy_rounds = 3 if args.quick else 5
    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
    import torch

    torch.set_num_threads(1)
    workdir = Path(tempfile.mkdtemp(prefix="bench-federated-"))
    os.environ["FLWR_HOME"] = str(workdir / "flwr")  # the run's own connections and apps
    os.environ["BCI_APP_MODELS"] = str(workdir / "models")
    started = time.monotonic()
    records, deploy, pretraining = [], None, None
    try:
        if {"accuracy", "privacy"} & set(args.parts):
            records = [
                one_setting(make, seed, args, workdir)
                for make in (FEDERATIONS[name] for name in args.federations)
                for seed in args.seeds
            ]
        if "deployment" in args.parts:
            deploy = deployment(workdir, deploy_rounds, args.quick)
        if "pretraining" in args.parts:
            from .federated_pretraining import run_pretraining_part

            pretraining = run_pretraining_part(workdir, args.quick)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    summary = summarise(records) if records else {}
    machine = f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"
    protocol = (
        f"Protocol: {'quick' if args.quick else 'full'} run (parts: {', '.join(args.parts)}) "
        f"on {machine}."
    )
    if records:
        protocol += (
            " Per-site held-out test trials scored once; selection on validation only; every "
            "method trains the same network (spatial filters anchored on the common channels); "
            f"{args.rounds} rounds x {args.local_steps} local steps (AdamW, lr 1e-3), the round "
            "of lowest validation loss over sites kept; local and central training up to "
            f"{args.epochs} epochs with early stopping; seeds {args.seeds}."
        )
    elapsed = time.monotonic() - started
    protocol += f" The whole benchmark took {elapsed / 60:.1f} min."
    results = {
        "quick": args.quick,
        "parts": args.parts,
        "seconds": elapsed,
        "settings": {
            "rounds": args.rounds,
            "local_steps": args.local_steps,
            "epochs": args.epochs,
            "model": MODEL,
            "dp_noise": DP_NOISE,
            "epsilons": EPSILONS,
            "delta": DELTA,
        },
        "summary": summary,
        "deployment": deploy,
        "pretraining": pretraining,
        "records": records,
    }
    text = markdown(summary, records, deploy, protocol)
    if pretraining:
        from .federated_pretraining import markdown as pretraining_markdown

        text += "\n" + "\n".join(pretraining_markdown(pretraining))
    print()
    complete = set(args.parts) == set(PARTS) and args.seeds == list(SEEDS)
    complete = complete and args.federations == list(FEDERATIONS)
    name = "federated" if complete else "federated_" + "_".join(args.parts)
    save_results(name, results, text)


if __name__ == "__main__":
    main()
