"""How mgmtd serves the Admin UI (HTTP level): the embedded files, their types, ETags
and 304s, the security headers on every UI answer, the size budget, nothing loaded
from elsewhere, /ui/config.json, and [ui] off by default."""

import re
import subprocess
from pathlib import Path

import pytest

from conftest import assert_error, ok_json

ROOT = Path(__file__).resolve().parents[2]
UI_DIR = ROOT / "server" / "ui"
UI = "[ui]\nenabled = true\nclient_id = mgmtd-ui\n"
DEV = "[dev_idp]\nenabled = true\n"
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}


@pytest.fixture(scope="module")
def uiserver(mgmtd_bin, idp, tmp_path_factory):
    from conftest import _Factory, _stop_all

    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("uiserving"), idp)
    yield f(config_extra=DEV + UI, idp_section=False)  # the dev IdP's users
    _stop_all(f)


def check_safety_headers(r):
    csp = r.headers["Content-Security-Policy"]
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    assert directives["default-src"] == "'self'", csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert directives["frame-ancestors"] == "'none'"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    return directives


def test_ui_is_off_by_default(server):
    for path in ("/ui/", "/ui", "/ui/app.js", "/ui/config.json"):
        assert_error(server.get(path), 404)


def test_slash_ui_goes_to_the_page(uiserver):
    r = uiserver.get("/ui")
    assert r.status_code == 303 and r.headers["Location"] == "/ui/"


def test_page_headers(uiserver):
    r = uiserver.get("/ui/")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r'"[0-9a-f]{32}"', r.headers["ETag"])  # strong: no W/
    d = check_safety_headers(r)
    for k in ("script-src", "style-src", "img-src", "form-action"):
        assert d[k] == "'self'", (k, d)
    # the dev IdP is this very server: nothing more to connect to
    assert d["connect-src"] == "'self' %s" % uiserver.url("")
    assert r.text == (UI_DIR / "index.html").read_text()


def test_every_file_is_served_with_its_type_and_etag(uiserver):
    files = sorted(p for p in UI_DIR.iterdir() if p.is_file())
    assert {p.name for p in files} >= {"index.html", "app.js", "app.css"}
    for p in files:
        r = uiserver.get("/ui/" + p.name)
        assert r.status_code == 200, p.name
        assert r.content == p.read_bytes(), p.name
        assert r.headers["Content-Type"] == TYPES[p.suffix], p.name
        check_safety_headers(r)
        etag = r.headers["ETag"]
        assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
        if p.name != "index.html":
            assert r.headers["Cache-Control"] == "no-cache"
        # revalidation: 304 with no body, the same validator and headers
        for inm in (etag, "W/" + etag, '"other", ' + etag, "*"):
            again = uiserver.get("/ui/" + p.name, headers={"If-None-Match": inm})
            assert again.status_code == 304, (p.name, inm)
            assert again.content == b"" and again.headers["ETag"] == etag
            check_safety_headers(again)
        assert uiserver.get("/ui/" + p.name, headers={"If-None-Match": '"x"'}).status_code == 200
        head = uiserver.request("HEAD", "/ui/" + p.name)
        assert head.status_code == 200 and head.content == b"" and head.headers["ETag"] == etag
    etags = [uiserver.get("/ui/" + p.name).headers["ETag"] for p in files]
    assert len(set(etags)) == len(etags)


def test_unknown_files_and_methods(uiserver):
    r = uiserver.get("/ui/nope.js")
    assert r.status_code == 404
    check_safety_headers(r)
    assert_error(uiserver.get("/ui/a/b"), 404)
    # one trailing slash is the path without it (docs/api.md, Conventions)
    assert uiserver.get("/ui/app.js/").status_code == 200
    assert_error(uiserver.get("/ui/app.js//"), 404)
    r = uiserver.post("/ui/", data="x")
    assert r.status_code == 405 and r.headers["Allow"] == "GET"
    assert r.headers["X-Frame-Options"] == "DENY"


def test_the_ui_is_small_and_self_contained():
    files = [p for p in UI_DIR.iterdir() if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    assert total < 200 * 1024, "the UI is %d bytes" % total
    for p in files:
        text = p.read_text()
        # nothing from another origin: no CDN, no web font, no remote image
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), p.name
        if p.suffix in (".css", ".html"):
            assert not re.search(r"@import|\burl\(|@font-face", text), p.name
        if p.suffix == ".html":
            assert not re.search(r"<script(?![^>]*\bsrc=)", text), "inline script in " + p.name
            assert "<style" not in text and not re.search(r"\sstyle\s*=", text), p.name
            assert not re.search(r"\son[a-z]+\s*=", text), "inline handler in " + p.name
        if p.suffix == ".js":
            # storage rules: the credential in sessionStorage only, no cookie at all
            assert "document.cookie" not in text, p.name
            assert not re.search(r"\beval\(|new Function\(|\.(inner|outer)HTML\s*=|insertAdjacentHTML", text), p.name


def test_localstorage_never_holds_the_credential():
    text = (UI_DIR / "session.js").read_text()
    writes = re.findall(r"localStorage\.setItem\((\w+)", text)
    assert sorted(set(writes)) == ["ACCOUNT", "CLUSTER"], writes
    assert re.findall(r"sessionStorage\.setItem\((\w+)", text) and "CRED" in text


def test_config_json(uiserver, daemon_factory):
    r = uiserver.get("/ui/config.json")
    check_safety_headers(r)
    assert r.headers["Cache-Control"] == "no-store"
    cfg = ok_json(r)
    assert cfg == {"tokensMayMint": False, "inviteDays": 7,
                   "signIn": {"issuer": uiserver.url(""), "clientId": "mgmtd-ui",
                              "scopes": "openid email", "devIdp": True}}
    # a real identity provider: its origin may be fetched from, and the audience is passed on
    d = daemon_factory(config_extra="[ui]\nenabled = true\nclient_id = web\nscopes = openid\n"
                                    "audience = https://mgmtd.example/\n")
    cfg = ok_json(d.get("/ui/config.json"))
    assert cfg["signIn"] == {"issuer": "https://idp.test/", "clientId": "web", "scopes": "openid",
                             "audience": "https://mgmtd.example/", "devIdp": False}
    assert "connect-src 'self' https://idp.test;" in d.get("/ui/").headers["Content-Security-Policy"]
    # no identity provider at all: only management tokens sign in
    d = daemon_factory(config_extra="[ui]\nenabled = true\n", idp_section=False)
    assert "signIn" not in ok_json(d.get("/ui/config.json"))
    assert "connect-src 'self';" in d.get("/ui/").headers["Content-Security-Policy"]


def test_client_id_is_required_with_an_identity_provider(mgmtd_bin, tmp_path):
    ini = tmp_path / "m.ini"
    ini.write_text("[dev_idp]\nenabled = true\n[ui]\nenabled = true\n")
    r = subprocess.run([mgmtd_bin, "check-config", "--config", str(ini)], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1 and "[ui] client_id" in r.stderr
    ini.write_text("[ui]\nenabled = true\nclient_id = a\"b\n")
    r = subprocess.run([mgmtd_bin, "check-config", "--config", str(ini)], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1 and "[ui]" in r.stderr


def test_api_answers_carry_the_safety_headers_too(server):
    r = server.get("/health")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
