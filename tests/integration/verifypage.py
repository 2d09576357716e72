"""The dev IdP's device verification page, used the way a person uses it: open the
link the device shows, read the form, type an email, press a button.

Nothing here knows the page's field names beyond what a browser would see: the
forms, their hidden inputs and their submit buttons are read from the HTML.
"""

from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


class Form:
    def __init__(self, action, method):
        self.action = action
        self.method = method.lower()
        self.inputs = {}  # name -> (type, value), radio buttons left out
        self.radios = {}  # name -> [(value, checked)]
        self.buttons = []  # (name, value, label)


class PageParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []
        self.text = []
        self._button = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get")))
        elif tag == "input" and self.forms and a.get("name") and a.get("type") == "radio":
            self.forms[-1].radios.setdefault(a["name"], []).append(
                (a.get("value", ""), "checked" in a))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].inputs[a["name"]] = (a.get("type", "text"), a.get("value", ""))
        elif tag == "button" and self.forms:
            self._button = [a.get("name"), a.get("value", ""), ""]

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self.forms[-1].buttons.append(tuple(self._button))
            self._button = None

    def handle_data(self, data):
        if self._button is not None:
            self._button[2] += data
        self.text.append(data)


def parse(html: str) -> PageParser:
    p = PageParser()
    p.feed(html)
    return p


def open_page(url: str, session=None):
    """GET the verification link; returns (response, parsed page)."""
    s = session or requests
    r = s.get(url, timeout=20, allow_redirects=False)
    return r, parse(r.text)


def submit(url: str, page: PageParser, button_label: str, fill=None, session=None, pick=None):
    """Submits the page's form that has a button labelled button_label (as a person
    pressing it), after typing fill (name -> text) into its visible fields and choosing
    pick (name -> value) among its radio buttons (which must offer it)."""
    s = session or requests
    for form in page.forms:
        for name, value, label in form.buttons:
            if label.strip().lower() != button_label.lower():
                continue
            data = {k: v for k, (_t, v) in form.inputs.items()}
            for radio, options in form.radios.items():
                data.update({radio: v for v, checked in options if checked})
            for radio, choice in (pick or {}).items():
                assert choice in [v for v, _c in form.radios.get(radio, [])], \
                    "the page offers no %s %r: %r" % (radio, choice, form.radios)
                data[radio] = choice
            data.update(fill or {})
            if name:
                data[name] = value
            target = urljoin(url, form.action)
            if form.method == "post":
                return s.post(target, data=data, timeout=20, allow_redirects=False)
            return s.get(target, params=data, timeout=20, allow_redirects=False)
    raise AssertionError("no form with a %r button on the page: %s"
                         % (button_label, "".join(page.text)[:500]))


def offered_users(page: PageParser):
    """The (account id, email) pairs the page lists to pick from."""
    out = []
    for form in page.forms:
        for value, _checked in form.radios.get("login", []):
            account, _, email = value.partition(" ")
            out.append((account, email))
    return out


def approve(url: str, email: str, account_id: str = None, session=None, typed=False):
    """Opens the verification link and approves as the user with this email: picked
    from the page's list when it offers that user once (or in account_id), else (or
    with typed=True) typed into the email field, as a person would."""
    r, page = open_page(url, session)
    assert r.status_code == 200, "verification page %s: %d %s" % (url, r.status_code, r.text)
    matches = [(a, e) for a, e in offered_users(page)
               if e == email and (account_id is None or a == account_id)]
    if len(matches) == 1 and not typed:
        return submit(url, page, "Approve", None, session,
                      pick={"login": "%s %s" % matches[0]})
    fill = {"email": email}
    if account_id:
        fill["account_id"] = account_id
    return submit(url, page, "Approve", fill, session)


def deny(url: str, session=None):
    r, page = open_page(url, session)
    assert r.status_code == 200, "verification page %s: %d %s" % (url, r.status_code, r.text)
    return submit(url, page, "Deny", None, session)
