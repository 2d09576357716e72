"""mgmtctl's golden outputs (written by test_mgmtctl.py) have influxctl's documented shapes,
and its documentation covers every command.

The shapes below are what influxctl's public documentation shows (../shared/INFLUXCTL.md,
sections 1.4, 4, 5, 7, 8): the headers of each list table, the rows of each key/value
table, the order of each JSON object's keys. Where the docs are silent mgmtctl decided
(docs/mgmtctl.md); those goldens are held to the same style rules."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from ctl import GOLDEN_DIR, mgmtctl_bin  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]

# Documented list tables: headers in order, and the numeric (right-aligned) columns.
LIST_TABLES = {
    "cluster_list.txt": (["ID", "NAME", "STATE", "URL"], []),
    # influxctl 2.10.3 added the ID column; its place is decided (docs/mgmtctl.md)
    "database_list.txt": (["ID", "DATABASE NAME", "RETENTION PERIOD", "MAX TABLES",
                           "MAX COLUMNS PER TABLE"], ["ID", "MAX TABLES",
                                                      "MAX COLUMNS PER TABLE"]),
    "database_list_empty.txt": (["ID", "DATABASE NAME", "RETENTION PERIOD", "MAX TABLES",
                                 "MAX COLUMNS PER TABLE"], []),
    "token_list.txt": (["ID", "DESCRIPTION"], []),
    "management_list.txt": (["ID", "DESCRIPTION", "PREFIX", "CREATED AT", "EXPIRES AT",
                             "REVOKED AT"], []),
    # decided (docs/mgmtctl.md)
    "database_list_deleted.txt": (["ID", "DATABASE NAME", "RETENTION PERIOD", "MAX TABLES",
                                   "MAX COLUMNS PER TABLE"], ["ID", "MAX TABLES",
                                                              "MAX COLUMNS PER TABLE"]),
    "table_list.txt": (["ID", "TABLE NAME", "ICEBERG EXPORT"], ["ID"]),
    "user_list.txt": (["ID", "FIRST NAME", "LAST NAME", "EMAIL", "GROUP"], []),
}

# Documented key/value tables: keys in order; "secret" when the secret follows alone.
KV_TABLES = {
    "cluster_get.txt": (["id", "name", "state", "url"], False),
    "token_create.txt": (["id", "description", "expires at", "revoked at"], True),
    "management_create.txt": (["id", "description", "expires at", "revoked at"], True),
    # decided
    "token_get.txt": (["id", "description", "permissions", "created at", "expires at",
                       "revoked at"], False),
    "database_create.txt": (["database name", "retention period", "max tables",
                             "max columns per table"], False),
    "database_create_template.txt": (["database name", "retention period", "max tables",
                                      "max columns per table", "partition template"], False),
    "database_rename.txt": (["id", "database name", "retention period", "max tables",
                             "max columns per table"], False),
    "table_create.txt": (["table name", "database name", "iceberg export"], False),
}

# Documented JSON: each object's keys in the documented order (a key the docs show that
# mgmtd has no value for is left out, as Go's omitempty would: cluster "category").
JSON_OBJECTS = {
    "cluster_list.json": ["account_id", "cluster_id", "name", "url", "state", "created_at",
                          "category"],
    "cluster_get.json": ["account_id", "cluster_id", "name", "url", "state", "created_at",
                         "category"],
    "database_list.json": ["account_id", "cluster_id", "id", "database_name",
                           "retention_period_ns",
                           "max_tables", "max_columns_per_table"],
    "management_list.json": ["id", "account_id", "token_prefix", "expires_at", "revoked_at",
                             "created_at", "description", "created_by"],
    # the docs' token list item, then what a create adds (decided)
    "token_create.json": ["account_id", "cluster_id", "id", "description", "permissions",
                          "created_at", "expires_at", "revoked_at", "access_token"],
    "management_create.json": ["id", "account_id", "token_prefix", "expires_at", "revoked_at",
                               "created_at", "description", "created_by", "access_token"],
    # decided: iceberg_export after the fields of the REST table object (INFLUXCTL.md 9.2)
    "table_list.json": ["account_id", "cluster_id", "database_name", "id", "table_name",
                        "partition_template", "iceberg_export"],
}

BORDER = re.compile(r"^\+(-+\+)+$")


def read(name):
    path = GOLDEN_DIR / name
    assert path.exists(), "%s is missing: run test_mgmtctl.py first" % path
    return path.read_text()


def table_lines(text):
    """The box of a table (lines from the first border to the last) and what follows."""
    lines = text.rstrip("\n").split("\n")
    last = max(i for i, line in enumerate(lines) if BORDER.match(line))
    return lines[: last + 1], lines[last + 1:]


def cells(line):
    assert line.startswith("| ") and line.endswith(" |"), line
    return line[2:-2].split(" | ")


def check_box(box, headed):
    # one width for every line, borders only where go-pretty's default style draws them
    assert len({len(line) for line in box}) == 1, box
    borders = [i for i, line in enumerate(box) if BORDER.match(line)]
    assert borders[0] == 0 and borders[-1] == len(box) - 1
    assert borders == ([0, 2, len(box) - 1] if headed else [0, len(box) - 1]), box
    widths = [len(seg) for seg in box[0].strip("+").split("+")]
    for line in box:
        if not BORDER.match(line):
            assert [len(c) + 2 for c in cells(line)] == widths, line
    return widths


@pytest.mark.parametrize("name", sorted(LIST_TABLES))
def test_list_tables(name):
    headers, numeric = LIST_TABLES[name]
    box, rest = table_lines(read(name))
    assert rest == []
    check_box(box, headed=True)
    got = [c.strip() for c in cells(box[1])]
    assert got == headers
    assert all(h == h.upper() for h in got)
    for line in box[3:-1]:
        for header, cell in zip(headers, cells(line)):
            if not cell.strip():
                continue
            if header in numeric:
                assert cell == cell.rstrip(), "numbers are right-aligned: %r" % cell
                assert cell.strip().isdigit()
            else:
                assert cell == cell.lstrip(), "text is left-aligned: %r" % cell


@pytest.mark.parametrize("name", sorted(KV_TABLES))
def test_key_value_tables(name):
    keys, secret_follows = KV_TABLES[name]
    box, rest = table_lines(read(name))
    check_box(box, headed=False)
    rows = [cells(line) for line in box[1:-1]]
    assert [k.strip() for k, _v in rows] == keys
    for k, v in rows:
        assert k == k.strip().rjust(len(k)), "keys are right-aligned: %r" % k
        assert not v.strip() or not v.startswith(" "), "values are left-aligned: %r" % v
    if secret_follows:
        assert len(rest) == 1 and re.fullmatch(r"(M\.V1\.|apiv1_)S+", rest[0]), rest
    else:
        assert rest == []


def ordered(text):
    return json.loads(text, object_pairs_hook=lambda pairs: pairs)


def objects(tree):
    if isinstance(tree, list) and tree and isinstance(tree[0], tuple):
        yield tree
        for _k, v in tree:
            yield from objects(v)
    elif isinstance(tree, list):
        for item in tree:
            yield from objects(item)


@pytest.mark.parametrize("name", sorted(JSON_OBJECTS))
def test_json(name):
    order = JSON_OBJECTS[name]
    text = read(name)
    value = json.loads(text)
    # Go's MarshalIndent(v, "", "  "): what Python writes with the same indent
    assert text == json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    top = value if isinstance(value, list) else [value]
    for tree in (ordered(json.dumps(item)) for item in top):
        keys = [k for k, _v in tree]
        assert keys == [k for k in order if k in keys], keys
        assert set(keys) <= set(order), keys
        for obj in objects(tree):
            for k, v in obj:
                if k.endswith("_at"):
                    # protobuf Timestamps: {"seconds", "nanos"}, zero parts left out
                    assert isinstance(v, list) and {kk for kk, _ in v} <= {"seconds", "nanos"}
                assert v not in ("", 0, None) or k == "retention_period_ns", (k, v)


# ---------------------------------------------------------------------------
# the documentation covers every command

def commands(mgmtctl):
    top = subprocess.run([mgmtctl, "help"], capture_output=True, text=True, check=True,
                         timeout=20).stdout
    nouns = re.findall(r"^   (\w+)  ", top.split("COMMANDS:")[1].split("GLOBAL")[0], re.M)
    out = []
    for noun in nouns:
        if noun in ("help", "version"):
            out.append(noun)
            continue
        text = subprocess.run([mgmtctl, noun], capture_output=True, text=True, check=True,
                              timeout=20).stdout
        for verb in re.findall(r"^   (\w+)[ ,]", text.split("COMMANDS:")[1], re.M):
            if verb != "help":
                out.append("%s %s" % (noun, verb))
    return out


def test_docs_and_man_page_cover_every_command(mgmtctl_bin):
    cmds = commands(mgmtctl_bin)
    assert len(cmds) >= 25, cmds
    doc = (ROOT / "docs" / "mgmtctl.md").read_text()
    man = (ROOT / "docs" / "mgmtctl.1").read_text()
    for cmd in cmds:
        assert re.search(r"^#+ `mgmtctl %s" % re.escape(cmd), doc, re.M), \
            "docs/mgmtctl.md has no section for mgmtctl %s" % cmd
        assert cmd.replace(" ", " ") in man.replace("\\-", "-"), \
            "docs/mgmtctl.1 does not mention %s" % cmd


def test_every_flag_is_documented(mgmtctl_bin):
    doc = (ROOT / "docs" / "mgmtctl.md").read_text()
    for cmd in commands(mgmtctl_bin):
        text = subprocess.run([mgmtctl_bin] + cmd.split() + ["--help"], capture_output=True,
                              text=True, check=True, timeout=20).stdout
        for flag in re.findall(r"^   (--[a-z-]+)", text, re.M):
            if flag != "--help":
                assert "`%s" % flag in doc, "%s of %s is not in docs/mgmtctl.md" % (flag, cmd)
