"""The router's TLS certificates, described once.

The stack makes them with pulumi-tls (components/router_tls.py) and the tests make the same
certificates with `cryptography` (testbed/certificates.py), both from the descriptions here:
key algorithm, validity, renewal window, usages and names. Facts behind each choice are in
docs/reference/https.md.
"""

from __future__ import annotations

from dataclasses import dataclass

KEY_ALGORITHM = "ECDSA"
ECDSA_CURVE = "P256"
"""pulumi-tls's own default curve is P224, which Python's TLS clients refuse
(SSLV3_ALERT_HANDSHAKE_FAILURE): the curve is always set."""

CA_FILE = "/app/router-ca.pem"
CERT_FILE = "/app/router-cert.pem"
KEY_FILE = "/app/router-key.pem"
"""In the router container, next to its config: `/app` exists in the image, and the Docker
provider's uploads write files, not directories."""

HOURS_PER_DAY = 24


@dataclass(frozen=True)
class CertificateSpec:
    common_name: str
    validity_hours: int
    early_renewal_hours: int
    """A `pulumi up` (or preview) this close to the end replaces the certificate; nothing
    renews it by itself."""
    allowed_uses: tuple[str, ...]
    """pulumi-tls's names for key usages and extended key usages."""
    is_ca: bool = False
    organization: str = "metis-llm"

    def subject(self, stack: str) -> dict[str, str]:
        return {"common_name": f"{self.common_name} ({stack})", "organization": self.organization}


ROUTER_CA = CertificateSpec(
    common_name="metis-llm router CA",
    validity_hours=10 * 365 * HOURS_PER_DAY,
    early_renewal_hours=365 * HOURS_PER_DAY,
    allowed_uses=("cert_signing", "crl_signing", "digital_signature"),
    is_ca=True,
)
"""Ten years, renewed in the last: clients trust it, so it changes as rarely as possible."""

ROUTER_SERVER = CertificateSpec(
    common_name="metis-llm router",
    validity_hours=365 * HOURS_PER_DAY,
    early_renewal_hours=60 * HOURS_PER_DAY,
    allowed_uses=("digital_signature", "key_encipherment", "server_auth"),
)
"""One year, renewed by any `pulumi up` in its last 60 days; signed by the same CA, so
clients see no change but the new certificate."""


def public_dns_name(public_ip: str, region: str) -> str:
    """The public DNS name AWS gives an address: `ec2-A-B-C-D.compute-1.amazonaws.com` in
    us-east-1, `ec2-A-B-C-D.<region>.compute.amazonaws.com` elsewhere (terraform-provider-aws
    `EC2PublicDNSNameForIP`, which computes the EIP's `public_dns` the same way)."""
    suffix = "compute-1" if region == "us-east-1" else f"{region}.compute"
    return f"ec2-{public_ip.replace('.', '-')}.{suffix}.amazonaws.com"


@dataclass(frozen=True)
class ServerNames:
    """What the server certificate covers."""

    ip_addresses: tuple[str, ...]
    dns_names: tuple[str, ...]


def server_names(public_ip: str, region: str, *extra_ips: str) -> ServerNames:
    """The router's Elastic IP and its public DNS name (`extra_ips`: test mode's loopback)."""
    return ServerNames((public_ip, *extra_ips), (public_dns_name(public_ip, region),))
