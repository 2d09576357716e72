"""The credential caches never answer from before a change (docs/architecture.md,
"Credential caches").

Each test first makes the cache hold the credential (the same question answered several
times on kept-alive connections, so on every worker thread, and /metrics shows hits), then
changes what the answer depends on, through the API, an offline command, or (SQLite) a
plain `sqlite3` beside the server, and asks again at once on the same connections: the
answer must be the new one from the first request after the change.

On PostgreSQL a change this server makes moves its caches before it answers; a change made
elsewhere (another replica, an offline command, psql) arrives on the change channel within
moments, and whatever happens to the channel no entry outlives the second it was read in
(docs/architecture.md): such changes are held to that bound.
"""
import re
import sqlite3
import time

import pytest
import requests

from conftest import (
    SLOWDOWN,
    wait_for,
    ACCOUNT_A,
    BACKEND,
    CLUSTER_A,
    HTTP_TIMEOUT,
    assert_no_content,
    authorize_path,
    clusters_path,
    databases_path,
    db_tokens_path,
    describe_cli,
    future_rfc3339,
    ok_json,
    path_segment,
    tokens_path,
    unique_name,
    users_path,
)

SESSIONS = 6  # kept-alive connections: more than the worker threads
# On PostgreSQL, the oldest a cache entry can be (store_pg.c: the epoch's second), with room.
PG_BOUND_S = 1.2


@pytest.fixture
def cached(daemon_factory):
    return daemon_factory(config_extra="[metrics]\nenabled = true\n[server]\nthreads = 2\n"
                                       "[testing]\nenabled = true\n")


def lookups(d):
    text = d.get("/metrics").text
    got = {}
    for result in ("hit", "miss"):
        m = re.search(r'^mgmtd_credential_cache_lookups_total\{result="%s"\} (\d+)$' % result,
                      text, re.M)
        got[result] = int(m.group(1))
    return got


def ask_everywhere(sessions, method, url, headers, params=None):
    return [s.request(method, url, headers=headers, params=params, timeout=HTTP_TIMEOUT)
            .status_code for s in sessions]


def warm(d, sessions, url, headers, params=None, want=(200,)):
    """Asks until the cache answers on the connections: hits go up, answers as wanted."""
    before = lookups(d)["hit"]
    for _ in range(4):
        codes = ask_everywhere(sessions, "GET", url, headers, params)
        assert set(codes) <= set(want), codes
    assert lookups(d)["hit"] - before >= SESSIONS, "the cache answered nothing: a test of nothing"


def sessions_of():
    return [requests.Session() for _ in range(SESSIONS)]


def bearer(secret):
    return {"Authorization": "Bearer " + secret}


def plain_sql(d, statement):
    """A change made beside the server with the sqlite3 module (SQLite) or psql."""
    if d.backend == "postgres":
        d.pg_store.psql(statement)
        return
    db = sqlite3.connect(str(d.data_dir / "mgmtd.db"), timeout=10)
    try:
        db.execute(statement)
        db.commit()
    finally:
        db.close()


@pytest.mark.parametrize("how", ["api", "offline", "sql"])
def test_a_revoked_management_token_is_refused_at_once(cached, how):
    d = cached
    tok = d.create_token("cached")
    sessions = sessions_of()
    url = d.url(clusters_path())
    warm(d, sessions, url, bearer(tok["accessToken"]))
    if how == "api":
        assert_no_content(d.delete(tokens_path(token_id=tok["id"]), d.jwt("admin")))
    elif how == "offline":
        res = d.cli("management", "revoke", "--account", ACCOUNT_A, tok["id"])
        assert res.returncode == 0, describe_cli(res)
    else:
        plain_sql(d, "UPDATE management_tokens SET revoked_at = 1 WHERE id = '%s'" % tok["id"])
    if d.backend == "postgres" and how != "api":
        time.sleep(PG_BOUND_S)  # from outside this server: the bound, whatever the channel did
    assert ask_everywhere(sessions, "GET", url, bearer(tok["accessToken"])) == [401] * SESSIONS


def test_an_expiry_is_honoured_from_a_cached_row(cached):
    d = cached
    tok = d.create_token("expiring", expiresAt=future_rfc3339(hours=1))
    sessions = sessions_of()
    url = d.url(clusters_path())
    warm(d, sessions, url, bearer(tok["accessToken"]))
    ok_json(d.put("/_test/clock", json={"now": future_rfc3339(hours=2)}))
    assert ask_everywhere(sessions, "GET", url, bearer(tok["accessToken"])) == [401] * SESSIONS


def test_a_database_token_follows_revocation_permissions_and_databases(cached):
    d = cached
    admin = d.jwt("admin")
    names = [unique_name("cache") for _ in range(3)]
    for n in names:
        d.create_database(n)
    tok = d.create_db_token([("read", names[0]), ("read", names[1]), ("write", names[2])])
    auth = bearer(tok["accessToken"])
    url = d.url(authorize_path())
    sessions = sessions_of()

    def check(db, action):
        return ask_everywhere(sessions, "GET", url, auth, {"database": db, "action": action})

    # a permission taken away
    warm(d, sessions, url, auth, {"database": names[0], "action": "read"}, want=(204,))
    ok_json(d.patch(db_tokens_path(token_id=tok["id"]), admin, json={"permissions": [
        {"action": "read", "resource": names[1]}, {"action": "write", "resource": names[2]}]}))
    assert check(names[0], "read") == [403] * SESSIONS
    # the database deleted under a permission that names it
    warm(d, sessions, url, auth, {"database": names[1], "action": "read"}, want=(204,))
    assert_no_content(d.delete(databases_path(name=names[1]), admin))
    assert check(names[1], "read") == [403] * SESSIONS
    # the token revoked
    warm(d, sessions, url, auth, {"database": names[2], "action": "write"}, want=(204,))
    assert_no_content(d.delete(db_tokens_path(token_id=tok["id"]), admin))
    assert check(names[2], "write") == [401] * SESSIONS


def test_a_jwt_user_follows_deletion_and_group(cached):
    d = cached
    admin = d.jwt("admin")
    user = ok_json(d.post(users_path(), admin, json={
        "email": "cache-%d@example.com" % time.monotonic_ns(), "group": "admin",
        "idpSubject": "cache-sub-%d" % time.monotonic_ns()}))
    jwt = d.make_jwt_for_subject(user["idpSubject"])
    sessions = sessions_of()
    url = d.url(tokens_path())
    warm(d, sessions, url, bearer(jwt))
    # demoted: management tokens are for admins and auditors only
    ok_json(d.patch(users_path(user_id=user["id"]), admin, json={"group": "member"}))
    assert ask_everywhere(sessions, "GET", url, bearer(jwt)) == [403] * SESSIONS
    warm(d, sessions, d.url(clusters_path()), bearer(jwt))
    assert_no_content(d.delete(users_path(user_id=user["id"]), admin))
    assert ask_everywhere(sessions, "GET", d.url(clusters_path()), bearer(jwt)) == \
        [403] * SESSIONS


@pytest.mark.postgres_only
def test_while_the_change_channel_is_down_nothing_is_answered_from_the_caches(cached):
    """The channel's connection killed: the server stops trusting its caches at once, a
    change made meanwhile (its notification lost) is honoured, and the caches answer again
    once the channel is back."""
    d = cached
    tok = d.create_token("channel")
    sessions = sessions_of()
    url = d.url(clusters_path())

    def heard():
        m = re.search(r"^mgmtd_store_changes_heard (\d)$", d.get("/metrics").text, re.M)
        return m.group(1) == "1"

    wait_for(heard, 10 * SLOWDOWN, "the change channel to listen", d)
    warm(d, sessions, url, bearer(tok["accessToken"]))
    d.pg_store.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'mgmtd-changes'")
    wait_for(lambda: not heard(), 10 * SLOWDOWN, "the server to notice the channel broke", d)
    hits = lookups(d)["hit"]
    assert ask_everywhere(sessions, "GET", url, bearer(tok["accessToken"])) == [200] * SESSIONS
    assert lookups(d)["hit"] == hits, "a cache answered while changes could not be heard"
    plain_sql(d, "UPDATE management_tokens SET revoked_at = 1 WHERE id = '%s'" % tok["id"])
    assert ask_everywhere(sessions, "GET", url, bearer(tok["accessToken"])) == [401] * SESSIONS
    wait_for(heard, 10 * SLOWDOWN, "the change channel to listen again", d)
    other = d.create_token("after")
    warm(d, sessions, url, bearer(other["accessToken"]))


@pytest.mark.postgres_only
def test_a_revocation_through_one_replica_holds_on_the_other_within_the_bound(daemon_factory):
    a = daemon_factory(config_extra="[metrics]\nenabled = true\n")
    b = daemon_factory(replica_of=a, config_extra="[metrics]\nenabled = true\n")
    tok = a.create_token("replicated")
    sessions = sessions_of()
    url = b.url(clusters_path())
    warm(b, sessions, url, bearer(tok["accessToken"]))
    assert_no_content(a.delete(tokens_path(token_id=tok["id"]), a.jwt("admin")))
    # the 204 came from a: b hears of it on its change channel, at the latest when the
    # entries it holds outlive their second
    deadline = time.monotonic() + PG_BOUND_S
    while time.monotonic() < deadline:
        if ask_everywhere(sessions, "GET", url, bearer(tok["accessToken"])) == [401] * SESSIONS:
            break
    assert ask_everywhere(sessions, "GET", url, bearer(tok["accessToken"])) == [401] * SESSIONS
