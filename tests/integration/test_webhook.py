"""Token events POSTed to a webhook (issue 24; docs/operations.md "Webhook"): written to an
outbox in the change's transaction, signed with HMAC-SHA256, retried with backoff until the
receiver takes them, across a SIGKILL; never a secret in them; on both backends, and with
replicas sharing the outbox on PostgreSQL."""

import datetime as dt
import hashlib
import hmac
import http.server
import json
import os
import re
import threading

import pytest

from conftest import (
    ACCOUNT_A,
    SLOWDOWN,
    assert_no_content,
    assert_status,
    db_tokens_path,
    ok_json,
    run_cli,
    tokens_path,
    wait_for,
)

SECRET = b"a webhook secret of the test"


class Receiver:
    """An HTTP receiver on loopback that answers `status` (or is down) and keeps what came."""

    def __init__(self):
        self.events, self.status, self.lock = [], 204, threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    status = receiver.status
                    receiver.events.append((dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def taken(self):
        """The events answered 2xx, as (headers, parsed body)."""
        with self.lock:
            return [(h, json.loads(b)) for h, b, st in self.events if 200 <= st < 300]

    def tries(self):
        with self.lock:
            return len(self.events)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def webhook_config(tmp_path, url, testing=True):
    secret = tmp_path / "webhook.secret"
    if not secret.exists():
        secret.write_bytes(SECRET + b"\n")
        os.chmod(secret, 0o600)
    return ("[webhook]\nurl = %s\nsecret_file = %s\n" % (url, secret) +
            ("[testing]\nenabled = true\n" if testing else ""))


def signed_right(headers, body_bytes):
    want = "sha256=" + hmac.new(SECRET, body_bytes, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("X-Mgmtd-Signature", ""), want)


def test_a_revocation_is_sent_signed_and_without_a_secret(daemon_factory, receiver, tmp_path):
    d = daemon_factory(config_extra=webhook_config(tmp_path, receiver.url))
    d.create_database("mydb")
    tok = d.create_db_token([("write", "mydb")], "to revoke")
    mgmt = d.create_token("to revoke too")
    assert_no_content(d.delete(db_tokens_path(token_id=tok["id"]), d.jwt("admin")))
    assert_no_content(d.delete(tokens_path(token_id=mgmt["id"]), d.jwt("admin")))
    wait_for(lambda: len(receiver.taken()) == 2, 10 * SLOWDOWN, "two events", d)
    with receiver.lock:
        raw = [(h, b) for h, b, _ in receiver.events]
    for headers, body in raw:
        assert signed_right(headers, body), headers
        assert headers["Content-Type"] == "application/json"
        for secret in (tok["accessToken"], mgmt["accessToken"]):
            assert secret.encode() not in body and secret[-24:].encode() not in body
    events = [e for _, e in receiver.taken()]
    assert [(e["type"], e["token"]["kind"], e["token"]["id"]) for e in events] == [
        ("token.revoked", "databaseToken", tok["id"]),
        ("token.revoked", "managementToken", mgmt["id"])]
    for (headers, e) in receiver.taken():
        assert headers["X-Mgmtd-Event"] == e["type"]
        assert headers["X-Mgmtd-Delivery"] == e["id"]
        assert e["accountId"] == ACCOUNT_A and e["actor"]["type"] == "user"
    assert len({e["id"] for e in events}) == 2


def test_the_lifecycle_is_sent(daemon_factory, receiver, tmp_path):
    d = daemon_factory(config_extra=webhook_config(tmp_path, receiver.url))
    admin = d.jwt("admin")
    tok = d.create_token("rotated")
    base = tokens_path(token_id=tok["id"])
    rotated = ok_json(d.post(base + "/rotate", admin, json={"graceSeconds": 0}))
    assert_status(d.get(tokens_path(), tok["accessToken"]), 401)  # the old secret, too late
    ok_json(d.post(base + "/suspend", admin))
    ok_json(d.post(base + "/resume", admin))
    want = ["token.rotated", "token.used_after_rotation", "token.suspended", "token.resumed"]
    wait_for(lambda: len(receiver.taken()) >= len(want), 10 * SLOWDOWN, "four events", d)
    events = [e for _, e in receiver.taken()]
    assert sorted(e["type"] for e in events) == sorted(want)
    assert {e["token"]["id"] for e in events} == {tok["id"]}
    with receiver.lock:
        bodies = b"".join(b for _, b, _ in receiver.events)
    for secret in (tok["accessToken"], rotated["accessToken"]):
        assert secret.encode() not in bodies


def test_what_did_not_happen_is_not_sent(daemon_factory, receiver, tmp_path):
    """A refused or failed change writes no event: it commits with its change or not at all."""
    d = daemon_factory(config_extra=webhook_config(tmp_path, receiver.url))
    tok = d.create_token("kept")
    # a member may not revoke; no such token; a create is no event of the list
    assert_status(d.delete(tokens_path(token_id=tok["id"]), d.jwt("member")), 403)
    assert_status(d.delete(tokens_path(token_id="99999999-9999-4999-8999-999999999999"),
                           d.jwt("admin")), 404)
    d.create_token("another")
    # the next event is the first the receiver gets
    assert_no_content(d.delete(tokens_path(token_id=tok["id"]), d.jwt("admin")))
    wait_for(lambda: receiver.taken(), 10 * SLOWDOWN, "an event", d)
    assert [e["token"]["id"] for _, e in receiver.taken()] == [tok["id"]]
    assert receiver.tries() == 1


def test_a_receiver_that_is_down_gets_it_later_with_backoff(daemon_factory, receiver, tmp_path):
    d = daemon_factory(config_extra=webhook_config(tmp_path, receiver.url))
    receiver.status = 503
    tok = d.create_token("revoked while the receiver is down")
    assert_no_content(d.delete(tokens_path(token_id=tok["id"]), d.jwt("admin")))
    def logged(attempt, wait):
        """The line the sender writes once a failed try is recorded with its next time."""
        return re.search(r"token\.revoked event \S+ not delivered \(attempt %d\): the "
                         r"receiver answered HTTP 503; next in %d s" % (attempt, wait),
                         d.log_since_start())

    wait_for(lambda: logged(1, 1), 10 * SLOWDOWN, "the first try", d)
    # the next tries wait 1 s, 2 s, 4 s by the server's clock: walked here, not slept; each
    # advance comes after the try before it is recorded, so it is due at once
    for n, delay in ((2, 1), (3, 2), (4, 4)):
        assert receiver.tries() == n - 1
        ok = d.post("/_test/clock/advance", json={"by": "%ds" % delay})
        assert ok.status_code == 200, ok.text
        wait_for(lambda: logged(n, 2 * delay), 10 * SLOWDOWN, "try %d" % n, d)
    assert receiver.tries() == 4
    receiver.status = 204
    d.post("/_test/clock/advance", json={"by": "8s"})
    wait_for(lambda: receiver.taken(), 10 * SLOWDOWN, "the delivery", d)
    [(_, event)] = receiver.taken()
    assert event["token"]["id"] == tok["id"]
    assert "delivered" in d.log_since_start()


def test_the_outbox_outlives_a_sigkill(daemon_factory, receiver, tmp_path):
    d = daemon_factory(config_extra=webhook_config(tmp_path, receiver.url))
    receiver.status = 500
    toks = [d.create_token("t%d" % i) for i in range(3)]
    for t in toks:
        assert_no_content(d.delete(tokens_path(token_id=t["id"]), d.jwt("admin")))
    # each failed try recorded (its line comes after its row): then killed, no shutdown
    wait_for(lambda: d.log_since_start().count("not delivered (attempt 1)") == 3,
             10 * SLOWDOWN, "the first tries", d)
    d.kill()
    receiver.status = 204
    d.start()
    # the restarted server's clock: the retries are due within their backoff (1 s)
    wait_for(lambda: len(receiver.taken()) == 3, 15 * SLOWDOWN, "the three events", d)
    assert sorted(e["token"]["id"] for _, e in receiver.taken()) == sorted(t["id"] for t in toks)


def test_a_token_entering_the_expiry_window_is_sent_once(daemon_factory, receiver, tmp_path):
    d = daemon_factory(config_extra=webhook_config(tmp_path, receiver.url) +
                       "[tokens]\nexpiry_warning_days = 7\n")
    now = dt.datetime.fromisoformat(ok_json(d.get("/_test/clock"))["now"].replace("Z", "+00:00"))
    soon = d.create_token("expires soon", expiresAt=(now + dt.timedelta(days=2)).isoformat())
    d.create_token("expires late", expiresAt=(now + dt.timedelta(days=30)).isoformat())
    assert d.post("/_test/clock/advance", json={"by": "1s"}).status_code == 200  # a pass
    wait_for(lambda: receiver.taken(), 10 * SLOWDOWN, "the expiring event", d)
    # a later pass sends only what is new: the passes run in order, so once the new
    # token's event is there, a second one of the first would be there too
    marker = d.create_token("marker", expiresAt=(now + dt.timedelta(days=3)).isoformat())
    assert d.post("/_test/clock/advance", json={"by": "1s"}).status_code == 200
    wait_for(lambda: len(receiver.taken()) >= 2, 10 * SLOWDOWN, "the marker's event", d)
    assert [e["token"]["id"] for _, e in receiver.taken()] == [soon["id"], marker["id"]]
    event = receiver.taken()[0][1]
    assert (event["type"], event["token"]["id"], event["token"]["kind"]) == (
        "token.expiring", soon["id"], "managementToken")
    assert event["token"]["expiresAt"][:19] == (now + dt.timedelta(days=2)).isoformat()[:19]
    assert event["actor"] == {"type": "mgmtd"}


def test_an_offline_revocation_is_sent_by_the_server(daemon_factory, receiver, tmp_path):
    d = daemon_factory(config_extra=webhook_config(tmp_path, receiver.url, testing=False))
    tok = d.create_token("revoked offline")
    res = run_cli([d.bin, "management", "revoke", "--config", str(d.config_path),
                   "--data-dir", str(d.data_dir), "--account", ACCOUNT_A, tok["id"]],
                  cwd=d.workdir, timeout=30)
    assert res.returncode == 0, res.stdout + res.stderr
    wait_for(lambda: receiver.taken(), 10 * SLOWDOWN, "the event", d)
    [(_, event)] = receiver.taken()
    assert (event["type"], event["token"]["id"], event["actor"]["type"]) == (
        "token.revoked", tok["id"], "local")


def test_a_url_needs_its_secret(daemon_factory, tmp_path):
    d = daemon_factory(config_extra="[webhook]\nurl = http://127.0.0.1:9/hook\n", start=False)
    res = run_cli(d.serve_argv(), cwd=d.workdir, timeout=10 * SLOWDOWN)
    assert res.returncode != 0
    assert "[webhook] url: set, but secret_file is not" in res.stdout + res.stderr
    empty = tmp_path / "empty.secret"
    empty.write_bytes(b"")
    d2 = daemon_factory(config_extra="[webhook]\nurl = http://127.0.0.1:9/hook\n"
                                     "secret_file = %s\n" % empty, start=False)
    res = run_cli(d2.serve_argv(), cwd=d2.workdir, timeout=10 * SLOWDOWN)
    assert res.returncode != 0
    assert "empty: the signature needs a secret" in res.stdout + res.stderr


@pytest.mark.postgres_only
def test_replicas_share_the_outbox_and_send_each_event_once(daemon_factory, receiver, tmp_path):
    a = daemon_factory(config_extra=webhook_config(tmp_path, receiver.url))
    b = daemon_factory(replica_of=a, config_extra=webhook_config(tmp_path, receiver.url))
    toks = [a.create_token("t%d" % i) for i in range(12)]
    for i, t in enumerate(toks):
        d = a if i % 2 else b
        assert_no_content(d.delete(tokens_path(token_id=t["id"]), d.jwt("admin")))
    wait_for(lambda: len(receiver.taken()) >= 12, 15 * SLOWDOWN, "twelve events", a)
    ids = [e["token"]["id"] for _, e in receiver.taken()]
    assert sorted(ids) == sorted(t["id"] for t in toks)  # each once: no replica sent twice
