"""The Admin UI's token pages at 100 000 tokens of each kind (issue 22), in headless
Chromium against a daemon whose store was filled with SQL while it was stopped
(tests/tools/manytokens.py). What a person sees is asserted, not timings: the first
page of rows, in the API's order; the next page and back; a search that narrows the
rows to the matching ones; a whole token id found; a token revoked from a later page;
axe-core clean. The times seen are printed (pytest -s) for the report."""

import sys
from pathlib import Path

import pytest

from browser import DESKTOP, PHONE, browser_session
from conftest import (ACCOUNT_A, CLUSTER_A, assert_status, db_tokens_path, default_seed, ok_json,
                      tokens_path)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import manytokens  # noqa: E402

# A heavy module (100 000 tokens and a browser): the sanitized and clock-ahead passes
# would only repeat the plain pass's work on the same UI code, and the PostgreSQL pass
# the SQLite one's (the pages read the same answers from either store: test_scale.py
# holds both backends to them).
pytestmark = [pytest.mark.plain_pass_only,
              pytest.mark.sqlite_only("the pages read the same answers from either store")]

N = 100_000
PAGE = 100  # the UI's PAGE_SIZE (server/ui/pages.js)


def fill(d):
    d.stop_ok()
    manytokens.fill_daemon(d, N, ACCOUNT_A, CLUSTER_A)
    d.start(use_seed=False)
    # the pages read the lists a page at a time: this needs mgmtd's paging extension
    page = d.get(tokens_path(), d.dev_jwt("admin"), params={"limit": 2})
    assert len(ok_json(page)) == 2 and 'rel="next"' in page.headers.get("Link", ""), \
        "mgmtd does not page its lists (?limit, Link): the UI's pages need it"


@pytest.fixture(scope="module")
def ui(mgmtd_bin, idp, tmp_path_factory):
    base = tmp_path_factory.mktemp("ui-scale")
    for b in browser_session(mgmtd_bin, idp, base, default_seed(), base / "shots", fill):
        b.sign_in_idp("admin@example.com", ACCOUNT_A)
        yield b


def api_page(d, path, **params):
    """A page of the list as the API gives it."""
    params.setdefault("limit", PAGE)
    return ok_json(d.get(path, d.dev_jwt("admin"), params=params))


def ids_shown(ui):
    """The first cell (the id) of each row shown, in order (one round trip)."""
    return ui.drv.execute_script(
        "return [...document.querySelectorAll('main tbody tr')]"
        ".filter(r => r.cells.length > 1).map(r => r.cells[0].textContent)")


def wait_ids(ui, want, what):
    ui.wait(lambda: ids_shown(ui) == want, what)


# In the page: runs a step (a script), then waits for the rows to become `want`
# (their ids), and answers the milliseconds between, as the page's clock saw them.
ROWS_AFTER = """
const [step, want, done] = arguments;
const started = performance.now();
new Function(step)();
(function check() {
  const ids = [...document.querySelectorAll('main tbody tr')]
    .filter(r => r.cells.length > 1).map(r => r.cells[0].textContent);
  if (ids.length === want.length && ids.every((id, i) => id === want[i]))
    done(performance.now() - started);
  else if (performance.now() - started > 30000) done(-1);
  else requestAnimationFrame(check);
})();
"""


def rows_after(ui, what, step, want):
    """Runs step (JavaScript) and waits for the rows with the ids want; prints the time
    the page took (for the report: no assertion is made on it)."""
    ms = ui.drv.execute_async_script(ROWS_AFTER, step, want)
    if ms < 0:
        wait_ids(ui, want, what)  # fails, saying what the page shows
    print("%s: %.0f ms" % (what, ms))


def test_management_tokens(ui):
    d = ui.d
    active = api_page(d, tokens_path(), status="active", limit=2 * PAGE)
    assert len(active) == 2 * PAGE

    ui.go("#/cluster", "Cluster")
    rows_after(ui, "management tokens: the first %d rows" % PAGE,
               "location.hash = '#/management-tokens'", [t["id"] for t in active[:PAGE]])
    assert "Tokens 1–%d" % PAGE in ui.text()
    assert not ui.button("Previous page").is_enabled()
    ui.axe("management tokens at 100 000")

    rows_after(ui, "management tokens: the next page",
               "[...document.querySelectorAll('button')].find(b => b.textContent === 'Next page')"
               ".click()", [t["id"] for t in active[PAGE:]])
    assert "Tokens %d–%d" % (PAGE + 1, 2 * PAGE) in ui.text()
    ui.press("Previous page")
    wait_ids(ui, [t["id"] for t in active[:PAGE]], "the first page again")

    # a search narrows the rows to the matching ones: description (any case)...
    want = api_page(d, tokens_path(), status="active", search="bulk token 04242")
    assert 3 < len(want) < 12
    ui.search("BULK TOKEN 04242")
    wait_ids(ui, [t["id"] for t in want], "the tokens whose description matches")
    assert all("bulk token 04242" in r.text for r in ui.css("tbody tr"))
    # ...inactive ones too when asked...
    ui.choose("Show inactive tokens")
    every = api_page(d, tokens_path(), search="bulk token 04242")
    assert len(every) > len(want)
    wait_ids(ui, [t["id"] for t in every], "the inactive ones too")
    ui.drv.find_element("id", "show-inactive").click()
    wait_ids(ui, [t["id"] for t in want], "the active ones only")
    # ...the prefix...
    prefixed = api_page(d, tokens_path(), status="active", search="M.V1.AJf")
    assert 0 < len(prefixed) < PAGE
    ui.search("M.V1.AJf")
    wait_ids(ui, [t["id"] for t in prefixed], "the tokens with that prefix")
    # ...a whole id, found whatever its place in the list
    last = api_page(d, tokens_path(), search="bulk token 099998")[0]
    ui.search(last["id"])
    wait_ids(ui, [last["id"]], "the token of that id")
    ui.search("no token has this")
    ui.wait(lambda: "No management token matches." in ui.one("table").text, "no match")
    ui.search("")
    wait_ids(ui, [t["id"] for t in active[:PAGE]], "the whole list again")


def test_database_tokens(ui):
    d = ui.d
    live = api_page(d, db_tokens_path(), limit=2 * PAGE)
    ui.go("#/cluster", "Cluster")
    rows_after(ui, "database tokens: the first %d rows" % PAGE,
               "location.hash = '#/database-tokens'", [t["id"] for t in live[:PAGE]])
    ui.axe("database tokens at 100 000")
    ui.press("Next page")
    wait_ids(ui, [t["id"] for t in live[PAGE:]], "the second page")

    ui.choose("Show revoked tokens")
    every = api_page(d, db_tokens_path(), includeRevoked="true")
    assert len(every) == PAGE and every != live[:PAGE]
    wait_ids(ui, [t["id"] for t in every], "the first page with the revoked ones")
    ui.drv.find_element("id", "show-revoked").click()

    want = api_page(d, db_tokens_path(), search="bulk token 07777")
    ui.search("bulk token 07777")
    wait_ids(ui, [t["id"] for t in want], "the tokens whose description matches")

    # revoked from the page it is on: the page is read again, and it is gone
    ui.search("")
    wait_ids(ui, [t["id"] for t in live[:PAGE]], "the first page again")
    ui.press("Next page")
    wait_ids(ui, [t["id"] for t in live[PAGE:]], "the second page")
    victim = live[PAGE]
    ui.press("Revoke", ui.row(victim["id"]))
    dlg = ui.dialog()
    assert victim["id"] in dlg.text
    ui.press("Revoke token", dlg)
    ui.no_dialog()
    ui.wait(lambda: victim["id"] not in ids_shown(ui) and len(ids_shown(ui)) == PAGE,
            "the revoked token to leave its page")
    assert "Tokens %d–%d" % (PAGE + 1, 2 * PAGE) in ui.text()
    got = ok_json(d.get(db_tokens_path(token_id=victim["id"]), d.dev_jwt("admin")))
    assert got["revokedAt"]
    assert_status(d.get(db_tokens_path(), d.dev_jwt("admin"), params={"limit": 1}), 200)


# Each <time> in the page broken inside its date or inside its time of day (a narrow
# column may put the time under the date, and nowhere else), or not in two such parts.
BROKEN_DATES = """
return [...document.querySelectorAll('main time')]
  .filter(t => t.children.length !== 2 ||
               [...t.children].some(part => part.getClientRects().length !== 1))
  .map(t => t.textContent);
"""


@pytest.mark.parametrize("viewport", [DESKTOP, (1024, 768), PHONE])
def test_dates_never_break_inside(ui, viewport):
    """A page of tokens with every column filled: no date or time of day is broken over
    two lines, and a phone does not scroll sideways."""
    ui.go("#/cluster", "Cluster")
    ui.viewport(*viewport)
    try:
        ui.go("#/management-tokens", "Management tokens")
        ui.choose("Show inactive tokens")  # revoked and expiry dates too
        # the active page may still be shown for a moment: wait for the inactive ones' dates
        ui.wait(lambda: len(ids_shown(ui)) == PAGE and ui.drv.execute_script(
            "return document.querySelectorAll('main time').length") > PAGE,
            "a page of tokens with their revocation and expiry dates")
        assert ui.drv.execute_script(BROKEN_DATES) == []
        if viewport == PHONE:
            ui.no_horizontal_scroll("management tokens on a phone")
            ui.axe("management tokens at 100 000 (phone)")
    finally:
        ui.viewport(*DESKTOP)
