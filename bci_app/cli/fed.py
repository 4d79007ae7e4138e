"""``bci-app fed``: federated training on Flower (certificates, SuperLink, SuperNodes, runs).

A deployment, on one or more machines::

    bci-app fed certs --out certs --node site-a --node site-b --host server.example.org
    bci-app fed superlink --certs certs --state server-state        # on the server
    bci-app fed register --certs certs certs/supernodes/site-a.pub  # once per site
    bci-app fed supernode --site site-a.toml --superlink server.example.org:9092
        --ca certs/ca.crt --key certs/supernodes/site-a                # at each site
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


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``fed`` command and its subcommands."""
    parser = subparsers.add_parser("fed", help="federated training on Flower")
    commands = parser.add_subparsers(dest="fed_command", required=True, metavar="SUBCOMMAND")

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
    supernode.add_argument("--port", type=int, default=9094, help="the SuperNode's own port")
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
        parser.add_argument("--key", type=Path, help="this SuperNode's private key")
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
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a setting"
    )
    parser.add_argument(
        "--no-stream",
        action="store_true",
        help="run: submit and return; simulate: write the logs to OUTPUT/simulation.log",
    )


def _certs(args: argparse.Namespace) -> int:
    from federated.deploy.certs import DEFAULT_HOSTS, make_certificates

    hosts = tuple(dict.fromkeys([*DEFAULT_HOSTS, *args.host]))
    certs = make_certificates(args.out, args.node, hosts=hosts, days=args.days, force=args.force)
    print(f"CA: {certs.ca}\nSuperLink: {certs.server_certificate} (names: {', '.join(hosts)})")
    for name in certs.node_names():
        print(f"SuperNode {name}: {certs.node_key(name)} (+ .pub to register)")
    return 0


def _superlink(args: argparse.Namespace) -> int:
    from federated.deploy.processes import flower_environment, superlink_command

    certs = _certificates(args)
    database = None
    if args.state is not None:
        args.state.mkdir(parents=True, exist_ok=True)
        database = args.state / "superlink.db"
    command = superlink_command(args.host, args.port, certs=certs, database=database)
    return _exec(command, flower_environment())


def _supernode(args: argparse.Namespace) -> int:
    from federated.deploy.network import wait_reachable
    from federated.deploy.processes import flower_environment, supernode_command
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
        ca, key = args.ca or (args.certs / "ca.crt" if args.certs else None), args.key
        if ca is None or key is None:
            raise _UsageError("TLS needs --ca (or --certs) and --key, or --insecure")
        for path in (ca, key):
            if not Path(path).is_file():
                raise _UsageError(f"{path}: file not found")
    wait_reachable(args.superlink, attempts=args.retries, first_delay=args.backoff)
    command = supernode_command(args.superlink, site.path, port=args.port, ca=ca, private_key=key)
    return _exec(command, flower_environment())


def _register(args: argparse.Namespace) -> int:
    from federated.deploy.processes import flower_environment, register_command

    _connect(args)
    status = 0
    for key in args.keys:
        if not key.is_file():
            raise _UsageError(f"{key}: file not found")
        command = register_command(key, DEFAULT_CONNECTION, key.stem)
        status |= subprocess.run(command, env=flower_environment(), check=False).returncode
    return status


def _run(args: argparse.Namespace) -> int:
    from federated.deploy.processes import flower_environment, run_command
    from federated.deploy.runs import run_config_path, write_run_config

    config = _federation(args)
    _connect(args)
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
    return load_federation_file(args.config, **overrides)


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
    history = Path(config.output_dir) / "history.json"
    if history.is_file():
        print(f"history: {history} (plot: {history.with_suffix('.png')})")
    if status:
        print(f"bci-app: flwr run exited with status {status}", file=sys.stderr)


class _UsageError(ValueError):
    """A command line that cannot work, with what to change."""
