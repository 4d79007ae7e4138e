"""RLEEGNet, the spiking decoders, the braindecode zoo, ROCKET, ``auto`` and the baselines.

Data: FingerMovements, HandMovementDirection, SelfRegulationSCP1 (official train/test splits)
and the motor-imagery simulator (one subject, within-session stratified 5-fold), each decoder
over 3 seeds through :func:`decoders.evaluation.harness.evaluate` (validation split from the
training part only; the test part scored once per fit).

Writes ``bench/results/decoders.json``: records ``dataset, protocol, decoder, metric, mean,
sd, n_seeds`` (as ``bench/results/baselines.json``), plus for spiking decoders ``synops``,
``macs_equivalent``, ``energy_uj_spiking`` and ``energy_uj_equivalent`` per window (counted on
the validation windows of every fit, averaged). Prints markdown tables and whether each
target of the issue is met:

- RLEEGNet at least matches the best baseline on each data set;
- a spiking decoder within 3 points of the best non-spiking one at >= 5x lower estimated
  energy than its non-spiking equivalent (same architecture, real-valued activations);
- ``auto`` (chosen by cross-validation inside the training part only) at least matches the
  best figure of ``bench/`` on each real data set (:data:`REFERENCE`).

Parts (``--parts``, default all): ``existing`` (baselines, RLEEGNet, spiking), ``selection``
(MiniRocket, MultiRocket, ``auto``), ``zoo`` (every other registered braindecode model, with
``--zoo-seeds`` and a parameter budget ``--max-params``: larger models are listed as not run).
A run of some parts (or data sets) keeps the records of the others in ``decoders.json``. Every record has
its wall time (the sum over seeds); a decoder that cannot be built for a data set is recorded
with the reason.

    python -m bench.decoders [--quick] [--seeds 0 1 2] [--jobs 2] [--parts zoo selection]
        [--zoo-seeds 0] [--max-params 5e6] [--datasets SelfRegulationSCP1 ...]

``--quick`` shortens training (networks: 15 epochs, patience 5; RLEEGNet: 12 episodes,
patience 4; spiking decoders: at most 24 time steps) and simulates the motor imagery at 125 Hz
instead of 250 Hz, evaluated with the first seed only (its 5 folds); everything else is
identical. Fits run in ``--jobs`` worker processes with
one torch thread each, the longest first.
"""

from __future__ import annotations

import json

from decoders.registry import REGISTRY

from .output import RESULTS_DIR, save_results
from .trials import (
    DATASETS,
    SIMULATED,
    accuracy_of,
    accuracy_table,
    parse_arguments,
    run_benchmark,
)

BASELINES = ("csp-lda", "cov-ts-lr", "xdawncov-ts-lr", "eegnet", "shallow-fbcsp")
SPIKING = ("spiking-lif", "spiking-lif-delays", "spiking-rwkv")
DECODERS = (*BASELINES, "rleegnet", *SPIKING)
SELECTION = ("minirocket", "multirocket", "auto")
ZOO = tuple(
    name
    for name, entry in REGISTRY.items()
    if entry.family == "braindecode" and name not in BASELINES
)
PARTS = {"existing": DECODERS, "selection": SELECTION, "zoo": ZOO}
REFERENCE = {
    "SelfRegulationSCP1": ("multirocket (bench/baselines.py)", 0.951),
    "HandMovementDirection": ("xdawncov-ts-lr", 0.703),
    "FingerMovements": ("minirocket (bench/baselines.py)", 0.597),
}
"""The best figure of bench/ on each real data set before this issue."""
ZOO_QUICK = {"max_epochs": 30, "patience": 8}
QUICK = {
    "eegnet": {"max_epochs": 15, "patience": 5},
    "shallow-fbcsp": {"max_epochs": 15, "patience": 5},
    "rleegnet": {"episodes": 12, "patience": 4},
    **{name: {"max_epochs": 15, "patience": 5, "max_steps": 24} for name in SPIKING},
}
# Motor imagery: decoders that declare a band-pass get the usual mu/beta band (as
# bench/baselines.py does for CSP; the spiking decoders then encode the filtered signal).
MI_BAND = {name: {"band": [8.0, 30.0]} for name in ("csp-lda", "rleegnet", *SPIKING)}
# Expected cost order (slowest first), to keep both workers busy until the end.
COST_ORDER = ("shallow-fbcsp", "eegnet", "rleegnet", "spiking-rwkv")


def targets(records: list[dict], datasets: list[str]) -> list[str]:
    """Return markdown rows saying, per data set, whether each target is met and by how much."""
    lines = ["| data set | target | best reference | candidate | met |", "|---|---|---|---|---|"]
    for dataset in datasets:
        baselines = [r for d in BASELINES if (r := accuracy_of(records, dataset, d))]
        best = max(baselines, key=lambda r: r["mean"])
        rl = accuracy_of(records, dataset, "rleegnet")
        gap = rl["mean"] - best["mean"]
        lines.append(
            f"| {dataset} | RLEEGNet >= best baseline | {best['decoder']} {best['mean']:.3f} | "
            f"rleegnet {rl['mean']:.3f} ({gap:+.3f}) | {'yes' if gap >= 0 else 'no'} |"
        )
        non_spiking = max([*baselines, rl], key=lambda r: r["mean"])
        candidates = []
        for name in SPIKING:
            record = accuracy_of(records, dataset, name)
            ratio = record["energy_uj_equivalent"] / record["energy_uj_spiking"]
            behind = non_spiking["mean"] - record["mean"]
            met = behind <= 0.03 + 1e-9 and ratio >= 5
            candidates.append((met, -behind, name, record, ratio))
        met, _, name, record, ratio = max(candidates)
        lines.append(
            f"| {dataset} | spiking within 3 points at >= 5x less energy | "
            f"{non_spiking['decoder']} {non_spiking['mean']:.3f} | {name} {record['mean']:.3f} "
            f"({record['mean'] - non_spiking['mean']:+.3f}), {ratio:.1f}x less energy | "
            f"{'yes' if met else 'no'} |"
        )
    return lines


def tables(records: list[dict], datasets: list[str]) -> list[str]:
    """Return the markdown accuracy and energy tables."""
    lines = accuracy_table(records, datasets, DECODERS)
    lines += [
        "",
        "Spiking decoders, per window (validation windows): synaptic operations (AC), MACs of "
        "the non-spiking equivalent, estimated energy (0.9 pJ/AC, 4.6 pJ/MAC) and the ratio.",
        "",
        "| decoder | data set | SynOps | MACs (equivalent) | µJ spiking | µJ equivalent | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for decoder in SPIKING:
        for dataset in datasets:
            r = accuracy_of(records, dataset, decoder)
            lines.append(
                f"| {decoder} | {dataset} | {r['synops']:.0f} | {r['macs_equivalent']:.0f} | "
                f"{r['energy_uj_spiking']:.3f} | {r['energy_uj_equivalent']:.3f} | "
                f"{r['energy_uj_equivalent'] / r['energy_uj_spiking']:.1f}x |"
            )
    return lines


def selection_tables(records: list[dict], datasets: list[str]) -> list[str]:
    """Return the ROCKET/auto and zoo tables (accuracy, training time) and the auto target."""
    lines = ["ROCKET and auto (training time per fit in brackets):", ""]
    lines += timed_table(records, datasets, SELECTION)
    zoo = [name for name in ZOO if any(r["decoder"] == name for r in records)]
    if zoo:
        lines += ["", "braindecode zoo (training time per fit in brackets):", ""]
        lines += timed_table(records, datasets, zoo)
        failures = [r for r in records if "error" in r and r["decoder"] in zoo]
        if failures:
            lines += ["", "Not run:", ""]
            lines += [f"- {r['decoder']} on {r['dataset']}: {r['error']}" for r in failures]
    lines += [
        "",
        "| data set | target | best figure in bench/ before | auto | met |",
        "|---|---|---|---|---|",
    ]
    for dataset, (source, value) in REFERENCE.items():
        auto = accuracy_of(records, dataset, "auto")
        if auto is None:
            continue
        met = "yes" if round(auto["mean"], 3) >= value else "no"  # figures quoted to 3 places
        lines.append(
            f"| {dataset} | auto >= best | {source} {value:.3f} | {auto['mean']:.3f} ± "
            f"{auto['sd']:.3f} ({auto['mean'] - value:+.3f}) | {met} |"
        )
    return lines


def timed_table(records: list[dict], datasets: list[str], decoders) -> list[str]:
    """Return accuracy (mean ± sd over seeds) and seconds per fit, decoders by data sets."""
    lines = ["| decoder | " + " | ".join(datasets) + " |", "|---|" + "---|" * len(datasets)]
    for decoder in decoders:
        cells = []
        for dataset in datasets:
            record = accuracy_of(records, dataset, decoder)
            if record is None:
                failed = any(
                    r["decoder"] == decoder and r["dataset"] == dataset and "error" in r
                    for r in records
                )
                cells.append("not run" if failed else "-")
                continue
            per_fit = record["wall_time_s"] / record["n_seeds"]
            cells.append(f"{record['mean']:.3f} ± {record['sd']:.3f} ({per_fit:.0f} s)")
        lines.append(f"| {decoder} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    """Run the chosen parts on every data set, merge the records, print the tables."""

    def extra(parser) -> None:
        parser.add_argument("--parts", nargs="+", choices=list(PARTS), default=list(PARTS))
        parser.add_argument("--zoo-seeds", nargs="+", type=int)
        parser.add_argument("--max-params", type=float)

    args = parse_arguments(__doc__.splitlines()[0], extra)
    chosen = [name for part in args.parts for name in PARTS[part]]

    def options_of(dataset: str, decoder: str) -> dict:
        if decoder == "auto":  # its candidates get what they would get on their own
            candidates = {name: options_of(dataset, name) for name in ("csp-lda", "eegnet")}
            return {"candidate_options": {k: v for k, v in candidates.items() if v}}
        options = {**(QUICK.get(decoder, {}) if args.quick else {})}
        if args.quick and decoder in ZOO:
            options.update(ZOO_QUICK)
        if dataset == SIMULATED:
            options.update(MI_BAND.get(decoder, {}))
        return options

    def seeds_for(dataset: str, decoder: str) -> list[int]:
        seeds = args.zoo_seeds if decoder in ZOO and args.zoo_seeds else args.seeds
        return seeds[:1] if args.quick and dataset == SIMULATED else seeds

    path = RESULTS_DIR / "decoders.json"
    earlier = json.loads(path.read_text()) if path.is_file() else []

    def save(new: list[dict], echo: bool = False) -> None:
        """Save ``new`` with the earlier records of every pair it does not hold."""
        done = {(r["dataset"], r["decoder"]) for r in new}
        records = [r for r in earlier if (r["dataset"], r["decoder"]) not in done] + new
        datasets = list(DATASETS)
        markdown = [
            *tables(records, datasets),
            "",
            "Targets:",
            "",
            *targets(records, datasets),
            "",
            *selection_tables(records, datasets),
        ]
        save_results("decoders", records, "\n".join(markdown), echo)

    records = run_benchmark(
        args, chosen, (*COST_ORDER, "auto", "multirocket"), options_of, seeds_for, on_pair=save
    )
    save(records, echo=True)


if __name__ == "__main__":
    main()
