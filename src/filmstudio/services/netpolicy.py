"""Where webhooks may be sent: Gitea-like host policy, resolved once, every address checked.

The sender connects to the address checked here (never resolving again), so a hostname that
rebinds between check and connect cannot redirect the request.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from filmstudio.domain.errors import FilmStudioError

Resolver = Callable[[str, int], Sequence[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# A last label made only of digits or hex notation means a numeric host ("2130706433", "127.1", "0x7f.1"):
# resolvers read those as IPv4 in surprising ways, so only the canonical dotted quad is accepted.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)


class TargetRefused(FilmStudioError):
    code = "WEBHOOK_TARGET_REFUSED"
    http_status = 400


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to `address`, send `host` as the Host header and TLS name."""

    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def connect_url(self) -> str:
        ip = ipaddress.ip_address(self.address)
        literal = f"[{ip}]" if ip.version == 6 else str(ip)
        return f"{self.scheme}://{literal}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (one lookup)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def classify(ip: IPAddress) -> str:
    """loopback, private, link-local, external, or forbidden (unspecified, mapped, multicast, reserved)."""
    if isinstance(ip, ipaddress.IPv6Address) and (ip.ipv4_mapped or ip.sixtofour or ip.teredo):
        return "forbidden"
    # Loopback before "reserved": ::1 lies in ::/8, which ipaddress calls reserved.
    if ip.is_loopback:
        return "loopback"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return "forbidden"
    if ip.is_link_local:
        return "link-local"
    if ip.is_global:
        return "external"
    return "private"


@dataclass(frozen=True)
class Policy:
    """Default: external addresses, plus loopback while the studio itself is loopback-only."""

    loopback_ok: bool
    allowed: tuple[str, ...] = ()

    def host_allowed(self, host: str) -> bool:
        names = [a.lower() for a in self.allowed if not _is_network(a) and a not in _CLASSES]
        return any(fnmatch.fnmatchcase(host.lower(), n) for n in names)

    def address_allowed(self, ip: IPAddress) -> bool:
        if "*" in self.allowed:
            return True
        kind = classify(ip)
        classes = {"external"} | ({"loopback"} if self.loopback_ok else set()) | set(self.allowed)
        if kind in classes and kind != "forbidden":
            return True
        return any(ip in ipaddress.ip_network(a, strict=False) for a in self.allowed if _is_network(a))


_CLASSES = frozenset({"loopback", "private", "external", "link-local", "*"})


def _is_network(entry: str) -> bool:
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
    return True


# A host name as DNS spells it (after IDNA): letters, digits, hyphens, underscores, dots.
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return len(ascii_host) <= 253 and bool(_HOST_NAME.match(ascii_host))


def split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path?query) of an http(s) URL, refusing credentials and odd hosts."""
    url = url.strip()
    if any(c.isspace() or not c.isprintable() for c in url):
        raise TargetRefused("the webhook URL must not contain spaces or control characters", details={"url": url})
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("the webhook URL is not valid", details={"url": url}) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused("webhook URLs must be http or https", details={"url": url})
    if parts.username or parts.password:
        raise TargetRefused("webhook URLs must not carry credentials", details={"url": url})
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise TargetRefused("the webhook URL has no host", details={"url": url})
    if not _valid_host(host):
        raise TargetRefused(f"{host!r} is not a valid host name", details={"url": url, "host": host})
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return scheme, host, port or (443 if scheme == "https" else 80), path


def _literal(host: str) -> IPAddress | None:
    """The IP a host names literally; refuses numeric spellings other than canonical forms."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        raise TargetRefused(f"{host!r} is a non-canonical numeric address", details={"host": host})
    return None


def check_url(url: str, policy: Policy, resolver: Resolver | None = None) -> Target | None:
    """Validate a URL; with a resolver, resolve once and return the checked Target to connect to.

    Without a resolver (registration), only what the URL itself says is checked.
    """
    scheme, host, port, path = split_url(url)
    literal = _literal(host)
    if literal is not None:
        if not policy.address_allowed(literal):
            raise TargetRefused(f"webhooks may not target {classify(literal)} address {literal}",
                                details={"host": host, "address": str(literal), "class": classify(literal)})
        return Target(scheme, host, port, path, str(literal))
    if resolver is None:
        return None
    try:
        found = [ipaddress.ip_address(a.split("%")[0]) for a in resolver(host, port)]
    except (OSError, ValueError) as exc:
        raise TargetRefused(f"cannot resolve {host}: {exc}", details={"host": host}) from None
    if not found:
        raise TargetRefused(f"{host} resolves to no address", details={"host": host})
    if not policy.host_allowed(host):
        bad = [ip for ip in found if not policy.address_allowed(ip)]
        if bad:
            raise TargetRefused(
                f"{host} resolves to {classify(bad[0])} address {bad[0]}; webhooks may not target it",
                details={"host": host, "address": str(bad[0]), "class": classify(bad[0])},
            )
    return Target(scheme, host, port, path, str(found[0]))
