"""Refuse any network connection that is not to this machine.

Used in-process by the autouse fixture in ``tests/conftest.py`` and, through the
``sitecustomize`` beside this file, in every subprocess the tests start (PYTHONPATH).
A violation is recorded even when the code under test swallows the error, so a test that
"handled" a forbidden connection still fails.
"""

from __future__ import annotations

import fcntl
import functools
import ipaddress
import socket
import struct

violations: list[str] = []
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}
SIOCGIFADDR = 0x8915  # Linux ioctl: an interface's IPv4 address


class NetworkBlocked(OSError):
    pass


def _host_text(host: object) -> str:
    if isinstance(host, bytes):
        host = host.decode()
    return str(host).strip("[]").split("%")[0]


def _ip(host: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(_host_text(host))
    except ValueError:
        return None


@functools.lru_cache(maxsize=1)
def own_addresses() -> frozenset[str]:
    """This machine's interface addresses (Linux), read without any network traffic: a
    connection to one of them stays on the machine (a Ray cluster binds its node address)."""
    found = set()
    for _, name in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                packed = fcntl.ioctl(
                    probe.fileno(), SIOCGIFADDR, struct.pack("256s", name[:15].encode())
                )
            except OSError:  # no IPv4 address on this interface
                continue
            found.add(socket.inet_ntoa(packed[20:24]))
    try:
        with open("/proc/net/if_inet6") as table:
            found.update(str(ipaddress.IPv6Address(int(line.split()[0], 16))) for line in table)
    except OSError:
        pass
    return frozenset(found)


def _is_local_host(host: object) -> bool:
    if host is None or _host_text(host) in _LOCAL_NAMES:
        return True
    address = _ip(host)
    return address is not None and (address.is_loopback or str(address) in own_addresses())


def _check(address: object) -> None:
    if isinstance(address, tuple) and address and not _is_local_host(address[0]):
        violations.append(f"connect to {address!r}")
        raise NetworkBlocked(f"network guard: non-loopback connection to {address!r} refused")


def _connect(self: socket.socket, address: object) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect(self, address)


def _connect_ex(self: socket.socket, address: object) -> int:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect_ex(self, address)


def _getaddrinfo(host: object, *args: object, **kwargs: object):
    # An address literal is no DNS lookup; connecting to it is still checked.
    if not _is_local_host(host) and _ip(host) is None:
        violations.append(f"DNS lookup of {host!r}")
        raise NetworkBlocked(f"network guard: DNS lookup of {host!r} refused")
    return _real_getaddrinfo(host, *args, **kwargs)


def install() -> None:
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _getaddrinfo


def uninstall() -> None:
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _real_getaddrinfo
