"""A real headless Chromium driving the Admin UI (Debian's chromium, chromedriver and
python3-selenium; never a downloaded browser), with axe-core (npm, tests/node/)
injected into the page, screenshots, and a record of every URL the browser asked for.
"""

import base64
import json
import os
import re
import struct
import time
from pathlib import Path

import pytest

from conftest import ACCOUNT_A, SLOWDOWN, _Factory, _stop_all

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "node" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 10.0 * SLOWDOWN

# What a secret looks like wherever the browser may have put one.
SECRET_SHAPES = re.compile(r"M\.V1\.[A-Za-z0-9_-]{20,}|apiv1_[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]{10,}\.eyJ")

# The daemon config of the browser tests: the dev IdP signs in, the test harness, the UI.
UI_CONFIG = ("[dev_idp]\nenabled = true\n[testing]\nenabled = true\n"
             "[ui]\nenabled = true\nclient_id = mgmtd-ui\n")

DESKTOP = (1280, 800)
PHONE = (390, 844)


def start_driver(profile_dir: Path):
    """Chromium with the flags the project uses everywhere, a fresh profile, and the
    network log on (every request's URL is kept for the secret checks)."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("chromium and chromium-driver are missing: run `make deps`")
    if not AXE.exists():
        pytest.fail("%s is missing: run `make deps` (npm ci in tests/node)" % AXE)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run",
                 "--user-data-dir=%s" % profile_dir, "--window-size=%d,%d" % DESKTOP):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_script_timeout(WAIT * 3)
    return drv


def browser_session(mgmtd_bin, idp, base: Path, seed, shots_dir: Path, prepare=None):
    """The body of a browser test module's fixture (`yield from`): a daemon with the UI
    and the dev IdP alone (the seed's subjects are its own, idpIssuer dev_idp; the Daemon
    helpers sign in through it too), prepare(daemon) if given, then a Browser on it;
    at the end no secret may be where it must not, and both stop."""
    f = _Factory(mgmtd_bin, base, idp)
    d = f(seed=seed, config_extra=UI_CONFIG, idp_section=False)
    d.jwt = d.dev_jwt
    if prepare:
        prepare(d)
    drv = start_driver(base / "chromium-profile")
    b = Browser(drv, d, shots_dir)
    try:
        yield b
        b.check_no_secret_leaked()
    finally:
        drv.quit()
        _stop_all(f)


class Browser:
    """The UI of one daemon in one browser, with the helpers the tests share."""

    def __init__(self, drv, daemon, shots_dir: Path):
        self.drv = drv
        self.d = daemon
        self.shots_dir = shots_dir
        self.urls = []       # every URL the browser requested
        self.secrets = set() # every secret the tests learnt, to look for elsewhere
        self.axe_checked = []
        self.viewport(*DESKTOP)
        self.scheme("light")

    # -- environment --

    def viewport(self, width, height):
        self.drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1,
            "mobile": width < 600})

    def scheme(self, name):
        self.drv.execute_cdp_cmd("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-color-scheme", "value": name}]})

    def offline(self, off):
        self.drv.execute_cdp_cmd("Network.enable", {})
        self.drv.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": off, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})

    # -- waiting and finding --

    def wait(self, predicate, what, timeout=WAIT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                v = predicate()
                if v:
                    return v
            except Exception as e:  # the page is changing under us
                last = e
            time.sleep(0.05)
        pytest.fail("waited %.0f s for %s (url %s, last error %r); page text:\n%s"
                    % (timeout, what, self.drv.current_url, last, self.text()[:3000]))

    def css(self, selector, root=None):
        from selenium.webdriver.common.by import By
        return (root or self.drv).find_elements(By.CSS_SELECTOR, selector)

    def one(self, selector, root=None):
        return self.wait(lambda: [e for e in self.css(selector, root) if e.is_displayed()][0],
                         "an element %s" % selector)

    def text(self):
        try:
            return self.drv.find_element("tag name", "body").text
        except Exception:
            return ""

    def h1(self):
        return self.one("main h1").text

    def wait_h1(self, title):
        return self.wait(lambda: self.h1() == title, "the page %r" % title)

    def _settled(self, read):
        """read() again when the page re-rendered the elements under it (a list that
        arrived meanwhile): what a person sees once it stops moving."""
        from selenium.common.exceptions import StaleElementReferenceException

        for _ in range(20):
            try:
                return read()
            except StaleElementReferenceException:
                time.sleep(0.05)
        return read()

    def buttons(self, root=None):
        """The texts of the buttons a person can see (and so press)."""
        return self._settled(lambda: [b.text.strip() for b in self.css("button", root)
                                      if b.is_displayed()])

    def action_buttons(self):
        """The buttons that act (not the column headers that sort, not the tabs)."""
        return self._settled(lambda: [b.text.strip() for b in
                                      self.css('button:not(.sort):not([role="tab"])')
                                      if b.is_displayed()])

    def button(self, label, root=None):
        return self.wait(
            lambda: [b for b in self.css("button", root) if b.is_displayed() and b.text.strip() == label][0],
            "a button %r" % label)

    def press(self, label, root=None):
        self.button(label, root).click()

    def dialog(self):
        return self.one("dialog[open]")

    def no_dialog(self):
        self.wait(lambda: not self.css("dialog[open]"), "the dialog to close")

    def fill(self, label, value, root=None):
        """Types into the input whose <label> says label."""
        root = root or self.drv
        lab = self.wait(lambda: [l for l in self.css("label", root) if l.text.strip() == label][0],
                        "a field labelled %r" % label)
        el = self.drv.find_element("id", lab.get_attribute("for"))
        el.clear()
        el.send_keys(value)
        return el

    def choose(self, label, root=None):
        """Clicks the radio button or checkbox whose <label> says label."""
        root = root or self.drv
        lab = self.wait(lambda: [l for l in self.css("label", root) if l.text.strip() == label][0],
                        "a choice labelled %r" % label)
        el = self.drv.find_element("id", lab.get_attribute("for"))
        if not el.is_selected():
            el.click()
        return el

    def search(self, text, enter=True):
        """Replaces the text of the page's search box as a person does (select all,
        Backspace, type); then Enter, so that the page asks at once rather than after a
        pause in typing (and no question asked after a pause is still to come)."""
        from selenium.webdriver.common.keys import Keys

        box = self.one("#token-search")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.BACKSPACE)
        box.send_keys(text + (Keys.ENTER if enter else ""))

    def row(self, text):
        """The table row holding text."""
        return self.wait(lambda: [r for r in self.css("tbody tr") if text in r.text][0],
                         "a table row with %r" % text)

    def notice(self):
        return self.drv.find_element("id", "notice").text

    def problem(self):
        return self.drv.find_element("id", "problem").text

    # -- navigation and sign-in --

    def open(self, hash_=""):
        self.drv.get(self.d.url("/ui/" + hash_))
        self.record_urls()

    def go(self, hash_, title):
        self.drv.execute_script("location.hash = arguments[0]", hash_)
        self.wait_h1(title)

    def sign_in_page(self):
        self.open()
        self.wait_h1("Sign in")

    def sign_in_idp(self, email, account, check_page=None):
        """The authorization-code flow through the dev IdP's page, as a person does it."""
        self.sign_in_page()
        self.fill("Account ID", account)
        self.press("Sign in with the identity provider")
        self.wait(lambda: "/oauth/authorize?" in self.drv.current_url, "the dev IdP's page")
        if check_page:
            check_page()
        self.one('button[name="login"][value="%s %s"]' % (account, email)).click()
        self.wait(lambda: self.css("#signed-in-as"), "the signed-in header")
        # the code never stays in the address bar
        assert "code=" not in self.drv.current_url and "state=" not in self.drv.current_url
        cred = json.loads(self.drv.execute_script(
            "return sessionStorage.getItem('mgmtd.credential')"))
        assert cred["kind"] == "jwt"
        self.secrets.add(cred["value"])
        self.record_urls()
        return cred["value"]

    def sign_in_token(self, token, account):
        self.sign_in_page()
        self.fill("Account ID", account)
        self.fill("Management token", token)
        self.press("Sign in with the token")
        self.wait(lambda: self.css("#signed-in-as"), "the signed-in header")
        self.secrets.add(token)

    def sign_out(self):
        self.press("Sign out")
        self.wait_h1("Sign in")
        assert self.drv.execute_script("return sessionStorage.getItem('mgmtd.credential')") is None

    def signed_in_as(self):
        return self.one("#signed-in-as").text

    def nav(self):
        return [a.text for a in self.css("#nav a")]

    # -- the secret that a dialog shows once --

    def read_secret(self):
        field = self.one("#secret-value")
        d = self.dialog()
        assert "will not be shown again" in d.text
        value = field.get_attribute("value")
        self.secrets.add(value)
        self.axe("secret-dialog")
        self.press("Close", d)
        self.no_dialog()
        self.wait(lambda: not self.css("#secret-value"), "the secret to leave the page")
        return value

    # -- checks --

    def axe(self, name):
        """Runs axe-core on the page as it is; fails on serious or critical findings."""
        self.drv.execute_script(AXE.read_text())
        result = self.drv.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify({error: String(e)})));")
        found = json.loads(result)
        assert not isinstance(found, dict), "axe failed on %s: %s" % (name, found)
        bad = [v for v in found if v["impact"] in ("serious", "critical")]
        assert not bad, "axe on %s:\n%s" % (name, "\n".join(
            "%s (%s): %s %s" % (v["id"], v["impact"], v["help"],
                                [n["target"] for n in v["nodes"]][:5]) for v in bad))
        self.axe_checked.append(name)

    def no_horizontal_scroll(self, name):
        over = self.drv.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if over > 1:
            wide = self.drv.execute_script(
                "const w = document.documentElement.clientWidth;"
                "return [...document.querySelectorAll('body *')]"
                ".filter(e => e.getBoundingClientRect().right > w + 1)"
                ".slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + "
                "Math.round(e.getBoundingClientRect().right))")
            pytest.fail("%s scrolls sideways by %d px; too wide: %s" % (name, over, wide))

    def shot(self, name):
        """A screenshot for docs/ui/ (the viewport as it is now)."""
        self.shots_dir.mkdir(parents=True, exist_ok=True)
        png = base64.b64decode(self.drv.get_screenshot_as_base64())
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        (self.shots_dir / ("%s.png" % name)).write_bytes(png)
        return struct.unpack(">II", png[16:24])

    def record_urls(self):
        for entry in self.drv.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                self.urls.append(msg["params"]["request"]["url"])
                doc = msg["params"].get("documentURL")
                if doc:
                    self.urls.append(doc)
        self.urls.append(self.drv.current_url)

    def check_no_secret_leaked(self):
        """No secret in any URL the browser asked for, in localStorage or in a cookie."""
        self.record_urls()
        storage = self.drv.execute_script("return JSON.stringify(Object.assign({}, localStorage))")
        cookies = json.dumps(self.drv.get_cookies())
        for where, text in (("a URL", "\n".join(self.urls)), ("localStorage", storage),
                            ("a cookie", cookies)):
            m = SECRET_SHAPES.search(text)
            assert m is None, "something secret-shaped in %s: %s" % (where, m.group(0)[:24])
            for s in self.secrets:
                assert s[:24] not in text, "a secret is in %s" % where
        assert self.drv.get_cookies() == [], "the UI set cookies"


def fresh_page(ui):
    """For an autouse fixture: each test starts signed out in the light scheme on a
    desktop screen, and ends with nothing secret left where it must not be."""
    ui.offline(False)
    ui.viewport(*DESKTOP)
    ui.scheme("light")
    ui.drv.get(ui.d.url("/ui/"))
    ui.drv.execute_script("sessionStorage.clear()")
    yield
    ui.check_no_secret_leaked()


def admin(ui):
    """Signed in through the IdP as the admin of account A."""
    return ui.sign_in_idp("admin@example.com", ACCOUNT_A)
