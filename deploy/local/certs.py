"""Throwaway TLS files for development and tests: a CA, and certificates it signs.

``python -m deploy.local.certs DIR`` writes ``ca.pem`` and ``zuhur.pem``/``zuhur-key.pem``
(one certificate for every process: it serves TLS and is the client certificate for mutual
TLS), valid for the compose and k8s service names, localhost and 127.0.0.1. Point
ZUHUR_TLS_CERT_FILE, ZUHUR_TLS_KEY_FILE and ZUHUR_TLS_CA_FILE at them. Not for production:
the CA key is written next to them and the certificates last 30 days.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The names the processes dial each other by (compose, k8s Services) and loopback.
NAMES = ("localhost", "simulation", "fitting", "gateway", "redis", "jobs-redis")
ADDRESSES = ("127.0.0.1",)
VALID = datetime.timedelta(days=30)
# A CA signs certificates (and revocation lists), nothing else.
_CA_USAGE = x509.KeyUsage(
    digital_signature=True,
    key_cert_sign=True,
    crl_sign=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    encipher_only=False,
    decipher_only=False,
)


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, as PEM bytes."""

    cert: bytes
    key: bytes
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey

    def write(self, folder: Path, stem: str) -> tuple[Path, Path]:
        """``stem.pem`` and ``stem-key.pem`` (key readable by the owner only)."""
        cert, key = folder / f"{stem}.pem", folder / f"{stem}-key.pem"
        cert.write_bytes(self.cert)
        key.touch(mode=0o600)
        key.write_bytes(self.key)
        return cert, key


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issued(certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Issued:
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Issued(certificate.public_bytes(serialization.Encoding.PEM), pem_key, certificate, key)


def make_ca(common_name: str = "Zuhur development CA") -> Issued:
    """A self-signed CA certificate (P-256) that may sign leaf certificates only."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return _issued(certificate, key)


def make_leaf(
    ca: Issued,
    common_name: str = "zuhur",
    names: tuple[str, ...] = NAMES,
    addresses: tuple[str, ...] = ADDRESSES,
) -> Issued:
    """A certificate signed by ``ca`` for server and client use, valid for ``names`` and
    ``addresses`` (the subject alternative names TLS clients check)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    alt: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alt += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()),
            critical=False,
        )
        .sign(ca.private_key, hashes.SHA256())
    )
    return _issued(certificate, key)


def write_dev_certs(folder: Path) -> dict[str, Path]:
    """A fresh CA and one leaf certificate in ``folder``; the paths by role."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = make_ca()
    ca_cert, ca_key = ca.write(folder, "ca")
    cert, key = make_leaf(ca).write(folder, "zuhur")
    return {"ca": ca_cert, "ca_key": ca_key, "cert": cert, "key": key}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    paths = write_dev_certs(parser.parse_args().folder)
    print(f"ZUHUR_TLS_CERT_FILE={paths['cert']}")
    print(f"ZUHUR_TLS_KEY_FILE={paths['key']}")
    print(f"ZUHUR_TLS_CA_FILE={paths['ca']}")


if __name__ == "__main__":
    main()
