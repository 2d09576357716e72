"""HTTPS with [server] tls_cert/tls_key: round trips with curl and Python against a
certificate made here, TLS 1.2+ only, a certificate reload on SIGHUP seen by new
connections while open ones go on, and clear errors for bad files at start."""

import datetime as dt
import http.client
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from conftest import ACCOUNT_A, HTTP_TIMEOUT, START_TIMEOUT, ok_json, tokens_path, wait_for


class Pki:
    """A CA and leaf certificates for 127.0.0.1, valid from an hour ago for a day."""

    def __init__(self, directory):
        self.dir = directory
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mgmtd test CA")])
        now = dt.datetime.now(dt.timezone.utc)
        self.ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(self.ca_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(hours=1))
                   .not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(self.ca_key, hashes.SHA256()))
        self.ca_path = directory / "ca.pem"
        self.ca_path.write_bytes(self.ca.public_bytes(serialization.Encoding.PEM))

    def leaf(self, name, cn, kind="ec"):
        """Writes NAME.crt and NAME.key; returns (cert path, key path, cert)."""
        key = (ec.generate_private_key(ec.SECP256R1()) if kind == "ec"
               else rsa.generate_private_key(public_exponent=65537, key_size=2048))
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
                .issuer_name(self.ca.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(hours=1))
                .not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                    critical=False)
                .sign(self.ca_key, hashes.SHA256()))
        crt, keyfile = self.dir / (name + ".crt"), self.dir / (name + ".key")
        crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        os.chmod(keyfile, 0o600)
        return crt, keyfile, cert


def tls_config(crt, key):
    return "[server]\ntls_cert = %s\ntls_key = %s\n" % (crt, key)


def https_daemon(daemon_factory, pki, crt, key):
    d = daemon_factory(start=False, config_extra=tls_config(crt, key))
    d.tls_ca = pki.ca_path
    d.start()
    assert d.scheme == "https", d.log_tail()
    return d


def peer_certificate(port, context=None):
    """The DER certificate a new TLS connection to port is shown."""
    ctx = context or ssl.create_default_context(cafile=None)
    if context is None:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.getpeercert(binary_form=True), tls.version()


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def pki(tmp_path):
    return Pki(tmp_path)


def test_https_round_trip_with_python_and_curl(daemon_factory, pki):
    crt, key, cert = pki.leaf("one", "mgmtd one")
    d = https_daemon(daemon_factory, pki, crt, key)
    # Python (requests, verifying against the CA)
    created = ok_json(d.post(tokens_path(), d.jwt(), json={"description": "over https"}))
    tokens = ok_json(d.get(tokens_path(), d.jwt()))
    assert created["id"] in [t["id"] for t in tokens]
    # curl, verifying too, with the management token it just got
    res = subprocess.run(["curl", "-sS", "--fail", "--cacert", str(pki.ca_path),
                          "-H", "Authorization: Bearer " + created["accessToken"],
                          d.url(tokens_path())], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert created["id"] in res.stdout
    got, version = peer_certificate(d.port)
    assert got == der(cert)
    assert version in ("TLSv1.2", "TLSv1.3")
    # plain HTTP on the HTTPS port is not served
    with pytest.raises(Exception):
        import requests
        requests.get("http://127.0.0.1:%d/health" % d.port, timeout=5).json()


def test_only_tls_12_and_13(daemon_factory, pki):
    crt, key, _ = pki.leaf("one", "mgmtd one")
    d = https_daemon(daemon_factory, pki, crt, key)
    for version in ("-tls1_2", "-tls1_3"):
        res = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % d.port,
                              version, "-CAfile", str(pki.ca_path)], input="",
                             capture_output=True, text=True, timeout=60)
        assert "Verify return code: 0 (ok)" in res.stdout, res.stdout + res.stderr
    # TLS 1.0 and 1.1, offered by a client that allows them, are refused
    for prio in ("NORMAL:-VERS-ALL:+VERS-TLS1.1", "NORMAL:-VERS-ALL:+VERS-TLS1.0"):
        res = subprocess.run(["gnutls-cli", "--priority", prio, "--insecure", "-p",
                              str(d.port), "127.0.0.1"], input="", capture_output=True,
                             text=True, timeout=60)
        out = res.stdout + res.stderr
        assert res.returncode != 0, out
        # refused in the handshake (an alert, or the connection closed in it)
        assert "Handshake failed" in out or "non-properly terminated" in out, out
        assert "Handshake was completed" not in out, out
    res = subprocess.run(["gnutls-cli", "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2",
                          "--x509cafile", str(pki.ca_path), "-p", str(d.port), "127.0.0.1"],
                         input="", capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


def test_sighup_reloads_the_certificate_without_dropping_connections(daemon_factory, pki):
    crt, key, old = pki.leaf("live", "mgmtd old")
    d = https_daemon(daemon_factory, pki, crt, key)
    ctx = ssl.create_default_context(cafile=str(pki.ca_path))
    kept = http.client.HTTPSConnection("127.0.0.1", d.port, context=ctx, timeout=HTTP_TIMEOUT)
    kept.request("GET", "/health")
    assert kept.getresponse().read() == b'{"status":"ok"}'
    kept_sock = kept.sock
    assert kept_sock.getpeercert(binary_form=True) == der(old)

    # a new certificate and key (another key type too) in place of the files
    new_crt, new_key, new = pki.leaf("next", "mgmtd new", kind="rsa")
    shutil.copyfile(new_crt, crt)
    shutil.copyfile(new_key, key)
    d.reload()
    assert "TLS certificate reloaded" in d.log_since_start()
    assert peer_certificate(d.port)[0] == der(new)

    # the connection opened before goes on, over the same socket, with its certificate
    kept.request("GET", "/health")
    assert kept.getresponse().read() == b'{"status":"ok"}'
    assert kept.sock is kept_sock
    assert kept.sock.getpeercert(binary_form=True) == der(old)
    kept.close()

    # a broken file on SIGHUP keeps the certificate in use
    crt.write_text("not a certificate\n")
    d.reload()
    assert "TLS certificate not reloaded" in d.log_since_start()
    assert peer_certificate(d.port)[0] == der(new)
    ok_json(d.get(tokens_path(), d.jwt()))


@pytest.mark.parametrize("problem", ["mismatched", "missing", "garbage", "only_cert"])
def test_bad_files_at_start_are_a_clear_error(daemon_factory, pki, problem):
    crt, key, _ = pki.leaf("one", "mgmtd one")
    _crt2, key2, _ = pki.leaf("two", "mgmtd two")
    if problem == "mismatched":
        extra, expect = tls_config(crt, key2), "does not go with tls_cert"
    elif problem == "missing":
        extra, expect = tls_config(crt, str(key) + ".gone"), "cannot read"
    elif problem == "garbage":
        key.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        extra, expect = tls_config(crt, key), "not an unencrypted PEM private key"
    else:
        extra, expect = "[server]\ntls_cert = %s\n" % crt, "set both"
    d = daemon_factory(start=False, config_extra=extra)
    # check-config refuses what serve refuses, saying the same, naming the lines (issue 17)
    res = d.cli("check-config")
    assert res.returncode == 1 and expect in res.stderr, res.stderr
    assert "%s:" % d.config_path in res.stderr, res.stderr
    import subprocess as sp
    proc = sp.run(d.serve_argv(), capture_output=True, text=True, timeout=START_TIMEOUT,
                  env=d.env, cwd=str(d.workdir))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert expect in proc.stderr, proc.stderr
