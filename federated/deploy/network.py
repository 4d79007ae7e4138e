"""Ports and reachability: free ports on this host, and a SuperLink reached with back-off."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port of ``host`` that is free now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    """Return True when another process listens on a TCP port of ``host``.

    Probed as servers bind (``SO_REUSEADDR``): connections of a stopped server that linger in
    TIME_WAIT do not count.
    """
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


class UnreachableError(ConnectionError):
    """A SuperLink that did not answer, with the address, the attempts and the last cause."""


def split_address(address: str) -> tuple[str, int]:
    """Return (host, port) of ``host:port`` or ``[v6]:port``."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"'{address}' is not host:port")
    return host.strip("[]"), int(port)


def wait_reachable(
    address: str,
    *,
    attempts: int = 5,
    first_delay: float = 1.0,
    factor: float = 2.0,
    max_delay: float = 30.0,
    connect_timeout: float = 3.0,
    log: Callable[[str], None] = print,
    give_up: Callable[[], str | None] | None = None,
) -> None:
    """Return once a TCP connection to ``address`` opens; retry with back-off, else raise.

    ``give_up``, when given, is asked before each retry; a message from it ends the wait at
    once (for instance: the SuperLink process this caller started has exited).

    Raises
    ------
    UnreachableError
        After ``attempts`` failures, naming the address, the time spent and the last error,
        and what to check.
    """
    host, port = split_address(address)
    delay, started, cause = first_delay, time.monotonic(), ""
    for attempt in range(1, attempts + 1):
        try:
            with socket.create_connection((host, port), timeout=connect_timeout):
                return
        except OSError as error:
            cause = error.strerror or type(error).__name__
        reason = give_up() if give_up is not None else None
        if reason:
            raise UnreachableError(f"SuperLink {address} not reachable: {reason}")
        if attempt < attempts:
            log(
                f"SuperLink {address} not reachable ({cause}); attempt {attempt}/{attempts}, "
                f"retrying in {delay:.1f} s"
            )
            time.sleep(delay)
            delay = min(delay * factor, max_delay)
    raise UnreachableError(
        f"SuperLink {address} not reachable after {attempts} attempts over "
        f"{time.monotonic() - started:.0f} s (last error: {cause}); check that it runs, the "
        "address and port, and that no firewall blocks the port"
    )
