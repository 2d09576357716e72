"""The log: one access line per request (method, route pattern, status, duration, who,
from where; never a secret), one line per admin action, [log] format = text|json (every
JSON line parses with jq) and [log] level."""

import json
import re
import subprocess

from conftest import (
    ACCOUNT_A,
    SLOWDOWN,
    assert_error,
    assert_secret_absent,
    databases_path,
    make_mgmt_token,
    ok_json,
    tokens_path,
    unique_name,
    wait_for,
)


def lines_of(d):
    return d.log_since_start().splitlines()


def test_text_access_and_admin_action_lines(daemon_factory):
    d = daemon_factory()
    tok = d.create_token("logged")
    name = unique_name()
    d.create_database(name, cred=tok["accessToken"])
    bad = make_mgmt_token()
    assert_error(d.get(tokens_path(), bad), 401)
    # the access line is written once the answer has gone out: wait for the last one
    wait_for(lambda: " 401 " in d.log_since_start(), 10 * SLOWDOWN, "the access line", d)
    log = d.log_since_start()
    # the route pattern, not the path; who; from where
    pattern = "/api/v0/accounts/{accountId}/clusters/{clusterId}/databases"
    m = re.search(r"INFO POST %s 200 [\d.]+ms by token %s \(%s\) from 127\.0\.0\.1" % (
        re.escape(pattern), tok["id"], re.escape(tok["tokenPrefix"])), log)
    assert m, log[-3000:]
    assert re.search(r"INFO GET /api/v0/accounts/\{accountId\}/management/tokens 401 [\d.]+ms "
                     r"by refused %s from 127\.0\.0\.1" % re.escape(bad[:9]), log), log[-3000:]
    assert re.search(r"INFO audit: database\.create %s in account %s by managementToken %s "
                     r"from 127\.0\.0\.1: success" % (re.escape(name), ACCOUNT_A, tok["id"]), log)
    for secret in (tok["accessToken"], bad, d.jwt().split(".")[2]):
        assert_secret_absent(d.log_bytes(), secret, where="log")


def test_json_lines_parse_with_jq(daemon_factory):
    d = daemon_factory(config_extra="[log]\nformat = json\n")
    tok = d.create_token("json")
    d.create_database(unique_name(), cred=tok["accessToken"])
    assert_error(d.get(tokens_path(), make_mgmt_token()), 401)
    d.get("/api/v0/accounts/%s/users/\u00e9t\u00e9%%0a%%1b%%ff" % ACCOUNT_A, tok["accessToken"])
    d.stop_ok()
    text = d.log_since_start()
    # jq reads every line (one object per line) without complaint
    res = subprocess.run(["jq", "-c", "."], input=text, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    objects = [json.loads(line) for line in text.splitlines()]
    assert len(objects) == len(res.stdout.splitlines())
    assert all({"ts", "level", "msg"} <= set(o) for o in objects)
    access = [o for o in objects if o.get("event") == "access"]
    assert access and all({"method", "route", "path", "status", "duration_ms", "client"} <= set(o)
                          for o in access)
    create = [o for o in access if o["method"] == "POST" and o["route"].endswith("/databases")]
    assert create[0]["status"] == 200 and create[0]["principal"].startswith("token " + tok["id"])
    assert isinstance(create[0]["duration_ms"], float)
    audit = [o for o in objects if o.get("event") == "audit"]
    assert {"database.create", "management_token.create"} <= {o["action"] for o in audit}
    assert all(o["outcome"] == "success" for o in audit if o["action"] == "database.create")
    assert any(o["msg"].startswith("listening on http://127.0.0.1:") for o in objects)
    assert any(o["msg"] == "stopped" for o in objects)
    # jq can select on the fields, as an operator would
    res = subprocess.run(["jq", "-r", 'select(.event == "access" and .status == 401) | .principal'],
                         input=text, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.startswith("refused M.V1."), res.stdout


def test_level_drops_lower_lines(daemon_factory):
    d = daemon_factory(config_extra="[log]\nlevel = warn\n")
    ok_json(d.get(tokens_path(), d.jwt()))
    # a made-up token: no audit row, but a (rate-limited) WARN line
    assert_error(d.get(tokens_path(), make_mgmt_token()), 401)
    d.stop_ok()  # every line is out
    lines = lines_of(d)
    assert not [l for l in lines if " INFO " in l], lines[:5]
    assert [l for l in lines if " WARN refused credential M.V1." in l], lines[-5:]


def test_bad_log_settings_are_config_errors(daemon_factory):
    d = daemon_factory(start=False, config_extra="[log]\nformat = xml\nlevel = chatty\n")
    res = d.cli("check-config")
    assert res.returncode == 1
    assert "[log] format" in res.stderr and "[log] level" in res.stderr, res.stderr
