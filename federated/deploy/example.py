"""A working example deployment, written by ``bci-app fed init DIR``.

It holds everything an administrator needs to run a first federation on one host, and the
files to copy to each machine for several::

    DIR/certs/                         CA, SuperLink certificate, one key pair per site
    DIR/simulated/site-{a,b,c}.toml    three sites on the motor-imagery simulator (8, 16 and
                                       22 channels at 250, 200 and 500 Hz)
    DIR/hand-movement/site-{a,b,c}.toml  three sites sharing the real HandMovementDirection
                                       set (6:3:1, 10/7/5 MEG channels at 400/200/250 Hz;
                                       ``bci-app data fetch`` first)
    DIR/federation.toml                the federation of the simulated sites
    DIR/federation-hand-movement.toml  the federation of the real-data sites

Every option of the site and federation files is written, with a comment (options that do
not apply, commented out), so that the files document themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .certs import DEFAULT_HOSTS, CertificateSet, make_certificates

SITES = ("site-a", "site-b", "site-c")
SIMULATED = "simulated"
REAL = "hand-movement"
FEDERATION = "federation.toml"
REAL_FEDERATION = "federation-hand-movement.toml"
SIMULATED_ANCHORS = ("Fz", "FC3", "FC4", "C3", "Cz", "C4", "CP3", "CP4")
"""The channels all three simulated montages record: the spatial filters start on them."""
REAL_ANCHORS = ("MEG04", "MEG05", "MEG06", "MEG07")


@dataclass(frozen=True)
class Example:
    """The files of an example deployment."""

    folder: Path
    certs: CertificateSet
    site_files: dict[str, list[Path]]
    federations: dict[str, Path]


def write_example(
    folder: str | Path, *, hosts: tuple[str, ...] = DEFAULT_HOSTS, force: bool = False
) -> Example:
    """Write the example deployment into ``folder``; return its files.

    Raises
    ------
    FileExistsError
        When ``folder`` already holds an example and ``force`` is False.
    """
    folder = Path(folder)
    if (folder / FEDERATION).exists() and not force:
        raise FileExistsError(
            f"{folder}: already holds an example (give --force to write it again; the "
            "certificates and keys are kept)"
        )
    certs = make_certificates(folder / "certs", list(SITES), hosts=hosts)
    simulated = [
        _write(folder / SIMULATED / f"{name}.toml", _simulated_site(name, index))
        for index, name in enumerate(SITES)
    ]
    real = [
        _write(folder / REAL / f"{name}.toml", _real_site(name, index))
        for index, name in enumerate(SITES)
    ]
    federations = {
        SIMULATED: _write(folder / FEDERATION, _simulated_federation()),
        REAL: _write(folder / REAL_FEDERATION, _real_federation()),
    }
    return Example(folder, certs, {SIMULATED: simulated, REAL: real}, federations)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


COLUMN = 34
"""Column where the comments of settings start."""


def _render(entries: list[tuple[str, str]]) -> str:
    """Return TOML lines: each setting with its comment aligned at :data:`COLUMN`.

    A comment's further lines (separated by newlines) continue under it; a setting too long
    for the column gets its comment on the next lines.
    """
    lines = []
    for setting, comment in entries:
        notes = comment.split("\n") if comment else []
        if not notes:
            lines.append(setting)
            continue
        if len(setting) >= COLUMN - 1:
            lines.append(setting)
            setting = ""
        lines.append(f"{setting:{COLUMN}s}# {notes.pop(0)}")
        lines += [f"{'':{COLUMN}s}#   {note}" for note in notes]
    return "\n".join(lines) + "\n"


def _site_header(name: str) -> list[tuple[str, str]]:
    return [
        (f"# Site file of {name} (written by `bci-app fed init`): one hospital of the", ""),
        ("# example federation. It drives this site's SuperNode:", ""),
        ("#     bci-app fed supernode --site THIS_FILE --superlink HOST:9092 --certs CERTS", ""),
        ("# and a virtual node of `bci-app fed simulate`. The site's trials never leave it.", ""),
        ("# Relative paths are relative to this file.", ""),
        ("", ""),
        ("[site]", ""),
        (f'name = "{name}"', "the site's name in the server's history and model names"),
        (f'state_dir = "{name}-state"', "site-local outputs: cached trials, local layers, models"),
        (
            f'registry_dir = "{name}-models"',
            "model registry of this site's final model (ONNX);\n"
            "default: the user's registry ($BCI_APP_MODELS)",
        ),
        ("", ""),
    ]


_OTHER_SOURCES = [
    ("# Exactly one source in [data]; the other kinds:", ""),
    ('# recordings = ["run1.edf", "run2.vhdr"]', "recordings of any format bci-app reads"),
    ("# tmin = 0.5", "(FIF, EDF/BDF, BrainVision, EEGLAB, BIDS, XDF),"),
    ("# tmax = 2.5", "cut from tmin to tmax seconds after each event"),
    ('# stream = "EEG"', "XDF recordings: name or type of the stream read"),
    ('# labelled_folders = "recordings/"', "folders named by class, cut into windows"),
    ("# window_s = 2.0", "of window_s seconds"),
    ("", ""),
]

_PARTITION = [
    ("index", "this site's share (0-based),"),
    ("weights", "the shares of the training part,"),
    ("test_weights", "the shares of an official test part (default: weights)"),
    ("seed", "and the seed of the stratified split"),
]


def _labels_and_split(test: float) -> list[tuple[str, str]]:
    return [
        ("[labels]", ""),
        ('# map = { "T1" = "left_hand" }', "source label -> federation class (default: same)"),
        ('# drop = ["rest"]', "source labels that are not trials"),
        ("", ""),
        ("[split]", ""),
        ("validation = 0.2", "share of the training trials kept for validation"),
        (
            f"test = {test}",
            "held-out test share, scored once at the end (a source with\n"
            "an official test part uses that part instead)",
        ),
        ("seed = 0", "seed of the stratified split"),
    ]


_SIMULATED_MONTAGES = ((8, 250.0, 20, 11), (16, 200.0, 30, 12), (22, 500.0, 40, 13))
_REAL_MONTAGES = (
    ([f"MEG{i:02d}" for i in range(1, 11)], 400.0),
    ([f"MEG{i:02d}" for i in range(1, 8)], 200.0),
    ([f"MEG{i:02d}" for i in range(4, 9)], 250.0),
)


def _simulated_site(name: str, index: int) -> str:
    channels, sfreq, per_class, seed = _SIMULATED_MONTAGES[index]
    partition = [("# [data.partition]", "a share of a source several sites split (see the")]
    partition += [
        (f"# {key} = {value}", comment)
        for (key, comment), value in zip(_PARTITION, (0, [6, 3, 1], [1, 1, 1], 0), strict=True)
    ]
    partition[1] = (partition[1][0], "hand-movement sites): " + partition[1][1])
    return _render(
        [
            *_site_header(name),
            ("[data]", ""),
            ('simulator = "motor_imagery"', "a simulated task (bci-app data list)"),
            ('# trial_set = "HandMovementDirection"', "or a fetched trial set"),
            *_OTHER_SOURCES,
            ("[data.options]", "the simulator's options (bci-app data list: all)"),
            (f"seed = {seed}", "another simulated patient per seed"),
            (f"channels = {channels}", f"this site's montage: {channels} channels (10-10 system)"),
            (f"sfreq = {sfreq:.1f}", "its amplifier's rate (Hz)"),
            ("n_subjects = 1", "one patient per site"),
            ("n_runs = 1", "recording runs of that patient"),
            (f"trials_per_class = {per_class}", "trials of each class per run"),
            ('classes = ["left_hand", "right_hand"]', "imagined movements simulated"),
            ("snr_db = 0.0", "signal-to-noise ratio of the task effect (dB)"),
            ("", ""),
            *partition,
            ("", ""),
            ("[montage]", ""),
            ('# channels = ["C3", "Cz", "C4"]', "channels kept (default: all of the kept types)"),
            ('types = ["eeg"]', "channel types kept\n(default: eeg, ecog, seeg, dbs, mag, grad)"),
            ('# rename = { "EEG C3" = "C3" }', "recording's names -> 10-10 names"),
            ("# sfreq = 250.0", "resample to this rate (default: as recorded)"),
            ("", ""),
            *_labels_and_split(0.25),
        ]
    )


def _real_site(name: str, index: int) -> str:
    channels, sfreq = _REAL_MONTAGES[index]
    partition = [
        (f"{key} = {value}", comment)
        for (key, comment), value in zip(_PARTITION, (index, [6, 3, 1], [1, 1, 1], 0), strict=True)
    ]
    return _render(
        [
            *_site_header(name),
            ("[data]", ""),
            ('trial_set = "HandMovementDirection"', "a fetched trial set (`bci-app data fetch`)"),
            ('# simulator = "motor_imagery"', "or a simulated task, options in [data.options]"),
            *_OTHER_SOURCES,
            ("[data.partition]", "the three sites split the set's trials:"),
            *partition,
            ("", ""),
            ("[montage]", ""),
            (f"channels = {json.dumps(channels)}", "the channels this site records"),
            ('# types = ["mag"]', "channel types kept\n(default: eeg, ecog, seeg, dbs, mag, grad)"),
            ('# rename = { "MEG 0113" = "MEG01" }', "recording's names -> the federation's"),
            (f"sfreq = {sfreq:.1f}", "resampled to this site's rate (Hz)"),
            ("", ""),
            *_labels_and_split(0.2),
        ]
    )


def _federation(
    *, folder: str, classes: tuple[str, ...], window_s: float, head: str, anchors, name: str
) -> str:
    options = (
        f'{{ n_spatial = 8, filters = [16, 16], dropout = 0.5, head = "{head}", '
        f"anchor_channels = {json.dumps(list(anchors))} }}"
    )
    sites = json.dumps([f"{folder}/{site}.toml" for site in SITES])
    return _render(
        [
            ("# Federation file (written by `bci-app fed init`): what the server and every", ""),
            ("# site share. Start a run with", ""),
            ("#     bci-app fed run --config THIS_FILE --superlink HOST:9092 --certs CERTS", ""),
            ("# and change a setting for one run with --set KEY=VALUE. Relative paths are", ""),
            ("# relative to this file. Every setting is written here.", ""),
            ("", ""),
            (f"classes = {json.dumps(list(classes))}", "the classes, in the model's output order"),
            (f"window-s = {window_s}", "trial length (s); every site's trials have it"),
            (
                f'output-dir = "server-{name}"',
                "server outputs: history.json and .png, checkpoint/,\n"
                "global/ (the global model or the shared layers)",
            ),
            ('decoder = "fleeg-convnet"', "a decoder with site-local and shared layers"),
            (
                f"decoder-options = {options}",
                "its options: spatial filters per site (starting on the\n"
                "anchor channels every site records), convolution\n"
                "blocks, dropout, head (mean: rhythms; frames: time course)",
            ),
            (
                'strategy = "personalised"',
                "personalised: each site keeps its input layers (its own\n"
                "montage and rate), trunk and head averaged; fedavg or\n"
                "fedprox: the whole model averaged, on `channels` at `sfreq`",
            ),
            ("proximal-mu = 0.0", "fedprox: weight of the proximal term of local training"),
            ("rounds = 3", "federated rounds (each: training, then evaluation)"),
            ("local-epochs = 1", "passes over a site's training trials per round ..."),
            (
                "local-steps = 10",
                "... or this many optimisation steps per round at every\n"
                "site whatever its size (0: count in local-epochs)",
            ),
            ("batch-size = 32", "local training batch size"),
            ("lr = 0.001", "AdamW learning rate of local training"),
            ("weight-decay = 0.01", "AdamW weight decay"),
            ("channels = []", "fedavg/fedprox: the common channels every site picks"),
            ("sfreq = 0.0", "fedavg/fedprox: the common rate every site resamples to"),
            ("min-sites = 2", "accepted updates a round needs to change the model"),
            (
                "round-timeout = 300.0",
                "seconds the server waits for a stage's replies; a site that\n"
                "has not answered by then is reported and left out",
            ),
            (
                "outlier-factor = 10.0",
                "reject an update whose norm exceeds this many times the\n"
                "others' median (0: no check)",
            ),
            (
                'privacy = "none"',
                "differential privacy: none, central (server clips and\n"
                "adds noise: site-level) or local (DP-SGD at each site)",
            ),
            ("dp-noise = 0.0", "noise multiplier (0 with target-epsilon: chosen for it)"),
            ("dp-clip = 0.0", "clipping norm: of a site's update (central) or a trial's gradient"),
            ('dp-clipping = "fixed"', "central DP: fixed or adaptive clipping"),
            ("dp-delta = 1e-05", "the delta at which epsilon is accounted and reported"),
            (
                "target-epsilon = 0.0",
                "privacy budget: training stops before a round would\nexceed it (0: no budget)",
            ),
            (
                "secure-aggregation = false",
                "SecAgg+: the server learns only the sum of the updates",
            ),
            (
                "secagg-threshold = 2",
                "SecAgg+ shares needed to unmask a site that dropped out\n"
                "(fewer sites are refused)",
            ),
            (
                'pretrain = ""',
                "federated self-supervised pretraining of this model\n"
                '(eegformer) instead of decoder training ("": off)',
            ),
            ('pretrain-size = "small"', "size of the pretrained model (tiny, small, base, large)"),
            ('pretrain-options = "{}"', "model settings overriding the size's (JSON)"),
            ("micro-batch = 0", "pretraining: sequences per forward pass (0: the batch)"),
            (
                f'experiment = "{name}"',
                "names the run's state at the server and the sites, and\n"
                "the models (fed-EXPERIMENT-SITE, fed-EXPERIMENT-global)",
            ),
            ("resume = false", "continue from the server's last checkpoint (fed run --resume)"),
            ("seed = 0", "seeds initialisation, batch order and the server's choices"),
            (f"sites = {sites}", "`bci-app fed simulate` only: one virtual node per site file"),
            ("export = true", "export the final models to ONNX and register them"),
            (
                f'registry-dir = "server-{name}-models"',
                "registry of the server's global model (fedavg/fedprox\n"
                "only); personalised models go to each site's registry_dir",
            ),
        ]
    )


def _simulated_federation() -> str:
    return _federation(
        folder=SIMULATED,
        classes=("left_hand", "right_hand"),
        window_s=2.0,
        head="mean",
        anchors=SIMULATED_ANCHORS,
        name=SIMULATED,
    )


def _real_federation() -> str:
    return _federation(
        folder=REAL,
        classes=("right", "forward", "left", "backward"),
        window_s=1.0,
        head="frames",
        anchors=REAL_ANCHORS,
        name=REAL,
    )
