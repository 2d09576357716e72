"""Lists at 100 000 rows (issue 22, the server side): streaming and paging of the
management-token and database-token lists, against a daemon whose store was filled with
SQL while it was stopped (tests/tools/manytokens.py: 100 000 tokens of each kind, plus ten
of each sharing one createdAt, inserted in descending id order, placed so that they
straddle a page boundary at limit=1000).

What is tried, each time against the store itself (read by SQL: SQLite read-only, or psql):
- a whole list comes back whole, in today's format and order (createdAt, then insertion
  order): every row, each object byte for byte what a GET of its id answers (a sample),
  chunked when long and with a Content-Length when short; the status / includeRevoked
  filters on the streamed list;
- the daemon's peak resident memory during a whole list, with a fast and a stalled reader;
- paging: limit/after through Link rel=next gives exactly the whole list with every filter
  kept, ties included; bad limit/after/search are 400; what search matches and not (ASCII
  case folding only, the prefix at its start only, LIKE's wildcards taken literally);
- a reader that stops reading holds nothing: other requests, creates and the data-plane
  check are answered, a WAL checkpoint is not blocked (SQLite), no backend sits idle in a
  transaction or holds back vacuum (PostgreSQL), and the resumed list shows the rows
  created meanwhile at its end and a later row's revocation;
- a store failure after the first byte is an error for curl (exit 18) and for requests.
  SQLite: the brief's `locking_mode=EXCLUSIVE` + `BEGIN EXCLUSIVE` cannot be taken while
  mgmtd has the file open (in WAL mode its connections hold a SHARED lock on the database
  file all along), so another process takes every read-mark lock of the WAL index
  instead: the daemon's next read cannot start and fails (SQLITE_PROTOCOL, after SQLite's
  own ~10 s of retries). PostgreSQL: the database stops accepting connections and its
  backends are terminated (a terminated backend alone is replaced by mgmtd on its next
  statement; that case is tried too: the list is then whole or an error, never wrong);
- four whole lists in flight, read slowly, while the data-plane check is asked 200 times;
- PostgreSQL: plan_cache_mode = force_custom_plan on mgmtd's own connections, seen in the
  plans auto_explain logs while the database's default says force_generic_plan.

Timings are printed (pytest -s), never asserted. plain_pass_only: heavy (a 100 000-row
store, lists of ~30 MB), and nothing the instrumented or clock-ahead passes look at.
"""

import datetime as dt
import http.client
import json
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from conftest import (ACCOUNT_A, ACCOUNT_B, CLUSTER_A, HTTP_TIMEOUT, SANITIZED,
                      WRAPPER, PgStore, _Factory, _stop_all, assert_error, assert_json_ct,
                      assert_no_content, assert_status, authorize_path, db_tokens_path,
                      ok_json, tokens_path, wait_for)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import manytokens  # noqa: E402

pytestmark = pytest.mark.plain_pass_only

N = 100_000
TIES = 10
TIE_AFTER = 49_996  # the ties share bulk row 49996's createdAt: list places 49997..50006
PAGE = 1000
MEMORY_BOUND_KIB = 24 * 1024
LIST_TIMEOUT = (10, 120)  # connect, and each read of a list
DATABASE = "scale-db"
ODD = "odd & = # + % chars"  # descriptions that need escaping in a Link's query

MGMT_KEYS = ["id", "accountId", "description", "tokenPrefix", "status", "createdAt",
             "createdBy", "expiresAt", "revokedAt", "revokedBy", "lastUsedAt"]
DB_KEYS = ["accountId", "clusterId", "id", "description", "permissions", "createdAt",
           "expiresAt", "revokedAt"]
LINK_NEXT = re.compile(r'<([^<>]*)>; rel="next"')


# ---------------------------------------------------------------------------
# The daemon and its store

class Big:
    def __init__(self, d):
        self.d = d

    def jwt(self):
        return self.d.jwt("admin")

    def auth(self):
        return {"Authorization": "Bearer " + self.jwt()}


@pytest.fixture(scope="module")
def big(mgmtd_bin, idp, tmp_path_factory):
    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("scale"), idp)
    try:
        d = f()
        b = Big(d)
        d.create_database(DATABASE)
        b.db_token = d.create_db_token([("read", DATABASE)],
                                       description="scale reader")["accessToken"]
        b.mgmt_token = d.create_token("scale automation")["accessToken"]
        for text in ("Café crème", "100% done_ok \\ path", ODD + " 1", ODD + " 2", ODD + " 3"):
            d.create_token(text)
        d.create_db_token(description="Café crème db")
        d.create_db_token(description="50% off_db")
        # the short lists: two rows each
        b.short_mgmt = [d.create_token("short %d" % i, account=ACCOUNT_B)["id"] for i in (1, 2)]
        b.short_db = [d.create_db_token(description="short %d" % i, account=ACCOUNT_B)["id"]
                      for i in (1, 2)]
        d.stop_ok()
        t = time.monotonic()
        manytokens.fill_daemon(d, N, ACCOUNT_A, CLUSTER_A)
        created = int(store_rows(d, "SELECT created_at FROM management_tokens WHERE "
                                    "description = 'bulk token %06d'" % TIE_AFTER)[0][0])
        sql, b.tie_mgmt, b.tie_db = manytokens.ties_sql(d.backend, TIES, ACCOUNT_A, CLUSTER_A,
                                                         created)
        manytokens.run_sql(d, sql)
        # no ANALYZE: a bulk load's tables have no statistics until autovacuum's next
        # round, and the lists must not slow down meanwhile (test_postgres_plans.py)
        print("filled the store with %d + %d tokens in %.1f s" % (N, N, time.monotonic() - t))
        d.start(use_seed=False)
        yield b
    finally:
        _stop_all(f)


def store_rows(d, sql):
    """Rows of a query on d's store, every value as text ("" for NULL)."""
    if d.pg_store is not None:
        out = d.pg_store.psql(sql)
        return [tuple(line.split("|")) for line in out.splitlines()]
    con = sqlite3.connect("file:%s?mode=ro" % (d.data_dir / "mgmtd.db"), uri=True)
    try:
        return [tuple("" if v is None else str(v) for v in row) for row in con.execute(sql)]
    finally:
        con.close()


def insertion(d):
    return "seq" if d.pg_store is not None else "rowid"


def store_mgmt(d, account=ACCOUNT_A):
    """The account's management tokens as the list must order them:
    (id, description, prefix, created_at, expires_at, revoked_at)."""
    return store_rows(d, "SELECT id, description, prefix, created_at, expires_at, revoked_at "
                         "FROM management_tokens WHERE account_id = '%s' ORDER BY created_at, %s"
                      % (account, insertion(d)))


def store_db(d, cluster=CLUSTER_A):
    """The cluster's database tokens: (id, description, created_at, revoked_at)."""
    return store_rows(d, "SELECT id, description, created_at, revoked_at FROM database_tokens "
                         "WHERE cluster_id = '%s' ORDER BY created_at, %s"
                      % (cluster, insertion(d)))


def store_count(d, sql):
    return int(store_rows(d, sql)[0][0])


def now_ms():
    return int(time.time() * 1000)


def ms_rfc3339(ms):
    t = dt.datetime.fromtimestamp(ms // 1000, dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def mgmt_status(row, at_ms):
    if row[5]:
        return "revoked"
    return "expired" if row[4] and int(row[4]) <= at_ms else "active"


def same_seq(got, want, what):
    """got == want for long sequences, failing with the first difference (not a diff of
    100 000 items)."""
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            pytest.fail("%s: item %d differs: got %r, want %r (lengths %d, %d)"
                        % (what, i, g, w, len(got), len(want)))
    if len(got) != len(want):
        i = min(len(got), len(want))
        pytest.fail("%s: %d items, want %d; first extra: %r" % (
            what, len(got), len(want), (got[i:] or want[i:])[:3]))


def ids(objs):
    return [o["id"] for o in objs]


def spread(n, k=50):
    """k indexes spread over range(n), the first and the last included."""
    return sorted({round(j * (n - 1) / (k - 1)) for j in range(k)})


def get_list(b, path, params=None):
    """The whole list (no limit): (response, parsed body); prints how long it took."""
    t = time.monotonic()
    r = b.d.get(path, b.jwt(), params=params, timeout=LIST_TIMEOUT)
    body = ok_json(r)
    print("GET %s %s: %d rows, %.1f MB in %.2f s" % (path.rsplit("/", 1)[-1], params or "",
          len(body), len(r.content) / 1e6, time.monotonic() - t))
    assert isinstance(body, list), "not a list: %.200s" % r.text
    return r, body


def assert_compact(r, body):
    """The answer is compact JSON (no whitespace, keys in the order given)."""
    want = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if r.content != want:
        i = next((i for i, (x, y) in enumerate(zip(r.content, want)) if x != y),
                 min(len(r.content), len(want)))
        pytest.fail("the list is not compact JSON as before: at byte %d got %r, want %r"
                    % (i, r.content[max(0, i - 60):i + 60], want[max(0, i - 60):i + 60]))


def check_key_order(objs, order, what):
    for i, o in enumerate(objs):
        keys = list(o)
        if keys != [k for k in order if k in o] or not set(keys) <= set(order):
            pytest.fail("%s: row %d has keys %s (the order is %s)" % (what, i, keys, order))


def check_sample_against_get(b, objs, one_path, what, extra=()):
    """A sample spread over the list (the first and the last included), plus the rows of
    extra indexes: each is exactly what GET of its id answers (same bytes)."""
    for i in sorted(set(spread(len(objs))) | set(extra)):
        o = objs[i]
        r = b.d.get(one_path(o["id"]), b.jwt())
        single = ok_json(r)
        assert o == single, "%s: row %d is not what GET of its id answers:\n%s\n%s" % (
            what, i, o, single)
        assert list(o) == list(single), "%s: row %d's keys are in another order" % (what, i)
        assert json.dumps(o, separators=(",", ":"), ensure_ascii=False).encode() == r.content, \
            "%s: row %d: other bytes than GET of its id" % (what, i)


def check_mgmt_rows(objs, rows, at_ms, what):
    same_seq(ids(objs), [r[0] for r in rows], what + " (ids, in order)")
    for i, (o, r) in enumerate(zip(objs, rows)):
        want = {"id": r[0], "accountId": ACCOUNT_A, "description": r[1], "tokenPrefix": r[2],
                "status": mgmt_status(r, at_ms), "createdAt": ms_rfc3339(int(r[3]))}
        if r[4]:
            want["expiresAt"] = ms_rfc3339(int(r[4]))
        if r[5]:
            want["revokedAt"] = ms_rfc3339(int(r[5]))
        got = {k: o.get(k) for k in want}
        if got != want or ("expiresAt" in o) != bool(r[4]) or ("revokedAt" in o) != bool(r[5]):
            pytest.fail("%s: row %d is %s, the store says %s" % (what, i, o, want))


def check_db_rows(objs, rows, what):
    same_seq(ids(objs), [r[0] for r in rows], what + " (ids, in order)")
    for i, (o, r) in enumerate(zip(objs, rows)):
        want = {"id": r[0], "accountId": ACCOUNT_A, "clusterId": CLUSTER_A, "description": r[1],
                "createdAt": ms_rfc3339(int(r[2]))}
        if r[3]:
            want["revokedAt"] = ms_rfc3339(int(r[3]))
        got = {k: o.get(k) for k in want}
        if got != want or ("revokedAt" in o) != bool(r[3]) or not isinstance(o.get("permissions"), list):
            pytest.fail("%s: row %d is %s, the store says %s" % (what, i, o, want))


def assert_streamed(r, what):
    te = r.headers.get("Transfer-Encoding", "")
    assert te.lower() == "chunked" and "Content-Length" not in r.headers, \
        "%s is not chunked: headers %s" % (what, dict(r.headers))


def assert_sized(r, what):
    assert r.headers.get("Content-Length") == str(len(r.content)) and \
        "Transfer-Encoding" not in r.headers, "%s has no Content-Length: headers %s" % (
            what, dict(r.headers))


# ---------------------------------------------------------------------------
# 1. A whole list: whole, in today's format and order

def test_whole_management_list_is_whole_and_in_todays_format(big):
    d = big.d
    rows = store_mgmt(d)
    assert len(rows) > N
    r, objs = get_list(big, tokens_path())
    at = now_ms()
    assert_json_ct(r)
    assert_streamed(r, "the whole management-token list")
    assert len(objs) == store_count(d, "SELECT count(*) FROM management_tokens WHERE "
                                       "account_id = '%s'" % ACCOUNT_A)
    check_mgmt_rows(objs, rows, at, "the management-token list")
    check_key_order(objs, MGMT_KEYS, "the management-token list")
    assert_compact(r, objs)
    # the ties come in insertion order, right after the bulk row they tie with
    tie_at = ids(objs).index(big.tie_mgmt[0])
    assert objs[tie_at - 1]["description"] == "bulk token %06d" % TIE_AFTER
    assert ids(objs)[tie_at:tie_at + TIES] == big.tie_mgmt
    check_sample_against_get(big, objs, lambda i: tokens_path(token_id=i),
                             "the management-token list", extra=range(tie_at, tie_at + TIES))

    # the status filter, on the streamed list
    for status in ("revoked", "expired"):  # active: with search, below
        want = [row for row in rows if mgmt_status(row, at) == status]
        r, got = get_list(big, tokens_path(), {"status": status})
        assert all(o["status"] == status for o in got), status
        same_seq(ids(got), [row[0] for row in want], "status=%s" % status)
        if status == "revoked":
            assert len(got) == store_count(d, "SELECT count(*) FROM management_tokens WHERE "
                                              "account_id = '%s' AND revoked_at IS NOT NULL"
                                           % ACCOUNT_A)
        if len(got) > 200:
            assert_streamed(r, "status=%s" % status)

    r = d.get(tokens_path(ACCOUNT_B), d.jwt("admin_b"))
    short = ok_json(r)
    assert ids(short) == big.short_mgmt
    assert_sized(r, "a 2-row management-token list")


def test_whole_database_token_list_is_whole_and_in_todays_format(big):
    d = big.d
    rows = store_db(d)
    r, objs = get_list(big, db_tokens_path(), {"includeRevoked": "true"})
    assert_json_ct(r)
    assert_streamed(r, "the whole database-token list")
    assert len(objs) == store_count(d, "SELECT count(*) FROM database_tokens WHERE "
                                       "cluster_id = '%s'" % CLUSTER_A) > N
    check_db_rows(objs, rows, "the database-token list")
    check_key_order(objs, DB_KEYS, "the database-token list")
    assert_compact(r, objs)
    tie_at = ids(objs).index(big.tie_db[0])
    assert objs[tie_at - 1]["description"] == "bulk token %06d" % TIE_AFTER
    assert ids(objs)[tie_at:tie_at + TIES] == big.tie_db
    check_sample_against_get(big, objs, lambda i: db_tokens_path(token_id=i),
                             "the database-token list", extra=range(tie_at, tie_at + TIES))

    # revoked ones are left out by default, also on the streamed list
    r, live = get_list(big, db_tokens_path())
    assert_streamed(r, "the live database-token list")
    same_seq(ids(live), [row[0] for row in rows if not row[3]], "includeRevoked=false")
    assert len(live) == store_count(d, "SELECT count(*) FROM database_tokens WHERE cluster_id "
                                       "= '%s' AND revoked_at IS NULL" % CLUSTER_A)

    r = d.get(db_tokens_path(ACCOUNT_B), d.jwt("admin_b"))
    assert ids(ok_json(r)) == big.short_db
    assert_sized(r, "a 2-row database-token list")


# ---------------------------------------------------------------------------
# 2. Memory

def vm_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


def reset_peak(pid):
    """VmHWM becomes the current resident size (Linux 4.0+)."""
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")
    return vm_kib(pid, "VmHWM")


def stream_to_nothing(b, path, params):
    n = 0
    with requests.get(b.d.url(path), headers=b.auth(), params=params, stream=True,
                      timeout=LIST_TIMEOUT) as r:
        assert_status(r, 200)
        for chunk in r.iter_content(1 << 20):
            n += len(chunk)
    return n


def test_memory_of_a_whole_list_is_bounded(big):
    if WRAPPER or SANITIZED:
        pytest.skip("an instrumented daemon's memory is not its own")
    d = big.d
    pid = d.proc.pid
    for path, params in ((tokens_path(), None), (db_tokens_path(), {"includeRevoked": "true"})):
        before = reset_peak(pid)
        size = stream_to_nothing(big, path, params)
        grown = vm_kib(pid, "VmHWM") - before
        print("%s: answer %.1f MB, daemon peak RSS +%d KiB" % (path, size / 1e6, grown))
        assert size > 20e6
        assert grown < MEMORY_BOUND_KIB, (
            "the daemon's peak resident memory grew by %d KiB during one list of %.1f MB "
            "(bound %d KiB)" % (grown, size / 1e6, MEMORY_BOUND_KIB))

    # a reader that stops: the daemon must not run ahead of it into memory (the longer
    # list: 27 MB, more than the bound)
    before = reset_peak(pid)
    raw = RawGet(d, db_tokens_path() + "?includeRevoked=true", big.jwt())
    try:
        raw.read_head()
        time.sleep(2.0)
        grown = vm_kib(pid, "VmHWM") - before
        body, complete = dechunk(raw.read_to_end())
    finally:
        raw.close()
    print("stalled reader: daemon peak RSS +%d KiB" % grown)
    assert complete and len(json.loads(body)) > N
    assert grown < MEMORY_BOUND_KIB, (
        "the daemon's peak resident memory grew by %d KiB while a reader stalled" % grown)


# ---------------------------------------------------------------------------
# 3. Paging

def walk(b, path, params, limit):
    """Follows Link rel=next from the first page; returns (rows, pages). Every Link is
    checked: the request's path, the same filters, the same limit, an after."""
    pages = 0
    rows = []
    r = b.d.get(path, b.jwt(), params=dict(params, limit=limit))
    while True:
        page = ok_json(r)
        pages += 1
        assert isinstance(page, list) and len(page) <= limit, describe_page(r, limit)
        rows += page
        link = r.headers.get("Link")
        if link is None:
            return rows, pages
        m = LINK_NEXT.fullmatch(link)
        assert m, "Link %r is not <PATH?...>; rel=\"next\"" % link
        target = m.group(1)
        assert target.startswith(path + "?"), "Link %r does not name the path %s" % (link, path)
        assert not re.search(r"[\s\"<>\\^`{|}]|[^\x21-\x7e]", target), \
            "the Link's URL holds characters a URL cannot: %r" % target
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query, keep_blank_values=True)
        for k, v in params.items():
            assert q.get(k) == [v], "the Link %r lost the filter %s=%r" % (link, k, v)
        assert q.get("limit") == [str(limit)], "the Link %r changed the limit" % link
        assert len(q.get("after", [])) == 1 and q["after"][0], "no after in the Link %r" % link
        assert set(q) == set(params) | {"limit", "after"}, "Link %r: %s" % (link, sorted(q))
        assert page, "an empty page with a Link: %s" % link
        assert pages < 1000, "more than 1000 pages"
        r = b.d.get(target, b.jwt())


def describe_page(r, limit):
    return "page of %s (limit %d): %.300s" % (r.request.path_url, limit, r.text)


@pytest.mark.parametrize("kind,params", [
    ("mgmt", {}),
    ("mgmt", {"status": "revoked"}),
    ("mgmt", {"search": "bulk token 01"}),
    ("db", {"includeRevoked": "true"}),
    ("db", {"search": "BULK TOKEN 02"}),
    ("db", {"includeRevoked": "true", "search": "BULK TOKEN 02"}),
])
def test_pages_make_the_whole_list(big, kind, params):
    path = tokens_path() if kind == "mgmt" else db_tokens_path()
    t = time.monotonic()
    rows, pages = walk(big, path, params, PAGE)
    walked = time.monotonic() - t
    _r, whole = get_list(big, path, params)
    print("%s %s: %d pages of %d in %.1f s" % (kind, params, pages, PAGE, walked))
    assert len(whole) > 1000
    same_seq(ids(rows), ids(whole), "the pages of %s %s" % (kind, params))
    assert rows == whole, "the pages' objects differ from the whole list's"
    assert pages == -(-len(whole) // PAGE), "%d pages for %d rows" % (pages, len(whole))
    if len(whole) > N:  # every row: the ties sit across the boundary after row 49999
        tie_ids = big.tie_mgmt if kind == "mgmt" else big.tie_db
        at = ids(rows).index(tie_ids[0])
        assert at < 50_000 < at + TIES, "the ties do not straddle a page boundary (at %d)" % at
        assert ids(rows)[at:at + TIES] == tie_ids


def test_after_without_limit_is_the_rest(big):
    r = big.d.get(tokens_path(), big.jwt(), params={"limit": PAGE})
    first = ok_json(r)
    target = LINK_NEXT.fullmatch(r.headers["Link"]).group(1)
    after = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)["after"][0]
    r, rest = get_list(big, tokens_path(), {"after": after})
    assert "Link" not in r.headers
    _r, whole = get_list(big, tokens_path())
    same_seq(ids(first + rest), ids(whole), "a page, then after= without limit")


@pytest.mark.parametrize("kind", ["mgmt", "db"])
@pytest.mark.parametrize("limit,want", [(1, TIES), (3, 4), (5, 2), (TIES, 1), (1000, 1)])
def test_pages_through_rows_sharing_a_created_at(big, kind, limit, want):
    """The ten tie rows share one createdAt: a cursor of createdAt alone would skip or
    repeat them. A last page that is full has no Link (no rows follow)."""
    path = tokens_path() if kind == "mgmt" else db_tokens_path()
    rows, pages = walk(big, path, {"search": "TIE TOKEN"}, limit)
    assert ids(rows) == (big.tie_mgmt if kind == "mgmt" else big.tie_db)
    assert pages == want


def test_filters_that_need_escaping_survive_the_link(big):
    rows, pages = walk(big, tokens_path(), {"search": ODD, "status": "active"}, 1)
    assert [o["description"] for o in rows] == [ODD + " 1", ODD + " 2", ODD + " 3"]
    assert pages == 3


def test_the_link_names_the_list_by_its_ids(big):
    """The account id percent-encoded (the same id): the Link names the list by its ids,
    as docs/api.md says, never echoing the path a client sent."""
    sent = tokens_path().replace("/accounts/1", "/accounts/%31", 1)
    assert sent != tokens_path()
    c = http.client.HTTPConnection("127.0.0.1", big.d.port, timeout=HTTP_TIMEOUT)
    try:
        c.request("GET", sent + "?limit=2", headers=big.auth())
        r = c.getresponse()
        body = json.loads(r.read())
        link = r.getheader("Link") or ""
    finally:
        c.close()
    assert r.status == 200 and len(body) == 2
    m = LINK_NEXT.fullmatch(link)
    assert m and m.group(1).startswith(tokens_path() + "?"), \
        "Link %r for the path %s" % (link, sent)


@pytest.mark.parametrize("kind", ["mgmt", "db"])
def test_an_empty_search_is_no_search(big, kind):
    """docs/api.md: an empty search (a cleared search box) narrows nothing."""
    path = tokens_path() if kind == "mgmt" else db_tokens_path()
    plain = ok_json(big.d.get(path, big.jwt(), params={"limit": 5}))
    assert ok_json(big.d.get(path, big.jwt(), params={"limit": 5, "search": ""})) == plain


BAD = [
    ("limit", "0"), ("limit", "1001"), ("limit", "abc"), ("limit", "-1"), ("limit", ""),
    ("limit", "1.5"), ("limit", "5x"), ("limit", "99999999999999999999"),
    ("after", "garbage"), ("after", ""), ("after", "!!!!"), ("after", "x" * 3000),
    ("search", "a" * 257), ("search", "é" * 129),
]


@pytest.mark.parametrize("kind", ["mgmt", "db"])
@pytest.mark.parametrize("name,value", BAD, ids=["%s=%.12s" % b for b in BAD])
def test_bad_parameters_are_400(big, kind, name, value):
    path = tokens_path() if kind == "mgmt" else db_tokens_path()
    r = big.d.get(path, big.jwt(), params={name: value}, timeout=LIST_TIMEOUT)
    assert_error(r, 400)


ODD_VALUES = [("after", v) for v in ("1.", ".1", "1..2", "1.2.3", "-1.-1", "0x10.1", " 1.2",
                                       "1.2 ", "1,2", "99999999999999999999999.1",
                                       "1.99999999999999999999999", "\u00e9.1")] + \
    [("search", "\udcff"), ("search", "a\u0301"), ("limit", "+5"), ("limit", "05")]


@pytest.mark.parametrize("kind", ["mgmt", "db"])
def test_odd_parameters_are_answered_sanely(big, kind):
    """Cursors no Link gave, odd bytes and numbers: a 400 error or a list, never
    anything else (a 500, a dropped connection, a list that is not JSON)."""
    path = tokens_path() if kind == "mgmt" else db_tokens_path()
    for name, value in ODD_VALUES:
        raw = value.encode("utf-8", "surrogateescape")
        url = "%s?%s=%s" % (path, name, urllib.parse.quote_from_bytes(raw, safe=""))
        r = big.d.get(url, big.jwt(), timeout=LIST_TIMEOUT)
        if r.status_code == 400:
            assert_error(r, 400)
        else:
            assert r.status_code == 200 and isinstance(r.json(), list), \
                "%s=%r: %d %.200s" % (name, value, r.status_code, r.text)
        print("%s %s=%r -> %d" % (kind, name, value, r.status_code))


@pytest.mark.parametrize("kind", ["mgmt", "db"])
@pytest.mark.parametrize("params", [{"limit": "1"}, {"limit": "1000"}, {"search": "a" * 256},
                                    {"search": "é" * 128}, {"limit": "1", "search": "x"}])
def test_good_parameters_at_their_bounds(big, kind, params):
    path = tokens_path() if kind == "mgmt" else db_tokens_path()
    assert isinstance(ok_json(big.d.get(path, big.jwt(), params=params)), list)


ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def matches(text, description, prefix=None):
    hit = text.translate(ASCII_LOWER) in description.translate(ASCII_LOWER)
    return hit or (prefix is not None and prefix.startswith(text))


MGMT_SEARCHES = [
    ("BULK TOKEN 04242", 10), ("Bulk Token 099998", 1), ("NIGHTLY Export", None),
    ("M.V1.AJf", 64), ("M.V1.Tie", TIES),
    ("V1.AJf", 0),          # in a prefix, not at its start
    ("m.v1.ajf", 0),        # a prefix matches in its exact case only
    ("M.V1._", 0), ("%", 4), ("_", 1), ("\\", 1), ("done_ok \\", 1),  # no wildcards
    ("CAFé", 1), ("café CRÈME", 0), ("CAFÉ", 0),  # ASCII letters only fold
    ("no token has this", 0),
]
DB_SEARCHES = [("BULK TOKEN 04242", 10), ("tie TOKEN", TIES), ("M.V1.", 0), ("%", 1),
               ("_db", 1), ("CAFé", 1), ("CAFÉ", 0), ("NIGHTLY", None)]


def run_searches(b, path, searches, rows, match, filters, what):
    """Each search alone and with each filter: the ids the store says, in order (a row
    matches when its description holds the text, ASCII letters folded, or match(text, row)
    says so). Every search is tried; the failures are listed together."""
    failures = []
    rows = [(r, r[1].translate(ASCII_LOWER)) for r in rows]
    for text, count in searches:
        folded = text.translate(ASCII_LOWER)
        every = [r for r, desc in rows if folded in desc or match(text, r)]
        if count is not None:
            assert len(every) == count, "the test's own expectation for %r is off: %d rows" % (
                text, len(every))
        for params, keep in filters:
            want = [r[0] for r in every if keep(r)]
            q = dict(params, search=text)
            t = time.monotonic()
            got = ids(ok_json(b.d.get(path, b.jwt(), params=q, timeout=LIST_TIMEOUT)))
            print("%s search %s: %d rows in %.0f ms" % (what, q, len(got),
                                                         (time.monotonic() - t) * 1000))
            if got != want:
                failures.append("%s: %d rows %s, want %d rows %s" % (
                    q, len(got), got[:3], len(want), want[:3]))
    assert not failures, "%s searches answered other rows:\n%s" % (what, "\n".join(failures))


def test_search_management_tokens(big):
    d = big.d
    rows = store_mgmt(d)
    at = now_ms()
    run_searches(big, tokens_path(), MGMT_SEARCHES, rows,
                 lambda text, r: r[2].startswith(text),  # besides the description
                 [({}, lambda r: True),
                  ({"status": "active"}, lambda r: mgmt_status(r, at) == "active")],
                 "management-token")


def test_search_database_tokens(big):
    rows = store_db(big.d)
    run_searches(big, db_tokens_path(), DB_SEARCHES, rows,
                 lambda text, r: False,  # the description only
                 [({"includeRevoked": "true"}, lambda r: True), ({}, lambda r: not r[3])],
                 "database-token")


def test_search_finds_a_token_by_its_own_prefix(big):
    d = big.d
    tok = d.create_token("found by prefix")
    got = ok_json(d.get(tokens_path(), big.jwt(), params={"search": tok["tokenPrefix"]}))
    assert tok["id"] in ids(got)
    rows = store_mgmt(d)
    same_seq(ids(got), [r[0] for r in rows if matches(tok["tokenPrefix"], r[1], r[2])],
             "search by a prefix")


@pytest.mark.postgres_only
def test_search_folds_ascii_only_under_a_unicode_locale(daemon_factory):
    """A database whose LC_CTYPE folds every letter (C.utf8, where lower('É') is 'é'):
    search still folds ASCII letters only, as on SQLite."""
    store = PgStore()
    srv = store.server
    d = None
    try:
        srv.drop_database(store.name)
        srv.psql("CREATE DATABASE \"%s\" TEMPLATE template0 LC_COLLATE 'C.utf8' "
                 "LC_CTYPE 'C.utf8'" % store.name)
        assert srv.psql(r"SELECT lower(U&'CAF\00C9') = U&'caf\00E9'", db=store.name).strip() \
            == "t", "C.utf8 does not fold É here: this test would prove nothing"
        d = daemon_factory(pg_store=store)
        mine = d.create_token("Café crème")["id"]
        db_mine = d.create_db_token(description="Café crème")["id"]
        jwt = d.jwt("admin")
        for path, want in ((tokens_path(), mine), (db_tokens_path(), db_mine)):
            for text, hit in (("CAFé", True), ("café", True), ("CAFÉ", False),
                              ("café CRÈME", False), ("CAFé CRèME", True)):
                got = ids(ok_json(d.get(path, jwt, params={"search": text})))
                assert got == ([want] if hit else []), "search=%r on %s: %s" % (text, path, got)
    finally:
        if d is not None and d.proc is not None:
            d.stop_ok()
        store.drop()


# ---------------------------------------------------------------------------
# Raw HTTP, for readers that stop

class RawGet:
    """A GET on a socket of its own that the test reads when it wants to (small receive
    buffer: what the reader does not take stays in the daemon)."""

    def __init__(self, d, path, token, rcvbuf=64 * 1024):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(60)
        self.sock.connect(("127.0.0.1", d.port))
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                           "Connection: close\r\n\r\n" % (path, d.port, token)).encode())
        self.buf = b""
        self.status = None
        self.headers = {}

    def _recv(self):
        data = self.sock.recv(1 << 16)
        self.buf += data
        return data

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            assert self._recv(), "the connection closed before the headers: %r" % self.buf
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in
                        (line.split(":", 1) for line in lines[1:])}
        assert self.status == 200, head
        assert self.headers.get("transfer-encoding", "").lower() == "chunked", head
        while len(self.buf) < 1000:
            assert self._recv(), "the connection closed early"
        return self.headers

    def read_to_end(self):
        while self._recv():
            pass
        return self.buf

    def close(self):
        self.sock.close()


def dechunk(data):
    """(body, complete): complete when the last chunk (size 0) and the final CRLF came."""
    out = []
    pos = 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return b"".join(out), False
        size = int(data[pos:eol].split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            return b"".join(out), data[pos:pos + 2] == b"\r\n"
        if len(data) < pos + size + 2:
            return b"".join(out), False
        out.append(data[pos:pos + size])
        assert data[pos + size:pos + size + 2] == b"\r\n", "bad chunk framing at %d" % pos
        pos += size + 2


# ---------------------------------------------------------------------------
# 4. A reader that stops holds nothing

def pg_backends(d):
    return [r for r in store_rows(d, "SELECT pid, state, backend_xmin, xact_start, "
                                     "left(query, 80) FROM pg_stat_activity WHERE datname = "
                                     "current_database() AND pid <> pg_backend_pid() AND "
                                     "backend_type = 'client backend'")]


def test_a_stalled_reader_holds_nothing(big):
    d = big.d
    before = store_mgmt(d)
    early = next(r[0] for r in before[:50] if not r[5])  # surely sent before it stalls
    late = next(r[0] for r in before[-200:-100] if not r[5])  # surely not read yet
    raw = RawGet(d, tokens_path(), big.jwt())
    created = []
    try:
        raw.read_head()
        time.sleep(0.5)  # the daemon fills what the socket takes, then waits
        t = time.monotonic()
        stall_started = t

        assert ok_json(d.get("/health")) == {"status": "ok"}
        h_ms = (time.monotonic() - t) * 1000
        t = time.monotonic()
        r = d.get(tokens_path(token_id=early), big.mgmt_token)
        assert ok_json(r)["id"] == early
        g_ms = (time.monotonic() - t) * 1000
        t = time.monotonic()
        assert_no_content(d.authorize(big.db_token, DATABASE, "read"))
        assert_status(d.authorize(big.db_token, DATABASE, "write"), 403)
        a_ms = (time.monotonic() - t) * 1000
        t = time.monotonic()
        for i in range(3):
            created.append(d.create_token("created while a list stalls %d" % i)["id"])
        c_ms = (time.monotonic() - t) * 1000
        assert_no_content(d.delete(tokens_path(token_id=early), big.jwt()))
        assert_no_content(d.delete(tokens_path(token_id=late), big.jwt()))
        print("while a list stalls: /health %.1f ms, GET %.1f ms, 2 authorize %.1f ms, "
              "3 creates %.1f ms" % (h_ms, g_ms, a_ms, c_ms))

        if d.pg_store is None:
            db = d.data_dir / "mgmtd.db"
            con = sqlite3.connect(str(db), timeout=3, isolation_level=None)
            try:
                busy, log, done = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                con.close()
            wal = Path(str(db) + "-wal")
            print("wal_checkpoint(TRUNCATE): busy=%d log=%d checkpointed=%d; -wal now %d bytes"
                  % (busy, log, done, wal.stat().st_size if wal.exists() else -1))
            assert busy == 0, "a checkpoint is blocked while a list stalls (a read is pinned)"
        else:
            for _ in range(5):
                rows = pg_backends(d)
                bad = [r for r in rows if r[1].startswith("idle in transaction") or r[2]]
                assert not bad, ("while a list stalls, mgmtd backends hold a transaction or "
                                 "an xmin: %s" % bad)
                time.sleep(0.2)
            print("pg_stat_activity while a list stalls: %s" % rows)
        while time.monotonic() - stall_started < 3.0:
            time.sleep(0.1)
        body, complete = dechunk(raw.read_to_end())
    finally:
        raw.close()
    assert complete, "the stalled list did not end with its last chunk"
    objs = json.loads(body)
    # every row once, in order; the ones created while it streamed at its end
    same_seq(ids(objs), [r[0] for r in before] + created, "the list after the stall")
    by_id = {o["id"]: o for o in objs}
    assert by_id[early]["status"] != "revoked", "a row sent before its revocation changed"
    assert by_id[late]["status"] == "revoked" and "revokedAt" in by_id[late], (
        "a row read after its revocation shows it as it was before: %s" % by_id[late])


# ---------------------------------------------------------------------------
# 6. Four lists in flight and the data-plane check

def test_four_lists_in_flight_while_authorize_answers(big):
    d = big.d
    want = [r[0] for r in store_mgmt(d)]
    started = [threading.Event() for _ in range(4)]
    done = threading.Event()
    results = [None] * 4

    def reader(k):
        try:
            with requests.get(d.url(tokens_path()), headers=big.auth(), stream=True,
                              timeout=LIST_TIMEOUT) as r:
                buf = bytearray()
                for chunk in r.iter_content(16384):
                    buf += chunk
                    started[k].set()
                    if not done.is_set():
                        done.wait(0.05)  # slowly while the checks run (~320 KB/s)
                results[k] = (r.status_code, bytes(buf), done.is_set())
        except Exception as e:  # noqa: BLE001 (reported below)
            results[k] = e
        finally:
            started[k].set()

    threads = [threading.Thread(target=reader, args=(k,), daemon=True) for k in range(4)]
    for t in threads:
        t.start()
    for e in started:
        assert e.wait(HTTP_TIMEOUT * 3), "a list never started"
    s = requests.Session()
    lat = []
    answers = []
    try:
        for i in range(200):
            action = "read" if i % 2 == 0 else "write"
            t = time.monotonic()
            r = s.get(d.url(authorize_path()), params={"database": DATABASE, "action": action},
                      headers={"Authorization": "Bearer " + big.db_token}, timeout=HTTP_TIMEOUT)
            lat.append((time.monotonic() - t) * 1000)
            answers.append((action, r.status_code, r.content))
        in_flight = [t.is_alive() for t in threads]
    finally:
        done.set()
        s.close()
        for t in threads:
            t.join(timeout=120)
    lat.sort()
    print("authorize x200 beside 4 whole lists: p50 %.2f ms, p99 %.2f ms, max %.2f ms" % (
        statistics.median(lat), lat[int(len(lat) * 0.99) - 1], lat[-1]))
    for action, status, content in answers:
        if action == "read":
            assert (status, content) == (204, b""), (action, status, content)
        else:
            assert status == 403, (action, status, content)
    assert all(in_flight), "a list had ended before the checks did: %s" % in_flight
    for k, res in enumerate(results):
        assert not isinstance(res, Exception), "list %d: %r" % (k, res)
        status, body, _ = res
        assert status == 200
        same_seq(ids(json.loads(body)), want, "list %d read beside the checks" % k)


# ---------------------------------------------------------------------------
# 5. A store failure after the first byte is an error (last: it breaks the store a while)

LOCKER = r"""
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
deadline = time.monotonic() + 10
while True:
    try:
        # WAL_READ_LOCK(0..4) of SQLite's unix WAL index: bytes 123..127 of the -shm
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 5, 123, os.SEEK_SET)
        break
    except OSError:
        if time.monotonic() > deadline:
            print("busy", flush=True)
            sys.exit(3)
        time.sleep(0.005)
print("locked", flush=True)
sys.stdin.read()
"""


class StoreFailure:
    """Makes d's store fail for every read until end()."""

    def __init__(self, d):
        self.d = d
        self.proc = None

    def begin(self):
        d = self.d
        if d.pg_store is None:
            self.proc = subprocess.Popen([sys.executable, "-c", LOCKER,
                                          str(d.data_dir / "mgmtd.db") + "-shm"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            line = self.proc.stdout.readline().strip()
            assert line == "locked", ("could not take the WAL index's read marks within 10 s "
                                      "(a reader of mgmtd holds one): %r" % line)
        else:
            srv, name = d.pg_store.server, d.pg_store.name
            srv.psql('ALTER DATABASE "%s" ALLOW_CONNECTIONS false' % name)
            self.proc = True
            n = srv.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                         "datname = '%s' AND pid <> pg_backend_pid()" % name)
            print("terminated %s backends of mgmtd" % n.strip())

    def end(self):
        if self.proc is None:
            return
        if self.d.pg_store is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        else:
            self.d.pg_store.server.psql('ALTER DATABASE "%s" ALLOW_CONNECTIONS true'
                                        % self.d.pg_store.name)
        self.proc = None


def broken_off(e):
    """A ChunkedEncodingError or ConnectionError that is not a read timeout."""
    return (isinstance(e, (requests.exceptions.ChunkedEncodingError,
                           requests.exceptions.ConnectionError))
            and "timed out" not in str(e).lower() and "timeout" not in type(e).__name__.lower())


def test_store_failure_after_the_first_byte_is_an_error(big, tmp_path):
    d = big.d
    url = d.url(tokens_path())
    head = tmp_path / "curl-headers"
    fail = StoreFailure(d)
    curl = subprocess.Popen(["curl", "-sS", "-o", "/dev/null", "-D", str(head), "--limit-rate",
                             "1M", "-H", "Authorization: Bearer " + big.jwt(), url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    got = 0
    error = None
    r = None
    try:
        r = requests.get(url, headers=big.auth(), stream=True, timeout=LIST_TIMEOUT)
        assert_status(r, 200)
        chunks = r.iter_content(1 << 16)
        got = len(next(chunks))
        wait_for(lambda: head.exists() and b"\r\n\r\n" in head.read_bytes(), HTTP_TIMEOUT,
                 "curl to receive the headers", d)
        assert b" 200" in head.read_bytes().split(b"\r\n")[0]
        time.sleep(0.3)  # both readers are mid-list; requests has stopped reading
        t = time.monotonic()
        fail.begin()
        try:
            for chunk in chunks:
                got += len(chunk)
        except Exception as e:  # noqa: BLE001 (checked below)
            error = e
        try:
            out, err = curl.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail("curl neither failed nor finished within 120 s of the store failing")
        print("after the store failed: requests %r after %d bytes, curl exit %d (%s), %.1f s"
              % (error, got, curl.returncode, err.strip(), time.monotonic() - t))
    finally:
        fail.end()
        if r is not None:
            r.close()
        if curl.poll() is None:
            curl.kill()
            curl.wait()
    assert error is not None, ("requests read the list to its end (%d bytes) although the "
                               "store failed in the middle" % got)
    assert broken_off(error), "requests raised %r, not ChunkedEncodingError" % error
    assert curl.returncode == 18, "curl exit %d, not 18 (partial file): %s" % (
        curl.returncode, err)
    # the daemon serves again once the store does
    wait_for(lambda: d.get("/ready").status_code == 200, 30, "/ready after the store came back", d)
    assert len(ok_json(d.get(tokens_path(), big.jwt(), params={"limit": 5}))) == 5


@pytest.mark.postgres_only
def test_backends_terminated_mid_list_give_the_list_whole_or_an_error(big):
    """Only the backends are terminated (new connections are allowed): mgmtd may go on
    with a new connection or fail, but never answer a wrong list."""
    d = big.d
    want = [r[0] for r in store_mgmt(d)]
    buf = bytearray()
    error = None
    with requests.get(d.url(tokens_path()), headers=big.auth(), stream=True,
                      timeout=LIST_TIMEOUT) as r:
        chunks = r.iter_content(1 << 16)
        buf += next(chunks)
        time.sleep(0.3)
        d.pg_store.server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                               "datname = '%s' AND pid <> pg_backend_pid()" % d.pg_store.name)
        try:
            for chunk in chunks:
                buf += chunk
        except Exception as e:  # noqa: BLE001 (checked below)
            error = e
    print("backends terminated mid-list: %s" % (repr(error) if error else "the list went on"))
    if error is not None:
        assert broken_off(error), repr(error)
    else:
        same_seq(ids(json.loads(bytes(buf))), want, "the list across terminated backends")
    wait_for(lambda: d.get("/ready").status_code == 200, 30, "/ready", d)


# ---------------------------------------------------------------------------
# PostgreSQL: custom plans on mgmtd's connections

@pytest.mark.postgres_only
def test_postgres_connections_force_custom_plans(daemon_factory):
    """The database's default is force_generic_plan and auto_explain logs every plan of
    mgmtd's sessions: the list statements' plans must hold the values (custom plans), not
    $1 (generic ones)."""
    d = daemon_factory()
    for i in range(3):
        d.create_token("planned %d" % i)
    d.stop_ok()
    srv, name = d.pg_store.server, d.pg_store.name
    for setting in ("plan_cache_mode = force_generic_plan",
                    "session_preload_libraries = 'auto_explain'",
                    "auto_explain.log_min_duration = 0"):
        srv.psql('ALTER DATABASE "%s" SET %s' % (name, setting))
    offset = os.path.getsize(srv.log)
    d.start(use_seed=False)
    jwt = d.jwt("admin")
    for _ in range(3):
        for params in ({}, {"limit": 2}, {"search": "planned"}, {"status": "active", "limit": 1}):
            ok_json(d.get(tokens_path(), jwt, params=params))
        ok_json(d.get(db_tokens_path(), jwt, params={"limit": 1}))
    with open(srv.log, errors="replace") as f:
        f.seek(offset)
        log = f.read()
    entries = re.split(r"\n(?=\d{4}-\d\d-\d\d )", log)
    plans = [e for e in entries if "plan:" in e and re.search(r"management_tokens|database_tokens", e)]
    assert plans, "auto_explain logged no plan of a token list:\n%s" % log[-3000:]
    assert any(re.search(r"(Cond|Filter):", e) for e in plans), "no condition in the plans"
    generic = [e for e in plans
               if any(re.search(r"\$\d", line) for line in e.splitlines()
                      if re.search(r"(Cond|Filter):", line))]
    print("%d plans of token statements logged, %d generic" % (len(plans), len(generic)))
    assert not generic, "generic plans on mgmtd's connections:\n%s" % "\n".join(generic[:3])
