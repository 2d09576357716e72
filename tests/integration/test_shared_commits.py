"""Changes share commits (docs/architecture.md, "Changes share commits"; SQLite).

Concurrent changes are run by one writer in one transaction, each under a savepoint of
its own, and committed together. What must hold whatever shares a commit:
- every change is answered only once it is durable (test_crash.py kills the server
  under this load too);
- each rule is decided inside the transaction: of many creates of one name at once,
  exactly one succeeds; the account never loses its last admin;
- a refused change is undone alone, the others of its commit stay, and each change,
  done or refused, has its audit row;
- the writer really shares commits under concurrent load (the counters say how).
"""
import concurrent.futures
import re

import pytest
import requests

from conftest import (
    ACCOUNT_A,
    HTTP_TIMEOUT,
    databases_path,
    tokens_path,
    unique_email,
    unique_name,
    users_path,
)

pytestmark = pytest.mark.sqlite_only

CLIENTS = 16


@pytest.fixture
def shared(daemon_factory):
    return daemon_factory(config_extra="[metrics]\nenabled = true\n")


def counters(d):
    text = d.get("/metrics").text
    changes = int(re.search(r"^mgmtd_shared_commit_changes_total (\d+)$", text, re.M).group(1))
    commits = int(re.search(r"^mgmtd_shared_commits_total (\d+)$", text, re.M).group(1))
    return changes, commits


def at_once(n, fn):
    """n calls of fn(i) from n threads, released together; their results in order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(fn, range(n)))


def post(d, path, cred, body):
    s = requests.Session()
    return s.post(d.url(path), json=body, headers={"Authorization": "Bearer " + cred},
                  timeout=HTTP_TIMEOUT)


def test_concurrent_creates_share_commits_and_each_is_there(shared):
    d = shared
    admin = d.jwt("admin")
    changes0, commits0 = counters(d)
    rounds, made = 5, []
    for _ in range(rounds):
        made += at_once(CLIENTS, lambda i: post(d, tokens_path(), admin,
                                                {"description": "shared %d" % i}))
    assert all(r.status_code == 200 for r in made), [r.text for r in made if r.status_code != 200]
    changes, commits = counters(d)
    assert changes - changes0 >= rounds * CLIENTS
    # with 16 clients at once, commits are shared: fewer commits than changes
    assert commits - commits0 < changes - changes0, (changes - changes0, commits - commits0)
    listed = {t["id"] for t in d.list_tokens()}
    for r in made:
        body = r.json()
        assert body["id"] in listed
        assert d.get(tokens_path(), body["accessToken"]).status_code == 200


def test_one_name_created_at_once_wins_once(shared):
    d = shared
    admin = d.jwt("admin")
    name = unique_name("race")
    got = at_once(CLIENTS, lambda i: post(d, databases_path(), admin, {"name": name}))
    codes = sorted(r.status_code for r in got)
    assert codes == [200] + [409] * (CLIENTS - 1), codes
    names = [x["name"] for x in d.get(databases_path(), admin).json()]
    assert names.count(name) == 1


def test_a_refused_change_is_undone_alone_and_every_change_has_its_row(shared):
    d = shared
    admin = d.jwt("admin")
    taken = unique_name("taken")
    assert post(d, databases_path(), admin, {"name": taken}).status_code == 200
    start = max((e["id"] for e in d.get("/api/v0/accounts/%s/audit" % ACCOUNT_A, admin,
                                        params={"limit": 1}).json()["events"]), default=0)
    fresh = [unique_name("fresh") for _ in range(CLIENTS)]

    def create(i):
        # every other one takes the name already taken: refused, 409
        return post(d, databases_path(), admin, {"name": taken if i % 2 else fresh[i]})

    got = at_once(CLIENTS, create)
    for i, r in enumerate(got):
        assert r.status_code == (409 if i % 2 else 200), (i, r.text)
    names = {x["name"] for x in d.get(databases_path(), admin).json()}
    assert {fresh[i] for i in range(0, CLIENTS, 2)} <= names
    assert not {fresh[i] for i in range(1, CLIENTS, 2)} & names
    events = [e for e in d.get("/api/v0/accounts/%s/audit" % ACCOUNT_A, admin,
                               params={"limit": 1000}).json()["events"] if e["id"] > start]
    creates = [e for e in events if e["action"] == "database.create"]
    assert sorted(e["outcome"] for e in creates) == \
        ["failed"] * (CLIENTS // 2) + ["success"] * (CLIENTS // 2), creates


def test_the_last_admin_is_never_lost_to_changes_that_share_a_commit(shared):
    d = shared
    admin = d.jwt("admin")
    admins = []
    for i in range(CLIENTS):
        u = post(d, users_path(), admin, {"email": unique_email("adm"), "group": "admin"})
        assert u.status_code == 200, u.text
        admins.append(u.json()["id"])
    # demote every admin at once, the seeded ones included: one must stay
    everyone = [u["id"] for u in d.get(users_path(), admin).json() if u["group"] == "admin"]
    token = d.create_token("demoter")["accessToken"]

    def demote(i):
        s = requests.Session()
        return s.patch(d.url(users_path(user_id=everyone[i])), json={"group": "member"},
                       headers={"Authorization": "Bearer " + token}, timeout=HTTP_TIMEOUT)

    got = at_once(len(everyone), demote)
    codes = sorted(r.status_code for r in got)
    assert codes == [200] * (len(everyone) - 1) + [409], codes
    left = [u for u in d.get(users_path(), token).json() if u["group"] == "admin"]
    assert len(left) == 1
