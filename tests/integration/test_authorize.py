"""The data-plane check GET .../clusters/{clusterId}/authorize (CONTRACT 4.4): 204 / 401 /
403 / 400 for a database token, shaped for nginx auth_request."""

import os

import pytest

from conftest import (
    past_rfc3339,
    ACCOUNT_A,
    ACCOUNT_B,
    CLUSTER_A,
    allow_set,
    assert_error,
    assert_no_content,
    authorize_path,
    b64url,
    databases_path,
    db_tokens_path,
    default_seed,
    ok_json,
    unique_name,
)
from dataplane_stack import raw_request

CLUSTER_A2 = "66666666-6666-4666-8666-666666666666"


def new_db(d, account=ACCOUNT_A):
    return d.create_database(unique_name(), account=account)["name"]


def make_db_token_secret():
    return "apiv1_" + b64url(os.urandom(64))


def assert_allowed(r):
    assert_no_content(r)
    assert "Content-Type" not in r.headers


def test_write_token_writes_read_token_reads(server):
    db = new_db(server)
    w = server.create_db_token([("write", db)])["accessToken"]
    r = server.create_db_token([("read", db)])["accessToken"]
    assert_allowed(server.authorize(w, db, "write"))
    assert_error(server.authorize(w, db, "read"), 403, contains=db)
    assert_allowed(server.authorize(r, db, "read"))
    assert_error(server.authorize(r, db, "write"), 403)


@pytest.mark.parametrize("scheme", ["Bearer", "Token", "bearer", "TOKEN"])
def test_bearer_and_token_schemes(server, scheme):
    db = new_db(server)
    t = server.create_db_token([("read", db)])["accessToken"]
    assert_allowed(server.authorize(t, db, "read", scheme=scheme))


def test_star_grants_every_existing_database_of_the_cluster(server):
    a, b = new_db(server), new_db(server)
    t = server.create_db_token([("write", "*")])["accessToken"]
    assert_allowed(server.authorize(t, a, "write"))
    assert_allowed(server.authorize(t, b, "write"))
    assert_error(server.authorize(t, a, "read"), 403)
    # a database the control plane does not know is never let through
    assert_error(server.authorize(t, unique_name(), "write"), 403, contains="no database")


def test_other_databases_are_403(server):
    a, b = new_db(server), new_db(server)
    t = server.create_db_token([("read", a), ("write", a)])["accessToken"]
    assert_error(server.authorize(t, b, "read"), 403)
    assert_error(server.authorize(t, b, "write"), 403)


def test_revoked_token_is_401_at_once(server):
    db = new_db(server)
    created = server.create_db_token([("write", db)])
    t = created["accessToken"]
    assert_allowed(server.authorize(t, db, "write"))
    assert_no_content(server.delete(db_tokens_path(token_id=created["id"]), server.jwt("admin")))
    assert_error(server.authorize(t, db, "write"), 401, contains="revoked")


def test_permission_changes_apply_at_once(server):
    db = new_db(server)
    created = server.create_db_token([("read", db)])
    t = created["accessToken"]
    assert_error(server.authorize(t, db, "write"), 403)
    ok_json(server.patch(db_tokens_path(token_id=created["id"]), server.jwt("admin"),
                         json={"permissions": [{"action": "write", "resource": db}]}))
    assert_allowed(server.authorize(t, db, "write"))
    assert_error(server.authorize(t, db, "read"), 403)


def test_tokens_are_bound_to_database_names(server):
    old, new = unique_name(), unique_name()
    server.create_database(old)
    admin = server.jwt("admin")
    t = server.create_db_token([("write", old)])["accessToken"]
    assert_allowed(server.authorize(t, old, "write"))
    # renamed: the token still names the old name, which no database has now
    ok_json(server.put(databases_path(name=old, suffix="rename"), admin, json={"name": new}))
    assert_error(server.authorize(t, new, "write"), 403)
    assert_error(server.authorize(t, old, "write"), 403)
    # a new database under the old name is within the token's reach again
    server.create_database(old)
    assert_allowed(server.authorize(t, old, "write"))
    # deleted: out of reach; undeleted (after the new one is gone): back
    assert_no_content(server.delete(databases_path(name=old), admin))
    assert_error(server.authorize(t, old, "write"), 403)
    listed = ok_json(server.get(databases_path(), admin, params={"status": "deleted"}))
    db_id = next(x["id"] for x in listed if x["name"] == old)
    ok_json(server.put(databases_path(name=db_id, suffix="undelete"), admin))
    assert_allowed(server.authorize(t, old, "write"))


def test_names_with_a_slash(server):
    db = unique_name() + "/autogen"
    server.create_database(db)
    t = server.create_db_token([("write", db)])["accessToken"]
    assert_allowed(server.authorize(t, db, "write"))  # requests sends %2F in the query
    r = server.get(authorize_path() + "?database=%s&action=write" % db,
                   headers={"Authorization": "Token " + t})
    assert_allowed(r)


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   ",
                                    "Token apiv1_short", "Bearer M.V1.nottoken"])
def test_missing_or_malformed_credentials_are_401(server, header):
    headers = {} if header is None else {"Authorization": header}
    r = server.get(authorize_path(), params={"database": "x", "action": "read"}, headers=headers)
    assert_error(r, 401)


def test_unknown_well_formed_token_is_401(server):
    assert_error(server.authorize(make_db_token_secret(), new_db(server), "read"), 401)


def test_management_credentials_are_not_database_tokens(server):
    db = new_db(server)
    mgmt = server.create_token("not for data")["accessToken"]
    assert_error(server.authorize(mgmt, db, "read"), 401)
    assert_error(server.authorize(server.jwt("admin"), db, "read"), 401)


@pytest.mark.parametrize("params, contains", [
    ({"action": "read"}, "database"),
    ({"database": "", "action": "read"}, "database"),
    ({"database": "_bad", "action": "read"}, "database"),
    ({"database": "a b", "action": "read"}, "database"),
    ({"database": "x"}, "action"),
    ({"database": "x", "action": "delete"}, "action"),
    ({"database": "x", "action": "READ"}, "action"),
])
def test_bad_parameters_are_400(server, params, contains):
    t = server.create_db_token([("read", "*")])["accessToken"]
    r = server.get(authorize_path(), params=params, headers={"Authorization": "Bearer " + t})
    assert_error(r, 400, contains=contains)


def test_only_get(server):
    r = server.post(authorize_path(), json={})
    assert_error(r, 405)
    assert allow_set(r) == {"GET"}


def test_head_works_like_get(server):
    db = new_db(server)
    t = server.create_db_token([("read", db)])["accessToken"]
    r = server.request("HEAD", authorize_path(), params={"database": db, "action": "read"},
                       headers={"Authorization": "Bearer " + t})
    assert r.status_code == 204


def test_token_of_another_account_is_unknown_here(server):
    db_b = new_db(server, ACCOUNT_B)
    t_b = server.create_db_token([("write", "*")], account=ACCOUNT_B)["accessToken"]
    assert_allowed(server.authorize(t_b, db_b, "write", account=ACCOUNT_B))
    assert_error(server.authorize(t_b, db_b, "write", account=ACCOUNT_A), 401)
    assert_error(server.authorize(t_b, db_b, "write", account=ACCOUNT_A, cluster=CLUSTER_A), 401)


# When the seeded "expired" token expired: a year before the test runs.
EXPIRED_AT = past_rfc3339(days=365)


def _seed_with_database_tokens(secrets):
    seed = default_seed()
    seed["clusters"].append({"id": CLUSTER_A2, "accountId": ACCOUNT_A, "name": "cluster-a2"})
    seed["databases"] = [
        {"accountId": ACCOUNT_A, "clusterId": CLUSTER_A, "name": "shared"},
        {"accountId": ACCOUNT_A, "clusterId": CLUSTER_A2, "name": "shared"},
    ]
    seed["databaseTokens"] = [
        {"accountId": ACCOUNT_A, "clusterId": CLUSTER_A, "description": "expired",
         "accessToken": secrets[0], "expiresAt": EXPIRED_AT,
         "permissions": [{"action": "read", "resource": "shared"}]},
        {"accountId": ACCOUNT_A, "clusterId": CLUSTER_A2, "description": "other cluster",
         "accessToken": secrets[1], "permissions": [{"action": "read", "resource": "*"}]},
    ]
    return seed


def test_expired_token_and_token_of_another_cluster_are_401(daemon_factory):
    secrets = [make_db_token_secret(), make_db_token_secret()]
    d = daemon_factory(seed=_seed_with_database_tokens(secrets))
    assert_error(d.authorize(secrets[0], "shared", "read"), 401, contains="expired")
    # expired tokens are still listed (only revoked ones are left out)
    listed = ok_json(d.get(db_tokens_path(), d.jwt("admin")))
    assert [(t["description"], t["expiresAt"]) for t in listed] == [
        ("expired", EXPIRED_AT)]
    assert_allowed(d.authorize(secrets[1], "shared", "read", cluster=CLUSTER_A2))
    r = d.authorize(secrets[1], "shared", "read", cluster=CLUSTER_A)
    assert_error(r, 401)
    assert "cluster" not in r.json()["message"]


# ---------------------------------------------------------------------------
# The forwarded form: the original request, read as the database reads it (docs/nginx.md)


def forwarded(d, token, method, uri, extra=None, params=None, scheme="Token"):
    headers = {"X-Forwarded-Method": method, "X-Forwarded-Uri": uri}
    if token is not None:
        headers["Authorization"] = "%s %s" % (scheme, token)
    headers.update(extra or {})
    return d.get(authorize_path(), params=params, headers=headers)


def test_forwarded_form_takes_database_and_action_from_the_request(server):
    db = new_db(server)
    w = server.create_db_token([("write", db)])["accessToken"]
    r = server.create_db_token([("read", db)])["accessToken"]
    for uri in ("/write?db=%s" % db, "/api/v2/write?bucket=%s" % db,
                "/api/v3/write_lp?db=%s" % db):
        assert_allowed(forwarded(server, w, "POST", uri))
        assert_error(forwarded(server, r, "POST", uri), 403, contains="write")
    for method, uri in (("GET", "/query?db=%s&q=SELECT+*+FROM+m" % db),
                        ("POST", "/query?db=%s&q=SHOW+MEASUREMENTS" % db),
                        ("GET", "/api/v3/query_sql?db=%s&q=SELECT+1" % db),
                        ("GET", "/api/v3/query_influxql?db=%s&q=SELECT+*+FROM+m" % db)):
        assert_allowed(forwarded(server, r, method, uri))
        assert_error(forwarded(server, w, method, uri), 403, contains="read")
    # the action is the path's, whatever the client adds
    assert_error(forwarded(server, r, "POST", "/write?db=%s&action=read" % db), 403)


def test_forwarded_v1_rp_names_the_database_db_slash_rp(server):
    base = unique_name()
    server.create_database(base + "/rp1")
    t = server.create_db_token([("write", base + "/rp1")])["accessToken"]
    assert_allowed(forwarded(server, t, "POST", "/write?db=%s&rp=rp1" % base))
    assert_error(forwarded(server, t, "POST", "/write?db=%s" % base), 403)
    assert_error(forwarded(server, t, "POST", "/write?db=%s%%2Frp1" % base), 400,
                 contains="'/'")


@pytest.mark.parametrize("uri, status, contains", [
    ("/query?DB=x&db=y&q=SELECT+1", 400, "another case"),
    ("/query?d%62=y&db=x&q=SELECT+1", 400, "encoded parameter name"),
    ("/write?db=x&db=y", 400, "twice"),
    ("/write?db=x%zz", 400, "escape"),
    ("/write?db=x;y", 400, "';'"),
    ("//write?db=x", 400, "variant"),
    ("/write/?db=x", 400, "variant"),
    ("/api/v2/buckets", 404, "no write or query path"),
    ("/query?db=x&q=SELECT+*+FROM+y..m", 403, "database"),
    ("/query?db=x&q=DROP+DATABASE+x", 403, "not a read"),
    ("/query?db=x&q=SELECT+*+INTO+x..c+FROM+m", 403, "INTO"),
    ("/query?db=x&q=SELECT+%27open", 400, "cannot be read"),
    ("/write?db=x&u=a&p=b", 400, "credentials"),
])
def test_forwarded_refusals(server, uri, status, contains):
    t = server.create_db_token([("read", "*"), ("write", "*")])["accessToken"]
    method = "GET" if uri.startswith("/query") or uri.startswith("/api/v2/b") else "POST"
    assert_error(forwarded(server, t, method, uri), status, contains=contains)


def test_forwarded_form_body_on_query_is_400(server):
    t = server.create_db_token([("read", "*")])["accessToken"]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert_error(forwarded(server, t, "POST", "/query?db=x&q=SELECT+1", form), 400,
                 contains="form body")
    # on /write the body is line protocol, whatever curl labels it
    db = new_db(server)
    w = server.create_db_token([("write", db)])["accessToken"]
    assert_allowed(forwarded(server, w, "POST", "/write?db=%s" % db, form))


def test_forms_are_never_mixed(server):
    db = new_db(server)
    t = server.create_db_token([("write", db)])["accessToken"]
    r = forwarded(server, t, "POST", "/write?db=%s" % db,
                  params={"database": db, "action": "write"})
    assert_error(r, 400, contains="both")
    r = server.get(authorize_path(), params={"database": db, "action": "write"},
                   headers={"Authorization": "Token " + t, "X-Forwarded-Uri": "/write?db=x"})
    assert_error(r, 400, contains="both")
    r = server.get(authorize_path(), headers={"Authorization": "Token " + t,
                                              "X-Forwarded-Method": "POST"})
    assert_error(r, 400, contains="X-Forwarded-Uri")


@pytest.mark.parametrize("header", ["Authorization", "X-Forwarded-Uri", "X-Forwarded-Method",
                                    "Content-Type"])
def test_headers_that_must_come_once(server, header):
    db = new_db(server)
    t = server.create_db_token([("write", db)])["accessToken"]
    headers = [("Authorization", "Token " + t), ("X-Forwarded-Method", "POST"),
               ("X-Forwarded-Uri", "/write?db=%s" % db), ("Content-Type", "text/plain")]
    status, _h, _b = raw_request(server.port, "GET", authorize_path(), headers)
    assert status == 204
    value = dict(headers)[header]
    status, _h, body = raw_request(server.port, "GET", authorize_path(),
                                   headers + [(header, value)])
    assert status == 400, body


def test_forwarded_token_of_another_account_is_unknown_and_not_its_principal(server):
    db_b = new_db(server, ACCOUNT_B)
    created = server.create_db_token([("write", "*")], account=ACCOUNT_B)
    assert_error(forwarded(server, created["accessToken"], "POST", "/write?db=%s" % db_b), 401)
    # the access log names no principal: the token is nobody in this account
    assert ("by database token %s" % created["id"]) not in server.log_since_start()


def test_refused_tokens_are_throttled_unless_testing_mode_turns_it_off(daemon_factory):
    bad = make_db_token_secret()
    # testing mode with no failed_auth_* of its own: never throttled
    d = daemon_factory(throttle_off=False, config_extra="[testing]\nenabled = true\n")
    for _ in range(25):
        assert_error(forwarded(d, bad, "POST", "/write?db=x"), 401)
    # the defaults outside testing mode: a burst of 20, then 429
    d = daemon_factory(throttle_off=False)
    for _ in range(20):
        assert_error(forwarded(d, bad, "POST", "/write?db=x"), 401)
    r = forwarded(d, bad, "POST", "/write?db=x")
    assert_error(r, 429)
    assert int(r.headers["Retry-After"]) >= 1
    # the parameter form counts against the same address
    assert_error(d.authorize(bad, "x", "write"), 429)
