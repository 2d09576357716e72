"""Plans that stay right as the tables grow (issue 22), on PostgreSQL.

A prepared statement gets a generic plan after a few runs; chosen while its table
was small (every new store, every test suite's), that plan was a sequential scan,
and it stayed one as the table grew, until an ANALYZE. mgmtd's connections ask for
custom plans (plan_cache_mode = force_custom_plan). Asserted on the plans
themselves, not on a rate: PostgreSQL's auto_explain, loaded for the test's database
alone, logs the plan of every statement mgmtd runs, and the GET of one token after
20 000 tokens were added in bulk, with no ANALYZE, must look the token up by its id
(the generic plan chosen on the small table read every token of the account), and a
page of the list must be read in the order of its index (without statistics the
planner took the grown table for a small one and sorted the whole account per batch).
"""
import re
import sys
import time
from pathlib import Path

import pytest

from conftest import ACCOUNT_A, CLUSTER_A, ok_json, tokens_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import manytokens  # noqa: E402

pytestmark = [pytest.mark.postgres_only, pytest.mark.plain_pass_only]

# the statement of GET …/management/tokens/{id} (server/store_pg.c P_TOKEN_GET)
GET_BY_ID = "FROM management_tokens WHERE account_id = $1 AND id = $2"
# a batch of the list (P_TOKEN_SCAN)
LIST_BATCH = "ORDER BY created_at, seq LIMIT $7"


def logged_plans(log_text, marker):
    """The auto_explain entries (each a log line and its indented plan) whose query
    text holds marker."""
    entries, current = [], []
    for line in log_text.splitlines():
        if line[:1] in ("\t", " ") and current:
            current.append(line)
            continue
        if current:
            entries.append("\n".join(current))
        current = [line] if "plan:" in line else []
    if current:
        entries.append("\n".join(current))
    return [e for e in entries if marker in e]


def test_a_token_get_uses_the_index_after_the_table_grew(fresh_server, idp):
    d = fresh_server
    store = d.pg_store
    for setting in ("session_preload_libraries = 'auto_explain'",
                    "auto_explain.log_min_duration = 0"):
        store.psql('ALTER DATABASE "%s" SET %s' % (store.name, setting))
    d.restart()  # new connections, with the settings
    created = ok_json(d.post(tokens_path(), idp.jwt_for("admin"),
                             json={"description": "plan probe"}))
    path, secret = tokens_path(token_id=created["id"]), created["accessToken"]
    # warm on a small table: every connection runs the statement more than five times,
    # when PostgreSQL would settle on a generic plan
    for _ in range(40):
        ok_json(d.get(path, secret))

    log = Path(store.server.log)
    time.sleep(1)  # the warm-up's last plans reach the log before the offset is taken
    offset = log.stat().st_size
    store.psql(manytokens.fill_sql("postgres", 20_000, ACCOUNT_A, CLUSTER_A,
                                   int(time.time() * 1000)))
    for _ in range(10):
        assert ok_json(d.get(path, secret))["id"] == created["id"]

    # and a page of the list, in the order of its index, not a sort of the whole account
    for _ in range(3):
        assert len(ok_json(d.get(tokens_path(), secret, params={"limit": 100}))) == 100

    with open(log, errors="replace") as f:
        f.seek(offset)
        text = f.read()
    scans = logged_plans(text, LIST_BATCH)
    assert scans, "auto_explain logged no plan of a list's batch"
    sorted_whole = [p for p in scans if "Sort" in p or "Bitmap" in p]
    assert not sorted_whole, "a list's batch sorts the account's tokens:\n" + sorted_whole[0]
    plans = logged_plans(text, GET_BY_ID)
    assert len(plans) >= 5, "auto_explain logged no plan of the GET: the test proves nothing"
    # the generic plan of a small table reads every token of the account (an index on
    # account_id, the id a filter) or the whole table; the right one looks the id up
    wrong = [p for p in plans if not re.search(r"Index Cond: \(id = ", p)]
    assert not wrong, "the GET does not look the token up by its id after the table " \
        "grew:\n" + wrong[0]
