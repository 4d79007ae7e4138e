import socket

import pytest

from federated.deploy.loopback import free_port
from federated.deploy.network import UnreachableError, split_address, wait_reachable


def test_an_unreachable_superlink_is_retried_with_back_off_then_named():
    port = free_port()
    messages = []
    with pytest.raises(UnreachableError, match=f"127.0.0.1:{port} not reachable after 3 attempts"):
        wait_reachable(f"127.0.0.1:{port}", attempts=3, first_delay=0.05, log=messages.append)
    assert len(messages) == 2
    assert "retrying in 0.1 s" in messages[1] and "Connection refused" in messages[0]


def test_a_listening_superlink_is_reached_at_once():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        wait_reachable(f"127.0.0.1:{server.getsockname()[1]}", attempts=1, log=print)


def test_waiting_stops_when_told_the_superlink_is_gone():
    with pytest.raises(UnreachableError, match="process exited"):
        wait_reachable(f"127.0.0.1:{free_port()}", attempts=50, give_up=lambda: "process exited")


def test_addresses_are_host_and_port():
    assert split_address("[::1]:9092") == ("::1", 9092)
    with pytest.raises(ValueError, match="not host:port"):
        split_address("localhost")
