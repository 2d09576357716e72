"""Text is text (issue 15, finding 7). Control characters, bidirectional overrides and
invisible characters in descriptions, names and emails:

- are refused by every entry point that takes such a field (the API, the seed, the
  offline `mgmtd` commands, and so mgmtctl), with a 400 (exit 2, a stopped start) that
  names the field, the character and its place (docs/api.md, "Text fields");
- when already stored (written behind the daemon's back here, with sqlite3 or psql),
  are shown escaped by mgmtctl's tables, key/value rows and JSON (byte for byte: no raw
  control, C1, bidi or invisible character reaches the terminal) and by the Admin UI in
  Chromium (the rendered text shows the escape; no text node or read attribute of the
  DOM holds the raw character).

Both store backends (MGMTD_TEST_BACKEND)."""

import json
import re
import subprocess
import uuid

import pytest

from browser import Browser, ROOT, start_driver
from conftest import (ACCOUNT_A, CLUSTER_A, ISSUER, assert_error, assert_status, databases_path,
                      db_tokens_path, default_seed, make_mgmt_token, ok_json, run_cli,
                      tables_path, tokens_path, unique_email, unique_name, users_path)
from ctl import Ctl, describe, mgmtctl_bin, module_daemon  # noqa: F401

DEV_IDP = "[dev_idp]\nenabled = true\n"
UI = DEV_IDP + "[ui]\nenabled = true\nclient_id = mgmtd-ui\n"

# One sample of each kind the text rule refuses, at the ends of each range:
# (label, character, the words of the message).
CONTROL = "control characters"
BIDI = "bidirectional override or isolate characters"
SEPARATOR = "line or paragraph separators"
INVISIBLE = "invisible characters"
REFUSED = [
    ("U+0001", "\x01", CONTROL),
    ("TAB", "\t", CONTROL),
    ("LF", "\n", CONTROL),
    ("ESC", "\x1b", CONTROL),
    ("U+001F", "\x1f", CONTROL),
    ("DEL", "\x7f", CONTROL),
    ("U+0080", "\x80", CONTROL),
    ("CSI U+009B", "\x9b", CONTROL),
    ("U+009F", "\x9f", CONTROL),
    ("LRE U+202A", "\u202a", BIDI),
    ("RLO U+202E", "\u202e", BIDI),
    ("LRI U+2066", "\u2066", BIDI),
    ("PDI U+2069", "\u2069", BIDI),
    ("LS U+2028", "\u2028", SEPARATOR),
    ("PS U+2029", "\u2029", SEPARATOR),
    ("ZWSP U+200B", "\u200b", INVISIBLE),
    ("WJ U+2060", "\u2060", INVISIBLE),
    ("U+206F", "\u206f", INVISIBLE),
    ("BOM U+FEFF", "\ufeff", INVISIBLE),
    ("TAG A U+E0041", "\U000e0041", INVISIBLE),
]
REFUSED_IDS = [r[0] for r in REFUSED]

# Just outside the ranges, and what Hebrew, Arabic, Persian and emoji need: text.
ACCEPTED = [
    "space \x20 tilde ~ nbsp \xa0 soft\xadhyphen",
    "after the bidi block \u202f and the invisible block \u2070",
    "\u05e9\u05dc\u05d5\u05dd 2024\u200f.",             # Hebrew, a number, an RLM
    "\u0633\u0644\u0627\u0645\u061c 7",                   # Arabic with an ALM
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",   # Persian with a ZWNJ
    "\U0001f469\u200d\U0001f4bb \u200e ok",               # a ZWJ emoji, an LRM
    "variation selector \u2764\ufe0f and \U000e0100",
]


def refusal(field, value, ch, words):
    """The message the text rule gives for ch in value."""
    at = value.index(ch) + 1  # characters (code points) from 1; Python counts them so
    return "%s must not contain %s (found U+%04X at character %d)" % (field, words, ord(ch), at)


def assert_refused_text(resp, field, value, ch, words):
    body = assert_error(resp, 400)
    assert body["message"] == refusal(field, value, ch, words), body


# ---------------------------------------------------------------------------
# The API: every route that takes a text field

@pytest.fixture(scope="module")
def api(mgmtd_bin, idp, tmp_path_factory):
    yield from module_daemon(mgmtd_bin, idp, tmp_path_factory, "text-api", config_extra=DEV_IDP,
                             seed=default_seed(issuer=ISSUER))


@pytest.fixture(scope="module")
def scope(api):
    """What the PATCH and rename routes change: a database token, a user, a database
    with a table."""
    admin = api.jwt("admin")
    token = ok_json(api.post(db_tokens_path(), admin, json={"description": "to patch"}))
    user = ok_json(api.post(users_path(), admin, json={"email": unique_email("patch"),
                                                       "group": "member"}))
    db = unique_name("text")
    ok_json(api.post(databases_path(), admin, json={"name": db}))
    ok_json(api.post(tables_path(db), admin, json={"name": "readings"}))
    return {"token": token["id"], "user": user["id"], "db": db}


def _text_routes():
    """(label, field in the message, send(daemon, scope, value) -> response). Each value
    is sent inside other text, so that the place the message names is not the first."""
    def mgmt(d, s, v):
        return d.post(tokens_path(), d.jwt("admin"), json={"description": "ci " + v})

    def db_token(d, s, v):
        return d.post(db_tokens_path(), d.jwt("admin"), json={"description": "ci " + v})

    def db_token_patch(d, s, v):
        return d.patch(db_tokens_path(token_id=s["token"]), d.jwt("admin"),
                       json={"description": "ci " + v})

    def user_create(field):
        def send(d, s, v):
            body = {"email": unique_email("u"), "group": "member", field: "An " + v}
            if field == "idpSubject":  # two identity providers: say whose subject it is
                body["idpIssuer"] = ISSUER
            return d.post(users_path(), d.jwt("admin"), json=body)
        return send

    def user_patch(field):
        def send(d, s, v):
            body = {field: "An " + v}
            if field == "idpSubject":
                body["idpIssuer"] = ISSUER
            return d.patch(users_path(user_id=s["user"]), d.jwt("admin"), json=body)
        return send

    def template(d, s, v):
        return d.post(databases_path(), d.jwt("admin"), json={
            "name": unique_name("tpl"),
            "partitionTemplate": [{"type": "time", "value": "%Y"},
                                  {"type": "tag", "value": "t " + v}]})

    def bucket(d, s, v):
        return d.post(tables_path(s["db"]), d.jwt("admin"), json={
            "name": unique_name("tab"),
            "partitionTemplate": [{"type": "bucket",
                                   "value": {"tagName": "t " + v, "numberOfBuckets": 4}}]})

    routes = [
        ("POST management token", "description", mgmt, "ci "),
        ("POST database token", "description", db_token, "ci "),
        ("PATCH database token", "description", db_token_patch, "ci "),
        ("POST database partitionTemplate tag", "partitionTemplate[1].value", template, "t "),
        ("POST table partitionTemplate bucket", "partitionTemplate[0].value.tagName", bucket,
         "t "),
    ]
    for field in ("firstName", "lastName", "idpSubject"):
        routes.append(("POST user %s" % field, field, user_create(field), "An "))
        routes.append(("PATCH user %s" % field, field, user_patch(field), "An "))
    return routes


TEXT_ROUTES = _text_routes()


@pytest.mark.parametrize("route", TEXT_ROUTES, ids=[r[0] for r in TEXT_ROUTES])
@pytest.mark.parametrize("label,ch,words", REFUSED, ids=REFUSED_IDS)
def test_api_text_fields_refuse_controls_overrides_and_invisibles(api, scope, route, label, ch,
                                                                   words):
    _name, field, send, prefix = route
    value = "x" + ch + "y"
    assert_refused_text(send(api, scope, value), field, prefix + value, ch, words)


@pytest.mark.parametrize("route", TEXT_ROUTES, ids=[r[0] for r in TEXT_ROUTES])
def test_api_text_fields_take_what_scripts_need(api, scope, route):
    _name, _field, send, _prefix = route
    for text in ACCEPTED:
        if "idpSubject" in _name:
            text += " " + uuid.uuid4().hex  # a subject names one user
        resp = send(api, scope, text)
        assert resp.status_code == 200, "refused %r: %s" % (text, resp.text)


def _email_routes():
    def user_create(d, s, v):
        return d.post(users_path(), d.jwt("admin"), json={"email": v, "group": "member"})

    def user_patch(d, s, v):
        return d.patch(users_path(user_id=s["user"]), d.jwt("admin"), json={"email": v})

    def invite(d, s, v):
        return d.post("/api/v0/accounts/%s/invites" % ACCOUNT_A, d.jwt("admin"),
                      json={"email": v, "group": "member"})

    def dev_idp(d, s, v):
        return d.post("/oauth/token", json={"email": v})

    return [("POST user", user_create), ("PATCH user", user_patch), ("POST invite", invite),
            ("dev IdP token", dev_idp)]


EMAIL_ROUTES = _email_routes()
# what an email refuses beyond the text rule: every invisible mark and every space
EMAIL_ONLY = [("ZWNJ", "\u200c", INVISIBLE), ("ZWJ", "\u200d", INVISIBLE),
              ("LRM", "\u200e", INVISIBLE), ("RLM", "\u200f", INVISIBLE),
              ("ALM", "\u061c", INVISIBLE), ("soft hyphen", "\xad", INVISIBLE),
              ("VS16", "\ufe0f", INVISIBLE), ("space", " ", "spaces"),
              ("NBSP", "\xa0", "spaces"), ("U+3000", "\u3000", "spaces")]


@pytest.mark.parametrize("route", EMAIL_ROUTES, ids=[r[0] for r in EMAIL_ROUTES])
@pytest.mark.parametrize("label,ch,words", REFUSED + EMAIL_ONLY,
                         ids=REFUSED_IDS + [e[0] for e in EMAIL_ONLY])
def test_api_emails_refuse_what_hides(api, scope, route, label, ch, words):
    _name, send = route
    value = "ann" + ch + "@example.com"
    assert_refused_text(send(api, scope, value), "email", value, ch, words)


def test_api_emails_take_international_text(api, scope):
    admin = api.jwt("admin")
    email = "j\xfcrgen-%s@ex\xe4mple.test" % uuid.uuid4().hex[:8]
    user = ok_json(api.post(users_path(), admin, json={"email": email, "group": "member"}))
    assert user["email"] == email


@pytest.mark.parametrize("label,ch,words", REFUSED, ids=REFUSED_IDS)
def test_api_database_and_table_names_refuse_them_too(api, scope, label, ch, words):
    """Names are a fixed ASCII set: create and rename refuse every such character."""
    admin = api.jwt("admin")
    bad = "db" + ch
    assert_error(api.post(databases_path(), admin, json={"name": bad}), 400, "database names")
    assert_error(api.put(databases_path(name=scope["db"], suffix="rename"), admin,
                         json={"name": bad}), 400, "database names")
    assert_error(api.post(tables_path(scope["db"]), admin, json={"name": bad}), 400,
                 "table names")
    assert_error(api.put(tables_path(scope["db"], name="readings", suffix="rename"), admin,
                         json={"name": bad}), 400, "table names")


def test_api_blank_is_empty(api, scope):
    admin = api.jwt("admin")
    for blank in (" ", "\xa0\u3000", "\u2003 "):
        assert_error(api.post(tokens_path(), admin, json={"description": blank}), 400,
                     "description must not be empty or blank")
        assert_error(api.patch(users_path(user_id=scope["user"]), admin,
                               json={"firstName": blank}), 400,
                     "firstName must not be empty or blank")


@pytest.mark.parametrize("raw", [
    b'{"description": "ab\xc0\xafcd"}',          # an overlong "/"
    b'{"description": "ab\xed\xa0\x80cd"}',      # a surrogate, encoded
    b'{"description": "ab\xf4\x90\x80\x80cd"}',  # past U+10FFFF
    b'{"description": "ab\xe2\x82"}',            # cut short
    b'{"description": "ab\\ud800cd"}',           # a lone surrogate, escaped
    b'{"description": "ab\\u0000cd"}',           # NUL
], ids=["overlong", "surrogate", "past U+10FFFF", "truncated", "escaped surrogate", "NUL"])
def test_api_refuses_what_is_not_utf8_text(api, raw):
    assert_error(api.post(tokens_path(), api.jwt("admin"), data=raw,
                          headers={"Content-Type": "application/json"}), 400)


HAZARD = re.compile("[\x00-\x1f\x7f-\x9f\u200b\u2028-\u202e\u2060-\u206f\ufeff"
                    "\U000e0000-\U000e007f]")


def strings(value):
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def holds(value, text):
    return any(text in s for s in strings(value))


def test_api_refusals_left_nothing_behind(api, scope):
    """Runs last in this file's API part: nothing refused above was stored."""
    admin = api.jwt("admin")
    stored = [
        ok_json(api.get(tokens_path(), admin)),
        ok_json(api.get(db_tokens_path(), admin, params={"includeRevoked": "true"})),
        ok_json(api.get(users_path(), admin)),
        ok_json(api.get("/api/v0/accounts/%s/invites" % ACCOUNT_A, admin)),
        ok_json(api.get(databases_path(), admin)),
        ok_json(api.get(tables_path(scope["db"]), admin)),
    ]
    bad = [s for s in strings(stored) if HAZARD.search(s)]
    assert bad == [], "stored: %r" % bad[:5]


# ---------------------------------------------------------------------------
# The seed

def _seed_cases():
    """label -> (seed, the entry the message names, the message)."""
    cases = {}

    def add(label, section, entry_fn, field, value, ch, words, where=None):
        seed = default_seed()
        seed.setdefault(section, [])
        entry = entry_fn(value)
        seed[section].append(entry)
        index = len(seed[section]) - 1
        cases[label] = (seed, where or "%s[%d]" % (section, index),
                        refusal(field, value, ch, words))

    add("accounts name", "accounts",
        lambda v: {"id": "55555555-5555-4555-8555-555555555555", "name": v},
        "name", "Acme\x9b", "\x9b", CONTROL)
    add("clusters name", "clusters",
        lambda v: {"id": "66666666-6666-4666-8666-666666666666", "accountId": ACCOUNT_A,
                   "name": v}, "name", "prod\u202e", "\u202e", BIDI)
    for field, ch, words in (("email", "\u200d", INVISIBLE), ("firstName", "\x1b", CONTROL),
                             ("lastName", "\u2066", BIDI), ("idpSubject", "\u2028", SEPARATOR)):
        def user(v, field=field):
            u = {"accountId": ACCOUNT_A, "email": "seeded@example.com", "group": "member"}
            u[field] = v
            return u
        value = "ann" + ch + ("@example.com" if field == "email" else "")
        add("users %s" % field, "users", user, field, value, ch, words)
    add("managementTokens description", "managementTokens",
        lambda v: {"accountId": ACCOUNT_A, "description": v, "accessToken": make_mgmt_token(),
                   "createdBy": "admin@example.com"}, "description", "ci\ufeff", "\ufeff",
        INVISIBLE)
    add("databaseTokens description", "databaseTokens",
        lambda v: {"accountId": ACCOUNT_A, "clusterId": CLUSTER_A, "description": v,
                   "accessToken": "apiv1_" + "A" * 86}, "description", "w\x7f", "\x7f", CONTROL)
    add("databases partitionTemplate", "databases",
        lambda v: {"accountId": ACCOUNT_A, "clusterId": CLUSTER_A, "name": "seeded",
                   "partitionTemplate": [{"type": "tag", "value": v}]},
        "partitionTemplate[0].value", "t\U000e0041", "\U000e0041", INVISIBLE)
    add("invites email", "invites",
        lambda v: {"accountId": ACCOUNT_A, "email": v, "group": "member"}, "email",
        "inv\x85@example.com", "\x85", CONTROL)
    return cases


SEED_CASES = _seed_cases()


@pytest.mark.parametrize("label", list(SEED_CASES))
def test_seed_refuses_them_naming_entry_and_field(daemon_factory, label):
    seed, where, message = SEED_CASES[label]
    d = daemon_factory(seed=seed, start=False)
    res = run_cli(d.serve_argv(), cwd=d.workdir, timeout=10)
    assert res.returncode != 0, "serve took the seed:\n%s" % res.stderr
    output = res.stdout + res.stderr
    assert "seed %s" % where in output and message in output, output
    # the refused value itself is never echoed (the entry is then named by its place)
    assert not HAZARD.search(output.replace("\n", "")), repr(output)


def test_seed_of_bytes_that_are_not_utf8_stops_the_start(daemon_factory):
    d = daemon_factory(start=False)
    text = json.dumps(default_seed()).encode()
    d.seed_path.write_bytes(text.replace(b'"Account A"', b'"Account \xc0\xaf"'))
    res = run_cli(d.serve_argv(), cwd=d.workdir, timeout=10)
    assert res.returncode != 0 and "seed" in res.stdout + res.stderr, res.stderr


# ---------------------------------------------------------------------------
# The offline commands: exit 2 naming the flag

@pytest.fixture(scope="module")
def offline(mgmtd_bin, idp, tmp_path_factory):
    yield from module_daemon(mgmtd_bin, idp, tmp_path_factory, "text-offline")


def _offline_cases():
    base_user = ["user", "add", "--account", ACCOUNT_A, "--group", "member"]
    return [
        ("user add --email", base_user + ["--email"], "--email", "@example.com"),
        ("user add --first-name", base_user + ["--email", "x@example.com", "--first-name"],
         "--first-name", ""),
        ("user add --last-name", base_user + ["--email", "x@example.com", "--last-name"],
         "--last-name", ""),
        ("user add --subject", base_user + ["--email", "x@example.com", "--subject"],
         "--subject", ""),
        ("user invite --email", ["user", "invite", "--account", ACCOUNT_A, "--group", "member",
                                 "--email"], "--email", "@example.com"),
        ("management create --description", ["management", "create", "--account", ACCOUNT_A,
                                             "--as", "admin@example.com", "--description"],
         "--description", ""),
    ]


OFFLINE = _offline_cases()


@pytest.mark.parametrize("case", OFFLINE, ids=[c[0] for c in OFFLINE])
@pytest.mark.parametrize("label,ch,words", [REFUSED[i] for i in (2, 7, 10, 13, 19)],
                         ids=[REFUSED_IDS[i] for i in (2, 7, 10, 13, 19)])
def test_offline_commands_refuse_them(offline, case, label, ch, words):
    _name, argv, flag, suffix = case
    value = "ann" + ch + suffix
    res = offline.cli(*(argv + [value]))
    assert res.returncode == 2, res.stderr
    assert refusal(flag, value, ch, words) in res.stderr, res.stderr


@pytest.mark.parametrize("case", OFFLINE, ids=[c[0] for c in OFFLINE])
@pytest.mark.parametrize("raw,byte", [(b"ab\xc0\xaf", "0xC0"), (b"ab\xed\xa0\x80", "0xED"),
                                      (b"ab\xf4\x90\x80\x80", "0xF4"), (b"ab\xe2\x82", "0xE2"),
                                      (b"ab\x9b", "0x9B")],
                         ids=["overlong", "surrogate", "past U+10FFFF", "truncated", "Latin-1 CSI"])
def test_offline_commands_refuse_what_is_not_utf8(offline, case, raw, byte):
    _name, argv, flag, suffix = case
    res = offline.cli(*(argv + [raw + suffix.encode()]))
    assert res.returncode == 2, res.stderr
    assert "%s must be UTF-8 text (found the byte %s at character 3)" % (flag, byte) \
        in res.stderr, res.stderr


def test_offline_refusals_left_nothing_behind(offline):
    listed = offline.cli("user", "list", "--account", ACCOUNT_A, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert "ann" not in listed.stdout and "x@example.com" not in listed.stdout
    tokens = offline.cli("management", "list", "--account", ACCOUNT_A, "--format", "json")
    assert json.loads(tokens.stdout) == [], tokens.stdout


def test_mgmtctl_passes_the_refusal_on(mgmtctl_bin, api, tmp_path):
    """mgmtctl's creates reach the same rule; the answer says which character, and the
    terminal gets no raw control back."""
    ctl = Ctl(mgmtctl_bin, api, tmp_path / "home", token=api.jwt("admin"))
    res = ctl.run("token", "create", "ci \x9b2J")
    assert res.returncode == 1, describe(res)
    assert "description must not contain control characters (found U+009B at character 4)" \
        in res.stderr, describe(res)
    assert "\x9b" not in res.stdout + res.stderr


# ---------------------------------------------------------------------------
# Rows already stored: planted behind the daemon's back

# Every kind, then the marks that must stay as they are (ALM, ZWJ, Hebrew).
PLANT = ("a\x1b[2Jb\x9bc\u202ed\u2066e\u2069f\u200bg\u2028h\ti\nj\ufeffk\U000e0041l\x7fm\x85n"
         "\\u\u061co\u200dp\u05e9")
# As mgmtctl's tables and the UI show it (docs/mgmtctl.md, "Output").
SHOWN = ("a\\u001b[2Jb\\u009bc\\u202ed\\u2066e\\u2069f\\u200bg\\u2028h\\u0009i\\u000aj"
         "\\ufeffk\\U000e0041l\\u007fm\\u0085n\\\\u\u061co\u200dp\u05e9")
# What never reaches a terminal or the page raw, as UTF-8 bytes (TAB and LF are
# checked apart: a table has newlines of its own).
RAW_BYTES = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\x8b\xa8-\xae]|"
                       rb"\xe2\x81[\xa0-\xaf]|\xef\xbb\xbf|\xf3\xa0[\x80\x81][\x80-\xbf]")


# Texts whose escapes the UI and mgmtctl must write alike (test_ui_visible_is_mgmtctl_notation).
SAMPLES = ["C:\\data\\", "\\u202e typed", "\\\u202e", "\\x", "end\\",
           "\u05e9\u05dc\u05d5\u05dd \u200f", "tag \U000e007f \U000e0080"]


@pytest.fixture(scope="module")
def planted(mgmtd_bin, idp, tmp_path_factory):
    """A daemon whose store holds PLANT in every text field mgmtctl and the UI show:
    written with sqlite3 or psql behind its back, as an older version or a person with
    database access could have."""
    # the dev IdP alone: the UI signs in through it, so its users are the dev IdP's
    gen = module_daemon(mgmtd_bin, idp, tmp_path_factory, "text-planted", config_extra=UI,
                        idp_section=False)
    d = next(gen)
    d.jwt = d.dev_jwt  # every API call of these tests as the dev IdP's users
    admin = d.jwt("admin")
    db = "plant-db"
    ok_json(d.post(databases_path(), admin, json={
        "name": db, "partitionTemplate": [{"type": "tag", "value": "room"}]}))
    ok_json(d.post(tables_path(db), admin, json={"name": "plant-table"}))
    mgmt = ok_json(d.post(tokens_path(), admin, json={"description": "plant mgmt"}))
    dbt = ok_json(d.post(db_tokens_path(), admin, json={
        "description": "plant db token", "permissions": [{"action": "read", "resource": db}]}))
    user = ok_json(d.post(users_path(), admin, json={"email": "plant@example.com",
                                                     "group": "member", "firstName": "F",
                                                     "lastName": "L"}))
    invite = ok_json(d.post("/api/v0/accounts/%s/invites" % ACCOUNT_A, admin,
                            json={"email": "plant-invite@example.com", "group": "member"}))
    samples = [ok_json(d.post(db_tokens_path(), admin, json={"description": "sample"}))["id"]
               for _ in SAMPLES]
    t = sql_text(d, PLANT)
    # as JSON text: the C0 controls escaped (JSON has them no other way), the rest raw
    template = sql_text(d, json.dumps([{"type": "tag", "value": PLANT}], ensure_ascii=False))
    plant(d, [
        "UPDATE management_tokens SET description = %s WHERE id = '%s'" % (t, mgmt["id"]),
        "UPDATE database_tokens SET description = %s WHERE id = '%s'" % (t, dbt["id"]),
        "UPDATE users SET first_name = %s, last_name = %s, email = %s || %s WHERE id = '%s'"
        % (t, t, t, sql_text(d, "@example.com"), user["id"]),
        "UPDATE invites SET email = %s || %s WHERE id = '%s'"
        % (t, sql_text(d, "@invite.example.com"), invite["id"]),
        "UPDATE clusters SET name = %s WHERE id = '%s'" % (t, CLUSTER_A),
        "UPDATE databases SET partition_template = %s WHERE name = '%s'" % (template, db),
        "UPDATE database_tables SET name = %s WHERE name = 'plant-table'" % t,
    ] + ["UPDATE database_tokens SET description = %s WHERE id = '%s'"
         % (sql_text(d, text), token_id) for text, token_id in zip(SAMPLES, samples)])
    d.planted = {"mgmt": mgmt["id"], "dbt": dbt["id"], "user": user["id"], "db": db,
                 "samples": samples}
    yield d
    next(gen, None)


def sql_text(d, s):
    """s as an SQL expression of the daemon's backend, character by character, so that
    nothing in it is interpreted on the way."""
    if d.pg_store is not None:
        return "(" + " || ".join("chr(%d)" % ord(c) for c in s) + ")"
    return "char(%s)" % ",".join(str(ord(c)) for c in s)


def plant(d, statements):
    """Runs SQL statements on the daemon's store behind its back: psql while it runs;
    sqlite3 while it is stopped (the same daemon starts again on the same files, without
    the seed, which would refuse the changed cluster)."""
    if d.pg_store is not None:
        d.pg_store.psql("BEGIN; %s; COMMIT;" % "; ".join(statements))
        return
    d.stop_ok()
    res = subprocess.run(["sqlite3", str(d.data_dir / "mgmtd.db"),
                          "BEGIN; %s; COMMIT;" % "; ".join(statements)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    d.start(use_seed=False)


def test_the_api_answers_what_is_stored(planted):
    """The planting worked: the API answers the stored text as it is (JSON escapes)."""
    got = ok_json(planted.get(tokens_path(token_id=planted.planted["mgmt"]),
                              planted.jwt("admin")))
    assert got["description"] == PLANT


def run_bytes(ctl, *args):
    """mgmtctl ARGS, its stdout and stderr as bytes."""
    res = subprocess.run([ctl.bin] + list(args), capture_output=True, timeout=60,
                         env=ctl.environment(), stdin=subprocess.DEVNULL)
    assert res.returncode == 0, "%s -> %d\n%r\n%r" % (args, res.returncode, res.stdout,
                                                      res.stderr)
    return res.stdout, res.stderr


def assert_nothing_raw(what, out, err):
    for stream, data in (("stdout", out), ("stderr", err)):
        m = RAW_BYTES.search(data)
        assert m is None, "%s %s holds the raw bytes %r:\n%r" % (what, stream, m.group(0), data)
    assert b"\t" not in out, "%s: a raw TAB on stdout:\n%r" % (what, out)


TABLE_COMMANDS = [
    ("management", "list"),
    ("token", "list"),
    ("token", "get", "{dbt}"),
    ("user", "list"),
    ("cluster", "list"),
    ("cluster", "get", CLUSTER_A),
    ("table", "list", "{db}"),
]


@pytest.mark.parametrize("command", TABLE_COMMANDS, ids=[" ".join(c[:2]) for c in TABLE_COMMANDS])
def test_mgmtctl_tables_show_escapes_never_raw(mgmtctl_bin, planted, tmp_path, command):
    ctl = Ctl(mgmtctl_bin, planted, tmp_path / "home", token=planted.jwt("admin"))
    args = [a.format(**planted.planted) for a in command]
    out, err = run_bytes(ctl, *args)
    assert_nothing_raw(" ".join(args), out, err)
    text = out.decode("utf-8")
    assert SHOWN in text, "%s does not show %r:\n%s" % (args, SHOWN, text)
    # every line is a line of the table: no planted newline broke one
    for line in text.splitlines():
        assert line[:1] in ("+", "|"), "a line out of the table: %r" % line


@pytest.mark.parametrize("command", TABLE_COMMANDS, ids=[" ".join(c[:2]) for c in TABLE_COMMANDS])
def test_mgmtctl_json_escapes_and_stays_exact(mgmtctl_bin, planted, tmp_path, command):
    ctl = Ctl(mgmtctl_bin, planted, tmp_path / "home", token=planted.jwt("admin"))
    args = [a.format(**planted.planted) for a in command] + ["--format", "json"]
    out, err = run_bytes(ctl, *args)
    assert_nothing_raw(" ".join(args), out, err)
    assert b"\\u009b" in out and b"\\u202e" in out and b"\\udb40\\udc41" in out, out
    # valid JSON that gives the stored text back, character for character
    assert holds(json.loads(out.decode("utf-8")), PLANT), out


def test_mgmtctl_partition_template_and_kv_rows(mgmtctl_bin, planted, tmp_path):
    """The tag name of a stored template, in the database list and its JSON."""
    ctl = Ctl(mgmtctl_bin, planted, tmp_path / "home", token=planted.jwt("admin"))
    out, err = run_bytes(ctl, "database", "list")
    assert_nothing_raw("database list", out, err)
    out, err = run_bytes(ctl, "database", "list", "--format", "json")
    assert_nothing_raw("database list --format json", out, err)
    assert holds(json.loads(out), PLANT), out
    # a key/value row: the update of the planted token prints it back
    out, err = run_bytes(ctl, "token", "update", "--read-database", planted.planted["db"],
                         planted.planted["dbt"])
    assert_nothing_raw("token update", out, err)
    assert SHOWN in out.decode("utf-8"), out


@pytest.mark.sqlite_only  # a PostgreSQL UTF8 database refuses bytes that are not UTF-8
def test_stored_bytes_that_are_not_utf8_are_answered_as_replacement_characters(
        daemon_factory, mgmtctl_bin, tmp_path):
    """One such row neither breaks a list (it was a 500) nor reaches a terminal raw: each
    bad byte is answered as U+FFFD."""
    d = daemon_factory()
    admin = d.jwt("admin")
    token = ok_json(d.post(db_tokens_path(), admin, json={"description": "bytes"}))
    user = ok_json(d.post(users_path(), admin, json={"email": unique_email("bytes"),
                                                     "group": "member"}))
    plant(d, ["UPDATE database_tokens SET description = CAST(X'61C0AF62ED' AS TEXT) "
              "WHERE id = '%s'" % token["id"],
              "UPDATE users SET first_name = CAST(X'F4908080' AS TEXT) WHERE id = '%s'"
              % user["id"]])
    listed = ok_json(d.get(db_tokens_path(), admin))
    assert [t["description"] for t in listed if t["id"] == token["id"]] == \
        ["a\ufffd\ufffdb\ufffd"]
    users = ok_json(d.get(users_path(), admin))
    assert [u.get("firstName") for u in users if u["id"] == user["id"]] == ["\ufffd" * 4]
    ctl = Ctl(mgmtctl_bin, d, tmp_path / "home", token=admin)
    out, err = run_bytes(ctl, "token", "list")
    assert_nothing_raw("token list", out, err)
    assert "a\ufffd\ufffdb\ufffd" in out.decode("utf-8")  # strict: valid UTF-8


# ---------------------------------------------------------------------------
# The Admin UI in Chromium

# The characters visible() escapes, as a JavaScript regular expression over a string.
JS_HAZARD = (r"/[\u0000-\u001f\u007f-\u009f\u200b\u2028-\u202e\u2060-\u206f\ufeff]|"
             r"\udb40[\udc00-\udc7f]/u")
DOM_RAW = """
const hazard = %s;
const found = [];
const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  // the whitespace between the tags of index.html is not text from the API
  if (/^[ \\n]*$/.test(n.data)) continue;
  if (hazard.test(n.data)) found.push("text: " + JSON.stringify(n.data));
}
for (const el of document.querySelectorAll("*"))
  for (const a of ["aria-label", "title", "placeholder", "alt"])
    if (el.hasAttribute(a) && hazard.test(el.getAttribute(a)))
      found.push(a + ": " + JSON.stringify(el.getAttribute(a)));
for (const el of document.querySelectorAll("input"))
  if (hazard.test(el.value)) found.push("input: " + JSON.stringify(el.value));
if (hazard.test(document.title)) found.push("title: " + JSON.stringify(document.title));
return found;
""" % JS_HAZARD


@pytest.fixture(scope="module")
def browser(planted, tmp_path_factory):
    drv = start_driver(tmp_path_factory.mktemp("chromium-text"))
    try:
        yield Browser(drv, planted, ROOT / "build" / "ui-shots-text")
    finally:
        drv.quit()


@pytest.fixture
def ui(browser):
    """Each browser test starts signed out, as a person arriving at the page."""
    browser.drv.get(browser.d.url("/ui/"))
    browser.drv.execute_script("sessionStorage.clear()")
    return browser


def assert_dom_clean(ui, where):
    found = ui.drv.execute_script(DOM_RAW)
    assert found == [], "%s: raw characters in the DOM: %s" % (where, found[:5])


def test_ui_shows_stored_text_as_escapes(ui):
    ui.sign_in_idp("admin@example.com", ACCOUNT_A)
    pages = [("#/management-tokens", "Management tokens"), ("#/database-tokens",
                                                            "Database tokens"),
             ("#/databases", "Databases"), ("#/cluster", "Cluster"), ("#/users", "Users"),
             ("#/users/invitations", "Users")]
    for hash_, title in pages:
        ui.go(hash_, title)
        # the planted row is there, shown with its escapes (the marks as they are)
        ui.wait(lambda: SHOWN in ui.text(), "the escaped text on %s" % hash_)
        assert_dom_clean(ui, hash_)
    # the cluster picker's option and the page of the planted table's database
    assert any(SHOWN in o.text for o in ui.css("#cluster-select option"))
    ui.go("#/databases/%s/tables" % ui.d.planted["db"], "Tables of plant-db")
    ui.wait(lambda: SHOWN in ui.text(), "the planted table name")
    assert_dom_clean(ui, "tables")


def test_ui_dialogs_and_messages_show_escapes(ui):
    ui.sign_in_idp("admin@example.com", ACCOUNT_A)
    ui.go("#/management-tokens", "Management tokens")
    ui.press("Revoke", ui.row(SHOWN))
    dlg = ui.dialog()
    assert SHOWN in dlg.text, dlg.text
    assert_dom_clean(ui, "the revoke confirmation")
    ui.press("Cancel", dlg)
    ui.no_dialog()

    # Editing the planted database token: the field shows the escapes; saving the
    # permissions alone leaves the stored description as it was.
    ui.go("#/database-tokens", "Database tokens")
    ui.press("Edit", ui.row(SHOWN))
    dlg = ui.dialog()
    field = ui.one("input[name=description]", dlg)
    assert field.get_attribute("value") == SHOWN
    assert_dom_clean(ui, "the edit dialog")
    ui.press("Save", dlg)
    ui.no_dialog()
    ui.wait(lambda: "saved" in ui.notice(), "the saved notice")
    assert SHOWN in ui.notice()
    assert_dom_clean(ui, "the saved notice")
    stored = ok_json(ui.d.get(db_tokens_path(token_id=ui.d.planted["dbt"]), ui.d.jwt("admin")))
    assert stored["description"] == PLANT


def test_ui_visible_is_mgmtctl_notation(ui, mgmtctl_bin, tmp_path):
    """dom.js's visible() and mgmtctl's out_escape write the same thing."""
    texts = [PLANT] + SAMPLES
    shown = ui.drv.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import(new URL('dom.js', location.href).href)"
        ".then(m => done(arguments[0].map((t) => m.visible(t))), e => done(String(e)));",
        texts)
    assert isinstance(shown, list), shown
    assert shown[0] == SHOWN
    assert shown[1:6] == ["C:\\data\\", "\\\\u202e typed", "\\\\\\u202e", "\\\\x",
                          "end\\"]
    assert shown[6] == SAMPLES[5]  # Hebrew and an RLM: as they are
    assert shown[7] == "tag \\U000e007f \U000e0080"
    # mgmtctl's key/value cell of each planted sample is the same text
    ctl = Ctl(mgmtctl_bin, ui.d, tmp_path / "home", token=ui.d.jwt("admin"))
    for text, want, token_id in zip(SAMPLES, shown[1:], ui.d.planted["samples"]):
        out, _err = run_bytes(ctl, "token", "get", token_id)
        row = [line for line in out.decode("utf-8").splitlines() if "description |" in line][0]
        assert row.split("description | ", 1)[1].rstrip(" |") == want, (text, row)


OFFLINE_COMMANDS = [
    ("management", "list", "--account", ACCOUNT_A),
    ("user", "list", "--account", ACCOUNT_A),
    ("audit", "list", "--account", ACCOUNT_A),
]


@pytest.mark.parametrize("command", OFFLINE_COMMANDS, ids=[" ".join(c[:2]) for c in OFFLINE_COMMANDS])
def test_offline_commands_show_escapes_never_raw(planted, command):
    """mgmtd's own offline listings, beside the server, in both formats."""
    res = planted.cli(*command)
    assert res.returncode == 0, describe(res)
    out = res.stdout.encode("utf-8")
    assert_nothing_raw(" ".join(command), out, res.stderr.encode("utf-8"))
    if command[0] != "audit":  # the trail keeps what it records as ASCII already
        assert SHOWN in res.stdout, "%s does not show %r:\n%s" % (command, SHOWN, res.stdout)
    res = planted.cli(*command, "--format", "json")
    assert res.returncode == 0, describe(res)
    assert_nothing_raw(" ".join(command) + " --format json", res.stdout.encode("utf-8"), b"")
    assert all(ord(c) < 0x80 for c in res.stdout), "JSON keeps every character past ASCII escaped"
    listed = json.dumps(json.loads(res.stdout), ensure_ascii=False)
    if command[0] == "management":
        assert PLANT in [t["description"] for t in json.loads(res.stdout)]
    elif command[0] == "user":
        assert any(u.get("firstName") == PLANT for u in json.loads(res.stdout)), listed[:500]
