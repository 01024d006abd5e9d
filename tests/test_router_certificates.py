"""The router's certificates come from one description (renderers/certificates.py): the
stack's pulumi-tls resources and the tests' `cryptography` certificates both read it."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from components.router_tls import RouterTls, RouterTlsArgs
from renderers.certificates import (
    ROUTER_CA,
    ROUTER_SERVER,
    public_dns_name,
    server_names,
)
from testbed.certificates import loopback_names, make_certificates
from tests.component_cases import build

KEY = "tls:index/privateKey:PrivateKey"
CA = "tls:index/selfSignedCert:SelfSignedCert"
REQUEST = "tls:index/certRequest:CertRequest"
SERVER = "tls:index/locallySignedCert:LocallySignedCert"


def tls_run(public_ip: str = "203.0.113.7", region: str = "us-east-1"):
    return build(
        lambda: RouterTls("tls", RouterTlsArgs(stack="test", names=server_names(public_ip, region)))
    )


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory):
    files = make_certificates(tmp_path_factory.mktemp("tls"), loopback_names())
    load = x509.load_pem_x509_certificate
    return load(files.ca_file.read_bytes()), load(files.cert_file.read_bytes())


def hours(certificate: x509.Certificate) -> float:
    span = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    return span / datetime.timedelta(hours=1)


def test_public_dns_name_in_us_east_1_is_under_compute_1():
    assert public_dns_name("203.0.113.7", "us-east-1") == "ec2-203-0-113-7.compute-1.amazonaws.com"


def test_public_dns_name_elsewhere_names_the_region():
    assert (
        public_dns_name("198.51.100.20", "eu-west-1")
        == "ec2-198-51-100-20.eu-west-1.compute.amazonaws.com"
    )


def test_the_stack_makes_p256_ecdsa_keys_never_the_providers_p224_default():
    keys = tls_run().of_type(KEY)
    assert len(keys) == 2
    assert {(k.inputs["algorithm"], k.inputs["ecdsaCurve"]) for k in keys} == {("ECDSA", "P256")}


def test_the_stack_ca_has_the_described_lifetime_and_uses():
    (ca,) = tls_run().of_type(CA)
    assert ca.inputs["isCaCertificate"] is True
    assert ca.inputs["validityPeriodHours"] == ROUTER_CA.validity_hours
    assert ca.inputs["earlyRenewalHours"] == ROUTER_CA.early_renewal_hours
    assert ca.inputs["allowedUses"] == list(ROUTER_CA.allowed_uses)


def test_the_stack_server_certificate_has_the_described_lifetime_and_uses():
    (server,) = tls_run().of_type(SERVER)
    assert server.inputs["validityPeriodHours"] == ROUTER_SERVER.validity_hours
    assert server.inputs["earlyRenewalHours"] == ROUTER_SERVER.early_renewal_hours
    assert server.inputs["allowedUses"] == list(ROUTER_SERVER.allowed_uses)


def test_the_ca_key_is_secret_in_what_signs_with_it():
    (server,) = tls_run().of_type(SERVER)
    assert server.inputs["caPrivateKeyPem"]["4dabf18193072939515e22adb298388d"]


def test_a_new_elastic_ip_gives_a_new_request_and_certificate_from_the_same_ca():
    before, after = tls_run("203.0.113.7"), tls_run("203.0.113.8")
    (old_request,), (new_request,) = before.of_type(REQUEST), after.of_type(REQUEST)
    assert old_request.inputs["ipAddresses"] == ["203.0.113.7"]
    assert new_request.inputs["ipAddresses"] == ["203.0.113.8"]
    (old_ca,), (new_ca,) = before.of_type(CA), after.of_type(CA)
    assert old_ca.inputs == new_ca.inputs
    (old_server,), (new_server,) = before.of_type(SERVER), after.of_type(SERVER)
    assert old_server.inputs["certRequestPem"] != new_server.inputs["certRequestPem"]


def test_test_certificates_have_the_described_lifetimes(made):
    ca, server = made
    assert hours(ca) == ROUTER_CA.validity_hours
    assert hours(server) == ROUTER_SERVER.validity_hours


def test_test_certificates_use_p256(made):
    _, server = made
    assert isinstance(server.public_key().curve, ec.SECP256R1)


def test_test_ca_is_a_ca_that_signs_certificates(made):
    ca, _ = made
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign


def test_test_server_certificate_is_for_servers_only(made):
    _, server = made
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_test_server_certificate_names_the_stacks_names_plus_loopback(made):
    _, server = made
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == [
        "203.0.113.7",
        "127.0.0.1",
    ]
    assert names.get_values_for_type(x509.DNSName) == ["ec2-203-0-113-7.compute-1.amazonaws.com"]


def test_test_chain_carries_the_key_identifiers_strict_clients_require(made):
    ca, server = made
    skid = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    akid = server.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert akid.key_identifier == skid
