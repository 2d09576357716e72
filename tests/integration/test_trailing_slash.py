"""A trailing "/" on a path means the path without it, on every route of server/routes.c
(docs/api.md, "Paths"): the Cloud Dedicated docs print some endpoints with one
(`…/databases/DB/tables/`), and a client that copies them must not meet a 404.

Each route is called twice, with and without the slash, with a request that cannot
change what the other sees (a body that is not JSON, an id that does not exist), and the
two answers must be the same; then the docs' own example creates a table through the
slashed path."""

import re
from pathlib import Path

import pytest

from conftest import (
    ACCOUNT_A,
    CLUSTER_A,
    ISSUER,
    assert_error,
    default_seed,
    now_utc,
    ok_json,
    rfc3339,
    tables_path,
    unique_name,
)

ROOT = Path(__file__).resolve().parents[2]
EVERYTHING_ON = ("[dev_idp]\nenabled = true\n[testing]\nenabled = true\n"
                 "[ui]\nenabled = true\nclient_id = mgmtd-ui\n[metrics]\nenabled = true\n")
MISSING_ID = "00000000-0000-4000-8000-00000000dead"
PREFIXES = {"ACCOUNT": "/api/v0/accounts/{accountId}",
            "CLUSTER": "/api/v0/accounts/{accountId}/clusters/{clusterId}"}


def route_table():
    """(method, pattern, flags text) of every route of server/routes.c, in its order."""
    src = (ROOT / "server" / "routes.c").read_text()
    defines = dict(re.findall(r'#define\s+(\w+)\s+"([^"]*)"', src))
    rows = []
    for m in re.finditer(r'\{"(GET|POST|PUT|PATCH|DELETE)",\s*(?:(\w+)\s*)?"([^"]*)",([^}]*)\}',
                         src):
        method, prefix, path, rest = m.groups()
        if prefix:
            path = PREFIXES.get(prefix, defines.get(prefix, "")) + path
        rows.append((method, path, rest))
    # macros that stand for a whole path (the dev IdP's device pages)
    for m in re.finditer(r'\{"(GET|POST|PUT|PATCH|DELETE)",\s*([A-Z_]+),([^}]*)\}', src):
        method, name, rest = m.groups()
        rows.append((method, name, rest))
    return rows


def test_route_table_is_read_whole():
    src = (ROOT / "server" / "routes.c").read_text()
    assert len(route_table()) == len(re.findall(r'\{"(?:GET|POST|PUT|PATCH|DELETE)",', src))


@pytest.fixture(scope="module")
def everything(mgmtd_bin, idp, tmp_path_factory):
    from conftest import _Factory, _stop_all

    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("slash"), idp)
    yield f(seed=default_seed(issuer=ISSUER), config_extra=EVERYTHING_ON)
    _stop_all(f)


def concrete(pattern, values):
    """The pattern with its captures filled from values."""
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], pattern)


def header_paths():
    """The values of path macros (#define in a header) the route table names."""
    out = {}
    for h in (ROOT / "server").glob("*.h"):
        for name, value in re.findall(r'#define\s+(\w+_PATH)\s+"([^"]*)"', h.read_text()):
            out[name] = value
    return out


def same_answer(a, b):
    """Status, type and body alike; for HTML pages and the UI's files the status and type
    (a page may carry a fresh nonce)."""
    if (a.status_code, a.headers.get("Content-Type")) != (b.status_code,
                                                         b.headers.get("Content-Type")):
        return False
    if "json" in (a.headers.get("Content-Type") or ""):
        return a.json() == b.json()
    return True


def test_every_route_answers_the_same_with_a_trailing_slash(everything):
    d = everything
    db = d.create_database()["name"]
    table = ok_json(d.post(tables_path(db), d.jwt("admin"), json={"name": "cpu"}))["name"]
    values = {"accountId": ACCOUNT_A, "clusterId": CLUSTER_A, "databaseName": db,
              "tableName": table, "tableId": "999999", "databaseId": "999999", "tokenId": MISSING_ID,
              "userId": MISSING_ID, "inviteId": MISSING_ID, "file": "app.js", "name": "trailing"}
    macros = header_paths()
    # a frozen clock, so that GET /_test/clock answers the same instant twice
    frozen = d.request("PUT", "/_test/clock", None, json={"now": rfc3339(now_utc())})
    assert frozen.status_code == 200, frozen.text
    admin = d.jwt("admin")
    checked = []
    for method, pattern, flags in route_table():
        if pattern in macros:
            pattern = macros[pattern]
        if pattern in ("/ui", "/ui/"):
            continue  # "/ui/" is a route of its own, the page "/ui" redirects to
        if pattern == "/_test/reset":
            continue  # asked last, below: it empties what the others look at
        unknown = set(re.findall(r"\{(\w+)\}", pattern)) - set(values)
        assert not unknown, "a capture this test has no value for: %s in %s" % (unknown,
                                                                                pattern)
        path = concrete(pattern, values)
        kw = {}
        if "ROUTE_JSON_BODY" in flags:
            kw = {"data": b"not json", "headers": {"Content-Type": "application/json"}}
        elif "ROUTE_FORM_BODY" in flags:
            kw = {"data": b"", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
        if method in ("DELETE", "PUT") and "databaseName}" in pattern and not kw \
                and "{table" not in pattern:
            path = concrete(pattern, dict(values, databaseName="no-such-db"))
        if method == "DELETE" and pattern.startswith("/_test/"):
            # not the seed's account, no snapshot: the same 404 both ways
            path = concrete(pattern, dict(values, accountId=MISSING_ID, name="none"))
        if method == "DELETE" and "{tableName}" in pattern:
            path = concrete(pattern, dict(values, tableName="no_such_table"))
        cred = None if "ROUTE_DEV_IDP" in flags or "ROUTE_UI" in flags \
            or "ROUTE_TESTING" in flags or "ROUTE_METRICS" in flags \
            or "ROUTE_DATA_PLANE" in flags else admin
        plain = d.request(method, path, cred, allow_redirects=False, **kw)
        slashed = d.request(method, path + "/", cred, allow_redirects=False, **kw)
        assert plain.status_code != 404 or "no such path" not in plain.text, (method, path)
        assert same_answer(plain, slashed), (method, path, plain.status_code, plain.text[:200],
                                             slashed.status_code, slashed.text[:200])
        checked.append((method, pattern))
    r = d.request("POST", "/_test/reset/", None)
    assert r.status_code == 204, r.text
    checked.append(("POST", "/_test/reset"))
    assert len(checked) == len(route_table()) - 2  # all but /ui and /ui/


def test_the_docs_table_example_with_its_trailing_slash(server):
    # docs.influxdata.com, Cloud Dedicated, "Create a table" (Management API):
    # POST …/databases/DATABASE_NAME/tables/
    db = server.create_database()["name"]
    name = unique_name("t")
    body = ok_json(server.post(tables_path(db) + "/", server.jwt("admin"), json={"name": name}))
    assert body["name"] == name
    listed = ok_json(server.get(tables_path(db) + "/", server.jwt("admin")))
    assert [t["name"] for t in listed] == [name]


@pytest.mark.parametrize("suffix", ["//", "/x//"])
def test_only_one_plain_slash_is_forgiven(server, suffix):
    db = server.create_database()["name"]
    assert_error(server.get(tables_path(db) + suffix, server.jwt("admin")), 404,
                 contains="no such path")
