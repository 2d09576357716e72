"""mgmtctl against a real mgmtd: every command and flag of INFLUXCTL.md 4-11, the printed
shapes (golden files, themselves checked against influxctl's documented shapes in
test_mgmtctl_shapes.py), the stdout/stderr split of a create, and exit statuses.

The credential here is MGMTCTL_TOKEN: an admin's IdP JWT (the suite's test IdP) or a
management token; signing in is test_mgmtctl_login.py's subject. The clock is frozen
through /_test/clock at a time computed from the real one."""

import datetime as dt
import json
import re
import socket

import pytest

from conftest import (ACCOUNT_A, ACCOUNT_B, CLUSTER_A, CLUSTER_B, DB_TOKEN_RE, MGMT_TOKEN_RE,
                      assert_status, ok_json, tokens_path)
from ctl import (Ctl, check_golden, ctl, describe, freeze_clock, mgmtctl_bin,  # noqa: F401
                 module_daemon, now)

KEEP = (ACCOUNT_A, CLUSTER_A, ACCOUNT_B, CLUSTER_B)
TESTING = "[testing]\nenabled = true\n"
# what both creates say on stderr, influxctl's two lines
WARNINGS = ("warn\tplease copy the token and store in a safe place\n"
            "warn\tthis is the *only time* you will see the token\n")


@pytest.fixture(scope="module")
def daemon(mgmtd_bin, idp, tmp_path_factory):
    yield from module_daemon(mgmtd_bin, idp, tmp_path_factory, "mgmtctl", config_extra=TESTING)



def golden(name, text):
    return check_golden(name, text, keep_uuids=KEEP)


def rest_databases(daemon, status=None):
    path = "/api/v0/accounts/%s/clusters/%s/databases" % (ACCOUNT_A, CLUSTER_A)
    return ok_json(daemon.get(path, daemon.jwt("admin"),
                              params={"status": status} if status else None))


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------
# cluster, user

def test_cluster_list_and_get(ctl):
    golden("cluster_list.txt", ctl.ok("cluster", "list").stdout)
    listed = ctl.json("cluster", "list")
    golden("cluster_list.json", json.dumps(listed, indent=2) + "\n")
    assert listed[0]["cluster_id"] == CLUSTER_A
    assert listed[0]["url"] == CLUSTER_A + ".a.influxdb.io"  # no scheme, as influxctl
    golden("cluster_get.txt", ctl.ok("cluster", "get", CLUSTER_A).stdout)
    # the JSON is exactly Go's MarshalIndent: golden as printed, not re-dumped
    golden("cluster_get.json", ctl.ok("cluster", "get", "--format", "json", CLUSTER_A).stdout)
    # the argument is required, and a cluster of another account does not exist
    assert "argument" in ctl.fails(2, "cluster", "get").stderr
    res = ctl.fails(1, "cluster", "get", CLUSTER_B)
    assert res.stderr.startswith("error\t") and "not found" in res.stderr


def test_user_list(ctl):
    golden("user_list.txt", ctl.ok("user", "list").stdout)
    users = ctl.json("user", "list")
    assert {u["email"] for u in users} >= {"admin@example.com", "member@example.com"}
    assert list(users[0]) == ["id", "account_id", "email", "group", "idp_issuer", "idp_subject",
                              "created_at"]


# ---------------------------------------------------------------------------
# database

def test_database_create_and_list_as_the_docs_show(ctl):
    # the docs' examples: flags before the name
    golden("database_create.txt", ctl.ok("database", "create", "mydb1").stdout)
    ctl.ok("database", "create", "--max-columns", "200", "mydb2")
    ctl.ok("database", "create", "--retention-period", "24h", "--max-tables", "100",
           "--max-columns", "200", "mydb3")
    golden("database_list.txt", ctl.ok("database", "list").stdout)
    golden("database_list.json", ctl.ok("database", "list", "--format=json").stdout)
    listed = ctl.json("database", "list")
    assert [d["retention_period_ns"] for d in listed] == [0, 0, 86400000000000]


def test_database_create_with_every_flag(ctl, daemon):
    out = ctl.ok("database", "create", "--template-tag", "room", "--template-tag",
                 "sensor-type", "--template-tag-bucket", "customerID,1000",
                 "--template-timeformat", "%Y-%m-%d", "--retention-period", "30d",
                 "--max-tables", "200", "--max-columns", "150", "mydb").stdout
    golden("database_create_template.txt", out)
    [d] = rest_databases(daemon)
    assert d["retentionPeriod"] == 30 * 86400 * 10**9
    assert d["maxTables"] == 200 and d["maxColumnsPerTable"] == 150
    assert d["partitionTemplate"] == [
        {"type": "tag", "value": "room"}, {"type": "tag", "value": "sensor-type"},
        {"type": "bucket", "value": {"tagName": "customerID", "numberOfBuckets": 1000}},
        {"type": "time", "value": "%Y-%m-%d"}]
    j = ctl.json("database", "list")[0]
    assert j["partition_template"][2] == {"type": "bucket", "value": {
        "tag_name": "customerID", "number_of_buckets": 1000}}


@pytest.mark.parametrize("period, ns, shown", [
    ("0d", 0, "infinite"), ("3d", 3 * 86400 * 10**9, "3d"), ("6w", 42 * 86400 * 10**9, "42d"),
    ("1mo", 30 * 86400 * 10**9, "30d"), ("1y", 365 * 86400 * 10**9, "365d"),
    ("30d30d", 60 * 86400 * 10**9, "60d"), ("2.5d", 60 * 3600 * 10**9, "2d12h"),
    ("1h30m", 90 * 60 * 10**9, "1h30m"),
])
def test_retention_periods_as_influxctl_reads_and_prints_them(ctl, daemon, period, ns, shown):
    # and a flag after the positional argument, which influxctl's own parser would not take
    ctl.ok("database", "create", "db", "--retention-period", period)
    assert rest_databases(daemon)[0]["retentionPeriod"] == ns
    row = [line for line in ctl.ok("database", "list").stdout.splitlines() if "| db " in line]
    assert row and row[0].split("|")[3].strip() == shown, row


def test_database_flags_refused(ctl, daemon):
    for args, says in [
        (["--retention-period", "30 days", "db"], "not a duration"),
        (["--retention-period", "-1d", "db"], "negative"),
        (["--max-tables", "many", "db"], "--max-tables"),
        (["--max-tables", "-1", "db"], "--max-tables"),
        (["--template-tag", "room", "db"], "--template-timeformat is required"),
        (["--template-timeformat", "%H", "db"], "--template-timeformat"),
        (["--template-tag-bucket", "customerID", "--template-timeformat", "%Y", "db"],
         "customerID,100"),
        (["--nope", "db"], "flag provided but not defined: --nope"),
        ([], "argument"),
        (["a", "b"], "too many arguments"),
    ]:
        res = ctl.fails(2, "database", "create", *args)
        assert says in res.stderr, describe(res)
        assert "usage: mgmtctl [global options] database create" in res.stderr
        assert res.stdout == ""
    assert rest_databases(daemon) == []


def test_database_update_rename_delete_undelete(ctl, daemon):
    ctl.ok("database", "create", "mydb")
    out = ctl.ok("database", "update", "--retention-period", "1mo", "mydb").stdout
    assert "| 30d " in out
    ctl.ok("database", "update", "--max-tables", "300", "mydb")
    ctl.ok("database", "update", "mydb", "--max-columns", "200")
    [d] = rest_databases(daemon)
    assert (d["maxTables"], d["maxColumnsPerTable"], d["retentionPeriod"]) == (
        300, 200, 30 * 86400 * 10**9)
    # 0 means the default again; no flag at all is a usage error
    ctl.ok("database", "update", "--max-tables", "0", "mydb")
    assert rest_databases(daemon)[0]["maxTables"] == 500
    assert "nothing to update" in ctl.fails(2, "database", "update", "mydb").stderr

    golden("database_rename.txt", ctl.ok("database", "rename", "mydb", "mydb-2").stdout)
    # deleting asks; without a terminal it refuses unless --force
    res = ctl.fails(1, "database", "delete", "mydb-2")
    assert "--force" in res.stderr
    assert rest_databases(daemon) != []
    res = ctl.ok("database", "delete", "--force", "mydb-2")
    assert res.stdout == "deleted database mydb-2\n"
    assert rest_databases(daemon) == []
    golden("database_list_deleted.txt",
           ctl.ok("database", "list", "--filter-status", "deleted").stdout)
    golden("database_list_empty.txt", ctl.ok("database", "list").stdout)
    assert ctl.ok("database", "list", "--format", "json").stdout == "[]\n"
    # undelete takes the name, as influxctl's; the newest deleted one of that name
    ctl.ok("database", "create", "mydb-2")
    ctl.ok("database", "delete", "--force", "mydb-2")
    deleted = rest_databases(daemon, "deleted")
    newest = max(x["id"] for x in deleted)
    out = ctl.json("database", "undelete", "mydb-2")
    assert out["id"] == newest and out["database_name"] == "mydb-2"
    assert [x["name"] for x in rest_databases(daemon)] == ["mydb-2"]
    res = ctl.fails(1, "database", "undelete", "nothing-like-it")
    assert "no deleted database is named nothing-like-it" in res.stderr


def test_delete_several_goes_on_after_a_failure(ctl, daemon):
    ctl.ok("database", "create", "a")
    ctl.ok("database", "create", "b")
    res = ctl.fails(1, "database", "delete", "--force", "a", "missing", "b")
    assert res.stdout == "deleted database a\ndeleted database b\n"
    assert "database not found" in res.stderr
    assert rest_databases(daemon) == []


def test_database_names_with_a_slash(ctl, daemon):
    ctl.ok("database", "create", "telegraf/autogen")
    ctl.ok("table", "create", "telegraf/autogen", "cpu")
    assert ctl.json("table", "list", "telegraf/autogen")[0]["table_name"] == "cpu"
    ctl.ok("database", "delete", "--force", "telegraf/autogen")
    assert rest_databases(daemon) == []


# ---------------------------------------------------------------------------
# table

def test_table_commands(ctl):
    ctl.ok("database", "create", "mydb")
    golden("table_create.txt", ctl.ok("table", "create", "mydb", "readings").stdout)
    ctl.ok("table", "create", "--template-tag", "room", "--template-timeformat", "%Y-%m",
           "mydb", "rooms")
    # one of each in the goldens: ICEBERG EXPORT enabled and disabled
    ctl.ok("table", "iceberg", "enable", "mydb", "rooms")
    golden("table_list.txt", ctl.ok("table", "list", "mydb").stdout)
    golden("table_list.json", ctl.ok("table", "list", "--format", "json", "mydb").stdout)
    tables = ctl.json("table", "list", "mydb")
    ids = {t["table_name"]: t["id"] for t in tables}
    assert "without a terminal" not in ctl.fails(1, "table", "delete", "mydb", "readings").stdout
    assert ctl.ok("table", "delete", "--force", "mydb", "readings").stdout == \
        "deleted table readings of database mydb\n"
    deleted = ctl.json("table", "list", "--filter-status=deleted", "mydb")
    assert [t["id"] for t in deleted] == [ids["readings"]]
    out = ctl.json("table", "rename", "mydb", "rooms", "rooms_v2")
    assert out["id"] == ids["rooms"] and out["table_name"] == "rooms_v2"
    # undelete takes the table's ID, unlike database undelete
    out = ctl.json("table", "undelete", "mydb", str(ids["readings"]))
    assert out["table_name"] == "readings"
    assert sorted(t["table_name"] for t in ctl.json("table", "list", "mydb")) == [
        "readings", "rooms_v2"]
    assert "not found" in ctl.fails(1, "table", "list", "nodb").stderr
    assert ctl.fails(2, "table", "rename", "mydb", "x").returncode == 2


def iceberg_of(ctl, db):
    """{table name: iceberg_export}; a false one is left out, as protobuf's JSON does."""
    tables = ctl.json("table", "list", db)
    assert all(t.get("iceberg_export", True) is True for t in tables), tables
    return {t["table_name"]: t.get("iceberg_export", False) for t in tables}


def test_table_iceberg_commands(ctl, daemon):
    ctl.ok("database", "create", "icedb")
    ctl.ok("table", "create", "icedb", "cpu")
    ctl.ok("table", "create", "icedb", "mem")
    assert iceberg_of(ctl, "icedb") == {"cpu": False, "mem": False}
    # the decided output (docs/mgmtctl.md): one line on stdout, nothing on stderr
    res = ctl.ok("table", "iceberg", "enable", "icedb", "cpu")
    assert (res.stdout, res.stderr) == (
        "enabled iceberg exports for table cpu of database icedb\n", "")
    assert iceberg_of(ctl, "icedb") == {"cpu": True, "mem": False}
    # idempotent, as the API is
    assert ctl.ok("table", "iceberg", "enable", "icedb", "cpu").returncode == 0
    assert iceberg_of(ctl, "icedb") == {"cpu": True, "mem": False}
    # what the daemon holds, not only what mgmtctl says
    listed = daemon.get("/api/v0/accounts/%s/clusters/%s/databases/icedb/tables"
                        % (ACCOUNT_A, CLUSTER_A), daemon.jwt("admin")).json()
    assert {t["name"]: t["icebergExport"] for t in listed} == {"cpu": True, "mem": False}
    table = ctl.ok("table", "list", "icedb").stdout
    assert re.search(r"\| +\d+ \| cpu +\| enabled +\|", table), table
    assert re.search(r"\| +\d+ \| mem +\| disabled +\|", table), table
    # the key/value answers of the other table commands show it too
    assert "| iceberg export | enabled" in ctl.ok("table", "rename", "icedb", "cpu",
                                                   "cpu2").stdout
    assert ctl.json("table", "rename", "icedb", "cpu2", "cpu")["iceberg_export"] is True
    res = ctl.ok("table", "iceberg", "disable", "icedb", "cpu")
    assert res.stdout == "disabled iceberg exports for table cpu of database icedb\n"
    assert iceberg_of(ctl, "icedb") == {"cpu": False, "mem": False}
    assert ctl.ok("table", "iceberg", "disable", "icedb", "cpu").returncode == 0

    # errors: unknown table or database (1), usage (2), and no --format (only -h)
    res = ctl.fails(1, "table", "iceberg", "enable", "icedb", "nope")
    assert "not found" in res.stderr and res.stdout == ""
    assert "not found" in ctl.fails(1, "table", "iceberg", "disable", "nodb", "cpu").stderr
    assert "not enough arguments" in ctl.fails(2, "table", "iceberg", "enable", "icedb").stderr
    ctl.fails(2, "table", "iceberg", "enable", "icedb", "cpu", "extra")
    assert "--format" in ctl.fails(2, "table", "iceberg", "enable", "--format", "json",
                                   "icedb", "cpu").stderr
    res = ctl.fails(2, "table", "iceberg", "toggle", "icedb", "cpu")
    assert "no command table iceberg toggle\n" in res.stderr
    # typos are answered as elsewhere, at either word
    assert "(did you mean table iceberg enable?)" in ctl.fails(
        2, "table", "iceberg", "enabel", "icedb", "cpu").stderr
    assert "(did you mean table iceberg?)" in ctl.fails(
        2, "table", "icebrg", "enable", "icedb", "cpu").stderr
    assert iceberg_of(ctl, "icedb") == {"cpu": False, "mem": False}


def test_table_iceberg_help(ctl):
    group = ctl.ok("table", "iceberg").stdout
    # influxctl's description of the group (INFLUXCTL.md 9, 9.6)
    assert "mgmtctl table iceberg - Manage iceberg exports for a table" in group
    assert re.search(r"^   enable +\S", group, re.M) and re.search(r"^   disable +\S", group,
                                                                   re.M)
    assert ctl.ok("table", "iceberg", "-h").stdout == group
    assert ctl.ok("table", "iceberg", "--help").stdout == group
    assert ctl.ok("table", "iceberg", "help").stdout == group
    assert ctl.ok("help", "table", "iceberg").stdout == group
    assert ctl.ok("table", "help", "iceberg").stdout == group
    # the noun's help lists the group with that description, not its commands
    table = ctl.ok("table").stdout
    assert re.search(r"^   iceberg +Manage iceberg exports for a table$", table, re.M), table
    assert not re.search(r"^   (iceberg )?enable", table, re.M)
    for verb in ("enable", "disable"):
        one = ctl.ok("table", "iceberg", verb, "-h").stdout
        assert "mgmtctl [global options] table iceberg %s <DATABASE_NAME> <TABLE_NAME>" % verb \
            in one
        assert re.findall(r"^   (--\S+)", one, re.M) == ["--help,"]
        assert ctl.ok("table", "iceberg", "help", verb).stdout == one
        assert ctl.ok("help", "table", "iceberg", verb).stdout == one
        assert ctl.ok("table", "help", "iceberg", verb).stdout == one
    # the group is no verb of its own, nor are its verbs the noun's
    assert "no command table enable" in ctl.fails(2, "table", "enable", "db", "t").stderr
    assert "no command table iceberg x" in ctl.fails(2, "help", "table", "iceberg", "x").stderr


# ---------------------------------------------------------------------------
# token (database tokens)

def test_token_create_prints_table_warnings_then_the_secret(ctl, daemon, now):
    ctl.ok("database", "create", "DATABASE_NAME")
    expires = (now + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    res = ctl.ok("token", "create", "--read-database", "DATABASE_NAME", "--write-database",
                 "DATABASE_NAME", "--expires-at", expires,
                 "Read/write token for DATABASE_NAME with 7d expiration")
    golden("token_create.txt", res.stdout)
    assert res.stderr == WARNINGS
    # what `... 2>/dev/null | tail -1` captures is the secret alone, and it works
    secret = res.stdout.splitlines()[-1]
    assert DB_TOKEN_RE.fullmatch(secret)
    assert_status(daemon.authorize(secret, "DATABASE_NAME", "write"), 204)
    assert "| " + ts(now + dt.timedelta(days=7)) in res.stdout
    # `> secret.txt` keeps the table too (influxctl 2.11 does so as well): the last line
    assert res.stdout.count("\n") == 7


def test_token_create_json(ctl, daemon):
    res = ctl.ok("token", "create", "--read-database", "*", "--write-database", "*",
                 "--format", "json", "Read/write token for all databases")
    golden("token_create.json", res.stdout)
    j = json.loads(res.stdout)
    # each permission with the id the docs print first, the same as the API's
    assert [(p["action"], p["resource"]) for p in j["permissions"]] == [("read", "*"),
                                                                       ("write", "*")]
    assert [list(p) for p in j["permissions"]] == [["id", "action", "resource"]] * 2
    rest = ok_json(daemon.get("/api/v0/accounts/%s/clusters/%s/tokens/%s"
                              % (ACCOUNT_A, CLUSTER_A, j["id"]), daemon.jwt("admin")))
    assert [p["id"] for p in j["permissions"]] == [p["id"] for p in rest["permissions"]]
    assert "expires_at" not in j  # never expires: no key, as omitempty leaves out
    assert DB_TOKEN_RE.fullmatch(j["access_token"])
    assert res.stderr.count("warn\t") == 2


def test_token_list_get_update_revoke(ctl, daemon):
    ctl.ok("database", "create", "mydb1")
    ctl.ok("database", "create", "mydb2")
    a = ctl.json("token", "create", "--read-database", "mydb1", "--write-database", "mydb1",
                 "read/write for mydb1")
    b = ctl.json("token", "create", "--read-database", "mydb2", "read-only for mydb2")
    # (ids are random: the golden is sorted by description)
    golden("token_list.txt", ctl.ok("token", "list", "--sort", "description").stdout)
    listed = ctl.json("token", "list")
    assert [t["id"] for t in listed] == sorted([a["id"], b["id"]])  # --sort id, the default
    by_description = ctl.json("token", "list", "--sort", "description")
    assert [t["description"] for t in by_description] == ["read-only for mydb2",
                                                           "read/write for mydb1"]
    # the docs' cleanup script: `token list | grep DESCRIPTION | head -n1 | cut -d' ' -f2`
    line = [x for x in ctl.ok("token", "list").stdout.splitlines() if "read-only for mydb2" in x]
    assert line[0].split(" ")[1] == b["id"]

    golden("token_get.txt", ctl.ok("token", "get", a["id"]).stdout)
    got = ctl.json("token", "get", a["id"])
    assert "access_token" not in got and got["id"] == a["id"]

    # update replaces the permissions; a description alone keeps them
    out = ctl.json("token", "update", "--read-database", "*", a["id"])
    assert [{k: p[k] for k in ("action", "resource")} for p in out["permissions"]] == \
        [{"action": "read", "resource": "*"}]
    out = ctl.json("token", "update", "--description", "renamed", a["id"])
    assert out["description"] == "renamed" and len(out["permissions"]) == 1
    assert "nothing to update" in ctl.fails(2, "token", "update", a["id"]).stderr

    # revoke, and its old name `delete`
    assert ctl.ok("token", "revoke", "--force", a["id"]).stdout == \
        "revoked database token %s\n" % a["id"]
    assert ctl.ok("token", "delete", "--force", b["id"]).stdout == \
        "revoked database token %s\n" % b["id"]
    assert ctl.json("token", "list") == []
    revoked = ctl.json("token", "list", "--include-revoked")
    assert {t["id"] for t in revoked} == {a["id"], b["id"]}
    assert all("revoked_at" in t for t in revoked)
    res = ctl.fails(1, "token", "get", a["id"])
    assert "--include-revoked" in res.stderr
    assert ctl.json("token", "get", "--include-revoked", a["id"])["revoked_at"]
    # --include-revoked is token list's and get's alone
    assert "not defined" in ctl.fails(2, "management", "list", "--include-revoked").stderr


def test_token_refusals(ctl):
    res = ctl.fails(1, "token", "create", "--read-database", "nodb", "x")
    assert res.stderr.startswith("error\t") and "nodb" in res.stderr
    assert "--expires-at" in ctl.fails(2, "token", "create", "--expires-at", "tomorrow",
                                       "x").stderr
    assert ctl.fails(2, "token", "create").returncode == 2
    assert "not found" in ctl.fails(1, "token", "get", "no-such-token").stderr


# ---------------------------------------------------------------------------
# management tokens

def test_management_create_list_revoke(ctl, daemon, now):
    expires = now + dt.timedelta(days=1)
    # `date -v+1d -Iseconds` on a machine six hours behind UTC, as the docs' example
    local = (expires - dt.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%S-06:00")
    res = ctl.ok("management", "create", "--expires-at", local, "--description",
                 "Example token description")
    golden("management_create.txt", res.stdout)
    assert res.stderr == WARNINGS
    secret = res.stdout.splitlines()[-1]
    assert MGMT_TOKEN_RE.fullmatch(secret)
    assert "|  expires at | %s " % ts(expires) in res.stdout
    # a second one that never expires, a second later (the list is oldest first), then the list
    later = freeze_clock(daemon, dt.timedelta(seconds=1))
    ctl.ok("management", "create", "--description", "Client2 token")
    golden("management_list.txt", ctl.ok("management", "list").stdout)
    listed = ctl.json("management", "list")
    golden("management_list.json", json.dumps(listed, indent=2) + "\n")
    assert listed[0]["expires_at"] == {"seconds": int(expires.timestamp())}
    assert "expires_at" not in listed[1] and "revoked_at" not in listed[1]
    assert listed[0]["created_at"] == {"seconds": int(now.timestamp()), "nanos": 250000000}
    assert listed[1]["created_at"] == {"seconds": int(later.timestamp()), "nanos": 250000000}
    # the token works, then is revoked and stays listed
    as_token = Ctl(ctl.bin, daemon, ctl.home, token=secret)
    as_token.ok("cluster", "list")
    out = ctl.ok("management", "revoke", "--force", listed[0]["id"]).stdout
    assert out == "revoked management token %s\n" % listed[0]["id"]
    res = as_token.fails(1, "cluster", "list")
    assert "error\t" in res.stderr and "management token" in res.stderr
    after = ctl.json("management", "list")
    assert after[0]["revoked_at"]["seconds"] == int(later.timestamp())
    rows = ctl.ok("management", "list").stdout.splitlines()
    # never expires and not revoked print as the Unix epoch
    assert rows[4].count("1970-01-01T00:00:00Z") == 2


def test_management_create_json_and_sorting(ctl, daemon):
    res = ctl.ok("management", "create", "--description", "b-token", "--format", "json")
    golden("management_create.json", res.stdout)
    j = json.loads(res.stdout)
    assert list(j) == ["id", "account_id", "token_prefix", "created_at", "description",
                       "created_by", "access_token"]
    assert res.stderr.count("warn\t") == 2
    freeze_clock(daemon, dt.timedelta(seconds=1))
    ctl.ok("management", "create", "--description", "a-token")
    descriptions = [t["description"] for t in ctl.json("management", "list")]
    assert descriptions == ["b-token", "a-token"]  # created, the default
    assert [t["description"] for t in ctl.json("management", "list", "--sort", "description")] \
        == ["a-token", "b-token"]
    prefixes = [t["token_prefix"] for t in ctl.json("management", "list", "--sort", "prefix")]
    assert prefixes == sorted(prefixes)
    assert "one of" in ctl.fails(2, "management", "list", "--sort", "size").stderr


def test_management_create_without_a_description_says_where_it_came_from(ctl):
    # Cloud Dedicated's reference page: "influxctl management create", no flag at all
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    res = ctl.ok("management", "create")
    after = dt.datetime.now(dt.timezone.utc)
    secret = res.stdout.strip().splitlines()[-1]
    [token] = [t for t in ctl.json("management", "list")
               if secret.startswith(t["token_prefix"])]
    m = re.fullmatch(r"created by mgmtctl at (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)",
                     token["description"])
    assert m, token["description"]
    at = dt.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    assert before <= at <= after, (before, at, after)


def test_management_create_refuses_an_empty_description(ctl):
    # influxctl 2.10.0: "ensure the management token description is a non-empty string"
    res = ctl.fails(2, "management", "create", "--description", "")
    assert "--description must not be empty" in res.stderr
    assert "usage: mgmtctl [global options] management create [command options]" in res.stderr
    # the description is a flag here, an argument for `token create`
    assert "too many arguments" in ctl.fails(2, "management", "create", "desc").stderr


def test_a_management_token_may_not_create_one(ctl, daemon):
    secret = daemon.create_token("automation")["accessToken"]
    as_token = Ctl(ctl.bin, daemon, ctl.home, token=secret)
    res = as_token.fails(1, "management", "create", "--description", "x")
    assert res.stderr.startswith("error\t") and res.stdout == ""
    # but it may list and revoke
    assert len(as_token.json("management", "list")) == 1


def test_revoke_several_management_tokens(ctl, daemon):
    a = daemon.create_token("a")["id"]
    b = daemon.create_token("b")["id"]
    res = ctl.fails(1, "management", "revoke", "--force", a, "not-a-token", b)
    assert res.stdout.splitlines() == ["revoked management token " + a,
                                       "revoked management token " + b]
    assert res.stderr.count("error\t") == 1
    assert all(t["status"] == "revoked" for t in daemon.list_tokens())


# ---------------------------------------------------------------------------
# the command line itself

def test_help_and_version(ctl):
    top = ctl.ok("help").stdout
    for noun in ("auth", "cluster", "database", "management", "table", "token", "user"):
        assert "\n   %s " % noun in top
    assert ctl.ok("--help").stdout == top
    assert ctl.ok().stdout == top
    create = ctl.ok("token", "create", "--help").stdout
    assert "--read-database DATABASE_NAME" in create and "<TOKEN_DESCRIPTION>" in create
    assert ctl.ok("token", "help", "create").stdout == create
    assert ctl.ok("help", "token", "create").stdout == create
    assert ctl.ok("token", "create", "-h").stdout == create
    assert "revoke, delete" in ctl.ok("token").stdout
    assert re.match(r"mgmtctl \d+\.\d+\.\d+ linux/", ctl.ok("version").stdout)
    assert ctl.ok("--version").stdout == ctl.ok("version").stdout
    assert "no command frob" in ctl.fails(2, "frob").stderr
    assert "no command token frob" in ctl.fails(2, "token", "frob").stderr


def test_flag_forms(ctl):
    # --flag=value, -flag value (Go's single dash), flags after arguments, globals after
    # the command, and -- before an argument that starts with a dash
    ctl.ok("database", "create", "-max-tables", "7", "d1")
    ctl.ok("database", "create", "d2", "--max-tables=8")
    ctl.ok("database", "list", "--format=json", "--debug")
    ctl.ok("--debug", "database", "list")
    res = ctl.ok("token", "create", "--read-database", "d1", "--", "-dash-description")
    assert "-dash-description" in res.stdout
    assert "takes no value" in ctl.fails(2, "database", "delete", "--force=maybe", "d1").stderr
    assert "needs an argument" in ctl.fails(2, "database", "list", "--format").stderr
    assert "one of: table json" in ctl.fails(2, "database", "list", "--format", "yaml").stderr


def test_missing_account_or_cluster_is_a_usage_error(ctl):
    res = ctl.fails(2, "cluster", "list", unset=("MGMTCTL_ACCOUNT",))
    assert "no account ID" in res.stderr and "--account" in res.stderr
    res = ctl.fails(2, "database", "list", unset=("MGMTCTL_CLUSTER",))
    assert "no cluster ID" in res.stderr
    # --account and --cluster fill them, before or after the command
    ctl.ok("--account", ACCOUNT_A, "cluster", "list", unset=("MGMTCTL_ACCOUNT",))
    ctl.ok("database", "list", "--cluster", CLUSTER_A, unset=("MGMTCTL_CLUSTER",))


def test_network_errors_name_the_url_and_the_cause(ctl):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once closed
    res = ctl.fails(1, "cluster", "list", env={"MGMTCTL_URL": "http://127.0.0.1:%d" % port})
    assert "cannot reach http://127.0.0.1:%d/api/v0/accounts/" % port in res.stderr
    assert re.search(r"(?i)connect|refused", res.stderr)
    res = ctl.fails(1, "cluster", "list", env={"MGMTCTL_URL": "ftp://127.0.0.1"})
    assert "http://" in res.stderr


def test_timeout(ctl):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)  # accepts, never answers
        port = s.getsockname()[1]
        res = ctl.fails(1, "--timeout", "300ms", "cluster", "list",
                        env={"MGMTCTL_URL": "http://127.0.0.1:%d" % port})
    assert "cannot reach" in res.stderr and re.search(r"(?i)timed? ?out", res.stderr)
    assert "--timeout" in ctl.fails(2, "--timeout", "soon", "cluster", "list").stderr


def test_api_errors_exit_1_with_the_api_message(ctl, daemon):
    ctl.ok("database", "create", "dup")
    res = ctl.fails(1, "database", "create", "dup")
    assert res.stdout == ""
    assert res.stderr.startswith("error\t") and res.stderr.count("\n") == 1
    member = Ctl(ctl.bin, daemon, ctl.home, token=daemon.jwt("member"))
    res = member.fails(1, "database", "create", "x")
    assert res.stderr.startswith("error\t")
    # a JWT nobody is provisioned for
    stranger = Ctl(ctl.bin, daemon, ctl.home, token=daemon.make_jwt_for_subject("nobody"))
    assert "not provisioned" in stranger.fails(1, "user", "list").stderr


def test_completion_script_is_the_committed_one(ctl):
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "config", "mgmtctl.bash")) as f:
        committed = f.read()
    assert ctl.ok("completion", "bash").stdout == committed, \
        "regenerate config/mgmtctl.bash with `build/mgmtctl completion bash`"


def test_completion_completes(ctl, tmp_path):
    import os
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    script = os.path.join(root, "config", "mgmtctl.bash")
    probe = tmp_path / "probe.sh"
    probe.write_text(
        'source "$1"\n'
        'comp() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMPREPLY=();'
        ' _mgmtctl; echo "${COMPREPLY[*]}"; }\n'
        'comp mgmtctl tok\n'
        'comp mgmtctl token ""\n'
        'comp mgmtctl --profile p token create --re\n'
        'comp mgmtctl token list --sort ""\n'
        'comp mgmtctl database list --format ""\n')
    out = subprocess.run(["bash", str(probe), script], capture_output=True, text=True,
                         timeout=30, check=True).stdout.splitlines()
    assert out == ["token", "create list get update revoke delete rotate suspend resume help",
                   "--read-database",
                   "id description", "table json"]
