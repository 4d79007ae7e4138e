"""``bci-app fed``: federated training on Flower (certificates, SuperLink, SuperNodes, runs).

A deployment, on one or more machines::

    bci-app fed init example                                         # a working example
    bci-app fed certs --out certs --node site-a --node site-b --host server.example.org
    bci-app fed superlink --certs certs --state server-state        # on the server
    bci-app fed register --certs certs certs/supernodes/site-a.pub  # once per site
    bci-app fed supernode --site site-a.toml --superlink server.example.org:9092
        --certs certs                                                # at each site
    bci-app fed run --config federation.toml --certs certs          # start training

TLS and SuperNode authentication are on unless ``--insecure`` is given. ``bci-app fed
simulate --config federation.toml`` runs the same federation on this machine (Flower's
simulation runtime, one virtual node per site file).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from federated.config import FederationConfig
    from federated.deploy.certs import CertificateSet

DEFAULT_PORT = 9092
DEFAULT_CONNECTION = "bci-app"
LOOPBACK = "127.0.0.1"
"""Where a SuperNode's own API listens (its ClientApp processes connect there)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``fed`` command and its subcommands."""
    parser = subparsers.add_parser(
        "fed",
        help="federated training on Flower",
        description="Federated training on Flower, over TLS with authenticated SuperNodes. "
        "Start with `bci-app fed init DIR`: it writes a working example and prints the "
        "commands that run it on this host (federated/README.md: on several hosts).",
    )
    commands = parser.add_subparsers(dest="fed_command", required=True, metavar="SUBCOMMAND")

    init = commands.add_parser(
        "init",
        help="write a working example: certificates, site files, federation files",
        description="Write a working example deployment into DIR: a CA, the SuperLink's "
        "certificate and a key pair per site (certs/), three site files on the simulator "
        "(simulated/) and three on the real HandMovementDirection set (hand-movement/), and "
        "a federation file for each, every option commented; then print the commands that "
        "run it on this host.",
    )
    init.add_argument("folder", type=Path, metavar="DIR", help="folder to write")
    init.add_argument(
        "--host", action="append", default=[], help="extra SuperLink name or address (repeat)"
    )
    init.add_argument("--force", action="store_true", help="write the files again")
    init.set_defaults(handler=_guarded(_init))

    certs = commands.add_parser("certs", help="create a CA, the SuperLink's certificate and keys")
    certs.add_argument("--out", type=Path, required=True, help="folder to write")
    certs.add_argument("--node", action="append", default=[], help="SuperNode name (repeat)")
    certs.add_argument(
        "--host", action="append", default=[], help="extra SuperLink name or address (repeat)"
    )
    certs.add_argument("--days", type=int, default=365, help="validity in days")
    certs.add_argument("--force", action="store_true", help="replace the CA and certificates")
    certs.set_defaults(handler=_guarded(_certs))

    superlink = commands.add_parser("superlink", help="start the SuperLink (TLS + node auth)")
    superlink.add_argument("--host", default="127.0.0.1", help="address to listen on")
    superlink.add_argument("--port", type=int, default=DEFAULT_PORT)
    _security(superlink, key=False)
    superlink.add_argument(
        "--state", type=Path, help="folder keeping the SuperLink's state across restarts"
    )
    superlink.set_defaults(handler=_guarded(_superlink))

    supernode = commands.add_parser("supernode", help="start one site's SuperNode")
    supernode.add_argument("--site", type=Path, required=True, help="site file (TOML)")
    supernode.add_argument("--superlink", required=True, help="SuperLink host:port")
    supernode.add_argument(
        "--port",
        type=int,
        help="the SuperNode's own port on 127.0.0.1 (its ClientApps connect there; each "
        "SuperNode of a host needs its own; default: a free one)",
    )
    supernode.add_argument(
        "--config", type=Path, help="federation file: check and cache the site's trials first"
    )
    _security(supernode, key=True)
    _backoff(supernode)
    supernode.set_defaults(handler=_guarded(_supernode))

    enrol = commands.add_parser("register", help="register SuperNode public keys")
    enrol.add_argument("keys", type=Path, nargs="+", help="public key files (.pub)")
    enrol.add_argument("--superlink", default=f"127.0.0.1:{DEFAULT_PORT}", help="host:port")
    _security(enrol, key=False)
    _backoff(enrol)
    enrol.set_defaults(handler=_guarded(_register))

    run = commands.add_parser("run", help="start a federated training run on a SuperLink")
    _run_options(run)
    run.add_argument("--superlink", default=f"127.0.0.1:{DEFAULT_PORT}", help="host:port")
    _security(run, key=False)
    _backoff(run)
    run.set_defaults(handler=_guarded(_run))

    simulate = commands.add_parser("simulate", help="run a federation in Flower's simulation")
    _run_options(simulate)
    simulate.add_argument("--port", type=int, default=39093, help="loopback port to use")
    simulate.add_argument("--cpus-per-site", type=int, default=1)
    simulate.set_defaults(handler=_guarded(_simulate))


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Return ``handler`` printing federation errors as one line and returning status 1."""

    def run(args: argparse.Namespace) -> int:
        from federated.config import FederationConfigError
        from federated.deploy.network import UnreachableError

        try:
            return handler(args)
        except (_UsageError, FederationConfigError, UnreachableError, FileNotFoundError) as error:
            print(f"bci-app: error: {error}", file=sys.stderr)
            return 1

    return run


def _security(parser: argparse.ArgumentParser, *, key: bool) -> None:
    parser.add_argument("--certs", type=Path, help="folder made by `bci-app fed certs`")
    if key:
        parser.add_argument("--ca", type=Path, help="CA certificate (default: CERTS/ca.crt)")
        parser.add_argument(
            "--key",
            type=Path,
            help="this SuperNode's private key (default: CERTS/supernodes/SITE, SITE the "
            "site file's name)",
        )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="plain text and no node authentication (loopback experiments only)",
    )


def _backoff(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--retries", type=int, default=5, help="attempts to reach the SuperLink")
    parser.add_argument("--backoff", type=float, default=1.0, help="first wait between attempts")


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="federation file (TOML)")
    parser.add_argument(
        "--pretrain",
        metavar="MODEL",
        help="pretrain this foundation model (eegformer) self-supervised on the sites' "
        "[corpus] instead of training the decoder; writes OUTPUT/pretrained for "
        "`bci-app train MODEL --init`",
    )
    parser.add_argument(
        "--target-epsilon",
        type=float,
        metavar="EPS",
        help="privacy budget of a DP run (privacy = central or local): training stops before "
        "a round would exceed it; with dp-noise 0 the noise is chosen to spend it",
    )
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a setting"
    )
    parser.add_argument(
        "--no-stream",
        action="store_true",
        help="run: submit and return; simulate: write the logs to OUTPUT/simulation.log",
    )


def _init(args: argparse.Namespace) -> int:
    from federated.deploy.certs import DEFAULT_HOSTS
    from federated.deploy.example import REAL, SIMULATED, write_example

    hosts = tuple(dict.fromkeys([*DEFAULT_HOSTS, *args.host]))
    try:
        example = write_example(args.folder, hosts=hosts, force=args.force)
    except FileExistsError as error:
        raise _UsageError(str(error)) from None
    certs = example.certs.folder
    print(f"wrote {example.folder}/:")
    print(f"  {certs}/: CA, SuperLink certificate (names: {', '.join(hosts)}), site keys")
    for kind in (SIMULATED, REAL):
        files = ", ".join(path.name for path in example.site_files[kind])
        print(f"  {example.site_files[kind][0].parent}/: {files}")
        print(f"  {example.federations[kind]}")
    print("\nOn this host, each command in its own terminal (or with & at the end):")
    print(f"  bci-app fed superlink --certs {certs} --state {example.folder}/superlink-state")
    print(f"  bci-app fed register --certs {certs} {certs}/supernodes/*.pub")
    for site in example.site_files[SIMULATED]:
        print(
            f"  bci-app fed supernode --site {site} --superlink 127.0.0.1:{DEFAULT_PORT} "
            f"--certs {certs}"
        )
    print(f"  bci-app fed run --config {example.federations[SIMULATED]} --certs {certs}")
    print(
        f"For the real-data sites: `bci-app data fetch` once, then the site files of "
        f"{example.site_files[REAL][0].parent}/ and {example.federations[REAL]}.\n"
        "On several machines: see federated/README.md (what each machine needs)."
    )
    return 0


def _certs(args: argparse.Namespace) -> int:
    from federated.deploy.certs import DEFAULT_HOSTS, make_certificates

    hosts = tuple(dict.fromkeys([*DEFAULT_HOSTS, *args.host]))
    certs = make_certificates(args.out, args.node, hosts=hosts, days=args.days, force=args.force)
    print(f"CA: {certs.ca}\nSuperLink: {certs.server_certificate} (names: {', '.join(hosts)})")
    for name in certs.node_names():
        print(f"SuperNode {name}: {certs.node_key(name)} (+ .pub to register)")
    return 0


def _superlink(args: argparse.Namespace) -> int:
    from federated.deploy.network import port_in_use
    from federated.deploy.processes import flower_environment, superlink_command

    certs = _certificates(args)
    if port_in_use(args.host, args.port):
        raise _UsageError(
            f"port {args.port} of {args.host} is in use (another SuperLink?): stop it, or "
            "give another --port (and the same to the SuperNodes' --superlink)"
        )
    database = None
    if args.state is not None:
        args.state.mkdir(parents=True, exist_ok=True)
        database = args.state / "superlink.db"
    command = superlink_command(args.host, args.port, certs=certs, database=database)
    return _exec(command, flower_environment())


def _supernode(args: argparse.Namespace) -> int:
    from federated.deploy.network import free_port, port_in_use, wait_reachable
    from federated.deploy.processes import flower_environment, supernode_command
    from federated.deploy.supervise import supervise
    from federated.sites.config import load_site

    site = load_site(args.site)
    if args.config is not None:
        from federated.client.job import input_request
        from federated.config import load_federation_file
        from federated.sites.data import site_data

        data = site_data(site, input_request(load_federation_file(args.config)))
        print(
            f"site {site.name}: {data.train.n_trials} training, {data.valid.n_trials} "
            f"validation, {data.test.n_trials} test trials, {data.train.n_channels} channels "
            f"at {data.train.sfreq:g} Hz"
        )
    ca, key = None, None
    if args.insecure:
        print("bci-app: warning: --insecure: no TLS, no SuperNode authentication", file=sys.stderr)
    else:
        ca = args.ca or (args.certs / "ca.crt" if args.certs else None)
        key = args.key or (args.certs / "supernodes" / site.name if args.certs else None)
        if ca is None or key is None:
            raise _UsageError("TLS needs --ca and --key (or --certs), or --insecure")
        for path in (ca, key):
            if not Path(path).is_file():
                raise _UsageError(f"{path}: file not found")
    if args.port is None:
        port = free_port()
    elif port_in_use(LOOPBACK, args.port):
        raise _UsageError(_port_taken(args.port))
    else:
        port = args.port
    wait_reachable(args.superlink, attempts=args.retries, first_delay=args.backoff)
    print(f"site {site.name}: SuperNode on port {port} of {LOOPBACK}", flush=True)
    command = supernode_command(args.superlink, site.path, port=port, ca=ca, private_key=key)
    status, failure = supervise(command, flower_environment(), _supernode_failures(args, key, port))
    if failure is not None:
        print(f"bci-app: error: {failure.explanation}", file=sys.stderr)
        return 1
    return status


def _supernode_failures(args: argparse.Namespace, key: Path | None, port: int) -> list:
    """Return the SuperNode failures bci-app explains in one line."""
    from federated.deploy.supervise import KnownFailure

    public = f"{key}.pub" if key is not None else "KEY.pub"
    certs = f" --certs {args.certs}" if args.certs else " --certs CERTS"
    return [
        KnownFailure(
            "[code: 2004]",
            f"this node's key is not registered with the SuperLink {args.superlink} (it "
            "refused to activate the SuperNode; the other cause, a SuperNode with the same "
            f"key already connected, is in the SuperLink's log): run `bci-app fed register "
            f"--superlink {args.superlink}{certs} {public}` where the SuperLink runs, then "
            "start this SuperNode again",
        ),
        KnownFailure("address already in use", _port_taken(port)),
    ]


def _port_taken(port: int) -> str:
    return (
        f"port {port} of {LOOPBACK} is in use (another SuperNode on this host?): leave "
        "--port out to pick a free one, or give another"
    )


def _register(args: argparse.Namespace) -> int:
    import re

    from federated.deploy.processes import flower_environment, register_command

    _connect(args)
    status = 0
    for key in args.keys:
        if not key.is_file():
            raise _UsageError(f"{key}: file not found")
        site = key.name.removesuffix(".pub")
        result = subprocess.run(
            register_command(key, DEFAULT_CONNECTION, site),
            env=flower_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        registered = re.search(r"SuperNode (\d+) registered", result.stdout)
        said = _flower_message(result.stderr) or _flower_message(result.stdout)
        if result.returncode == 0 and registered:
            print(f"{site}: registered as SuperNode {registered.group(1)} (key {key})")
        elif "Public key already in use" in said:
            print(f"{site}: already registered (key {key})")
        else:
            status = result.returncode or 1
            reason = said or f"flwr exited with status {result.returncode}"
            print(f"bci-app: error: {site} (key {key}) not registered: {reason}", file=sys.stderr)
    return status


def _flower_message(text: str) -> str:
    """Return what Flower's CLI said, without its box drawing and connection banner."""
    lines = (line.strip(" \t│╭╮╰╯─") for line in text.splitlines())
    kept = [
        line
        for line in lines
        if line and line != "Error" and not line.startswith(("Using SuperLink", "─ Error"))
    ]
    return " ".join(kept)


def _run(args: argparse.Namespace) -> int:
    from federated.deploy.connection import flwr_home
    from federated.deploy.processes import flower_environment, run_command
    from federated.deploy.runs import run_config_path, write_run_config

    config = _federation(args)
    _connect(args)
    print(
        f"Flower's home: {flwr_home()} (config.toml: the connection '{DEFAULT_CONNECTION}'; "
        "apps/: the Flower app, installed there by Flower for each run)",
        flush=True,
    )
    path = write_run_config(config, run_config_path(config))
    command = run_command(DEFAULT_CONNECTION, path, stream=not args.no_stream)
    status = subprocess.run(command, env=flower_environment(), check=False).returncode
    _report(config, status)
    return status


def _simulate(args: argparse.Namespace) -> int:
    from federated.deploy.runs import simulate

    config = _federation(args)
    status = simulate(
        config, port=args.port, cpus_per_site=args.cpus_per_site, stream=not args.no_stream
    )
    _report(config, status)
    return status


def _federation(args: argparse.Namespace) -> FederationConfig:
    from federated.config import load_federation_file

    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise _UsageError(f"--set {item}: expected KEY=VALUE")
        overrides[key.strip()] = value.strip()
    if args.resume:
        overrides["resume"] = True
    if args.pretrain:
        overrides["pretrain"] = args.pretrain
    if args.target_epsilon is not None:
        overrides["target_epsilon"] = args.target_epsilon
    config = load_federation_file(args.config, **overrides)
    if config.central_dp:
        from federated.privacy.central import check_central_budget

        check_central_budget(config)
    return config


def _connect(args: argparse.Namespace) -> None:
    from federated.deploy.connection import write_connection
    from federated.deploy.network import wait_reachable

    certs = _certificates(args)
    wait_reachable(args.superlink, attempts=args.retries, first_delay=args.backoff)
    write_connection(
        DEFAULT_CONNECTION,
        args.superlink,
        root_certificates=None if certs is None else certs.ca,
        insecure=certs is None,
    )


def _certificates(args: argparse.Namespace) -> CertificateSet | None:
    from federated.deploy.certs import CertificateSet

    if args.insecure:
        print("bci-app: warning: --insecure: no TLS, no SuperNode authentication", file=sys.stderr)
        return None
    if args.certs is None:
        raise _UsageError("TLS is on by default: give --certs (see `bci-app fed certs`)")
    certs = CertificateSet(args.certs)
    if not certs.ca.is_file():
        raise _UsageError(f"{certs.ca}: file not found (create it with `bci-app fed certs`)")
    return certs


def _exec(command: list[str], environment: dict[str, str]) -> int:
    """Replace this process by ``command`` (signals then reach Flower directly)."""
    print("+ " + " ".join(command), flush=True)
    os.execve(command[0], command, environment)
    return 1  # not reached


def _report(config: FederationConfig, status: int) -> None:
    """Print where the run's history and models are, and the privacy spent."""
    import json

    history = Path(config.output_dir) / "history.json"
    if history.is_file():
        print(f"history: {history} (plot: {history.with_suffix('.png')})")
        record = json.loads(history.read_text())
        final = record.get("final") or {}
        if config.pretraining:
            where = final.get("pretrained")
            print(
                f"pretrained model: {where} (fine-tune: bci-app train {config.pretrain} --init "
                f"{where} ...)"
                if where
                else f"no pretrained model: {final.get('reason', 'the run did not finish')}"
            )
        else:
            _report_models(config, final)
        _report_privacy(config, record)
    if status:
        print(f"bci-app: flwr run exited with status {status}", file=sys.stderr)


def _report_models(config: FederationConfig, final: dict) -> None:
    """Print where the final models went: each site's registry, and the server's."""
    models = final.get("models") or {}
    if config.personalised:
        print(
            "personalised models stay at the sites (each site's registry_dir, else its "
            "default registry); the server keeps only the shared layers, "
            f"{(final.get('global') or {}).get('dir', config.output_dir)}/shared.npz:"
        )
    elif models:
        print("site models (the global model with each site's test scores):")
    for site, where in sorted(models.items()):
        ref = where.get("ref") or "not exported"
        registry = f" in the registry {where['registry']}" if where.get("registry") else ""
        print(f"  {site}: {ref}{registry} (weights and card: {where.get('dir')})")
    if not config.personalised and final.get("global"):
        model = final["global"]
        registry = config.registry_dir or "the default registry"
        ref = f"{model['ref']} in {registry}" if model.get("ref") else "not exported"
        print(f"global model: {ref} (weights and card: {model.get('dir')})")
    for failure in final.get("failed") or []:
        print(f"  {failure.get('site', failure.get('node'))}: no final model ({failure['reason']})")


def _report_privacy(config: FederationConfig, history: dict) -> None:
    """Print the (ε, δ) the run spent."""
    if config.central_dp and history.get("privacy"):
        account = history["privacy"]
        print(
            f"privacy (central DP, per site): ε = {account['epsilon']:.3f} at δ = "
            f"{account['delta']:g} after {account['rounds']} round(s), noise multiplier "
            f"{account['noise_multiplier']:.3g}, clipping norm {account['clipping_norm']:.3g}"
        )
    for site, account in sorted(((history.get("final") or {}).get("privacy") or {}).items()):
        print(
            f"privacy (local DP, per trial) of {site}: ε = {account['epsilon']:.3f} at δ = "
            f"{account['delta']:g} after {account['rounds']} round(s), noise multiplier "
            f"{account['noise_multiplier']:.3g}, sampling rate {account['sampling_rate']:.3g}"
        )
    if history.get("stopped"):
        print(f"training stopped early: {history['stopped']['reason']}")


class _UsageError(ValueError):
    """A command line that cannot work, with what to change."""
