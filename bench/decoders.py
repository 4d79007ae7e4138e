"""RLEEGNet, the spiking decoders and the registry baselines on real and simulated trials.

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
  energy than its non-spiking equivalent (same architecture, real-valued activations).

    python -m bench.decoders [--quick] [--seeds 0 1 2] [--jobs 2]

``--quick`` shortens training (networks: 15 epochs, patience 5; RLEEGNet: 12 episodes,
patience 4; spiking decoders: at most 24 time steps) and simulates the motor imagery at 125 Hz
instead of 250 Hz, evaluated with the first seed only (its 5 folds); everything else is
identical. Fits run in ``--jobs`` worker processes with
one torch thread each, the longest first.
"""

from __future__ import annotations

from .output import save_results
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


def main() -> None:
    """Run every decoder on every data set, write the records, print the tables."""
    args = parse_arguments(__doc__.splitlines()[0])

    def options_of(dataset: str, decoder: str) -> dict:
        options = {**(QUICK.get(decoder, {}) if args.quick else {})}
        if dataset == SIMULATED:
            options.update(MI_BAND.get(decoder, {}))
        return options

    records = run_benchmark(args, DECODERS, COST_ORDER, options_of)
    datasets = list(DATASETS)
    markdown = [*tables(records, datasets), "", "Targets:", "", *targets(records, datasets)]
    save_results("decoders", records, "\n".join(markdown))


if __name__ == "__main__":
    main()
