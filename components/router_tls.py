"""The router's own CA and server certificate (the default mode: no domain needed)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_tls as tls

from renderers.certificates import (
    ECDSA_CURVE,
    KEY_ALGORITHM,
    ROUTER_CA,
    ROUTER_SERVER,
    CertificateSpec,
    ServerNames,
)


@dataclass(frozen=True)
class RouterTlsArgs:
    stack: str
    names: pulumi.Input[ServerNames]
    """The Elastic IP and its public DNS name: a change replaces the server certificate."""


def _key(name: str, opts: pulumi.ResourceOptions) -> tls.PrivateKey:
    return tls.PrivateKey(name, algorithm=KEY_ALGORITHM, ecdsa_curve=ECDSA_CURVE, opts=opts)


def _lifetime(spec: CertificateSpec) -> dict[str, object]:
    return {
        "validity_period_hours": spec.validity_hours,
        "early_renewal_hours": spec.early_renewal_hours,
        "allowed_uses": list(spec.allowed_uses),
    }


class RouterTls(pulumi.ComponentResource):
    """A CA and a server certificate it signs, both from `renderers.certificates`. The
    private keys live in state as secrets only; the CA's key signs and goes nowhere else."""

    ca_cert_pem: pulumi.Output[str]
    """What clients trust: the `router_ca_certificate` output."""
    cert_pem: pulumi.Output[str]
    key_pem: pulumi.Output[str]
    """The server key (secret)."""

    def __init__(self, name: str, args: RouterTlsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("metis-llm:tls:RouterTls", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        names = pulumi.Output.from_input(args.names)

        ca_key = _key(f"{name}-ca-key", child)
        ca = tls.SelfSignedCert(
            f"{name}-ca",
            private_key_pem=ca_key.private_key_pem,
            is_ca_certificate=True,
            subject=tls.SelfSignedCertSubjectArgs(**ROUTER_CA.subject(args.stack)),
            **_lifetime(ROUTER_CA),
            opts=child,
        )
        server_key = _key(f"{name}-server-key", child)
        request = tls.CertRequest(
            f"{name}-server-request",
            private_key_pem=server_key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(**ROUTER_SERVER.subject(args.stack)),
            ip_addresses=names.apply(lambda n: list(n.ip_addresses)),
            dns_names=names.apply(lambda n: list(n.dns_names)),
            opts=child,
        )
        server = tls.LocallySignedCert(
            f"{name}-server",
            cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca.cert_pem,
            **_lifetime(ROUTER_SERVER),
            opts=child,
        )
        self.ca_cert_pem = ca.cert_pem
        self.cert_pem = server.cert_pem
        self.key_pem = pulumi.Output.secret(server_key.private_key_pem)
        self.register_outputs({"ca_cert_pem": self.ca_cert_pem, "cert_pem": self.cert_pem})
