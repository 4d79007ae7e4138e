"""Certificates for a deployment: a self-signed CA, the SuperLink's, and SuperNode keys.

The CA signs the SuperLink's TLS certificate; SuperNodes authenticate with key pairs. Layout of the folder (private keys readable by their owner only)::

    ca.crt, ca.key            the certificate authority (keep ca.key offline)
    server.pem, server.key    the SuperLink's certificate (SAN: localhost, 127.0.0.1, ::1
                              and any --host) and key
    supernodes/NAME           a SuperNode's private key (OpenSSH, ECDSA P-384)
    supernodes/NAME.pub       its public key, to register with the SuperLink

Sites receive ``ca.crt`` and their own key pair; only the ``.pub`` files go to the SuperLink.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class CertificateSet:
    """Paths of a deployment's certificates and keys."""

    folder: Path

    @property
    def ca(self) -> Path:
        """Return the CA certificate (given to every site)."""
        return self.folder / "ca.crt"

    @property
    def server_certificate(self) -> Path:
        """Return the SuperLink's certificate."""
        return self.folder / "server.pem"

    @property
    def server_key(self) -> Path:
        """Return the SuperLink's private key."""
        return self.folder / "server.key"

    def node_key(self, name: str) -> Path:
        """Return the private key of SuperNode ``name``."""
        return self.folder / "supernodes" / name

    def node_public_key(self, name: str) -> Path:
        """Return the public key of SuperNode ``name``."""
        return self.folder / "supernodes" / f"{name}.pub"

    def node_names(self) -> list[str]:
        """Return the SuperNodes that have a key pair here."""
        folder = self.folder / "supernodes"
        return sorted(p.stem for p in folder.glob("*.pub")) if folder.is_dir() else []

    def check_server(self) -> None:
        """Raise ``FileNotFoundError`` naming what the SuperLink lacks."""
        for path in (self.ca, self.server_certificate, self.server_key):
            if not path.is_file():
                raise FileNotFoundError(f"{path}: missing (create it with `bci-app fed certs`)")


def make_certificates(
    folder: str | Path,
    nodes: list[str],
    *,
    hosts: tuple[str, ...] = DEFAULT_HOSTS,
    days: int = 365,
    force: bool = False,
) -> CertificateSet:
    """Create (or complete) a deployment's certificates and SuperNode keys.

    The CA and the server certificate are created when absent (or with ``force``); a key pair
    is created for every name in ``nodes`` that has none.

    Parameters
    ----------
    folder : str | Path
        Where to write.
    nodes : list of str
        SuperNode names (one key pair each).
    hosts : tuple of str
        Names and addresses the SuperLink is reached at (subject alternative names).
    days : int
        Validity of the certificates.
    force : bool
        Replace the CA and server certificate (every site then needs the new ``ca.crt``).
    """
    certs = CertificateSet(Path(folder))
    certs.folder.mkdir(parents=True, exist_ok=True)
    if force or not (certs.ca.is_file() and certs.server_certificate.is_file()):
        _authority_and_server(certs, hosts, days)
    for name in nodes:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"'{name}' is not a usable SuperNode name")
        if force or not certs.node_key(name).is_file():
            _node_key_pair(certs, name)
    return certs


def _authority_and_server(certs: CertificateSet, hosts: tuple[str, ...], days: int) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bci-app federation CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA384())
    )
    server_key = ec.generate_private_key(ec.SECP384R1())
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA384())
    )
    _write_private(certs.folder / "ca.key", _pem_key(ca_key))
    _write_public(certs.ca, _pem_certificate(ca))
    _write_private(certs.server_key, _pem_key(server_key))
    _write_public(certs.server_certificate, _pem_certificate(server))


def _node_key_pair(certs: CertificateSet, name: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    certs.node_key(name).parent.mkdir(parents=True, exist_ok=True)
    _write_private(certs.node_key(name), private)
    _write_public(certs.node_public_key(name), public + f" {name}\n".encode())


def _pem_key(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem_certificate(certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.PEM)


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    temporary.replace(path)


def _write_public(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
