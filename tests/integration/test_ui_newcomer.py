"""The Admin UI's rough edges a newcomer met (issue 17), in headless Chromium: dates that
break only between the date and the time, the one-time secret shown whole, a database
token refused without a permission, every invalid field of a form shown at once under
its label (the API's field names too), a neutral sign-out, and notices that end when the
next action begins. axe-core stays clean on what is new."""

import datetime as dt
import os

import pytest

from browser import DESKTOP, PHONE, ROOT, admin, browser_session, fresh_page
from conftest import ACCOUNT_A, CLUSTER_A, default_seed, ok_json, rfc3339, unique_name

SHOTS = os.environ.get("MGMTD_UI_SHOTS", ROOT / "build" / "ui-shots")

# Where each part of a date-time lies: the lines (distinct tops) of its date (the first
# 10 characters) and of the rest, and the widths of the element and of its box.
LINES = """
const [el, box] = arguments;
function rangeOf(from, to) {
  const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const r = document.createRange();
  let seen = 0, started = false, n;
  while ((n = w.nextNode())) {
    const len = n.data.length;
    if (!started && from <= seen + len) { r.setStart(n, from - seen); started = true; }
    if (started && to <= seen + len) { r.setEnd(n, to - seen); break; }
    seen += len;
  }
  return r;
}
function lines(r) {
  return new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top))).size;
}
const text = el.textContent;
return {
  text,
  date: lines(rangeOf(0, 10)),
  time: lines(rangeOf(11, text.length)),
  all: lines(rangeOf(0, text.length)),
  width: el.getBoundingClientRect().width,
  box: box ? box.getBoundingClientRect().width : null,
};
"""

# dom.js's when() rendered into a box of the given width, in the page's stylesheet.
RENDER_WHEN = """
const [width, done] = [arguments[0], arguments[arguments.length - 1]];
import("/ui/dom.js").then((dom) => {
  const box = document.createElement("div");
  box.id = "when-box";
  box.style.width = width;
  box.append(dom.when("2026-12-14T05:52:23.000Z"));
  document.body.append(box);
  done(true);
}, (e) => done(String(e)));
"""


@pytest.fixture(scope="module")
def ui(mgmtd_bin, idp, tmp_path_factory):
    seed = default_seed()
    seed["users"] = [u for u in seed["users"] if u["email"] != "emailonly@example.com"]
    yield from browser_session(mgmtd_bin, idp, tmp_path_factory.mktemp("ui17"), seed, SHOTS)


@pytest.fixture(autouse=True)
def each_test_on_a_fresh_page(ui):
    yield from fresh_page(ui)


def test_a_date_breaks_only_between_the_date_and_the_time(ui):
    admin(ui)
    # in a column too narrow for both: the date on one line, the time on the next
    assert ui.drv.execute_async_script(RENDER_WHEN, "7em") is True
    box = ui.one("#when-box")
    got = ui.drv.execute_script(LINES, ui.one("#when-box time"), box)
    assert got["text"] == "2026-12-14 05:52:23 UTC"
    assert (got["date"], got["time"], got["all"]) == (1, 1, 2), got
    assert got["width"] <= got["box"] + 0.5, got  # nothing sticks out of the column
    ui.drv.execute_script("document.getElementById('when-box').remove()")
    # in the token table at 1280 px: every date and every time on one line each
    d = ui.d
    db = unique_name("dates")
    d.create_database(db)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)  # never the calendar
    d.create_db_token([("read", db)], description="dated " + db, expiresAt=rfc3339(later))
    ui.go("#/database-tokens", "Database tokens")
    row = ui.row("dated " + db)
    times = ui.css("time", row)
    assert len(times) >= 2
    for t in times:
        got = ui.drv.execute_script(LINES, t, None)
        assert got["date"] == 1 and got["time"] == 1, got


@pytest.mark.parametrize("size", [DESKTOP, PHONE])
def test_the_one_time_secret_is_shown_whole(ui, size):
    ui.viewport(*size)
    admin(ui)
    ui.go("#/management-tokens", "Management tokens")
    ui.press("Create token")
    dlg = ui.dialog()
    ui.fill("Description", "whole " + unique_name("s"), dlg)
    ui.press("Create token", dlg)
    field = ui.one("#secret-value")
    ui.wait(lambda: field.get_attribute("value"), "the secret")
    fits = ui.drv.execute_script(
        "const f = arguments[0]; return [f.scrollWidth <= f.clientWidth, "
        "f.scrollHeight <= f.clientHeight + 1, f.scrollLeft === 0, f.scrollTop === 0];", field)
    assert fits == [True, True, True, True], fits
    assert ui.read_secret().startswith("M.V1.")


def test_a_database_token_needs_a_permission(ui):
    admin(ui)
    ui.go("#/database-tokens", "Database tokens")
    before = len(ok_json(ui.d.get("/api/v0/accounts/%s/clusters/%s/tokens" % (ACCOUNT_A, CLUSTER_A),
                                  ui.d.dev_jwt("admin"))))
    ui.press("Create token")
    dlg = ui.dialog()
    ui.fill("Description", "no permission", dlg)
    ui.press("Create token", dlg)
    err = ui.one('dialog[open] [role="alert"]')
    ui.wait(lambda: err.text, "the error in the dialog")
    assert err.text.startswith("Permissions: tick at least one Read or Write box"), err.text
    assert "can do nothing" in err.text
    ui.press("Cancel", dlg)
    ui.no_dialog()
    after = ok_json(ui.d.get("/api/v0/accounts/%s/clusters/%s/tokens" % (ACCOUNT_A, CLUSTER_A),
                             ui.d.dev_jwt("admin")))
    assert len(after) == before


def test_every_invalid_field_is_shown_at_once(ui):
    admin(ui)
    ui.go("#/databases", "Databases")
    ui.press("Create database")
    dlg = ui.dialog()
    ui.fill("Retention period", "soon", dlg)
    ui.fill("Maximum tables", "0", dlg)
    ui.press("Add part", dlg)
    ui.press("Create database", dlg)
    err = ui.one('dialog[open] [role="alert"]')
    ui.wait(lambda: err.find_elements("css selector", "li"), "the list of errors")
    items = [li.text for li in err.find_elements("css selector", "li")]
    assert [i.split(":")[0] for i in items] == [
        "Name", "Retention period", "Maximum tables",
        "Partition template, part 1 (time format)"], items
    ui.axe("every invalid field at once")
    ui.press("Cancel", dlg)
    ui.no_dialog()


def test_the_apis_field_names_are_said_as_the_form_labels_them(ui):
    admin(ui)
    ui.go("#/databases", "Databases")
    ui.press("Create database")
    dlg = ui.dialog()
    ui.fill("Name", unique_name("tpl"), dlg)
    ui.press("Add part", dlg)
    ui.fill("Time format", "%Q", dlg)  # the API refuses it, the form does not know
    ui.press("Create database", dlg)
    err = ui.one('dialog[open] [role="alert"]')
    ui.wait(lambda: err.text, "the error in the dialog")
    assert err.text.startswith("Partition template, part 1"), err.text
    assert "partitionTemplate" not in err.text
    ui.press("Cancel", dlg)
    ui.no_dialog()


def test_signing_out_is_a_neutral_notice(ui):
    admin(ui)
    ui.sign_out()
    assert ui.notice() == "You are signed out."
    assert ui.problem() == ""
    assert "neutral" in ui.one("#notice").get_attribute("class").split()
    ui.axe("signed out")


def test_a_notice_ends_when_the_next_action_begins(ui):
    admin(ui)
    ui.go("#/databases", "Databases")
    name = unique_name("note")
    ui.press("Create database")
    dlg = ui.dialog()
    ui.fill("Name", name, dlg)
    ui.press("Create database", dlg)
    ui.no_dialog()
    ui.wait(lambda: "created" in ui.notice(), "the created notice")
    ui.press("Create database")  # the next action
    ui.dialog()
    assert ui.notice() == ""
    ui.press("Cancel", ui.dialog())
    ui.no_dialog()
    assert ui.notice() == ""


def test_the_dev_idp_page_looks_like_the_ui(ui):
    """The sign-in page of the dev identity provider uses the UI's stylesheet (no longer
    the browser's default look), and still runs no script."""
    seen = {}

    def on_idp_page():
        seen.update(ui.drv.execute_script(
            "const s = [...document.styleSheets].map((x) => x.href);"
            "const b = getComputedStyle(document.body);"
            "const w = getComputedStyle(document.querySelector('.warning'));"
            "return {sheets: s, scripts: document.scripts.length, margin: b.marginTop,"
            " warning: w.backgroundColor, brand: !!document.querySelector('header.top .brand')};"))
        ui.axe("dev IdP page, styled")
        ui.scheme("dark")
        ui.axe("dev IdP page, styled (dark)")
        ui.scheme("light")
        ui.viewport(*PHONE)
        ui.no_horizontal_scroll("dev IdP page on a phone")
        ui.viewport(*DESKTOP)

    ui.sign_in_idp("admin@example.com", ACCOUNT_A, check_page=on_idp_page)
    assert [h.split("/", 3)[3] for h in seen["sheets"]] == ["ui/app.css"], seen
    assert seen["scripts"] == 0 and seen["brand"], seen
    assert seen["margin"] == "0px", seen  # the UI's body, not the browser's 8px
    assert seen["warning"] not in ("rgba(0, 0, 0, 0)", "transparent"), seen
