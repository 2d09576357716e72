"""The scale section of make bench (tests/bench/run): mgmtd with many tokens.

For N in --scale-sizes (default 1 000, 10 000, 100 000) management tokens and as many
database tokens in the bench account and its cluster (tests/tools/manytokens.py's SQL,
written while mgmtd is stopped, into a fresh store for each N), on SQLite and, unless
--no-postgres, on a PostgreSQL server of the section's own:
  - the time of a whole list (management tokens; the cluster's database tokens with
    includeRevoked=true), median of 3, against the store's own JSON dump of the same rows
    (sqlite3 -json / psql json_agg) in the same run: target <= 2x; on PostgreSQL also one
    whole list right after the fill, before any ANALYZE (autovacuum off on the token tables
    until the ANALYZE that follows it);
  - at the largest N: the resident memory one whole list adds (VmHWM reset through
    /proc/PID/clear_refs): target < 16 MiB; /authorize p50 and p99 from one client thread
    with 4 and with 16 whole database-token lists in flight: target p99 < 10 ms with 4;
    GET management/tokens/{id} and /authorize requests/s against a store with one token of
    each kind (running beside it, wrk on each in turns): target >= 0.9x;
  - at every N (and the empty store): the create rate (16 connections) and the store's
    bytes per token;
  - PostgreSQL only: the plan check: GET management/tokens/{id} warm on an empty store,
    20 000 tokens added in bulk without ANALYZE (autovacuum off for those tables), the
    rate again against a fresh daemon's (new connections, wrk on each in turns):
    target >= 0.8x.

section(args, bench, mgmtd, tmp, jwks_path, signing_key, seed_path) returns the lines of
the report's "## Scale" section; bench is tests/bench/run's module (its helpers: start_mgmtd,
stop, http, run_wrk, write_config, bench_jwt...). Whatever cannot be measured is a
"not run: <reason>" row; every process started here is stopped before it returns.
"""
import copy
import http.client
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools"))
import manytokens  # noqa: E402  (tests/tools/manytokens.py)
import pgserver  # noqa: E402  (tests/tools/pgserver.py)

DEFAULT_SIZES = (1000, 10000, 100000)
PLAN_CHECK_TOKENS = 20000
LIST_RUNS = 3
UNANALYZED_MAX_S = 20
CREATE_CLIENTS = 16


class NotRun(Exception):
    """A measure that cannot be taken here: its message is the reason."""


def parse_sizes(text):
    sizes = sorted({int(s.replace("_", "")) for s in text.split(",") if s.strip()})
    if not sizes or sizes[0] < 1:
        raise ValueError("--scale-sizes: positive numbers, comma separated")
    return sizes


def fmt(v):
    if v is None:
        return ""
    return "%.0f" % v if abs(v) >= 100 else "%.2f" % v


def count(n):
    return "{:,}".format(n).replace(",", " ")


class Table:
    """One backend's rows: measure | value | reference | ratio | target | met."""

    def __init__(self):
        self.rows = []

    def add(self, measure, value, reference="", ratio=None, target="", met=None):
        self.rows.append("| %s | %s | %s | %s | %s | %s |"
                         % (measure, value, reference, "" if ratio is None else "%.2f" % ratio,
                            target, "" if met is None else ("yes" if met else "**no**")))

    def not_run(self, measure, why, target=""):
        self.rows.append("| %s | not run: %s | | | %s | |"
                         % (measure, str(why).replace("|", "/").replace("\n", " ")[:300],
                            target))

    def lines(self):
        return ["| measure | value | reference | ratio | target | met |",
                "|---|---:|---:|---:|---:|---|"] + self.rows


def attempt(table, measure, fn, target=""):
    """fn() adds its own rows; a failure becomes one not-run row instead."""
    try:
        fn()
    except NotRun as e:
        table.not_run(measure, e, target)
    except SystemExit as e:  # tests/bench/run's helpers exit on a failure
        table.not_run(measure, e.code if e.code is not None else "failed", target)
    except Exception as e:  # noqa: BLE001 - a bench keeps going, the row says why
        table.not_run(measure, "%s: %s" % (type(e).__name__, e), target)


# -- the stores ---------------------------------------------------------------------------

class SqliteBackend:
    name = "SQLite"

    def __init__(self, ctx):
        self.ctx = ctx
        self.config = ctx.bench.write_config(ctx.tmp, "mgmtd-scale.ini", ctx.jwks_path,
                                             ctx.access_log)

    def new_store(self, label):
        data = os.path.join(self.ctx.tmp, "scale-sqlite-%s" % label)
        return dict(label=label, data=data, config=self.config,
                    db=os.path.join(data, "mgmtd.db"))

    def fill(self, store, n):
        manytokens.fill_sqlite(store["db"], n, self.ctx.bench.ACCOUNT, self.ctx.bench.CLUSTER)

    def dump_argv(self, store, sql):
        if shutil.which("sqlite3") is None:
            raise NotRun("the sqlite3 CLI is not installed (Debian package sqlite3)")
        return ["sqlite3", "-json", store["db"], sql]

    def dump_sql(self, table, where):
        return "SELECT * FROM %s WHERE %s" % (table, where)

    def autovacuum(self, store, on):
        pass

    def analyze(self, store):
        pass

    def store_bytes(self, store):
        """(bytes of mgmtd.db + its WAL after a checkpoint, tokens): the daemon stopped."""
        con = sqlite3.connect(store["db"])
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            tokens = con.execute("SELECT (SELECT count(*) FROM management_tokens) + "
                                 "(SELECT count(*) FROM database_tokens)").fetchone()[0]
        finally:
            con.close()
        size = sum(os.path.getsize(p) for p in (store["db"], store["db"] + "-wal")
                   if os.path.exists(p))
        return size, tokens, "mgmtd.db + WAL after a checkpoint"

    def close(self):
        pass


class PostgresBackend:
    name = "PostgreSQL"

    def __init__(self, ctx):
        self.ctx = ctx
        self.srv = pgserver.PgServer().start()

    def new_store(self, label):
        name = "scale_%s" % label
        self.srv.create_database(name)
        store = ("[store]\nbackend = postgres\npostgres_url = %s\ntoken_key_file = %s\n"
                 % (self.srv.url(name), os.path.join(self.ctx.tmp, "scale-pg-token.key")))
        config = self.ctx.bench.write_config(self.ctx.tmp, "mgmtd-scale-pg-%s.ini" % label,
                                             self.ctx.jwks_path, self.ctx.access_log, store)
        return dict(label=label, data=os.path.join(self.ctx.tmp, "scale-pg-data-%s" % label),
                    config=config, dbname=name)

    def psql(self, store, sql):
        return self.srv.psql(sql, db=store["dbname"])

    def fill(self, store, n):
        self.psql(store, manytokens.fill_sql("postgres", n, self.ctx.bench.ACCOUNT,
                                             self.ctx.bench.CLUSTER, int(time.time() * 1000)))

    TOKEN_TABLES = ("management_tokens", "database_tokens", "database_token_permissions")

    def autovacuum(self, store, on):
        self.psql(store, "; ".join("ALTER TABLE %s %s (autovacuum_enabled%s)"
                                   % (t, "RESET" if on else "SET", "" if on else " = off")
                                   for t in self.TOKEN_TABLES))

    def analyze(self, store):
        self.psql(store, "ANALYZE " + ", ".join(self.TOKEN_TABLES))
        self.autovacuum(store, True)

    def dump_argv(self, store, sql):
        # over TCP to 127.0.0.1, as mgmtd reaches it
        return [os.path.join(self.srv.bin, "psql"), "-X", "-Atc", sql,
                self.srv.url(store["dbname"])]

    def dump_sql(self, table, where):
        return "SELECT json_agg(t) FROM %s t WHERE %s" % (table, where)

    def store_bytes(self, store):
        out = self.psql(store, "SELECT (SELECT sum(pg_total_relation_size(c)) FROM unnest("
                        "ARRAY['management_tokens', 'database_tokens', "
                        "'database_token_permissions', 'audit_events']::regclass[]) c), "
                        "(SELECT count(*) FROM management_tokens) + "
                        "(SELECT count(*) FROM database_tokens)").strip()
        size, tokens = out.split("|")
        return int(size), int(tokens), ("pg_total_relation_size of the token tables, "
                                        "their permissions and audit_events")

    def close(self):
        self.srv.remove()


# -- one daemon on one store --------------------------------------------------------------

class Daemon:
    """mgmtd on a store, with a management token and a database token minted over the API."""

    def __init__(self, ctx, store):
        self.ctx = ctx
        bench = ctx.bench
        self.proc, self.port, _argv = bench.start_mgmtd(
            ctx.mgmtd, store["config"], store["data"], ctx.seed_path,
            os.path.join(ctx.tmp, "mgmtd-scale-%s.log" % store["label"]))
        try:
            jwt = bench.bench_jwt(ctx.signing_key)
            self.account = "/api/v0/accounts/%s" % bench.ACCOUNT
            self.cluster = "%s/clusters/%s" % (self.account, bench.CLUSTER)
            status, body = bench.http(self.port, "POST", self.account + "/management/tokens",
                                      {"Authorization": "Bearer " + jwt},
                                      {"description": "scale bench"})
            if status != 200:
                raise NotRun("cannot mint a management token: %d %s" % (status, body[:200]))
            tok = json.loads(body)
            self.mgmt_id, self.mgmt = tok["id"], tok["accessToken"]
            status, body = bench.http(self.port, "POST", self.cluster + "/tokens",
                                      {"Authorization": "Bearer " + jwt},
                                      {"description": "scale reader", "permissions": [
                                          {"action": "read", "resource": "bench"}]})
            if status != 200:
                raise NotRun("cannot mint a database token: %d %s" % (status, body[:200]))
            self.db = json.loads(body)["accessToken"]
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self):
        return self.proc.pid

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def bearer(self, kind="mgmt"):
        return "Bearer " + (self.mgmt if kind == "mgmt" else self.db)

    def auth(self, kind="mgmt"):
        return "Authorization: " + self.bearer(kind)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.ctx.bench.stop(self.proc)
        self.proc = None


def mgmt_list_path(d):
    return d.account + "/management/tokens"


def db_list_path(d):
    return d.cluster + "/tokens?includeRevoked=true"


def authorize_path(d):
    return d.cluster + "/authorize?database=bench&action=read"


def curl_list(d, path, out="/dev/null", headers_file=None, max_time=120):
    """One whole list through curl: (seconds, bytes). Raises on anything but a complete 200."""
    argv = ["curl", "-sS", "-o", out, "-w", "%{http_code} %{size_download} %{time_total}",
            "--max-time", str(max_time), "-H", d.auth()]
    if headers_file:
        argv += ["-D", headers_file]
    res = subprocess.run(argv + [d.url(path)], capture_output=True, text=True,
                         timeout=max_time + 10)
    parts = res.stdout.split()
    if res.returncode == 28:  # --max-time
        return None, 0
    if res.returncode != 0 or not parts or parts[0] != "200":
        raise NotRun("the list answered %s (curl exit %d %s)"
                     % (parts[0] if parts else "nothing", res.returncode, res.stderr.strip()))
    return float(parts[2]), int(parts[1])


def probe_streaming(d, tmp):
    """What the binary does with ?limit=1 and a whole list: a sentence for the report."""
    out = os.path.join(tmp, "scale-probe.json")
    hdr = os.path.join(tmp, "scale-probe.hdr")
    # the cluster's list holds two tokens at least: the seed's and the one minted here
    curl_list(d, db_list_path(d) + "&limit=1", out, hdr)
    with open(out) as f:
        rows = len(json.load(f))
    with open(hdr) as f:
        link = "link:" in f.read().lower()
    return rows == 1 and link


# -- the measures -------------------------------------------------------------------------

def list_rows(ctx, table, backend, store, d, n):
    """Whole-list time against the store's own JSON dump."""
    bench = ctx.bench
    lists = [
        ("GET management/tokens", mgmt_list_path(d), "management_tokens",
         "account_id = '%s'" % bench.ACCOUNT, n + 1),
        ("GET clusters/{id}/tokens?includeRevoked=true", db_list_path(d), "database_tokens",
         "cluster_id = '%s'" % bench.CLUSTER, n + 1),
    ]
    for name, path, tbl, where, expect in lists:
        measure = "%s, %s tokens: whole list, median of %d" % (name, count(n), LIST_RUNS)

        def one(path=path, tbl=tbl, where=where, expect=expect, measure=measure):
            out = os.path.join(ctx.tmp, "scale-list.json")
            hdr = os.path.join(ctx.tmp, "scale-list.hdr")
            curl_list(d, path, out, hdr)  # warms the store's cache; its rows are checked
            with open(out) as f:
                rows = len(json.load(f))
            os.unlink(out)
            with open(hdr) as f:
                chunked = "transfer-encoding: chunked" in f.read().lower()
            if rows < expect:
                raise NotRun("the list has %d rows, %d expected" % (rows, expect))
            runs = [curl_list(d, path) for _ in range(LIST_RUNS)]
            if any(r[0] is None for r in runs):
                raise NotRun("a list took over 120 s")
            t = statistics.median(r[0] for r in runs) * 1000
            size = runs[0][1]
            argv = backend.dump_argv(store, backend.dump_sql(tbl, where))
            dumps = []
            for _ in range(LIST_RUNS):
                t0 = time.monotonic()
                res = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     timeout=300)
                dumps.append((time.monotonic() - t0) * 1000)
                if res.returncode != 0:
                    raise NotRun("%s failed: %s" % (argv[0], res.stderr.decode()[:200]))
            dump = statistics.median(dumps)
            ratio = t / dump
            table.add("%s (%d rows, %.1f MB%s) vs `%s`" %
                      (measure, rows, size / 1e6, ", chunked" if chunked else "",
                       os.path.basename(argv[0]) + (" -json" if argv[0] == "sqlite3" else "")),
                      "%s ms" % fmt(t), "%s ms" % fmt(dump), ratio, "<= 2.0x", ratio <= 2.0)

        attempt(table, measure, one, "<= 2.0x")


def unanalyzed_row(ctx, table, backend, store, d, n):
    """PostgreSQL: one whole list right after the bulk fill, before any ANALYZE (the
    planner's estimates are those of an unknown table), bounded by UNANALYZED_MAX_S."""
    measure = "GET management/tokens, %s tokens, right after the bulk fill, before any " \
              "ANALYZE (autovacuum off on the token tables until then): whole list, once" \
              % count(n)

    def one():
        stats = backend.psql(store, "SELECT reltuples::bigint FROM pg_class WHERE relname = "
                                    "'management_tokens'").strip()
        t, _size = curl_list(d, mgmt_list_path(d), max_time=UNANALYZED_MAX_S)
        note = " (the planner's reltuples: %s)" % stats
        argv = backend.dump_argv(store, backend.dump_sql(
            "management_tokens", "account_id = '%s'" % ctx.bench.ACCOUNT))
        t0 = time.monotonic()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300,
                       check=True)
        dump = (time.monotonic() - t0) * 1000
        if t is None:
            table.add(measure + note + " (curl gave up)", "> %d s" % UNANALYZED_MAX_S,
                      "%s ms" % fmt(dump), UNANALYZED_MAX_S * 1000 / dump, "<= 2.0x", False)
            return
        t *= 1000
        table.add(measure + note, "%s ms" % fmt(t), "%s ms" % fmt(dump), t / dump, "<= 2.0x",
                  t / dump <= 2.0)

    attempt(table, measure, one, "<= 2.0x")


def memory_rows(ctx, table, d, n):
    for name, path in (("GET management/tokens", mgmt_list_path(d)),
                       ("GET clusters/{id}/tokens?includeRevoked=true", db_list_path(d))):
        measure = "resident memory added by one whole %s-token list: %s" % (count(n), name)

        def one(path=path, measure=measure):
            if not os.access("/proc/%d/clear_refs" % d.pid, os.W_OK):
                raise NotRun("cannot reset VmHWM (/proc/PID/clear_refs)")
            since_start = ctx.bench.rss_kib(d.pid, "VmHWM")
            with open("/proc/%d/clear_refs" % d.pid, "w") as f:
                f.write("5")
            before = ctx.bench.rss_kib(d.pid, "VmHWM")
            if curl_list(d, path)[0] is None:
                raise NotRun("the list took over 120 s")
            added = ctx.bench.rss_kib(d.pid, "VmHWM") - before
            table.add(measure + " (VmHWM after - before: %.1f MiB before, its peak since "
                      "start %.1f MiB)" % (before / 1024, since_start / 1024),
                      "%.1f MiB" % (added / 1024), "", None, "< 16 MiB", added < 16 * 1024)

        attempt(table, measure, one, "< 16 MiB")


class ListReaders:
    """k client threads, each reading the whole database-token list through curl at full
    speed and starting again as it finishes, until stop()."""

    def __init__(self, d, k):
        self.d, self.k = d, k
        self.done = self.failed = 0
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.procs = set()
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(k)]

    def loop(self):
        argv = ["curl", "-sS", "-o", "/dev/null", "--max-time", "120", "-H", self.d.auth(),
                self.d.url(db_list_path(self.d))]
        while not self.halt.is_set():
            with self.lock:
                if self.halt.is_set():
                    return
                p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                self.procs.add(p)
            rc = p.wait()
            with self.lock:
                self.procs.discard(p)
                if not self.halt.is_set():
                    if rc == 0:
                        self.done += 1
                    else:
                        self.failed += 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        with self.lock:
            self.halt.set()
            for p in self.procs:
                p.terminate()
        for t in self.threads:
            t.join(timeout=30)
        return False


def authorize_latencies(d, seconds):
    """Sequential GET /authorize from one thread on one keep-alive connection for
    `seconds`: latencies in ms."""
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    headers = {"Authorization": "Bearer " + d.db}
    path = authorize_path(d)
    out = []
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp_body = resp.read()
            out.append((time.perf_counter() - t0) * 1000)
            if resp.status not in (200, 204):
                raise NotRun("/authorize answered %d %s" % (resp.status, resp_body[:200]))
    finally:
        conn.close()
    return out


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def latency_rows(ctx, table, d, n, seconds):
    base = {}

    def idle():
        lat = authorize_latencies(d, seconds)
        base["p50"], base["p99"] = pct(lat, 50), pct(lat, 99)
        table.add("GET /authorize, one client thread, %s tokens, no list in flight (%d requests)"
                  % (count(n), len(lat)), "p50 %s ms, p99 %s ms" % (fmt(base["p50"]),
                                                                   fmt(base["p99"])))

    attempt(table, "GET /authorize, no list in flight", idle)
    for k in (4, 16):
        measure = "GET /authorize p99, one client thread, %d whole %s-token database-token " \
                  "lists in flight" % (k, count(n))
        target = "< 10 ms" if k == 4 else ""

        def one(k=k, measure=measure, target=target):
            with ListReaders(d, k) as readers:
                time.sleep(0.3)
                lat = authorize_latencies(d, seconds)
            p50, p99 = pct(lat, 50), pct(lat, 99)
            note = " (%d requests; %d lists read%s; p50 %s ms)" % (
                len(lat), readers.done, ", %d failed!" % readers.failed if readers.failed else "",
                fmt(p50))
            ref = "%s ms idle" % fmt(base["p99"]) if "p99" in base else ""
            table.add(measure + note, "%s ms" % fmt(p99), ref, None, target,
                      p99 < 10 if k == 4 else None)

        attempt(table, measure, one, target)


def rate_scenarios(d):
    return [("GET management/tokens/{id}, management token",
             d.account + "/management/tokens/" + d.mgmt_id, "mgmt"),
            ("GET /authorize, database token", authorize_path(d), "db")]


def need_wrk():
    if shutil.which("wrk") is None:
        raise NotRun("wrk is not installed (Debian package wrk)")


def interleaved(ctx, a, b, path_of):
    """wrk against daemons a and b in turn, --repeat times each (the machine drifts; turns
    share it): the run with the median requests/s of each."""
    need_wrk()
    runs = {a: [], b: []}
    for d in (a, b):
        path, kind = path_of(d)
        status, body = ctx.bench.http(d.port, "GET", path, {"Authorization": d.bearer(kind)})
        if status not in (200, 204):
            raise NotRun("%s answered %d %s" % (path, status, body[:200]))
    for _ in range(ctx.args.repeat):
        for d in (a, b):
            path, kind = path_of(d)
            runs[d].append(ctx.bench.wrk_once(ctx.args, d.port, path, [d.auth(kind)], "GET",
                                              None, ctx.tmp))
    med = lambda rs: sorted(rs, key=lambda r: r["rps"])[len(rs) // 2]
    return med(runs[a]), med(runs[b])


def rate_rows(ctx, table, one, d, n):
    """requests/s at n tokens against the store with one token of each kind."""
    for name, _path, _kind in rate_scenarios(d):
        measure = "%s, %s tokens vs one token: requests/s" % (name, count(n))

        def row(name=name, measure=measure):
            def path_of(x):
                return {nm: (p, k) for nm, p, k in rate_scenarios(x)}[name]
            base, r = interleaved(ctx, one, d, path_of)
            bad = r["non2xx"] + base["non2xx"]
            table.add("%s (wrk, %d connections, median of %d x %d s, in turns with the "
                      "one-token store; p99 %s ms vs %s ms)%s"
                      % (measure, ctx.args.connections, ctx.args.repeat, ctx.args.duration,
                         fmt(r["p99"]), fmt(base["p99"]), " (%d non-2xx!)" % bad if bad else ""),
                      "%s/s" % fmt(r["rps"]), "%s/s" % fmt(base["rps"]), r["rps"] / base["rps"],
                      ">= 0.9x", r["rps"] / base["rps"] >= 0.9 and not bad)

        attempt(table, measure, row, ">= 0.9x")


def create_rate(ctx, d):
    need_wrk()
    args = copy.copy(ctx.args)
    args.connections, args.repeat = CREATE_CLIENTS, 1
    return ctx.bench.run_wrk(args, d.port, d.account + "/management/tokens", [d.auth()],
                             "POST", {"description": "scale create"}, ctx.tmp)


def plan_check(ctx, table, backend):
    """PostgreSQL: a warm daemon's GET rate after 20 000 tokens arrive without ANALYZE,
    against a fresh daemon's (new connections) on the same database, in turns."""
    measure = "plan check: GET management/tokens/{id} after %s tokens added in bulk without " \
              "ANALYZE, warm daemon vs a fresh one" % count(PLAN_CHECK_TOKENS)

    def one():
        need_wrk()
        store = backend.new_store("plan")
        warm = fresh = None
        try:
            warm = Daemon(ctx, store)
            backend.autovacuum(store, False)
            path = warm.account + "/management/tokens/" + warm.mgmt_id
            empty = ctx.bench.run_wrk(ctx.args, warm.port, path, [warm.auth()])
            backend.fill(store, PLAN_CHECK_TOKENS)
            fresh = Daemon(ctx, dict(store, label="plan-fresh",
                                     data=store["data"] + "-fresh"))
            a, b = interleaved(ctx, warm, fresh, lambda x: (
                x.account + "/management/tokens/" + x.mgmt_id, "mgmt"))
        finally:
            for x in (warm, fresh):
                if x is not None:
                    x.stop()
        analyzed = backend.psql(store, "SELECT coalesce(greatest(last_analyze, "
                                       "last_autoanalyze)::text, 'never') FROM "
                                       "pg_stat_user_tables WHERE relname = 'management_tokens'")
        ratio = a["rps"] / b["rps"]
        bad = a["non2xx"] + b["non2xx"]
        table.add("%s (in turns, median of %d x %d s; the warm one on the empty store: %s/s; "
                  "autovacuum off on the token tables, last ANALYZE of management_tokens: "
                  "%s%s)" % (measure, ctx.args.repeat, ctx.args.duration, fmt(empty["rps"]),
                             analyzed.strip(), "; %d non-2xx!" % bad if bad else ""),
                  "%s/s" % fmt(a["rps"]), "%s/s fresh" % fmt(b["rps"]), ratio,
                  ">= 0.8x", ratio >= 0.8 and not bad)

    attempt(table, measure, one, ">= 0.8x")


def open_store(ctx, backend, n, label, table, holder, what=None):
    """A fresh store with n tokens of each kind (filled while mgmtd is stopped) and a
    daemon on it, in holder["store"], holder["d"]; a not-run row if that fails."""
    def setup():
        store = backend.new_store(label)
        holder["store"] = store
        # migrate and seed, then the tokens behind the stopped daemon's back
        proc, _port, _argv = ctx.bench.start_mgmtd(
            ctx.mgmtd, store["config"], store["data"], ctx.seed_path,
            os.path.join(ctx.tmp, "mgmtd-scale-%s.log" % label))
        ctx.bench.stop(proc)
        if n:
            backend.autovacuum(store, False)  # until analyze(): the row before it is measured
            t0 = time.monotonic()
            backend.fill(store, n)
            holder["fill_s"] = time.monotonic() - t0
        holder["d"] = Daemon(ctx, store)

    attempt(table, what or "store with %s tokens of each kind" % count(n), setup)
    return holder.get("d")


def backend_table(ctx, backend):
    """Every measure on one backend: its table's lines."""
    table = Table()
    sizes = ctx.sizes
    largest = sizes[-1]
    seconds = max(1, min(ctx.args.duration, 10))
    base_create = {}
    # the reference of the rates: one token of each kind (minted over the API), no creates
    one = open_store(ctx, backend, 0, "one", table, {},
                     "store with one token of each kind (the reference of the rates)")
    try:
        if one is not None and ctx.streaming is None:
            try:
                ctx.streaming = probe_streaming(one, ctx.tmp)
            except Exception as e:  # noqa: BLE001
                ctx.streaming = "probe failed: %s" % e
        for n in [0] + sizes:
            holder = {}
            d = open_store(ctx, backend, n, str(n), table, holder)
            if d is None:
                continue
            try:
                if n and isinstance(backend, PostgresBackend):
                    unanalyzed_row(ctx, table, backend, holder["store"], d, n)
                if n:
                    backend.analyze(holder["store"])
                    list_rows(ctx, table, backend, holder["store"], d, n)
                if n == largest:
                    memory_rows(ctx, table, d, n)
                    latency_rows(ctx, table, d, n, seconds)
                    if one is not None:
                        rate_rows(ctx, table, one, d, n)
                    else:
                        table.not_run("requests/s at %s tokens vs one token" % count(n),
                                      "no store with one token", ">= 0.9x")

                def creates(n=n, d=d):
                    r = create_rate(ctx, d)
                    if n == 0:
                        base_create["rps"] = r["rps"]
                    b = base_create.get("rps")
                    bad = " (%d non-2xx!)" % r["non2xx"] if r["non2xx"] else ""
                    table.add("POST management/tokens, %d clients, %s tokens of each kind (wrk, "
                              "%d s; p99 %s ms)%s" % (CREATE_CLIENTS, count(n), ctx.args.duration,
                                                     fmt(r["p99"]), bad),
                              "%s/s" % fmt(r["rps"]), "%s/s empty store" % fmt(b) if b else "",
                              r["rps"] / b if b and n else None)

                attempt(table, "POST management/tokens, %s tokens" % count(n), creates)
            finally:
                d.stop()

            def size(n=n):
                total, tokens, what = backend.store_bytes(holder["store"])
                table.add("store bytes per token, %s tokens of each kind + the creates (%s: "
                          "%.1f MB for %d tokens)" % (count(n), what, total / 1e6, tokens),
                          "%.0f B" % (total / max(tokens, 1)))

            attempt(table, "store bytes per token, %s tokens" % count(n), size)
            if "fill_s" in holder:
                table.add("(filling the stopped store with %s + %s tokens, manytokens.py)"
                          % (count(n), count(n)), "%.1f s" % holder["fill_s"])
    finally:
        if one is not None:
            one.stop()
    if isinstance(backend, PostgresBackend):
        plan_check(ctx, table, backend)
    return table


class Context:
    pass


def section(args, bench, mgmtd, tmp, jwks_path, signing_key, seed_path):
    """The "## Scale" section of the report: a list of lines."""
    ctx = Context()
    ctx.args, ctx.bench, ctx.mgmtd, ctx.tmp = args, bench, mgmtd, tmp
    ctx.jwks_path, ctx.signing_key, ctx.seed_path = jwks_path, signing_key, seed_path
    ctx.access_log = not args.no_access_log
    ctx.streaming = None
    lines = ["", "## Scale", ""]
    try:
        ctx.sizes = parse_sizes(getattr(args, "scale_sizes", None) or
                                ",".join(map(str, DEFAULT_SIZES)))
    except ValueError as e:
        return lines + ["not run: %s" % e]
    backends = [("SQLite", SqliteBackend)]
    if not args.no_postgres:
        backends.append(("PostgreSQL", PostgresBackend))
    else:
        lines.append("PostgreSQL: not run (--no-postgres)")
    load = " ".join("%.2f" % x for x in os.getloadavg())
    tables = []
    for name, cls in backends:
        t0 = time.monotonic()
        backend = None
        try:
            backend = cls(ctx)
            table = backend_table(ctx, backend)
        except Exception as e:  # noqa: BLE001 - e.g. PostgreSQL not installed
            table = Table()
            table.not_run(name, "%s: %s" % (type(e).__name__, e))
        finally:
            if backend is not None:
                backend.close()
        tables.append((name, table, time.monotonic() - t0))
    if ctx.streaming is True:
        lines.append("The binary pages (`?limit=1` answers one row and a Link).")
    elif ctx.streaming is False:
        lines.append("The binary does not page yet (`?limit=1` answers no Link).")
    elif ctx.streaming:
        lines.append(ctx.streaming)
    lines.append("Sizes: %s tokens of each kind (management tokens in the account, database "
                 "tokens in its cluster), a fresh store for each, filled while mgmtd is "
                 "stopped (PostgreSQL: ANALYZE after the row measured before it); requests/s "
                 "with wrk, %d connections, median of %d x %d s."
                 % (", ".join(count(n) for n in ctx.sizes), args.connections, args.repeat,
                    args.duration))
    lines.append("%d CPUs; load average before the section %s, after it %s."
                 % (os.cpu_count(), load, " ".join("%.2f" % x for x in os.getloadavg())))
    for name, table, took in tables:
        lines += ["", "### %s (%.0f s)" % (name, took), ""] + table.lines()
    return lines
