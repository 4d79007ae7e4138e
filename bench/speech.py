"""Speech decoding from simulated MEG and EEG: retrieval of the speech heard, and live ranking.

Data: the listening simulators (``speech_meg`` on the 306 sensors of the fetched Neuromag
recording, ``speech_eeg`` on a 64-channel 10-10 montage; real espeak-ng speech; stated SNRs),
paired as 3 s brain windows 150 ms after 3 s speech segments, log-mel features (20 bands, 20
frames per second), onsets refined on the sound channel. Methods, each through
:func:`decoders.evaluation.harness.evaluate` (validation carved by sound from the training
blocks; the test block scored once per fit, every window ranked among all distinct test
segments):

- ``brain-speech (clip)``: our brain module with the contrastive loss;
- ``brain-speech (mse)``: the same network regressing the features (the ablation);
- ``braindecode BrainModule (clip)``: braindecode's ``BrainModule`` (CC-BY-NC 4.0, an anchor
  only, never shipped) with its channel merger and subject layers, width chosen for the
  parameter count of ours, trained by the same loop and loss;
- ``ridge``: the classical anchor, ridge regression from the window (channels reduced by PCA,
  averaged per feature frame) to the features, its penalty chosen on validation;
- chance.

Also the training time per epoch and the peak memory of each fit, and the live path's
latency for one window over 1,000 candidates (ONNX Runtime inference, then numpy ranking).

    python -m bench.speech [--quick] [--seeds 0 1 2]

``--quick`` simulates 3 subjects x 3 blocks (train on two, test on the last) with small
networks trained for at most 25 epochs; the full run simulates 4 subjects x 4 blocks, tests
each block in turn (leave one block out) and trains for at most 60 epochs.
"""

from __future__ import annotations

import argparse
import platform
import threading
import time
from typing import Any

import numpy as np

from .output import save_results

METHODS = ("brain-speech (clip)", "brain-speech (mse)", "braindecode BrainModule (clip)", "ridge")
SIZES = {
    True: dict(n_subjects=3, n_blocks=3, passages_per_block=3, sentences_per_passage=8),
    False: dict(n_subjects=4, n_blocks=4, passages_per_block=4, sentences_per_passage=10),
}
NETWORK = dict(n_virtual=64, fourier_dim=512, hidden=64, n_blocks=3, lr=1e-3, batch_size=64)
EPOCHS = {True: dict(max_epochs=25, patience=6), False: dict(max_epochs=60, patience=10)}


class _Anchor:
    """braindecode's BrainModule behind the same decoder, loop and loss (bench only)."""

    @staticmethod
    def create(seed: int, width: int, **options: Any):
        """Return the anchor decoder with braindecode's network ``width`` wide."""
        from decoders.models.speech.decoder import BrainSpeechDecoder

        class BraindecodeBrainModule(BrainSpeechDecoder):
            def build(self, spec, output):
                """Return braindecode's network for ``spec``."""
                return _braindecode_module(self, spec, output, width)

        decoder = BraindecodeBrainModule(seed=seed, **options)
        decoder.name = "braindecode-brainmodule"
        return decoder


def _braindecode_module(decoder, spec, output, width: int):
    """Return braindecode's BrainModule wrapped with our input scaling and subject routing."""
    import torch
    from braindecode.models import BrainModule

    n_subjects = len(decoder.subjects_)
    chs_info = [
        {"ch_name": name, "loc": np.r_[position, np.zeros(9)]}
        for name, position in zip(spec.ch_names, decoder.positions_, strict=True)
    ]
    network = BrainModule(
        n_chans=len(spec.ch_names),
        n_outputs=len(output.names),
        n_times=spec.n_times,
        sfreq=spec.sfreq,
        chs_info=chs_info,
        hidden_dim=width,
        depth=2 * decoder.n_blocks,
        use_merger=True,
        n_virtual_channels=decoder.n_virtual,
        n_subjects=n_subjects + 1,
        subject_layers=True,
        subject_dim=8,
    )

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network
            self.register_buffer("scale", torch.ones(1, len(spec.ch_names), 1))
            self.register_buffer(
                "subject_ids", torch.as_tensor(decoder.subjects_, dtype=torch.long)
            )
            self.register_buffer("default_subject", torch.tensor(n_subjects))
            self.shared_subject = n_subjects

        def forward(self, x, subjects=None):
            """Scale as ours, route subjects as ours, run braindecode's network."""
            x = torch.clamp((x - x.mean(-1, keepdim=True)) / self.scale, -20.0, 20.0)
            if subjects is None:
                subjects = self.default_subject.expand(len(x))
            return self.network(x, subjects)

    return Wrapped()


class Ridge:
    """Ridge regression from PCA-reduced, frame-averaged windows to the speech embeddings."""

    subject_aware = False

    def __init__(self, seed: int, n_components: int = 40) -> None:
        self.seed, self.n_components = seed, n_components

    def _design(self, data: np.ndarray) -> np.ndarray:
        centred = data - data.mean(axis=2, keepdims=True)
        scaled = centred / self.scale_[None, :, None]
        components = np.einsum("kc,nct->nkt", self.components_, scaled)
        frames = components.reshape(len(data), self.n_components, self.n_frames_, -1).mean(-1)
        return frames.reshape(len(data), -1)

    def fit(self, train, valid) -> Ridge:
        """Fit the PCA and the ridge on ``train``; choose the penalty on ``valid``."""
        from sklearn.decomposition import PCA
        from sklearn.linear_model import Ridge as SkRidge

        from decoders.evaluation.metrics import retrieval_ranks
        from decoders.speech.features import segment_embeddings

        self.n_frames_ = train.features.shape[2]
        centred = train.data - train.data.mean(axis=2, keepdims=True)
        self.scale_ = centred.std(axis=(0, 2))
        pooled = (
            (centred / self.scale_[None, :, None]).transpose(0, 2, 1).reshape(-1, train.n_channels)
        )
        pca = PCA(min(self.n_components, train.n_channels), random_state=self.seed)
        self.components_ = pca.fit(pooled[:: max(1, len(pooled) // 20000)]).components_
        self.n_components = len(self.components_)
        x, y = self._design(train.data), segment_embeddings(train.features)
        candidates, truth = valid.candidates()
        best = None
        for alpha in 10.0 ** np.arange(0, 7):
            model = SkRidge(alpha=alpha).fit(x, y)
            ranks = retrieval_ranks(model.predict(self._design(valid.data)), candidates, truth)
            score = float(np.mean(ranks <= 10))
            if best is None or score > best[0]:
                best = (score, model)
        self.model_ = best[1]
        return self

    def predict_proba(self, data: np.ndarray) -> np.ndarray:
        """Return the predicted embeddings of raw windows."""
        return self.model_.predict(self._design(data))


class _Measured:
    """A method's fit, timed and with its peak resident memory above the start."""

    def __init__(self, decoder) -> None:
        self.decoder = decoder
        self.subject_aware = getattr(decoder, "subject_aware", False)

    def fit(self, train, valid):
        """Fit the method, measuring time and peak memory."""
        import psutil

        process, peak, done = psutil.Process(), [0], threading.Event()
        start_rss = process.memory_info().rss

        def watch() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], process.memory_info().rss - start_rss)
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        started = time.perf_counter()
        self.decoder.fit(train, valid)
        self.seconds = time.perf_counter() - started
        done.set()
        watcher.join()
        self.peak_mb = peak[0] / 2**20
        history = getattr(self.decoder, "history_", None)
        self.epochs = len(history.epochs) if history is not None else 1
        return self

    def predict_proba(self, data, **options):
        """Return the method's outputs."""
        return self.decoder.predict_proba(data, **options)


def parameters(decoder_or_module) -> int:
    module = getattr(decoder_or_module, "module_", decoder_or_module)
    return int(sum(p.numel() for p in module.parameters()))


def matched_width(trials, quick: bool) -> int:
    """Return the braindecode width whose parameter count is closest to ours."""
    from decoders import registry

    small, valid = trials.split_by_sound(0.2, 0)
    ours = registry.create("brain-speech", **{**NETWORK, "max_epochs": 0})
    ours.fit(small, valid)
    target = parameters(ours)
    counts = {}
    for width in range(16, 257, 8):
        anchor = _Anchor.create(0, width, **{**NETWORK, "max_epochs": 0})
        counts[width] = parameters(anchor.fit(small, valid))
    width = min(counts, key=lambda h: abs(counts[h] - target))
    return width, target, counts[width]


def live_latency(decoder, trials, n_windows: int = 1000) -> dict[str, float]:
    """Return p50/p99 (ms) of ONNX inference and ranking over 1,000 candidates per window."""
    import tempfile
    from pathlib import Path

    from bci_app.inference.model import OnnxModel
    from bci_app.inference.ranking import CandidateRanker
    from bci_app.models.candidates import CandidateSet
    from decoders.card import DecoderCard
    from decoders.export.onnx_export import export_decoder

    card = DecoderCard.for_decoder(decoder, extra=decoder.card_extra())
    with tempfile.TemporaryDirectory() as folder:
        path = export_decoder(decoder, Path(folder) / "speech.onnx", card=card).path
        model = OnnxModel(path.read_bytes(), "speech.onnx")
    embeddings, _ = trials.candidates()
    rng = np.random.default_rng(0)
    extra = rng.normal(size=(1000 - len(embeddings), embeddings.shape[1])).astype(np.float32)
    pool = np.vstack([embeddings, extra])[:1000]
    speech = decoder.card_extra()["speech"]
    candidates = CandidateSet(tuple(f"c{i}" for i in range(len(pool))), pool, speech)
    ranker = CandidateRanker(candidates, model.card, 10, "bench")
    windows = trials.data[rng.integers(0, trials.n_trials, n_windows)].astype(np.float32)
    inference, ranking = [], []
    for window in windows:
        start = time.perf_counter()
        outputs = model.predict(window)
        middle = time.perf_counter()
        ranker.rank(outputs)
        inference.append(middle - start)
        ranking.append(time.perf_counter() - middle)
    summary = {"n_candidates": len(pool)}
    for name, values in (("inference", inference), ("ranking", ranking)):
        values = 1e3 * np.array(values)
        summary[f"{name}_p50_ms"], summary[f"{name}_p99_ms"] = map(
            float, np.percentile(values, [50, 99])
        )
    total = 1e3 * (np.array(inference) + np.array(ranking))
    summary["total_p50_ms"], summary["total_p99_ms"] = map(float, np.percentile(total, [50, 99]))
    return summary


def run(quick: bool, seeds: tuple[int, ...]) -> dict[str, Any]:
    import torch

    from decoders import registry
    from decoders.datasets.trials import OfficialSplit
    from decoders.evaluation.harness import evaluate
    from decoders.evaluation.protocols import make_protocol
    from decoders.simulators.registry import make_simulator

    torch.set_num_threads(1)
    started = time.perf_counter()
    results: dict[str, Any] = {"quick": quick, "seeds": list(seeds), "records": [], "fits": []}
    for modality in ("meg", "eeg"):
        simulator = make_simulator(f"speech_{modality}", seed=0, **SIZES[quick])
        trials = simulator.trials()
        snrs = [simulator.subject_snr_db(s) for s in range(simulator.n_subjects)]
        if quick:
            last = trials.blocks == trials.blocks.max()
            data = OfficialSplit(trials.subset(~last), trials.subset(last))
            protocol = make_protocol("official")
            protocol.description = (
                "train on the first blocks, test on the last (held-out sentences)"
            )
        else:
            data, protocol = trials, make_protocol("blocks")
        width, ours_params, anchor_params = matched_width(trials, quick)
        makers = {
            "brain-speech (clip)": lambda s: registry.create(
                "brain-speech", seed=s, loss="clip", **NETWORK, **EPOCHS[quick]
            ),
            "brain-speech (mse)": lambda s: registry.create(
                "brain-speech", seed=s, loss="mse", **NETWORK, **EPOCHS[quick]
            ),
            "braindecode BrainModule (clip)": lambda s, width=width: _Anchor.create(
                s, width, loss="clip", **NETWORK, **EPOCHS[quick]
            ),
            "ridge": lambda s: Ridge(s),
        }
        for method in METHODS:
            fits = []

            def fitted(run, method=method, fits=fits):
                fits.append(run.model)

            record = evaluate(
                lambda s, method=method, makers=makers: _Measured(makers[method](s)),
                data,
                protocol,
                seeds,
                decoder_name=method,
                dataset_name=f"speech_{modality}",
                on_fitted=fitted,
            )
            entry = record.to_dict()
            entry["snr_db"] = snrs
            entry["parameters"] = parameters(fits[0].decoder) if method != "ridge" else None
            entry["seconds_per_epoch"] = float(np.mean([f.seconds / f.epochs for f in fits]))
            entry["peak_mb"] = float(np.max([f.peak_mb for f in fits]))
            entry["windows"] = {
                "train": int(record.folds[0].n_train),
                "test": int(record.folds[0].n_test),
            }
            results["records"].append(entry)
            print(
                method,
                modality,
                {k: round(v.mean, 3) for k, v in record.metrics.items()},
                flush=True,
            )
            if method == "brain-speech (clip)" and modality == "meg":
                results["live"] = live_latency(fits[0].decoder, trials)
        results[f"params_{modality}"] = {
            "ours": ours_params,
            "braindecode": anchor_params,
            "braindecode_width": width,
        }
    results["wall_time_s"] = time.perf_counter() - started
    results["machine"] = f"{platform.machine()} ({_cores()} cores)"
    return results


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def table(results: dict[str, Any]) -> str:
    rows = [
        "| method | data set | top-1 | top-10 | median rank | chance (top-1 / top-10 / rank) | parameters | s / epoch | peak MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in results["records"]:
        m = entry["metrics"]
        chance = f"{m['chance_top1']['mean']:.3f} / {m['chance_top10']['mean']:.3f} / {m['chance_median_rank']['mean']:.1f}"
        params = f"{entry['parameters']:,}" if entry["parameters"] else "-"
        rows.append(
            f"| {entry['decoder']} | {entry['dataset']} | {_cell(m, 'top1')} | {_cell(m, 'top10')} | "
            f"{m['median_rank']['mean']:.1f} ± {m['median_rank']['sd']:.1f} | {chance} | {params} | "
            f"{entry['seconds_per_epoch']:.2f} | {entry['peak_mb']:.0f} |"
        )
    live = results.get("live", {})
    if live:
        rows += [
            "",
            f"Live, one window, {live['n_candidates']} candidates (ms, p50 / p99): inference "
            f"{live['inference_p50_ms']:.2f} / {live['inference_p99_ms']:.2f}, ranking "
            f"{live['ranking_p50_ms']:.2f} / {live['ranking_p99_ms']:.2f}, total "
            f"{live['total_p50_ms']:.2f} / {live['total_p99_ms']:.2f}.",
        ]
    rows += ["", *targets(results)]
    return "\n".join(rows)


def _cell(metrics: dict, name: str) -> str:
    return f"{metrics[name]['mean']:.3f} ± {metrics[name]['sd']:.3f}"


def targets(results: dict[str, Any]) -> list[str]:
    def top10(method, modality):
        for entry in results["records"]:
            if entry["decoder"] == method and entry["dataset"] == f"speech_{modality}":
                return entry["metrics"]["top10"]["mean"]
        return float("nan")

    lines = ["| target | figures | met |", "|---|---|---|"]
    for modality in ("meg", "eeg"):
        clip, mse, ridge = (
            top10(m, modality) for m in ("brain-speech (clip)", "brain-speech (mse)", "ridge")
        )
        anchor = top10("braindecode BrainModule (clip)", modality)
        lines.append(
            f"| contrastive > regression > linear ({modality.upper()}, top-10) | {clip:.3f} > {mse:.3f} > "
            f"{ridge:.3f} | {'yes' if clip > mse > ridge else 'no'} |"
        )
        lines.append(
            f"| ours >= braindecode at equal parameters ({modality.upper()}, top-10) | {clip:.3f} vs "
            f"{anchor:.3f} | {'yes' if clip >= anchor else 'no'} |"
        )
    meg, eeg = top10("brain-speech (clip)", "meg"), top10("brain-speech (clip)", "eeg")
    lines.append(
        f"| MEG > EEG (ours, top-10) | {meg:.3f} > {eeg:.3f} | {'yes' if meg > eeg else 'no'} |"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    results = run(args.quick, tuple(args.seeds))
    save_results("speech", results, table(results))


if __name__ == "__main__":
    main()
