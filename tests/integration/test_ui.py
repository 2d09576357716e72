"""The Admin UI end to end in headless Chromium against a real mgmtd: sign-in through
the dev IdP's authorization-code flow (and with a pasted management token), every
page, what each group is offered, errors, expiry, keyboard use, axe-core on every
page in both color schemes, a phone-wide screen, and no secret in any URL,
localStorage or cookie. The screenshots in docs/ui/ are made here."""

import datetime as dt
import os
from pathlib import Path

import pytest

from browser import DESKTOP, PHONE, ROOT, admin, browser_session, fresh_page
from conftest import (
    ACCOUNT_A,
    CLUSTER_A,
    assert_error,
    assert_status,
    authorize_path,
    default_seed,
    make_mgmt_token,
    ok_json,
    rfc3339,
    tokens_path,
    unique_email,
    unique_name,
    users_path,
)

SEEDED_TOKEN = make_mgmt_token()
# Screenshots go under build/ so that a test run leaves the tree clean; `make
# ui-screenshots` points this at docs/ui/ to refresh the ones docs/ui.md shows.
SHOTS = Path(os.environ.get("MGMTD_UI_SHOTS", ROOT / "build" / "ui-shots"))


def _file_clock_now() -> float:
    """The file system's idea of now (a fresh file's mtime): a faked process clock
    (make clock-ahead) does not move file times, so those compare only with each other."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    marker = SHOTS / ".started"
    marker.write_bytes(b"")
    return marker.stat().st_mtime


STARTED = _file_clock_now()


def ui_seed():
    """The default seed with one admin in account A (the last-admin rule shows), a
    management token and a database."""
    seed = default_seed()
    seed["users"] = [u for u in seed["users"] if u["email"] != "emailonly@example.com"]
    seed["managementTokens"] = [{"accountId": ACCOUNT_A, "description": "seeded automation",
                                 "accessToken": SEEDED_TOKEN, "createdBy": "admin@example.com"}]
    seed["databases"] = [{"accountId": ACCOUNT_A, "clusterId": CLUSTER_A, "name": "telemetry",
                          "retentionPeriod": 30 * 86400 * 10**9,
                          "partitionTemplate": [{"type": "time", "value": "%Y-%m-%d"},
                                                {"type": "tag", "value": "region"}]}]
    return seed


@pytest.fixture(scope="module")
def ui(mgmtd_bin, idp, tmp_path_factory):
    yield from browser_session(mgmtd_bin, idp, tmp_path_factory.mktemp("ui"), ui_seed(), SHOTS)


@pytest.fixture(autouse=True)
def each_test_on_a_fresh_page(ui):
    yield from fresh_page(ui)


# ---------------------------------------------------------------------------

def test_sign_in_pages_are_accessible(ui):
    ui.sign_in_page()
    assert "Sign in with the identity provider" in ui.buttons()
    assert "Sign in with the token" in ui.buttons()
    ui.axe("sign-in")
    ui.shot("sign-in")
    ui.scheme("dark")
    ui.axe("sign-in (dark)")
    ui.scheme("light")

    def on_idp_page():
        assert "Test device" in ui.text()
        ui.axe("dev IdP page")
        ui.shot("dev-idp")

    ui.sign_in_idp("admin@example.com", ACCOUNT_A, check_page=on_idp_page)
    assert ui.signed_in_as() == "Signed in as admin@example.com (admin)"


def test_admin_creates_uses_and_revokes_a_management_token(ui):
    admin(ui)
    ui.go("#/management-tokens", "Management tokens")
    ui.row("seeded automation")
    ui.shot("management-tokens")
    description = "ui token " + unique_name("t")
    ui.press("Create token")
    dlg = ui.dialog()
    ui.fill("Description", description, dlg)
    ui.axe("create management token dialog")
    ui.press("Create token", dlg)
    ui.shot("secret-dialog")
    secret = ui.read_secret()
    assert secret.startswith("M.V1.")

    # the secret works against the API
    assert_status(ui.d.get(users_path(), secret), 200)
    token = next(t for t in ok_json(ui.d.get(tokens_path(), secret)) if t["description"] == description)
    ui.wait(lambda: all(x in ui.row(description).text
                        for x in (token["id"], token["tokenPrefix"], "active")), "its row")

    # search (the API's ?search) by description, by prefix, and a whole id: each from the
    # whole list (which holds "seeded automation") to the rows that match alone
    def narrow(text, want, enter=True):
        ui.search("", enter=True)
        ui.wait(lambda: "seeded automation" in ui.one("table").text, "the whole list")
        ui.search(text, enter=enter)
        ui.wait(lambda: "seeded automation" not in ui.one("table").text and
                [r.text for r in ui.css("tbody tr")] and
                all(want in r.text for r in ui.css("tbody tr")), "only rows with %r" % want)

    narrow(description[-8:].upper(), description, enter=False)  # asked after a pause
    narrow(token["tokenPrefix"], token["tokenPrefix"])
    narrow(token["id"].upper(), token["id"])
    ui.search("")
    ui.wait(lambda: "seeded automation" in ui.one("table").text, "the whole list again")

    # sorting by a column
    def header():  # the table is drawn anew on each sort
        return ui.wait(lambda: [th for th in ui.css("thead th") if th.text.startswith("Description")][0],
                       "the Description header")

    header().find_element("tag name", "button").click()
    assert header().get_attribute("aria-sort") == "ascending"
    header().find_element("tag name", "button").click()
    assert header().get_attribute("aria-sort") == "descending"
    descriptions = [r.find_elements("tag name", "td")[1].text for r in ui.css("tbody tr")]
    assert descriptions == sorted(descriptions, reverse=True)

    # revoke in the page: the confirmation names the token
    ui.press("Revoke", ui.row(description))
    dlg = ui.dialog()
    assert description in dlg.text and token["id"] in dlg.text
    ui.axe("revoke confirmation")
    ui.press("Revoke token", dlg)
    ui.no_dialog()
    ui.wait(lambda: "revoked" in ui.notice(), "the notice")
    # inactive tokens are hidden unless asked for
    ui.wait(lambda: description not in ui.one("table").text, "the revoked token to leave the list")
    ui.choose("Show inactive tokens")
    assert "revoked" in ui.row(description).text
    assert_error(ui.d.get(users_path(), secret), 401, "revoked")


def test_admin_creates_a_database_and_a_write_token(ui):
    admin(ui)
    ui.go("#/databases", "Databases")
    assert "30d" in ui.row("telemetry").text and "time: %Y-%m-%d, tag: region" in ui.row("telemetry").text
    ui.shot("databases")
    name = unique_name("uidb")
    ui.press("Create database")
    dlg = ui.dialog()
    ui.fill("Name", name, dlg)
    ui.fill("Retention period", "7d", dlg)
    ui.fill("Maximum tables", "20", dlg)
    ui.press("Add part", dlg)
    ui.fill("Time format", "%Y-%m", dlg)
    ui.axe("create database dialog")
    ui.press("Create database", dlg)
    ui.no_dialog()
    row = ui.row(name)
    assert "7d" in row.text and "20" in row.text and "time: %Y-%m" in row.text
    db = next(x for x in ok_json(ui.d.get(
        "/api/v0/accounts/%s/clusters/%s/databases" % (ACCOUNT_A, CLUSTER_A), ui.d.dev_jwt("admin")))
        if x["name"] == name)
    assert db["retentionPeriod"] == 7 * 86400 * 10**9 and db["maxTables"] == 20

    # its tables
    ui.drv.find_element("link text", name).click()
    ui.wait_h1("Tables of %s" % name)
    ui.press("Create table")
    dlg = ui.dialog()
    ui.fill("Name", "cpu", dlg)
    ui.press("Create table", dlg)
    ui.no_dialog()
    ui.row("cpu")
    ui.shot("tables")
    ui.axe("tables")

    # a write token for it
    ui.go("#/database-tokens", "Database tokens")
    ui.press("Create token")
    dlg = ui.dialog()
    ui.fill("Description", "writer for " + name, dlg)
    ui.one('input[aria-label="write %s"]' % name, dlg).click()
    ui.axe("create database token dialog")
    ui.press("Create token", dlg)
    secret = ui.read_secret()
    assert secret.startswith("apiv1_")
    assert "write %s" % name in ui.row("writer for " + name).text
    ui.shot("database-tokens")
    assert_status(ui.d.authorize(secret, name, "write"), 204)
    assert_status(ui.d.authorize(secret, name, "read"), 403)
    assert_status(ui.d.authorize(secret, "telemetry", "write"), 403)


def test_admin_edits_renames_deletes_and_undeletes(ui):
    d = ui.d
    name = unique_name("edit")
    d.create_database(name)
    ok_json(d.post("/api/v0/accounts/%s/clusters/%s/databases/%s/tables" % (ACCOUNT_A, CLUSTER_A, name),
                   d.dev_jwt("admin"), json={"name": "mem"}))
    tok = d.create_db_token([("read", name)], description="reader " + name)
    user = ok_json(d.post(users_path(), d.dev_jwt("admin"),
                          json={"email": unique_email("mover"), "group": "member"}))
    admin(ui)

    ui.go("#/databases", "Databases")
    ui.press("Edit", ui.row(name))
    dlg = ui.dialog()
    ui.fill("Retention period", "1d12h", dlg)
    ui.press("Save", dlg)
    ui.no_dialog()
    ui.wait(lambda: "1d12h" in ui.row(name).text, "the new retention period")
    new = name + "-b"
    ui.press("Rename", ui.row(name))
    dlg = ui.dialog()
    ui.fill("New name", new, dlg)
    ui.press("Rename", dlg)
    ui.no_dialog()
    ui.row(new)

    # tables of the renamed database
    ui.drv.find_element("link text", new).click()
    ui.wait_h1("Tables of %s" % new)
    ui.press("Rename", ui.row("mem"))
    dlg = ui.dialog()
    ui.fill("New name", "memory", dlg)
    ui.press("Rename", dlg)
    ui.no_dialog()
    ui.press("Delete", ui.row("memory"))
    dlg = ui.dialog()
    assert "memory" in dlg.text
    ui.press("Delete table", dlg)
    ui.no_dialog()
    ui.wait(lambda: "No table." in ui.one("table").text, "the table to go")
    ui.choose("Show deleted tables")
    ui.press("Undelete", ui.row("memory"))
    ui.wait(lambda: "undeleted" in ui.notice(), "the undelete notice")

    ui.go("#/databases", "Databases")
    ui.press("Delete", ui.row(new))
    dlg = ui.dialog()
    assert new in dlg.text
    ui.press("Delete database", dlg)
    ui.no_dialog()
    ui.wait(lambda: new not in ui.one("table").text, "the database to go")
    ui.choose("Show deleted databases")
    ui.press("Undelete", ui.row(new))
    ui.wait(lambda: "undeleted" in ui.notice(), "the undelete notice")
    live = ok_json(d.get("/api/v0/accounts/%s/clusters/%s/databases" % (ACCOUNT_A, CLUSTER_A), d.dev_jwt("admin")))
    assert new in [x["name"] for x in live]

    # a database token's description and permissions
    ui.go("#/database-tokens", "Database tokens")
    ui.press("Edit", ui.row("reader " + name))
    dlg = ui.dialog()
    ui.fill("Description", "reader and writer", dlg)
    ui.one('input[aria-label="write %s"]' % new, dlg).click()
    ui.one('input[aria-label="read All databases"]', dlg).click()
    ui.press("Save", dlg)
    ui.no_dialog()
    got = ok_json(d.get("/api/v0/accounts/%s/clusters/%s/tokens/%s" % (ACCOUNT_A, CLUSTER_A, tok["id"]),
                        d.dev_jwt("admin")))
    assert got["description"] == "reader and writer"
    assert sorted((p["action"], p["resource"]) for p in got["permissions"]) == [
        ("read", "*"), ("write", new)]
    ui.press("Revoke", ui.row("reader and writer"))
    ui.press("Revoke token", ui.dialog())
    ui.no_dialog()
    assert_status(d.authorize(tok["accessToken"], new, "write"), 401)

    # a user's group, and removing the user
    ui.go("#/users", "Users")
    ui.press("Change group", ui.row(user["email"]))
    dlg = ui.dialog()
    ui.choose("auditor", dlg)
    ui.press("Save", dlg)
    ui.no_dialog()
    ui.wait(lambda: "auditor" in ui.row(user["email"]).text, "the new group")
    ui.press("Remove", ui.row(user["email"]))
    dlg = ui.dialog()
    assert user["email"] in dlg.text
    ui.press("Remove user", dlg)
    ui.no_dialog()
    ui.wait(lambda: user["email"] not in ui.one("table").text, "the user to go")
    assert_error(d.get(users_path(user_id=user["id"]), d.dev_jwt("admin")), 404)


def iceberg_cell(ui, table):
    return ui.row(table).find_element("css selector", 'td[data-label="Iceberg export"]').text


def test_admin_switches_a_tables_iceberg_export(ui):
    d = ui.d
    name = unique_name("ice")
    tables = "/api/v0/accounts/%s/clusters/%s/databases/%s/tables" % (ACCOUNT_A, CLUSTER_A, name)
    d.create_database(name)
    for t in ("ice_on", "ice_off"):
        ok_json(d.post(tables, d.dev_jwt("admin"), json={"name": t}))

    def exported():
        return {t["name"]: t["icebergExport"] for t in ok_json(d.get(tables, d.dev_jwt("admin")))}

    admin(ui)
    ui.go("#/databases/%s/tables" % name, "Tables of %s" % name)
    assert iceberg_cell(ui, "ice_on") == "Disabled" and iceberg_cell(ui, "ice_off") == "Disabled"
    ui.press("Enable Iceberg export", ui.row("ice_on"))
    ui.wait(lambda: "Iceberg export of table ice_on enabled" in ui.notice(), "the enable notice")
    ui.wait(lambda: iceberg_cell(ui, "ice_on") == "Enabled", "the row to say so")
    assert iceberg_cell(ui, "ice_off") == "Disabled"
    assert exported() == {"ice_on": True, "ice_off": False}
    # the row now offers the way back, and only that
    labels = [b.text for b in ui.row("ice_on").find_elements("css selector", "button")]
    assert "Disable Iceberg export" in labels and "Enable Iceberg export" not in labels
    ui.axe("tables with Iceberg export")
    ui.scheme("dark")
    ui.axe("tables with Iceberg export (dark)")
    ui.scheme("light")
    ui.viewport(*PHONE)
    ui.no_horizontal_scroll("tables with Iceberg export on a phone")
    ui.axe("tables with Iceberg export (phone)")
    ui.viewport(*DESKTOP)
    ui.press("Disable Iceberg export", ui.row("ice_on"))
    ui.wait(lambda: "Iceberg export of table ice_on disabled" in ui.notice(), "the disable notice")
    ui.wait(lambda: iceberg_cell(ui, "ice_on") == "Disabled", "the row to say so")
    assert exported() == {"ice_on": False, "ice_off": False}

    # a table deleted meanwhile (another tab, mgmtctl): the API's 404 is shown, not swallowed
    assert_status(d.delete(tables + "/ice_off", d.dev_jwt("admin")), 204)
    ui.press("Enable Iceberg export", ui.row("ice_off"))
    ui.wait(lambda: "not found" in ui.problem(), "the API's message")

    # an auditor sees the setting and is offered no switch
    ok_json(d.put(tables + "/ice_on/iceberg/enable", d.dev_jwt("admin")))
    ui.sign_out()
    ui.sign_in_idp("auditor@example.com", ACCOUNT_A)
    ui.go("#/databases/%s/tables" % name, "Tables of %s" % name)
    ui.wait(lambda: iceberg_cell(ui, "ice_on") == "Enabled", "the setting")
    assert not [b for b in ui.action_buttons() if "Iceberg" in b]


def test_invite_turns_into_a_member_who_is_offered_less(ui):
    email = unique_email("joiner")
    admin(ui)
    ui.go("#/users", "Users")
    ui.row("admin@example.com")
    ui.shot("users")
    ui.press("Invitations")
    ui.wait(lambda: ui.drv.current_url.endswith("#/users/invitations"), "the Invitations tab")
    ui.press("Invite user")
    dlg = ui.dialog()
    ui.fill("Email", email, dlg)
    for role in ("admin", "member", "auditor"):
        assert role in dlg.text
    assert "Reads everything, changes nothing." in dlg.text
    ui.choose("member", dlg)
    ui.shot("invite-dialog")
    ui.axe("invite dialog")
    ui.press("Send invite", dlg)
    ui.no_dialog()
    assert "pending" in ui.row(email).text
    ui.shot("invitations")
    ui.sign_out()

    # the invited person signs in through the dev IdP and becomes a member
    ui.sign_in_idp(email, ACCOUNT_A)
    assert ui.signed_in_as() == "Signed in as %s (member)" % email
    assert "Management tokens" not in ui.nav()
    ui.go("#/databases", "Databases")
    ui.row("telemetry")
    for label in ("Create database", "Edit", "Rename", "Delete"):
        assert label not in ui.buttons()
    ui.go("#/database-tokens", "Database tokens")
    assert "Create token" in ui.buttons()  # members may issue database tokens
    assert "Revoke" not in ui.buttons() and "Edit" not in ui.buttons()
    ui.go("#/users", "Users")
    ui.wait(lambda: [r.text.split()[0] for r in ui.css("tbody tr")] == [email],
            "the member's own user, alone")
    assert "Invitations" not in ui.buttons()
    assert "Change group" not in ui.buttons() and "Remove" not in ui.buttons()
    ui.go("#/management-tokens", "Not here")
    ui.axe("member's users page")
    invites = ok_json(ui.d.get("/api/v0/accounts/%s/invites" % ACCOUNT_A, ui.d.dev_jwt("admin")))
    assert next(i for i in invites if i["email"] == email)["status"] == "accepted"


CHANGE = ("Create", "Revoke", "Delete", "Invite", "Edit", "Rename", "Remove", "Change group",
          "Undelete", "Save", "Enable", "Disable")


def test_auditor_is_offered_no_change_anywhere(ui):
    ui.sign_in_idp("auditor@example.com", ACCOUNT_A)
    assert ui.signed_in_as() == "Signed in as auditor@example.com (auditor)"
    pages = [("#/management-tokens", "Management tokens"), ("#/databases", "Databases"),
             ("#/databases/telemetry/tables", "Tables of telemetry"),
             ("#/database-tokens", "Database tokens"), ("#/cluster", "Cluster"),
             ("#/users", "Users"), ("#/users/invitations", "Users")]
    for hash_, title in pages:
        ui.go(hash_, title)
        ui.wait(lambda: ui.css("table, dl"), "the page's content")
        offered = [b for b in ui.action_buttons() if any(b.startswith(c) for c in CHANGE)]
        assert offered == [], "%s offers %s to an auditor" % (hash_, offered)
    ui.go("#/databases", "Databases")
    ui.choose("Show deleted databases")
    ui.wait(lambda: "No database." in ui.one("table").text or ui.css("tbody tr"), "the deleted list")
    assert not [b for b in ui.action_buttons() if b.startswith("Undelete")]


def test_sign_in_with_a_management_token(ui):
    ui.sign_in_token(SEEDED_TOKEN, ACCOUNT_A)
    assert ui.signed_in_as() == "Signed in as a management token"
    ui.go("#/management-tokens", "Management tokens")
    create = ui.button("Create token")
    assert not create.is_enabled()
    assert "may not create management tokens" in create.get_attribute("title")
    ui.go("#/users", "Users")
    assert "Change group" in ui.buttons()
    ui.press("Invitations")
    ui.button("Invite user")
    # a token that is revoked meanwhile: the next call sends the person back to sign in
    tok = next(t for t in ok_json(ui.d.get(tokens_path(), SEEDED_TOKEN)) if t["description"] == "seeded automation")
    ui.go("#/databases", "Databases")
    assert_status(ui.d.delete(tokens_path(token_id=tok["id"]), ui.d.dev_jwt("admin")), 204)
    ui.drv.execute_script("location.hash = '#/cluster'")
    ui.wait_h1("Sign in")
    assert "signed out" in ui.problem() and "revoked" in ui.problem()


def test_errors_are_shown_as_the_api_says(ui):
    admin(ui)
    ui.go("#/databases", "Databases")
    ui.press("Create database")
    dlg = ui.dialog()
    ui.fill("Name", "telemetry", dlg)
    ui.press("Create database", dlg)
    err = ui.one('dialog[open] [role="alert"]')
    ui.wait(lambda: err.text, "the error in the dialog")
    assert "telemetry" in err.text or "exists" in err.text or "taken" in err.text, err.text
    ui.fill("Retention period", "soon", dlg)
    ui.press("Create database", dlg)
    ui.wait(lambda: "Retention period" in err.text, "the retention message")
    ui.press("Cancel", dlg)
    ui.no_dialog()

    # the last admin cannot be removed: the API's 409 message is shown
    ui.go("#/users", "Users")
    ui.press("Remove", ui.row("admin@example.com"))
    dlg = ui.dialog()
    ui.press("Remove user", dlg)
    err = ui.one('dialog[open] [role="alert"]')
    ui.wait(lambda: "without an admin" in err.text, "the last-admin message")
    ui.press("Cancel", dlg)
    ui.no_dialog()

    # a network failure says so
    ui.offline(True)
    ui.drv.execute_script("location.hash = '#/cluster'")
    ui.wait(lambda: "Cannot reach mgmtd" in ui.problem(), "the network message")
    ui.offline(False)


def test_an_expired_sign_in_goes_back_to_sign_in(ui):
    admin(ui)
    ui.go("#/cluster", "Cluster")
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)
    ok_json(ui.d.put("/_test/clock", json={"now": rfc3339(later)}))
    try:
        ui.drv.execute_script("location.hash = '#/databases'")
        ui.wait_h1("Sign in")
        assert "expired" in ui.problem()
    finally:
        ui.d.delete("/_test/clock")


def test_keyboard_only(ui):
    from selenium.webdriver.common.keys import Keys

    ui.sign_in_page()
    ui.fill("Account ID", ACCOUNT_A)
    tok = ui.fill("Management token", make_mgmt_token())
    tok.send_keys(Keys.ENTER)  # submits the token form; an unknown token is refused
    ui.wait(lambda: "not valid" in ui.problem(), "the refusal")
    admin(ui)
    ui.go("#/databases", "Databases")
    active = ui.drv.switch_to.active_element
    assert active.tag_name == "h1"  # the new page's heading has the focus
    # Tab to the first control: the focus is visible
    active.send_keys(Keys.TAB)
    focused = ui.drv.switch_to.active_element
    outline = ui.drv.execute_script("return getComputedStyle(arguments[0]).outlineStyle", focused)
    assert outline not in ("", "none"), outline
    # a dialog opens with Enter and closes with Escape
    create = ui.button("Create database")
    create.send_keys(Keys.ENTER)
    dlg = ui.dialog()
    ui.drv.switch_to.active_element.send_keys(Keys.ESCAPE)
    ui.no_dialog()


PAGES = [("#/management-tokens", "Management tokens", "management-tokens"),
         ("#/databases", "Databases", "databases"),
         ("#/database-tokens", "Database tokens", "database-tokens"),
         ("#/cluster", "Cluster", "cluster"),
         ("#/users", "Users", "users"),
         ("#/users/invitations", "Users", "invitations")]


def test_every_page_in_both_schemes_and_on_a_phone(ui):
    for what in ("CI pipeline", "nightly backup"):
        ui.d.create_token(what)
    admin(ui)
    for hash_, title, name in PAGES:
        ui.go(hash_, title)
        ui.wait(lambda: ui.css("table, dl"), "the page's content")
        ui.axe(name)
        if name == "cluster":
            ui.shot("cluster")
        ui.scheme("dark")
        ui.axe(name + " (dark)")
        if name in ("databases", "users"):
            ui.shot(name + "-dark")
        ui.scheme("light")
    ui.viewport(*PHONE)
    for hash_, title, name in PAGES + [("#/databases/telemetry/tables", "Tables of telemetry", "tables")]:
        ui.go(hash_, title)
        ui.wait(lambda: ui.css("table, dl"), "the page's content")
        ui.no_horizontal_scroll(name + " on a phone")
        ui.axe(name + " (phone)")
        if name in ("databases", "management-tokens"):
            assert ui.shot("phone-" + name) == PHONE
    ui.go("#/databases", "Databases")
    ui.press("Create database")
    ui.dialog()
    ui.no_horizontal_scroll("the create dialog on a phone")
    ui.shot("phone-create-database")
    ui.press("Cancel", ui.dialog())


def test_screenshots_are_there(ui):
    """docs/ui.md shows these; this run made them."""
    for name in ("sign-in", "dev-idp", "management-tokens", "secret-dialog", "databases",
                 "tables", "database-tokens", "cluster", "users", "invitations",
                 "invite-dialog", "databases-dark", "users-dark", "phone-databases",
                 "phone-management-tokens", "phone-create-database"):
        p = SHOTS / ("%s.png" % name)
        assert p.exists() and p.stat().st_size > 1000, p
        assert p.stat().st_mtime >= STARTED, "%s was not made by this run" % p
