import ipaddress
import stat

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from federated.deploy.certs import make_certificates


def test_the_ca_signs_a_server_certificate_for_loopback_and_extra_hosts(tmp_path):
    certs = make_certificates(tmp_path, ["site-a"], hosts=("localhost", "127.0.0.1", "fl.example"))
    ca = x509.load_pem_x509_certificate(certs.ca.read_bytes())
    server = x509.load_pem_x509_certificate(certs.server_certificate.read_bytes())
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "fl.example"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for key in (tmp_path / "ca.key", certs.server_key, certs.node_key("site-a")):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_supernode_keys_are_openssh_p384_pairs_and_kept_when_adding_nodes(tmp_path):
    certs = make_certificates(tmp_path, ["site-a"])
    private = serialization.load_ssh_private_key(certs.node_key("site-a").read_bytes(), None)
    public = serialization.load_ssh_public_key(certs.node_public_key("site-a").read_bytes())
    assert isinstance(private.curve, ec.SECP384R1)
    assert public.public_numbers() == private.public_key().public_numbers()
    first_ca, first_key = certs.ca.read_bytes(), certs.node_key("site-a").read_bytes()
    make_certificates(tmp_path, ["site-a", "site-b"])
    assert certs.ca.read_bytes() == first_ca and certs.node_key("site-a").read_bytes() == first_key
    assert certs.node_names() == ["site-a", "site-b"]
    make_certificates(tmp_path, [], force=True)
    assert certs.ca.read_bytes() != first_ca
