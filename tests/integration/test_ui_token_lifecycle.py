"""The Admin UI's token lifecycle actions (mgmtd extensions, docs/tokens.md "Lifecycle"),
end to end in headless Chromium: Rotate shows the new secret once and until when the old
one works, Suspend and Resume, on both token pages; an auditor is offered none of them."""

import pytest

from browser import admin, browser_session, fresh_page
from conftest import (
    ACCOUNT_A,
    assert_error,
    assert_status,
    clusters_path,
    db_tokens_path,
    ok_json,
    tokens_path,
    unique_name,
    users_path,
)
from test_ui import SHOTS, ui_seed


@pytest.fixture(scope="module")
def ui(mgmtd_bin, idp, tmp_path_factory):
    yield from browser_session(mgmtd_bin, idp, tmp_path_factory.mktemp("uilc"), ui_seed(), SHOTS)


@pytest.fixture(autouse=True)
def each_test_on_a_fresh_page(ui):
    yield from fresh_page(ui)


def press_in_row(ui, label, text):
    """Presses the button label of the row holding text. The table is drawn anew after
    each change, so the row is looked up again until the press lands."""
    def attempt():
        row = ui.row(text)
        [b for b in row.find_elements("tag name", "button") if b.text.strip() == label][0].click()
        return True

    ui.wait(attempt, "to press %r in the row of %r" % (label, text))


def test_admin_rotates_suspends_and_resumes_a_management_token(ui):
    description = "ui rotated " + unique_name("t")
    tok = ok_json(ui.d.post(tokens_path(), ui.d.dev_jwt("admin"), json={"description": description}))
    old = tok["accessToken"]
    ui.secrets.add(old)
    admin(ui)
    ui.go("#/management-tokens", "Management tokens")
    press_in_row(ui, "Rotate", description)
    dlg = ui.dialog()
    assert description in dlg.text and tok["id"] in dlg.text
    ui.fill("Grace", "10m", dlg)
    ui.axe("rotate dialog")
    ui.press("Rotate token", dlg)
    note = ui.one("#secret-note").text
    assert "keeps working until" in note
    new = ui.read_secret()
    assert new.startswith("M.V1.") and new != old
    assert_status(ui.d.get(users_path(), old), 200)
    assert_status(ui.d.get(users_path(), new), 200)
    got = ok_json(ui.d.get(tokens_path(token_id=tok["id"]), ui.d.dev_jwt("admin")))
    assert got["previousSecretExpiresAt"]

    press_in_row(ui, "Suspend", description)
    ui.wait(lambda: "suspended" in ui.notice(), "the notice")
    ui.choose("Show inactive tokens")
    ui.wait(lambda: "suspended" in ui.row(description).text, "the suspended row")
    assert_error(ui.d.get(users_path(), new), 401, "suspended")
    press_in_row(ui, "Resume", description)
    ui.wait(lambda: "resumed" in ui.notice(), "the notice")
    ui.wait(lambda: "active" in ui.row(description).text, "the active row")
    assert_status(ui.d.get(users_path(), new), 200)


def test_admin_rotates_and_suspends_a_database_token(ui):
    jwt = ui.d.dev_jwt("admin")
    cluster = ok_json(ui.d.get(clusters_path(), jwt))[0]["id"]
    description = "ui db rotated " + unique_name("t")
    tok = ok_json(ui.d.post(db_tokens_path(cluster=cluster), jwt,
                            json={"description": description, "permissions": []}))
    ui.secrets.add(tok["accessToken"])
    admin(ui)
    ui.go("#/database-tokens", "Database tokens")
    press_in_row(ui, "Rotate", description)
    dlg = ui.dialog()
    ui.fill("Grace", "0", dlg)
    ui.press("Rotate token", dlg)
    assert "no longer works" in ui.one("#secret-note").text
    new = ui.read_secret()
    assert new.startswith("apiv1_") and new != tok["accessToken"]
    press_in_row(ui, "Suspend", description)
    ui.wait(lambda: "suspended" in ui.notice(), "the notice")
    ui.wait(lambda: "Resume" in ui.row(description).text, "the suspended row")
    got = ok_json(ui.d.get(db_tokens_path(cluster=cluster, token_id=tok["id"]), jwt))
    assert got["suspendedAt"]
    press_in_row(ui, "Resume", description)
    ui.wait(lambda: "resumed" in ui.notice(), "the notice")
    ui.wait(lambda: "Suspend" in ui.row(description).text, "the resumed row")


def test_auditor_is_offered_no_lifecycle_action(ui):
    ui.sign_in_idp("auditor@example.com", ACCOUNT_A)
    for hash_, title in [("#/management-tokens", "Management tokens"),
                         ("#/database-tokens", "Database tokens")]:
        ui.go(hash_, title)
        ui.wait(lambda: ui.css("tbody tr"), "the rows")
        shown = ui.buttons()
        assert not {"Rotate", "Suspend", "Resume"} & set(shown), shown
