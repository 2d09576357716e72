"""mgmtctl at 100 000 tokens (issue 22): `management list` and `token list` print the list
as it arrives, in table and JSON form, in bounded memory (docs/mgmtctl.md, "Long lists").

A daemon whose store holds 100 000 management and 100 000 database tokens, written with
SQL while it was stopped (tests/tools/manytokens.py). Each list is compared byte for byte
with what go-pretty and Go's encoding/json print for the API's own list (computed here),
and the client's peak resident memory (VmHWM, read from /proc while it runs) stays under
a bound far below the size of the answer (about 30 MB). A small server of the test's own
shows what mgmtd cannot be made to do on demand: a list that stops half-way (items printed
before the rest has come), is cut off, or stalls."""

import datetime as dt
import http.server
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import (ACCOUNT_A, CLUSTER_A, SANITIZED, WRAPPER, _Factory, _stop_all,
                      check_no_sanitizer_report, db_tokens_path, make_mgmt_token, ok_json,
                      tokens_path)
from ctl import Ctl, mgmtctl_bin  # noqa: F401

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import manytokens  # noqa: E402

N = 100_000
# Peak memory of one list run, far below its answer (~30 MB) and the whole list parsed
# (~150 MB): a client that kept the list would pass it. Instrumented builds (ASan's
# shadow and quarantine, valgrind) are not held to it.
BOUND_KIB = 24 * 1024
EPOCH = "1970-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def big(mgmtd_bin, idp, tmp_path_factory):
    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("scale"), idp)
    d = f()
    token = d.create_token("mgmtctl at scale")["accessToken"]
    d.stop_ok()
    manytokens.fill_daemon(d, N, ACCOUNT_A, CLUSTER_A)
    d.start(use_seed=False)
    d.token = token
    yield d
    _stop_all(f)


@pytest.fixture
def ctl(mgmtctl_bin, big, tmp_path):
    c = Ctl(mgmtctl_bin, big, tmp_path / "home", token=big.token)
    # sorted lists spill into temporary files: here, so that none may be left behind
    c.tmpdir = tmp_path / "tmp"
    c.tmpdir.mkdir()
    c.env["TMPDIR"] = str(c.tmpdir)
    return c


def vm_hwm_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(ctl, *args):
    """mgmtctl ARGS with its stdout in a file; returns (exit status, stdout, stderr, the
    highest VmHWM seen). VmHWM never goes down, so reading it until the process ends
    sees its peak up to its last moments."""
    out_path = ctl.home / "stdout"
    argv = WRAPPER + [ctl.bin] + [str(a) for a in args]
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=ctl.env)
    err = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
    reader.start()
    peak, deadline = 0, time.monotonic() + 120 * (3 if SANITIZED else 1)
    while True:
        peak = max(peak, vm_hwm_kib(proc.pid))  # read before reaping: /proc goes with it
        if proc.poll() is not None:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("%s did not finish" % argv)
        time.sleep(0.002)
    reader.join(10)
    stdout = out_path.read_text()
    stderr = err[0].decode() if err else ""
    check_no_sanitizer_report(stdout[-4000:] + stderr, " ".join(argv))
    assert peak > 0, "never read the VmHWM of %s" % argv
    return proc.returncode, stdout, stderr, peak


def check_run(ctl, *args):
    """Runs a list, checks exit 0, nothing on stderr, the memory bound and no temporary
    file left; returns stdout."""
    rc, out, err, peak = run_measured(ctl, *args)
    assert rc == 0 and err == "", "exit %d, stderr %s" % (rc, err[:2000])
    print("%s: %d bytes, VmHWM %.1f MiB" % (" ".join(args), len(out), peak / 1024))
    if not SANITIZED:
        assert peak < BOUND_KIB, "mgmtctl %s peaked at %d KiB (bound %d KiB)" % (
            " ".join(args), peak, BOUND_KIB)
    assert list(ctl.tmpdir.iterdir()) == [], "temporary files left behind"
    return out


# ---------------------------------------------------------------------------
# what influxctl prints, computed from the API's list

def table_time(rest, absent):
    return re.sub(r"\.\d+Z$", "Z", rest) if rest else absent


def go_table(headers, rows):
    """go-pretty's default table (output.h) of plain ASCII cells."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+\n"

    def line(cells):
        return "|" + "|".join(" %s " % c.ljust(w) for c, w in zip(cells, widths)) + "|\n"

    return rule + line(headers) + rule + "".join(line(r) for r in rows) + rule


def timestamp(rest):
    """A REST timestamp as protobuf's {seconds, nanos}, zero parts left out."""
    t = dt.datetime.strptime(rest, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    seconds = int(t.timestamp())
    out = {"seconds": seconds} if seconds else {}
    if t.microsecond:
        out["nanos"] = t.microsecond * 1000
    return out


def go_object(pairs):
    """An influxctl JSON object: keys in order, empty values left out (omitempty)."""
    out = {}
    for key, value, kind in pairs:
        if value:
            out[key] = timestamp(value) if kind == "time" else value
    return out


def go_json(items):
    """Go's json.MarshalIndent(v, "", "  ") of plain ASCII data, then a newline."""
    return json.dumps(items, indent=2) + "\n"


def mgmt_row(t):
    return [t["id"], t["description"], t["tokenPrefix"], table_time(t["createdAt"], EPOCH),
            table_time(t.get("expiresAt"), EPOCH), table_time(t.get("revokedAt"), EPOCH)]


def mgmt_json(t):
    return go_object([("id", t["id"], ""), ("account_id", t["accountId"], ""),
                      ("token_prefix", t["tokenPrefix"], ""),
                      ("expires_at", t.get("expiresAt"), "time"),
                      ("revoked_at", t.get("revokedAt"), "time"),
                      ("created_at", t["createdAt"], "time"),
                      ("description", t["description"], ""),
                      ("created_by", t.get("createdBy"), "")])


def db_json(t):
    o = go_object([("account_id", t["accountId"], ""), ("cluster_id", t["clusterId"], ""),
                   ("id", t["id"], ""), ("description", t["description"], "")])
    o["permissions"] = [{"id": p["id"], "action": p["action"], "resource": p["resource"]}
                        for p in t["permissions"]]
    o.update(go_object([("created_at", t["createdAt"], "time"),
                        ("expires_at", t.get("expiresAt"), "time"),
                        ("revoked_at", t.get("revokedAt"), "time")]))
    return o


MGMT_HEADERS = ["ID", "DESCRIPTION", "PREFIX", "CREATED AT", "EXPIRES AT", "REVOKED AT"]


def same_text(got, want):
    """got == want, told by its first difference: pytest's own diff of two lists of
    100 000 items takes longer than the suite may."""
    if got == want:
        return
    at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    pytest.fail("the output differs at character %d of %d (expected %d):\n got  %r\n want %r"
                % (at, len(got), len(want), got[max(0, at - 200):at + 200],
                   want[max(0, at - 200):at + 200]))


@pytest.fixture(scope="module")
def mgmt_tokens(big):
    listed = ok_json(big.get(tokens_path(), big.token))
    assert len(listed) == N + 1
    return listed


@pytest.fixture(scope="module")
def db_tokens(big):
    listed = ok_json(big.get(db_tokens_path(), big.token, params={"includeRevoked": "true"}))
    assert len(listed) == N
    return listed


# ---------------------------------------------------------------------------

@pytest.mark.plain_pass_only  # 100 000 tokens: the sanitized and clock-ahead passes add nothing
@pytest.mark.sqlite_only("the client reads the same answers from either store (test_scale.py)")
def test_management_list_table(ctl, mgmt_tokens):
    """In the API's order, as it arrives: the long descriptions (one in 997) come early,
    so the widths of the first rows are those of the whole list and the table is
    exactly go-pretty's."""
    out = check_run(ctl, "management", "list")
    same_text(out, go_table(MGMT_HEADERS, [mgmt_row(t) for t in mgmt_tokens]))


@pytest.mark.plain_pass_only  # 100 000 tokens: the sanitized and clock-ahead passes add nothing
@pytest.mark.sqlite_only("the client reads the same answers from either store (test_scale.py)")
def test_management_list_json(ctl, mgmt_tokens):
    out = check_run(ctl, "management", "list", "--format", "json")
    same_text(out, go_json([mgmt_json(t) for t in mgmt_tokens]))


@pytest.mark.plain_pass_only  # 100 000 tokens: the sanitized and clock-ahead passes add nothing
@pytest.mark.sqlite_only("the client reads the same answers from either store (test_scale.py)")
def test_management_list_sorted_by_description(ctl, mgmt_tokens):
    """A sorted list goes through temporary files; equal keys keep the API's order."""
    out = check_run(ctl, "management", "list", "--sort", "description")
    rows = [mgmt_row(t) for t in sorted(mgmt_tokens, key=lambda t: t["description"])]
    same_text(out, go_table(MGMT_HEADERS, rows))


@pytest.mark.plain_pass_only  # 100 000 tokens: the sanitized and clock-ahead passes add nothing
@pytest.mark.sqlite_only("the client reads the same answers from either store (test_scale.py)")
def test_token_list_table_sorted_by_id(ctl, db_tokens):
    out = check_run(ctl, "token", "list")
    live = sorted((t for t in db_tokens if not t.get("revokedAt")), key=lambda t: t["id"])
    assert len(live) == N - N // 10
    same_text(out, go_table(["ID", "DESCRIPTION"], [[t["id"], t["description"]] for t in live]))


@pytest.mark.plain_pass_only  # 100 000 tokens: the sanitized and clock-ahead passes add nothing
@pytest.mark.sqlite_only("the client reads the same answers from either store (test_scale.py)")
def test_token_list_json_with_revoked(ctl, db_tokens):
    out = check_run(ctl, "token", "list", "--include-revoked", "--format", "json")
    same_text(out, go_json([db_json(t) for t in sorted(db_tokens, key=lambda t: t["id"])]))


# ---------------------------------------------------------------------------
# A list server of the test's own: the first items, then (when told) the rest, a cut,
# or nothing at all.

def fake_item(i):
    return {"id": "%08d-0000-4000-8000-000000000000" % i, "accountId": ACCOUNT_A,
            "tokenPrefix": "M.V1.AAAA", "description": "item %06d" % i,
            "createdAt": "2030-01-01T00:00:00.000Z"}


class ListServer:
    """Answers any GET with 200 and a chunked JSON list: `first` items at once, then waits
    for release; then the rest and the end ("rest"), or the connection closed ("cut"), or
    nothing until stop ("stall"). With body, that body instead, whole."""

    def __init__(self, first=0, total=0, ending="rest", body=None):
        self.first, self.total, self.ending = first, total, ending
        self.release = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def chunk(self, data):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if body is not None:
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                items = [json.dumps(fake_item(i)).encode() for i in range(outer.total)]
                self.chunk(b"[" + b",".join(items[:outer.first]))
                self.wfile.flush()
                outer.release.wait(60)
                if outer.ending == "rest":
                    rest = items[outer.first:]
                    self.chunk((b"," if rest else b"") + b",".join(rest) + b"]")
                    self.wfile.write(b"0\r\n\r\n")
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def stop(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stub_ctl(mgmtctl_bin, tmp_path):
    servers = []

    def make(first=0, total=0, ending="rest", body=None):
        srv = ListServer(first, total, ending, body)
        servers.append(srv)
        c = Ctl(mgmtctl_bin, None, tmp_path / "home", token=make_mgmt_token())
        c.env["MGMTCTL_URL"] = srv.url
        return srv, c

    yield make
    for s in servers:
        s.stop()


def start(c, *args):
    return subprocess.Popen(WRAPPER + [c.bin] + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=c.env)


def read_until(stream, marker):
    """Reads stream until marker has been read (fails at the end of it)."""
    seen = b""
    while marker not in seen:
        block = stream.read1(65536)
        assert block, "the output ended before %r" % marker
        seen += block
    return seen


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_items_print_before_the_list_ends(stub_ctl, fmt):
    """The server holds back the end of the list until the client has printed the
    first 20 000 items: mgmtctl prints as it receives (a table once it is past the
    rows it keeps to size its columns)."""
    srv, c = stub_ctl(first=20_000, total=30_000)
    proc = start(c, "management", "list", "--format", fmt)
    try:
        head = read_until(proc.stdout, b"item 019000")
    finally:
        srv.release.set()
    rest, err = proc.communicate(timeout=60)
    out = (head + rest).decode()
    assert proc.returncode == 0, err.decode()
    assert out.count("item 0") == 30_000
    assert out.endswith("\n]\n" if fmt == "json" else "+\n")


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_a_list_cut_off_is_an_error(stub_ctl, fmt):
    """The connection closes in the middle of the list: exit 1, a message saying so,
    and the output without its end, so that no reader takes it for the whole list."""
    srv, c = stub_ctl(first=20_000, total=30_000, ending="cut")
    srv.release.set()
    res = c.fails(1, "management", "list", "--format", fmt)
    assert "cut off" in res.stderr and "after" in res.stderr, res.stderr
    assert res.stderr.count("\n") == 1
    assert res.stdout.count("item 0") < 20_000
    assert not res.stdout.endswith("]\n") and not res.stdout.endswith("+\n")
    # a sorted list prints nothing of a list that never ended
    res = c.fails(1, "management", "list", "--format", fmt, "--sort", "id")
    assert res.stdout == "" and "cut off" in res.stderr


def test_a_list_that_stalls_times_out(stub_ctl):
    """--timeout bounds each wait for the server: 100 items, then nothing."""
    srv, c = stub_ctl(first=100, total=200, ending="stall")
    res = c.fails(1, "--timeout", "300ms", "management", "list", "--format", "json")
    assert "timed out after 300 ms" in res.stderr and "cut off" in res.stderr, res.stderr
    # the 100th item was still open (no ',' or ']' after it)
    assert '"item 000098"' in res.stdout and '"item 000099"' not in res.stdout


def test_time_blocked_on_output_is_not_waiting_for_the_server(stub_ctl):
    """...and not the whole list: a reader that takes longer than --timeout to read (a
    pager) does not cut it off. The server sends everything at once; the output pipe is
    not read for three times the timeout, so mgmtctl waits on it with most of the list
    still to come."""
    srv, c = stub_ctl(first=30_000, total=30_000)
    srv.release.set()
    proc = start(c, "--timeout", "300ms", "management", "list", "--format", "json")
    first = proc.stdout.read(65536)  # it has started: the pipe is full behind this
    time.sleep(0.9)
    rest, err = proc.communicate(timeout=60)
    out = (first + rest).decode()
    assert proc.returncode == 0, err.decode()
    assert out.endswith("\n]\n") and out.count('"token_prefix"') == 30_000


@pytest.mark.parametrize("body,why", [
    (b'{"code": 200}', "not a list"),
    (b'[{"id": 1}, {"id": 01}]', "item 2 of the list is not JSON"),
    (b'[{"id": "a"}] [', "text after the end of the list"),
    (b'[{"id": "a"},,{"id": "b"}]', "empty item"),
])
def test_an_answer_that_is_not_a_list(stub_ctl, body, why):
    srv, c = stub_ctl(body=body)
    res = c.fails(1, "token", "list")
    assert why in res.stderr and res.stderr.startswith("error\t"), res.stderr
