"""docs/api.md's shell blocks, and those of the other docs that can run against a test
daemon, run as a reader pastes them: every block of a file in document order in one
bash session (earlier blocks' variables carry over), under test_mgmtctl_readme.py's
ERR trap and `set -o pipefail`, against a daemon with `make run`'s seed and dev IdP on
a port of its own (make run's URL, and the example host and config path of
docs/operations.md, swapped for the daemon's).

curl, mgmtctl and mgmtd are the real programs behind small wrappers first in PATH that
add one line per call to a log of the test's ($DOCTEST_LOG): the exit code and, for
curl, the last HTTP status (from `-D`). So a failure that `2>/dev/null`, `|| true` or a curl
without `-f` hides still fails the test. Every curl call must answer 200 (what the API
answers creates, updates and reads) unless its command ends in a comment giving the
status (`# 204`, `# 403: ...`), which is then compared; a mgmtctl or mgmtd call must exit
0 unless its comment says `exit N`; make (the reader's `make run`) is never run.

Blocks that cannot run against a test daemon (root, systemd, podman, nginx, a real
IdP) are listed in SKIPPED with why; test_every_shell_block_runs_or_is_listed fails
for a new block that neither runs here (or in test_mgmtctl_readme.py) nor is listed."""

import datetime as dt
import glob
import json
import os
import re
import shutil
import stat

import pytest

from ctl import mgmtctl_bin  # noqa: F401 - the fixture
from test_mgmtctl_readme import (FAILED, MAKE_RUN_URL, ROOT, doc_blocks,
                                 expected_failures, readme_blocks, run_against_daemon)

# make run's config/dev.ini: the dev identity provider and the test harness
DEV = "[dev_idp]\nenabled = true\n[testing]\nenabled = true\n"


def dev_seed():
    """config/dev-seed.json, which `make run` uses."""
    import json
    return json.loads((ROOT / "config" / "dev-seed.json").read_text())

SHELL_FENCE = re.compile(r"^( *)```(?:sh|bash|shell|console)\n(.*?)^ *```", re.S | re.M)

# The files whose blocks run here, in document order, each in one session. A file's
# blocks not in SKIPPED all run.
RUN_FILES = ["docs/api.md", "docs/configuration.md", "docs/identity-providers.md",
             "docs/operations.md", "docs/testing.md", "docs/tokens.md"]

# Blocks run first, before a file's own, because the file says its examples assume them.
PRELUDE = {
    # "$TOKEN and $ACCOUNT as in docs/api.md"
    "docs/operations.md": [("docs/api.md", 0), ("docs/api.md", 1)],
    # "$URL, $ACCOUNT and $JWT as in docs/api.md"
    "docs/tokens.md": [("docs/api.md", 0), ("docs/api.md", 1)],
}

# The shell blocks that do not run against a test daemon: (file, first line, why).
SKIPPED = [
    ("README.md", "make run     # installs what building needs, builds, serves on "
     "127.0.0.1:8080 with a dev seed",
     "installs packages with sudo, serves on the fixed port 8080 (what the daemon of these "
     "tests stands for) and runs every suite"),
    ("docs/container.md", "podman build --format docker -t mgmtd .     # or: docker build "
     "-t mgmtd .", "needs podman or docker, builds an image"),
    ("docs/container.md", "podman run --rm -d --name mgmtd -p 127.0.0.1:8080:8080 \\",
     "needs podman and the image, takes the fixed port 8080"),
    ("docs/container.md", "sed -e 's/server 127.0.0.1:8181;/server influxdb:8181;/' \\",
     "writes a compose file's nginx configuration; no daemon involved (test_nginx.py runs "
     "the shipped configuration)"),
    ("docs/nginx.md", "sudo apt-get install nginx          # `make deps` installs it too",
     "root: installs nginx and reloads it with systemctl (test_nginx.py runs the shipped "
     "configuration unprivileged)"),
    ("docs/nginx.md", "sudo apt-get install caddy          # `make deps` installs it too "
     "(Debian's 2.6)", "root: installs Caddy (test_attacks_dataplane.py runs the shipped "
     "Caddyfile)"),
    ("docs/nginx.md", "sudo nginx -t && sudo systemctl reload nginx",
     "root and systemd, and nginx with InfluxDB on 8086 (test_nginx.py, "
     "test_attacks_dataplane.py)"),
    ("docs/operations.md", "make",
     "root and systemd: installs mgmtd as a service (test_service.py)"),
    ("docs/operations.md", "# every unbound subject to one provider (a section NAME, or "
     "its issuer URL)", "a template, not a script: `--account ID` stands for an id, and it "
     "needs identity providers named okta and keycloak in the configuration, real IdPs "
     "(test_identity_upgrade.py binds subjects)"),
    ("docs/operations.md", "mgmtd backup --config /etc/mgmtd/mgmtd.ini --to "
     "/backup/mgmtd-$(date +%F).db", "root and systemd: stops and starts the service, "
     "writes /backup (test_backup.py)"),
    ("docs/operations.md", "journalctl -u mgmtd -o cat | jq -r 'select(.event == \"access\" "
     "and .status >= 500)'", "systemd's journal of an installed service (test_logs.py)"),
]


def shell_blocks(name, text=None):
    """[(first line, block text without its indentation)] of docs/NAME's shell blocks."""
    text = text if text is not None else (ROOT / name).read_text()
    out = []
    for m in SHELL_FENCE.finditer(text):
        indent = len(m.group(1))
        body = "".join(line[indent:] if line[:indent].strip() == "" else line
                       for line in m.group(2).splitlines(True))
        first = next((ln for ln in body.splitlines() if ln.strip()), "")
        out.append((first, body))
    return out


def blocks_to_run(name):
    skipped = {first for f, first, _ in SKIPPED if f == name}
    return [b for b in shell_blocks(name) if b[0] not in skipped]


# --- what each command expects: its comment ------------------------------------------

def commands(block):
    """The block's commands as [(text, comment)]: lines joined where the shell reads on
    (a backslash, a pipe, && or || at the end, an open quote or $( ), the comment of the
    command's last line apart ("" when none)."""
    out, cur = [], []
    sq = dq = False
    depth = 0
    for line in block.splitlines():
        code, comment, i = "", "", 0
        while i < len(line):
            c = line[i]
            if sq:
                sq = c != "'"
            elif c == "\\":
                code += line[i:i + 2]
                i += 2
                continue
            elif dq and c == '"':
                dq = False
            elif not dq and c == "'":
                sq = True
            elif c == '"':
                dq = True
            elif c == "$" and line[i + 1:i + 2] == "(":
                depth += 1
            elif c == ")" and depth:
                depth -= 1
            elif c == "#" and not dq and (i == 0 or line[i - 1] in " \t"):
                comment = line[i + 1:].strip()
                break
            code += c
            i += 1
        cur.append(code)
        s = code.rstrip()
        if sq or dq or depth or s.endswith(("\\", "|", "&&", "||")):
            continue
        text = "\n".join(cur).strip()
        cur = []
        if text:
            out.append((text, comment))
    if cur and "\n".join(cur).strip():
        out.append(("\n".join(cur).strip(), ""))
    return out


def expected_calls(block):
    """[(program, expected)] in the order the block calls them: curl's expected HTTP
    status (200 unless the comment gives another), mgmtctl's, mgmtd's and make's exit
    code (0 unless the comment says `exit N`)."""
    out = []
    for text, comment in commands(block):
        status = re.match(r"(\d{3})\b", comment)
        code = re.search(r"\bexit (\d+)\s*$", comment)
        for m in re.finditer(r"(?:^|[\s|(;&/])(curl|mgmtctl|mgmtd|make)(?=\s|$)", text):
            if m.group(1) == "curl":
                out.append(("curl", int(status.group(1)) if status else 200))
            else:
                out.append((m.group(1), int(code.group(1)) if code else 0))
    return out


# --- running -------------------------------------------------------------------------

LOG_LINE = ("printf '%s\\t%s\\t%s\\t%s\\n' @NAME@ \"$rc\" \"@STATUS@\" \"${*//$'\\n'/ }\" "
            ">> \"$DOCTEST_LOG\"")

CURL_WRAPPER = """#!/bin/bash
# curl, and a line in $DOCTEST_LOG: exit code, the last HTTP status its -D file shows
hdr=$(mktemp) || exit 99
@REAL@ -D "$hdr" "$@"
rc=$?
status=$(sed -n 's/^HTTP\\/[0-9.]* \\([0-9][0-9][0-9]\\).*/\\1/p' "$hdr" | tail -1)
rm -f "$hdr"
""" + LOG_LINE.replace("@NAME@", "curl").replace("@STATUS@", "${status:-none}") + """
exit $rc
"""

PROGRAM_WRAPPER = """#!/bin/bash
# @NAME@, and a line in $DOCTEST_LOG: its exit code
@REAL@ "$@"
rc=$?
""" + LOG_LINE.replace("@STATUS@", "-") + """
exit $rc
"""


def program_wrapper(name, real):
    return PROGRAM_WRAPPER.replace("@NAME@", name).replace("@REAL@", real)


def wrapper(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def run_blocks(blocks, d, tmp_path, mgmtctl_bin, mgmtd_bin, replace=()):
    """Runs the [(name, first line, text)] blocks in one bash session (through
    run_against_daemon, after the replacements). Returns (rc, stdout, stderr, approval failures,
    [[(program, rc, status, args)] per block], [stdout per block])."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    real_curl = shutil.which("curl")
    assert real_curl, "curl is not installed"
    wrapper(bindir / "curl", CURL_WRAPPER.replace("@REAL@", real_curl))
    ctl = wrapper(bindir / "mgmtctl", program_wrapper("mgmtctl", mgmtctl_bin))
    mgmtd = wrapper(bindir / "mgmtd", program_wrapper("mgmtd", mgmtd_bin))
    # make (run, install...) is the reader's, never the test's: a block that calls it is
    # reported (it exits 127 here), unless its file lists it in SKIPPED
    wrapper(bindir / "make", program_wrapper("make", "false").replace("rc=$?", "rc=127"))
    log = tmp_path / "calls.log"
    log.write_text("")
    parts = []
    for n, (_name, _first, text) in enumerate(blocks):
        for old, new in replace:
            text = text.replace(old, new)
        parts.append("printf 'BLOCK %d\\n' >> \"$DOCTEST_LOG\"; printf '\\n@@block %d@@\\n'; "
                     "printf '@@block %d@@\\n' >&2\n%s" % (n, n, n, text))
    # an unset variable is a block that needs what no block before made: bash stops there
    script = "set -u\n" + "\n".join(parts)
    rc, out, err, failures = run_against_daemon(
        script, str(ctl), str(mgmtd), d, tmp_path,
        PATH="%s:%s" % (bindir, os.environ.get("PATH", "/usr/bin:/bin")), DOCTEST_LOG=log)
    calls = []
    for line in log.read_text().splitlines():
        if line.startswith("BLOCK "):
            calls.append([])
            continue
        program, prc, status, args = line.split("\t", 3)
        calls[-1].append((program, int(prc), status, args))
    outs = re.split(r"\n@@block \d+@@\n", "\n" + out)[1:]
    return rc, out, err, failures, calls, outs


def problems(blocks, result):
    """What went wrong, one sentence each: the run, a command the ERR trap reported that
    no `exit N` comment expects, and each call against what its command's comment says."""
    rc, out, err, failures, calls, _outs = result
    found = ["approving the sign-in: %s" % f for f in failures]
    if rc != 0:
        found.append("the session exited %d" % rc)
    found += re.findall(r"^.*unbound variable$", err, re.M)
    script = "\n".join(text for _n, _f, text in blocks)
    failed = {m.group(3).strip(): int(m.group(1)) for m in FAILED.finditer(err)}
    expected = expected_failures(script)
    for cmd, code in failed.items():
        if expected.get(cmd) != code:
            found.append("failed (exit %d): %s" % (code, cmd))
    if len(calls) != len(blocks):
        found.append("%d of %d blocks ran" % (len(calls), len(blocks)))
    for (name, first, text), got in zip(blocks, calls):
        want = expected_calls(text)
        where = "%s, block %r" % (name, first)
        if [p for p, _ in want] != [p for p, _rc, _s, _a in got]:
            found.append("%s: called %s, its commands say %s" % (
                where, [p for p, *_ in got], [p for p, _ in want]))
            continue
        for (program, exp), (_p, prc, status, args) in zip(want, got):
            if program == "curl":
                if status != str(exp) or prc != 0:
                    found.append("%s: curl %s answered %s (curl exit %d), expected %s" % (
                        where, args, status, prc, exp))
            elif prc != exp:
                found.append("%s: %s %s exited %d, expected %d" % (where, program, args,
                                                                  prc, exp))
    return found


def run_doc(name, d, tmp_path, mgmtctl_bin, mgmtd_bin):
    blocks = [(f, *shell_blocks(f)[i]) for f, i in PRELUDE.get(name, [])]
    blocks += [(name, first, text) for first, text in blocks_to_run(name)]
    replace = [(MAKE_RUN_URL, d.url("").rstrip("/")),
               ("https://mgmtd.example", d.url("").rstrip("/")),
               ("/etc/mgmtd/mgmtd.ini", str(d.config_path))]
    result = run_blocks(blocks, d, tmp_path, mgmtctl_bin, mgmtd_bin, replace)
    return blocks, result


def days_ahead(field, days):
    """A check that FIELD holds the date `date -u -d '+N days'` gives when the test runs
    (a day either side: the block may run across midnight, and a year ahead is 365 or 366
    days)."""
    def check(out):
        today = dt.datetime.now(dt.timezone.utc).date()
        dates = "|".join(str(today + dt.timedelta(days=days + k)) for k in (-1, 0, 1))
        if not re.search(r'"%s":\s*"(%s)T' % (field, dates), out):
            return "%s is not %d days ahead (%s)" % (field, days, dates)
    return check


def json_values(out):
    """The JSON values curl printed one after the other."""
    values, i, dec = [], 0, json.JSONDecoder()
    out = out.strip()
    while i < len(out):
        v, i = dec.raw_decode(out, i)
        values.append(v)
        while i < len(out) and out[i].isspace():
            i += 1
    return values


def renamed_and_back(out):
    """The rename example's two answers: DatabaseWithId, the same id, the new name then
    the old."""
    got = [(v.get("id"), v.get("name")) for v in json_values(out)]
    if got != [(1, "sensors-v2"), (1, "sensors")]:
        return "answered %s, not database 1 as sensors-v2 then sensors" % got


def restored_to_mydb(out):
    """The snapshot example: the last list, after the restore, holds mydb alone."""
    values = json_values(out)
    if not values or not isinstance(values[-1], list):
        return "printed no list last"
    names = [db.get("name") for db in values[-1]]
    if names != ["mydb"]:
        return "the list after the restore holds %s, not mydb alone" % names


# What the docs say the blocks print, checked in each block's stdout: (file, first line
# of the block) -> patterns, or functions of the output that say what is wrong (None
# when nothing is).
OUTPUT = {
    ("docs/testing.md", 'curl -sf -X PUT "$URL/_test/snapshots/ready" -H \'Content-Type: '
                        'application/json\' \\'): [r'"name":\s*"ready"', restored_to_mydb],
    ("docs/api.md", 'curl -s -X POST "$URL/api/v0/accounts/$ACCOUNT/management/tokens" \\'):
        [r'"accessToken":\s*"M\.V1\.', r'"description":\s*"CI pipeline"',
         r'"status":\s*"active"', days_ahead("expiresAt", 90)],
    ("docs/api.md", 'curl -s "$URL/api/v0/accounts/$ACCOUNT/clusters/$CLUSTER/databases" '
                    '-H "Authorization: Bearer $TOKEN"'):
        [r"^\[\]$"],
    ("docs/api.md", 'curl -s -X POST "$URL/api/v0/accounts/$ACCOUNT/clusters/$CLUSTER/'
                    'databases" \\'):
        [r'"name":\s*"sensors"', r'"retentionPeriod":\s*2592000000000000',
         r'"partitionTemplate":\s*\[\{"type":\s*"time",\s*"value":\s*"%Y-%m"\}',
         r'"maxTables":\s*500'],
    ("docs/api.md", 'curl -s -X PATCH "$URL/api/v0/accounts/$ACCOUNT/clusters/$CLUSTER/'
                    'databases/sensors" \\'):
        [r'"maxTables":\s*1000'],
    ("docs/api.md", 'curl -s -X DELETE "$URL/api/v0/accounts/$ACCOUNT/clusters/$CLUSTER/'
                    'databases/sensors" \\'):
        [r"^$"],
    ("docs/api.md", 'curl -s -X POST "$URL/api/v0/accounts/$ACCOUNT/clusters/$CLUSTER/'
                    'databases/sensors/tables" \\'):
        [r'"name":\s*"readings"', r'"databaseName":\s*"sensors"'],
    ("docs/api.md", 'curl -s -o /dev/null -w \'%{http_code}\\n\' \\'):
        [r"^204\n204\n403$"],
    ("docs/api.md", 'curl -s -X PUT "$URL/api/v0/accounts/$ACCOUNT/clusters/$CLUSTER/'
                    'databases/sensors/rename" \\'):
        [renamed_and_back],
    ("docs/api.md", 'ID=$(curl -s "$URL/api/v0/accounts/$ACCOUNT/clusters/$CLUSTER/'
                    'databases?status=deleted" \\'):
        [r'"id":\s*1[,}]', r'"name":\s*"sensors"', r'"maxTables":\s*1000'],
    ("docs/api.md", 'NEW=$(curl -s -X POST "$URL/api/v0/accounts/$ACCOUNT/clusters/$CLUSTER/'
                    'tokens" \\'):
        [r'"accessToken":\s*"apiv1_[\w-]{86}"', r'"description":\s*"telegraf on host-1"',
         days_ahead("expiresAt", 365)],
    ("docs/api.md", 'curl -s -X PATCH "$URL/api/v0/accounts/$ACCOUNT/clusters/$CLUSTER/'
                    'tokens/$TOKEN_ID" \\'):
        [r'\{"id":\s*"[0-9a-f-]{36}",\s*"action":\s*"read",\s*"resource":\s*"\*"[,}]',
         r'\{"id":\s*"[0-9a-f-]{36}",\s*"action":\s*"write",\s*"resource":\s*"sensors"[,}]'],
    ("docs/configuration.md", "build/mgmtd check-config --config /etc/mgmtd/mgmtd.ini"):
        [r"^configuration OK: "],
    ("docs/identity-providers.md", 'JWT=$(curl -s -d email=admin@example.com '
                                   'http://127.0.0.1:8080/oauth/token |'):
        [r'^\[\{"id":[^]]*"email":\s*"admin@example.com"'],
    # the API's page of the audit trail, then the offline command's JSON list
    ("docs/operations.md", "# the API: admins, auditors and management tokens of the account"):
        [r'^\{"events":\s*\[.*\]\}\[.*\]$'],
}


def check_outputs(blocks, outs):
    found = []
    for (name, first, _text), got in zip(blocks, outs):
        for pattern in OUTPUT.get((name, first), []):
            if callable(pattern):
                wrong = pattern(got)
                if wrong:
                    found.append("%s, block %r: %s" % (name, first, wrong))
            elif not re.search(pattern, got.strip(), re.M):
                found.append("%s, block %r: its output %r lacks %r" % (name, first, got,
                                                                        pattern))
    return found


@pytest.mark.parametrize("name", RUN_FILES)
def test_doc_blocks_run_as_written(name, mgmtctl_bin, mgmtd_bin, daemon_factory, tmp_path):
    d = daemon_factory(seed=dev_seed(), config_extra=DEV)
    blocks, result = run_doc(name, d, tmp_path, mgmtctl_bin, mgmtd_bin)
    assert blocks, name
    rc, out, err, failures, calls, outs = result
    found = problems(blocks, result) + check_outputs(blocks, outs)
    assert not found, "\n".join(found) + "\n--- stdout\n" + out + "\n--- stderr\n" + err
    # every output check names a block that is there
    for (f, first) in OUTPUT:
        if f == name:
            assert any(first == b[1] for b in blocks), "OUTPUT names no block: %r" % first


def test_every_output_check_has_its_block():
    for f, first in OUTPUT:
        assert f in RUN_FILES and first in [b[0] for b in blocks_to_run(f)], (f, first)


def test_every_shell_block_runs_or_is_listed():
    """A shell block in README.md or docs/*.md runs here (a file of RUN_FILES), in
    test_mgmtctl_readme.py (the README's Quickstart, docs/mgmtctl.md's quick start), or
    is in SKIPPED with why; every SKIPPED entry names a block that is there."""
    files = ["README.md"] + sorted(os.path.relpath(p, ROOT)
                                   for p in glob.glob(str(ROOT / "docs" / "*.md")))
    elsewhere = {("README.md", b) for b in readme_blocks()}
    elsewhere |= {("docs/mgmtctl.md", b)
                  for b in doc_blocks("docs/mgmtctl.md", "## Quick start", "\n## ")}
    listed = {(f, first) for f, first, _ in SKIPPED}
    seen, unlisted = set(), []
    for f in files:
        raw = [m.group(2) for m in SHELL_FENCE.finditer((ROOT / f).read_text())]
        for raw_text, (first, _text) in zip(raw, shell_blocks(f)):
            seen.add((f, first))
            if (f, raw_text) in elsewhere and (f, first) in listed:
                unlisted.append((f, first, "runs in test_mgmtctl_readme.py and is listed"))
            elif (f, raw_text) not in elsewhere and (f, first) not in listed \
                    and f not in RUN_FILES:
                unlisted.append((f, first, "neither runs nor is listed in SKIPPED"))
    assert not unlisted, unlisted
    assert listed <= seen, "SKIPPED names blocks that are not there: %s" % (listed - seen)
    assert all(why for _f, _first, why in SKIPPED)


def test_the_runner_fails_on_a_wrong_status(mgmtctl_bin, mgmtd_bin, daemon_factory,
                                            tmp_path):
    """The harness itself: a curl hidden behind `|| true` and 2>/dev/null that gets a
    404, a status other than the comment says, and a mgmtctl that fails behind `|| true`
    are each reported; bash alone would let all three pass."""
    d = daemon_factory(seed=dev_seed(), config_extra=DEV)
    url = d.url("").rstrip("/")
    blocks = [
        ("synthetic", "a", 'curl -s "%s/api/v0/nothing-here" 2>/dev/null || true\n' % url),
        ("synthetic", "b", 'curl -s -o /dev/null -w "%%{http_code}\\n" "%s/health"   # 204\n'
         % url),
        ("synthetic", "c", "mgmtctl --profile nosuch database list 2>/dev/null || true\n"),
        ("synthetic", "d", 'curl -s "%s/health"   # 200: fine\n' % url),
        ("synthetic", "e", "make run &\nwait\n"),
    ]
    result = run_blocks(blocks, d, tmp_path / "one", mgmtctl_bin, mgmtd_bin)
    rc, out, err, failures, calls, outs = result
    assert rc == 0 and not FAILED.search(err), err  # what bash alone says: all went well
    found = problems(blocks, result)
    assert len(found) == 4, found
    assert "block 'a': curl" in found[0] and "answered 404" in found[0], found
    assert "block 'b': curl" in found[1] and "answered 200" in found[1] \
        and "expected 204" in found[1], found
    assert "block 'c': mgmtctl" in found[2] and "exited 1, expected 0" in found[2], found
    assert "block 'e': make run exited 127" in found[3], found
    # a variable no block set stops the session there
    unset = [("synthetic", "f", 'curl -s "$URL_NOT_SET/health"\n'),
             ("synthetic", "g", 'curl -s "%s/health"\n' % url)]
    result = run_blocks(unset, d, tmp_path / "two", mgmtctl_bin, mgmtd_bin)
    found = problems(unset, result)
    assert result[0] != 0 and result[4] == [[]], result
    assert found[0] == "the session exited %d" % result[0], found
    assert found[1].endswith("URL_NOT_SET: unbound variable"), found
    assert found[2] == "1 of 2 blocks ran", found
    assert outs[1].strip() == "200" and '"status":"ok"' in outs[3].replace(" ", "")
    # and an output check that does not hold is reported
    assert check_outputs([("docs/api.md", "x", "")], ["nope"]) == []
    OUTPUT[("synthetic", "d")] = [r'"status":\s*"down"']
    try:
        assert len(check_outputs(blocks, outs)) == 1
    finally:
        del OUTPUT[("synthetic", "d")]


def test_commands_and_their_comments_are_read():
    block = ('X=$(curl -s "$U" |\n  python3 -c \'import json  # not a comment\')\n'
             'curl -s -X POST "$U" \\\n  -d \'{"a":\n  1}\'   # 403: refused\n'
             'mgmtctl --profile ci cluster list     # refused from now on: exit 1\n'
             'echo "# 500"\n')
    assert [c for _t, c in commands(block)] == ["", "403: refused",
                                                "refused from now on: exit 1", ""]
    assert expected_calls(block) == [("curl", 200), ("curl", 403), ("mgmtctl", 1)]


def test_dates_in_outputs_are_those_of_the_run():
    today = dt.datetime.now(dt.timezone.utc).date()
    check = days_ahead("expiresAt", 90)
    assert check('{"expiresAt":"%sT20:00:00.000Z"}' % (today + dt.timedelta(90))) is None
    assert "not 90 days ahead" in check('{"expiresAt":"%sT20:00:00.000Z"}'
                                        % (today + dt.timedelta(80)))


def test_json_checks():
    assert json_values('{"a": {"b": 1}}{"c": 2}\n[]') == [{"a": {"b": 1}}, {"c": 2}, []]
    assert renamed_and_back('{"id":1,"name":"sensors-v2","t":[{}]}{"id":1,"name":"sensors"}') \
        is None
    assert "not database 1" in renamed_and_back('{"id":1,"name":"sensors-v2"}')
