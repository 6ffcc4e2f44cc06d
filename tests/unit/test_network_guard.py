import socket

import pytest

from tests.support import guard


def test_non_loopback_connection_is_refused_and_recorded():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(guard.NetworkBlocked):
            sock.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed
    finally:
        sock.close()
    assert guard.violations
    guard.violations.clear()  # this test expected it; don't fail in teardown


def test_dns_lookup_of_outside_host_is_refused():
    with pytest.raises(guard.NetworkBlocked):
        socket.getaddrinfo("huggingface.co", 443)
    guard.violations.clear()


def test_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=2)
    client.close()
    server.close()
    assert not guard.violations


def test_this_machines_own_addresses_are_local_and_address_literals_need_no_dns():
    own = [a for a in guard.own_addresses() if not a.startswith(("127.", "::1"))]
    server = socket.socket()
    server.bind(("0.0.0.0", 0))
    server.listen(1)
    for address in [a for a in own if ":" not in a][:1]:  # e.g. the address Ray binds
        client = socket.create_connection((address, server.getsockname()[1]), timeout=2)
        client.close()
    server.close()
    socket.getaddrinfo("192.0.2.1", 80)  # a literal: no lookup happens, so it's allowed
    assert not guard.violations
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(guard.NetworkBlocked):  # but connecting there still is not
            sock.connect(("192.0.2.1", 80))
    finally:
        sock.close()
    guard.violations.clear()
