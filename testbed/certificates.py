"""The router's CA and server certificate made here with `cryptography`, from the same
descriptions the stack gives pulumi-tls (renderers/certificates.py), for the real proxy on
loopback. Made the way pulumi-tls makes them (hashicorp/terraform-provider-tls, see
docs/reference/https.md): the CA carries a Subject Key Identifier and BasicConstraints CA,
the server certificate the CA's key id as Authority Key Identifier, keys in the traditional
PEM form (`EC PRIVATE KEY`, as `private_key_pem`). Test mode adds one name the stack never
does: 127.0.0.1, so clients on loopback can match the certificate.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from renderers.certificates import (
    ECDSA_CURVE,
    KEY_ALGORITHM,
    ROUTER_CA,
    ROUTER_SERVER,
    CertificateSpec,
    ServerNames,
    server_names,
)

CURVES = {"P256": ec.SECP256R1, "P384": ec.SECP384R1, "P521": ec.SECP521R1}
LOOPBACK = "127.0.0.1"
TEST_PUBLIC_IP = "203.0.113.7"
"""The "Elastic IP" of test certificates (TEST-NET-3)."""
KEY_USAGES = {
    "digital_signature": "digital_signature",
    "content_commitment": "content_commitment",
    "key_encipherment": "key_encipherment",
    "data_encipherment": "data_encipherment",
    "key_agreement": "key_agreement",
    "cert_signing": "key_cert_sign",
    "crl_signing": "crl_sign",
    "encipher_only": "encipher_only",
    "decipher_only": "decipher_only",
}
"""pulumi-tls's key usage names -> x509.KeyUsage's arguments."""
EXTENDED_USAGES = {
    "server_auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH,
}


def new_key() -> ec.EllipticCurvePrivateKey:
    if KEY_ALGORITHM != "ECDSA":
        raise NotImplementedError(f"test certificates make ECDSA keys, not {KEY_ALGORITHM}")
    return ec.generate_private_key(CURVES[ECDSA_CURVE]())


def _name(spec: CertificateSpec, stack: str) -> x509.Name:
    subject = spec.subject(stack)
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, subject["common_name"]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject["organization"]),
        ]
    )


def key_usage(spec: CertificateSpec) -> x509.KeyUsage:
    return x509.KeyUsage(**{arg: use in spec.allowed_uses for use, arg in KEY_USAGES.items()})


def _builder(
    spec: CertificateSpec, subject: x509.Name, issuer: x509.Name, public_key, now: datetime.datetime
) -> x509.CertificateBuilder:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(hours=spec.validity_hours))
        .add_extension(key_usage(spec), critical=True)
        .add_extension(x509.BasicConstraints(ca=spec.is_ca, path_length=None), critical=True)
    )
    extended = [EXTENDED_USAGES[use] for use in spec.allowed_uses if use in EXTENDED_USAGES]
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    return builder


@dataclass(frozen=True)
class TlsFiles:
    """PEM files of one CA and a server certificate it signed."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def make_certificates(
    directory: Path,
    names: ServerNames,
    *,
    stack: str = "test",
    now: datetime.datetime | None = None,
) -> TlsFiles:
    """A CA and a server certificate for `names`, written as PEM files in `directory`."""
    now = now or datetime.datetime.now(datetime.UTC)
    ca_key, server_key = new_key(), new_key()
    ca_name = _name(ROUTER_CA, stack)
    ca = (
        _builder(ROUTER_CA, ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    alt_names = [x509.IPAddress(ipaddress.ip_address(ip)) for ip in names.ip_addresses] + [
        x509.DNSName(name) for name in names.dns_names
    ]
    server = (
        _builder(ROUTER_SERVER, _name(ROUTER_SERVER, stack), ca_name, server_key.public_key(), now)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(_pem_key(server_key))
    return files


def loopback_names(region: str = "us-east-1") -> ServerNames:
    """The stack's names for a test Elastic IP, plus loopback (test mode only)."""
    return server_names(TEST_PUBLIC_IP, region, LOOPBACK)


@functools.cache
def loopback_certificates() -> TlsFiles:
    """One set of test certificates per process, in a temporary directory."""
    return make_certificates(Path(tempfile.mkdtemp(prefix="router-tls-")), loopback_names())
