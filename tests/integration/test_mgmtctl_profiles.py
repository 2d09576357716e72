"""mgmtctl's connection profiles: influxctl's config.toml read strictly (unknown keys refused
with file and line), where the file is looked for, which profile is used, the precedence
flags > MGMTCTL_* > file, `config show` with secrets masked, and TLS to mgmtd verified by
default ([profile.tls] ca, insecure)."""

import datetime as dt
import http.server
import json
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import ACCOUNT_A, ACCOUNT_B, CLUSTER_A, CLUSTER_B, assert_secret_absent
from ctl import Ctl, mgmtctl_bin  # noqa: F401

ENV_KEYS = ("MGMTCTL_URL", "MGMTCTL_ACCOUNT", "MGMTCTL_CLUSTER", "MGMTCTL_TOKEN")


def profile(name="default", url=None, account=None, cluster=None, token=None, extra=""):
    lines = ["[[profile]]", '  name = "%s"' % name, '  product = "dedicated"']
    for key, value in (("url", url), ("account_id", account), ("cluster_id", cluster),
                       ("mgmt_token", token)):
        if value is not None:
            lines.append('  %s = "%s"' % (key, value))
    return "\n".join(lines) + "\n" + extra


@pytest.fixture
def ctl(mgmtctl_bin, server, tmp_path):
    """mgmtctl with nothing from the environment: the profile file says it all."""
    c = Ctl(mgmtctl_bin, server, tmp_path / "home")
    for k in ENV_KEYS:
        c.env.pop(k, None)
    return c


@pytest.fixture
def secret(server):
    return server.create_token("profile tests")["accessToken"]


def shown(ctl, *args, **kw):
    return ctl.json(*(list(args) + ["config", "show"]), **kw)


def test_a_profile_with_a_management_token_is_all_it_takes(ctl, server, secret):
    ctl.write_config(profile(url=server.url(""), account=ACCOUNT_A, cluster=CLUSTER_A,
                             token=secret))
    res = ctl.ok("cluster", "list")
    assert CLUSTER_A in res.stdout
    assert "To sign in" not in res.stderr


def test_the_default_file_and_xdg_config_home(ctl, server, secret, tmp_path):
    # no file at the default place: no error, nothing set
    s = shown(ctl)
    assert s["config_file"] == str(ctl.config_path) and s["config_found"] is False
    assert s["url"] == "http://127.0.0.1:8080"
    xdg = tmp_path / "xdg"
    (xdg / "mgmtctl").mkdir(parents=True)
    (xdg / "mgmtctl" / "config.toml").write_text(profile(account="from-xdg"))
    assert shown(ctl, env={"XDG_CONFIG_HOME": xdg})["account_id"] == "from-xdg"


def test_choosing_the_file(ctl, tmp_path):
    ctl.write_config(profile(account="default-file"))
    other = tmp_path / "other.toml"
    other.write_text(profile(account="other-file"))
    env_file = tmp_path / "env.toml"
    env_file.write_text(profile(account="env-file"))
    assert shown(ctl)["account_id"] == "default-file"
    assert shown(ctl, env={"MGMTCTL_CONFIG": env_file})["account_id"] == "env-file"
    assert shown(ctl, "--config", other, env={"MGMTCTL_CONFIG": env_file})["account_id"] == \
        "other-file"
    # a file that is named must exist
    res = ctl.fails(1, "--config", tmp_path / "missing.toml", "config", "show")
    assert "missing.toml" in res.stderr and "No such file" in res.stderr
    res = ctl.fails(1, "config", "show", env={"MGMTCTL_CONFIG": tmp_path / "gone.toml"})
    assert "gone.toml" in res.stderr


def test_choosing_the_profile(ctl):
    ctl.write_config(profile(account="a-default") + profile("staging", account="a-staging") +
                     profile("prod", account="a-prod"))
    assert shown(ctl)["account_id"] == "a-default"
    assert shown(ctl, "--profile", "staging")["account_id"] == "a-staging"
    assert shown(ctl, env={"MGMTCTL_PROFILE": "prod"})["account_id"] == "a-prod"
    assert shown(ctl, "--profile", "staging", env={"MGMTCTL_PROFILE": "prod"})["profile"] == \
        "staging"
    res = ctl.fails(1, "--profile", "nope", "config", "show")
    assert 'no profile named "nope"' in res.stderr
    assert "default, staging, prod" in res.stderr


def test_influxctl_profile_as_a_name_or_a_path(ctl, tmp_path):
    # influxctl 2.10.1 "setting profile name using an environment variable"; 2.10.2 "the
    # INFLUXCTL_PROFILE environment variable overrides the default connection profile file
    # path": a value that looks like a path is one, anything else a name
    ctl.write_config(profile(account="a-default") + profile("prod", account="a-prod"))
    assert shown(ctl, env={"INFLUXCTL_PROFILE": "prod"})["account_id"] == "a-prod"
    elsewhere = tmp_path / "influxctl" / "config.toml"
    elsewhere.parent.mkdir()
    elsewhere.write_text(profile(account="a-file"))
    s = shown(ctl, env={"INFLUXCTL_PROFILE": str(elsewhere)})
    assert (s["account_id"], s["config_file"]) == ("a-file", str(elsewhere))
    named = tmp_path / "work.toml"
    named.write_text(profile(account="a-toml"))
    assert shown(ctl, env={"INFLUXCTL_PROFILE": str(named)})["account_id"] == "a-toml"
    # mgmtctl's own variables and the flags come first
    assert shown(ctl, env={"INFLUXCTL_PROFILE": "nope", "MGMTCTL_PROFILE": "prod"})[
        "account_id"] == "a-prod"
    assert shown(ctl, "--profile", "default", env={"INFLUXCTL_PROFILE": "prod"})[
        "account_id"] == "a-default"
    assert shown(ctl, env={"INFLUXCTL_PROFILE": str(elsewhere), "MGMTCTL_CONFIG": named})[
        "account_id"] == "a-toml"
    # a name that is not there, or a path that is not there, is an error that says so
    res = ctl.fails(1, "config", "show", env={"INFLUXCTL_PROFILE": "staging"})
    assert 'no profile named "staging"' in res.stderr and "INFLUXCTL_PROFILE" in res.stderr
    res = ctl.fails(1, "config", "show", env={"INFLUXCTL_PROFILE": str(tmp_path / "no.toml")})
    assert "no.toml" in res.stderr


def test_a_profile_written_for_influxctl_loads_unchanged(ctl, server, secret, tmp_path):
    # every key of influxctl's sample config (INFLUXCTL.md 2.2, 2.4), and nothing of
    # mgmtctl's own: MGMTCTL_URL points it at mgmtd (docs/mgmtctl.md)
    path = tmp_path / "influxctl.toml"
    path.write_text(
        '[[profile]]\n  name = "default"\n  product = "dedicated"\n'
        '  host = "cluster-id.a.influxdb.io"\n  port = "443"\n  database = "mydb"\n'
        '  token = "apiv1_x"\n  account_id = "%s"\n  cluster_id = "%s"\n'
        '  mgmt_token = "%s"\n'
        '  [profile.tls]\n    insecure = false\n'
        '  [profile.auth.oauth2]\n    client_id = "influxctl"\n'
        '    scopes = ["openid"]\n    parameters = { audience = "" }\n'
        '    token_url = "https://idp.example/oauth/token"\n'
        '    device_url = "https://idp.example/oauth/device/code"\n'
        % (ACCOUNT_A, CLUSTER_A, secret))
    res = ctl.ok("cluster", "list", env={"INFLUXCTL_PROFILE": str(path),
                                         "MGMTCTL_URL": server.url("")})
    assert CLUSTER_A in res.stdout


def test_precedence_flags_then_environment_then_file(ctl, server, secret):
    revoked = server.create_token("revoked")
    server.delete("/api/v0/accounts/%s/management/tokens/%s" % (ACCOUNT_A, revoked["id"]),
                  server.jwt("admin"))
    ctl.write_config(profile(url="http://127.0.0.1:1", account=ACCOUNT_B, cluster=CLUSTER_B,
                             token=revoked["accessToken"]))
    # the file alone points nowhere useful
    assert ctl.run("cluster", "list").returncode == 1
    env = {"MGMTCTL_URL": server.url(""), "MGMTCTL_TOKEN": secret,
           "MGMTCTL_ACCOUNT": ACCOUNT_A, "MGMTCTL_CLUSTER": CLUSTER_A}
    # the environment over the file: it works
    res = ctl.ok("cluster", "list", env=env)
    assert CLUSTER_A in res.stdout
    s = shown(ctl, env=env)
    assert (s["url"], s["account_id"], s["cluster_id"]) == (server.url(""), ACCOUNT_A,
                                                            CLUSTER_A)
    # flags over the environment
    s = shown(ctl, "--account", "flag-account", "--cluster", "flag-cluster", env=env)
    assert (s["account_id"], s["cluster_id"]) == ("flag-account", "flag-cluster")
    res = ctl.fails(1, "--account", ACCOUNT_B, "cluster", "list", env=env)
    assert "error\t" in res.stderr  # the token is account A's: account B does not exist for it
    # the table says where each setting came from
    table = ctl.ok("--account", ACCOUNT_A, "config", "show", env=env).stdout
    assert "(from --account)" in table and "(from MGMTCTL_URL)" in table
    assert "(from MGMTCTL_TOKEN)" in table


def test_config_show_masks_secrets(ctl, server, secret):
    ctl.write_config(profile(url=server.url(""), account=ACCOUNT_A, token=secret,
                             extra='  token = "apiv1_%s"\n' % ("x" * 86)))
    for fmt in ("table", "json"):
        res = ctl.ok("config", "show", "--format", fmt)
        assert_secret_absent(res.stdout, secret, "config show")
        assert secret[:9] + "..." in res.stdout
        assert "apiv1_xxxx..." in res.stdout and "x" * 20 not in res.stdout
    j = shown(ctl)
    assert j["credential"] == "management token" and j["mgmt_token"] == secret[:9] + "..."


@pytest.mark.parametrize("body, error", [
    ('[[profile]]\nname = "default"\nregion = "eu"\n', ":3: unknown key region"),
    ('[[profile]]\nname = "default"\n[profile.auth.oauth2]\nclient_id = "c"\n'
     'client_secret = "s"\n', ":5: unknown key client_secret in [profile.auth.oauth2]"),
    ('[[profile]]\nname = "default"\nport = 443\n', ":3: port must be a string"),
    ('[[profile]]\nname = "default"\n[[profile]]\nname = "other"\nfrob = 1\n',
     ":5: unknown key frob"),  # every profile is checked, not only the one in use
    ('[[profile]]\nname = "default"\nurl = "http://x" # ok\nurl = "http://y"\n',
     ":4: the key url is already defined at line 3"),
    ('[[profile]]\nname = """default"""\n', ":2: multi-line strings"),
    ('[[profile]]\nname = "default"\n[profile.tls]\ninsecure = 1\n',
     ":4: insecure must be true or false"),
])
def test_unknown_keys_and_bad_values_are_refused_by_line(ctl, body, error):
    path = ctl.write_config(body)
    res = ctl.fails(1, "cluster", "list")
    assert res.stderr.startswith("error\t%s%s" % (path, error)), res.stderr
    assert res.stdout == ""


def test_every_documented_key_is_read(ctl, tmp_path):
    ctl.write_config(
        '[[profile]]\n  name = "default"\n  product = "clustered"\n  host = "h.example"\n'
        '  port = "8086"\n  database = "db"\n  token = "apiv1_data-plane-token-xx"\n'
        '  account_id = "acc"\n  cluster_id = "clu"\n  url = "http://127.0.0.1:8080"\n'
        '  [profile.tls]\n    insecure = true\n    disable = false\n    cert = "/c.pem"\n'
        '    key = "/k.pem"\n    ca = "/ca.pem"\n'
        '  [profile.auth.oauth2]\n    client_id = "cid"\n    scopes = ["a", "b"]\n'
        '    parameters = { audience = "aud" }\n    token_url = "https://idp/token"\n'
        '    device_url = "https://idp/device"\n'
        '  [profile.auth.token]\n    token_file = "%s"\n' % (tmp_path / "token.json"))
    s = shown(ctl)
    assert s["product"] == "clustered" and s["host"] == "h.example" and s["port"] == "8086"
    assert s["database"] == "db" and s["tls_insecure"] == "true" and s["tls_ca"] == "/ca.pem"
    assert s["oauth2_client_id"] == "cid" and s["oauth2_scopes"] == "a b"
    assert s["oauth2_parameters"] == "audience=aud"
    assert s["oauth2_token_url"] == "https://idp/token"
    assert s["token_file"] == str(tmp_path / "token.json")


def test_a_token_file(ctl, server, secret, tmp_path):
    token_file = tmp_path / "token.json"
    token_file.write_text(json.dumps({"token": secret}))
    token_file.chmod(0o600)  # a key file: refused when others may read it (careful tests)
    ctl.write_config(profile(url=server.url(""), account=ACCOUNT_A) +
                     '  [profile.auth.token]\n    token_file = "%s"\n' % token_file)
    assert CLUSTER_A in ctl.ok("cluster", "list").stdout
    token_file.write_text(secret + "\n")
    assert CLUSTER_A in ctl.ok("cluster", "list").stdout
    token_file.unlink()
    assert "token_file" in ctl.fails(1, "cluster", "list").stderr


# ---------------------------------------------------------------------------
# TLS to mgmtd: verified unless told otherwise

@pytest.fixture
def https_mgmtd(tmp_path):
    """An HTTPS server that answers the cluster list as mgmtd would, with a self-signed
    certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    import ipaddress
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    body = json.dumps([{"id": CLUSTER_A, "accountId": ACCOUNT_A, "name": "tls", "state": "ready",
                        "url": "https://x.a.influxdb.io",
                        "createdAt": "2024-01-01T00:00:00.000Z"}]).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path, key_path)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield "https://127.0.0.1:%d" % httpd.server_address[1], cert_path
    httpd.shutdown()
    httpd.server_close()


def test_tls_is_verified_by_default(ctl, https_mgmtd):
    url, cert = https_mgmtd
    base = profile(url=url, account=ACCOUNT_A, token="M.V1.not-checked-by-this-server")
    ctl.write_config(base)
    res = ctl.fails(1, "cluster", "list")
    assert "cannot reach %s/api/v0/accounts/" % url in res.stderr
    assert "certificate" in res.stderr.lower()
    # the profile's CA makes it trusted
    ctl.write_config(base + '  [profile.tls]\n    ca = "%s"\n' % cert)
    assert "| tls " in ctl.ok("cluster", "list").stdout
    # insecure skips the check
    ctl.write_config(base + '  [profile.tls]\n    insecure = true\n')
    assert "| tls " in ctl.ok("cluster", "list").stdout
