"""Starting runs: the run-config file ``flwr run`` reads, and simulation on this machine."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from federated.config import FederationConfig, FederationConfigError
from federated.toml_writer import write_toml

from .connection import write_connection
from .network import wait_reachable
from .processes import flower_environment, run_command, superlink_command

SIMULATION_CONNECTION = "bci-app-simulation"


def write_run_config(config: FederationConfig, path: Path) -> Path:
    """Write the flat run-config TOML of ``config`` that ``flwr run --run-config`` reads."""
    return write_toml(path, config.to_run_config())


def run_config_path(config: FederationConfig) -> Path:
    """Return where a run's config file is kept (beside its outputs)."""
    return Path(config.output_dir) / "run-config.toml"


def simulate(
    config: FederationConfig,
    *,
    port: int,
    cpus_per_site: int = 1,
    stream: bool = True,
) -> int:
    """Run the federation in Flower's simulation runtime, one virtual node per site file.

    Starts its own simulation SuperLink on loopback (plain text: nothing leaves the machine)
    and stops it, by its process id, when the run ends; returns ``flwr run``'s exit status.
    The run's logs are streamed to the terminal, or with ``stream=False`` to
    ``OUTPUT/simulation.log`` (either way this waits for the end of the run).
    """
    if not config.sites:
        raise FederationConfigError(
            "simulation needs the site files: set sites in the federation file"
        )
    output = Path(config.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    run_config = write_run_config(config, run_config_path(config))
    environment = flower_environment()
    with open(output / "simulation-superlink.log", "wb") as superlink_log:
        superlink = subprocess.Popen(
            superlink_command("127.0.0.1", port, certs=None, simulation=True),
            env=environment,
            stdout=superlink_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_reachable(
                f"127.0.0.1:{port}",
                attempts=30,
                first_delay=0.5,
                factor=1.2,
                max_delay=3.0,
                log=lambda message: None,
                give_up=lambda: _exited(superlink, output / "simulation-superlink.log"),
            )
            write_connection(SIMULATION_CONNECTION, f"127.0.0.1:{port}", insecure=True)
            federation = (
                f"num_supernodes={len(config.sites)} client_resources_num_cpus={cpus_per_site} "
                "client_resources_num_gpus=0.0"
            )
            command = run_command(
                SIMULATION_CONNECTION, run_config, stream=True, federation_config=federation
            )
            if stream:
                return subprocess.run(command, env=environment, check=False).returncode
            with open(output / "simulation.log", "wb") as run_log:
                return subprocess.run(
                    command, env=environment, stdout=run_log, stderr=subprocess.STDOUT, check=False
                ).returncode
        finally:
            stop_process_group(superlink)


def _exited(process: subprocess.Popen, log_file: Path) -> str | None:
    if process.poll() is None:
        return None
    return f"the simulation SuperLink exited with status {process.returncode} (see {log_file})"


def stop_process_group(process: subprocess.Popen, timeout: float = 20.0) -> None:
    """Stop a process started with ``start_new_session=True`` and its group, by its id.

    SIGTERM first (Flower shuts down cleanly), SIGKILL for whatever of the group remains.
    """
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    process.wait()
