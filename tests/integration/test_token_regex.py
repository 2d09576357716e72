"""The secret-scanner expressions of docs/tokens.md, run in the engines the doc says take
them: Python's `re`, GNU `grep -P` (PCRE2) and RE2 (tests/tools/re2find.cc, built by the
Makefile before the integration suite). Expressions and engine claims are read out of
the doc, so the two cannot drift apart. The tokens are issued by a real mgmtd, plus
well-formed ones at the edges of the alphabet built with the suite's helpers."""

import os
import re
import subprocess

import pytest

from conftest import b64url, flip_char, make_mgmt_token

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKENS_MD = os.path.join(ROOT, "docs", "tokens.md")
RE2FIND = os.environ.get("MGMTD_RE2FIND") or os.path.join(ROOT, "build", "tools", "re2find")

# The ## sections of docs/tokens.md that publish expressions, and their tokens.
KINDS = {"Management tokens": "management", "Database tokens": "database"}
PREFIX = {"management": "M.V1.", "database": "apiv1_"}
BODY_LEN = {"management": 49, "database": 86}
# Characters that may stand right before a token of the kind: not one it can hold.
HELD = {"management": "Az9_-.", "database": "Az9_-"}
FORMS = ("pcre", "re2")  # the info strings of the doc's fenced blocks
ENGINES = ("python", "grep -P", "re2")
TIMEOUT = 30


def _doc():
    with open(TOKENS_MD, encoding="utf-8") as f:
        return f.read()


def published_expressions():
    """{(kind, form): expression} from the ```pcre and ```re2 blocks of docs/tokens.md,
    kind from the ## section each stands in. Fails on a block outside those sections,
    on two of one form in a section, and on an expression left outside such a block."""
    found = {}
    section, block, info, outside = None, None, None, []
    for n, line in enumerate(_doc().splitlines(), 1):
        if block is not None:
            if line.strip() == "```":
                if info in FORMS:
                    assert section in KINDS, "docs/tokens.md:%d: a ```%s block outside %s" % (
                        n, info, sorted(KINDS))
                    assert len(block) == 1, "docs/tokens.md:%d: one expression per block" % n
                    key = (KINDS[section], info)
                    assert key not in found, "docs/tokens.md:%d: a second %s" % (n, key)
                    found[key] = block[0]
                else:
                    outside.extend(block)
                block = None
            else:
                block.append(line)
        elif line.startswith("```"):
            block, info = [], line[3:].strip()
        else:
            if line.startswith("## "):
                section = line[3:].strip()
            outside.append(line)
    # Whatever looks like a token expression must be one the test runs.
    stray = [line for line in outside if re.search(r"M\\\.V1|apiv1_\[|\[A-Za-z0-9", line)]
    assert not stray, ("docs/tokens.md publishes expressions outside ```pcre / ```re2 "
                       "blocks, which no test runs: %s" % stray)
    assert set(found) == {(k, f) for k in KINDS.values() for f in FORMS}, sorted(found)
    return found


def engine_claims():
    """{(form, engine): True/False} from the table of the "Secret scanners" section."""
    rows = []
    section = None
    for line in _doc().splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif section == "Secret scanners" and line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
    assert rows, "docs/tokens.md: no engine table under \"## Secret scanners\""
    header, body = rows[0], rows[1:]

    def engine_of(title):
        for name, word in (("grep -P", "PCRE"), ("python", "Python"), ("re2", "RE2")):
            if word in title:
                return name
        raise AssertionError("docs/tokens.md: engine table column %r names no tested engine"
                             % title)

    engines = [engine_of(t) for t in header[1:]]
    claims = {}
    for cells in body:
        label = cells[0].lower()
        form = "re2" if label.startswith("re2") else "pcre" if "lookaround" in label else None
        assert form, "docs/tokens.md: engine table row %r names no form" % cells[0]
        for engine, cell in zip(engines, cells[1:]):
            word = cell.lower().split(":")[0].split(",")[0].strip()
            assert word in ("yes", "no"), "docs/tokens.md: engine table cell %r" % cell
            claims[(form, engine)] = word == "yes"
    assert set(claims) == {(f, e) for f in FORMS for e in ENGINES}, sorted(claims)
    return claims


# ---------------------------------------------------------------------------
# The engines. Each answers [(line number, found text)] for a text, or raises
# Refused when it does not take the expression.

class Refused(Exception):
    pass


def run_python(expr, text):
    try:
        rx = re.compile(expr)
    except re.error as e:
        raise Refused(str(e))
    group = 1 if rx.groups else 0
    return [(text.count("\n", 0, m.start(group)) + 1, m.group(group))
            for m in rx.finditer(text)]


def run_re2(expr, text):
    if not (os.path.isfile(RE2FIND) and os.access(RE2FIND, os.X_OK)):
        pytest.fail("%s is missing (the RE2 test program: MGMTD_RE2FIND, by default "
                    "build/tools/re2find): `make build/tools/re2find` builds it, and "
                    "`make integration` does so first" % RE2FIND, pytrace=False)
    data = text.encode("utf-8")
    r = subprocess.run([RE2FIND, expr], input=data, capture_output=True, timeout=TIMEOUT)
    if r.returncode == 2:
        raise Refused(r.stderr.decode(errors="replace"))
    assert r.returncode in (0, 1), r
    found = []
    for out in r.stdout.decode("utf-8").splitlines():
        offset, secret = out.split("\t", 1)
        found.append((data.count(b"\n", 0, int(offset)) + 1, secret))
    assert (r.returncode == 0) == bool(found), r
    return found


def run_grep(expr, text):
    """grep -P works line by line and prints the whole match, so for an expression with
    a group the found text is the match with its boundary characters. In a UTF-8
    locale, as a scanner reading source files would run it (in the C locale a class
    would take one byte of a two-byte character)."""
    r = subprocess.run(["grep", "-n", "-o", "-P", "-e", expr], input=text.encode("utf-8"),
                       capture_output=True, timeout=TIMEOUT,
                       env=dict(os.environ, LC_ALL="C.UTF-8"))
    if r.returncode == 2:
        raise Refused(r.stderr.decode(errors="replace"))
    assert r.returncode in (0, 1), r
    return [(int(n), s) for n, s in
            (out.split(":", 1) for out in r.stdout.decode("utf-8").splitlines())]


RUN = {"python": run_python, "re2": run_re2, "grep -P": run_grep}


# ---------------------------------------------------------------------------
# Tokens and the lines they are sought in

@pytest.fixture(scope="module")
def tokens(server):
    """{kind: [token]}: issued by the daemon, and well-formed ones whose body starts
    with or is made of the alphabet's two punctuation characters."""
    mgmt = [server.create_token(description="scanner %d" % i)["accessToken"]
            for i in range(6)]
    db = server.create_database()["name"]
    dbt = [server.create_db_token([("read", db)], description="scanner %d" % i)["accessToken"]
           for i in range(6)]
    dashes = b"\xfb\xef\xbe" * 22  # base64url "----…"
    underscores = b"\xff" * 64  # base64url "____…"
    mgmt += [make_mgmt_token(dashes[:32]), make_mgmt_token(underscores[:32])]
    dbt += ["apiv1_" + b64url(dashes[:64]), "apiv1_" + b64url(underscores[:64])]
    for t in mgmt + dbt:
        kind = "management" if t.startswith("M.V1.") else "database"
        assert re.fullmatch(r"[A-Za-z0-9_-]{%d}" % BODY_LEN[kind], t[len(PREFIX[kind]):]), t
    assert len(set(mgmt)) == len(mgmt) and len(set(dbt)) == len(dbt)
    return {"management": mgmt, "database": dbt}


def cases(kind, toks):
    """[(line, {form: [tokens it must find]})]: every token in common surroundings,
    and near-misses of every kind, each on its own line (tokens that start and end
    lines also test the boundaries at line ends)."""
    prefix = PREFIX[kind]
    found_by_both = lambda *t: {"pcre": list(t), "re2": list(t)}  # noqa: E731
    nothing = found_by_both()
    out = []
    for i, t in enumerate(toks):
        other = toks[(i + 1) % len(toks)]
        body = t[len(prefix):]
        mid = len(body) // 2
        # found
        for line in (t, "Authorization: Bearer " + t, 'token = "%s",' % t,
                     "export INFLUX_TOKEN=" + t, "'%s'" % t, "(%s)" % t, "<%s>" % t,
                     "\t%s\t" % t, "https://h/?token=%s&next=1" % t, "Use %s." % t,
                     "=%s==" % t, "/%s/" % t, "+%s+" % t, "é%sé" % t):
            out.append((line, found_by_both(t)))
        out.append(("%s  %s" % (t, other), found_by_both(t, other)))
        # the documented limit of the RE2 form: one character between two tokens
        out.append(("%s,%s" % (t, other), {"pcre": [t, other], "re2": [t]}))
        if "." not in HELD[kind]:
            out.append(("x." + t, found_by_both(t)))
        # wrong prefix
        wrong = {"management": ("M.V2.", "m.v1.", "M.v1.", "MXV1.", "M.V1", "N.V1.", "M-V1.",
                                "M.V1_"),
                 "database": ("apiv2_", "APIV1_", "apiV1_", "apiv1-", "apiv1.", "apiv1",
                              "api_v1_", "apiv_")}[kind]
        for p in wrong:
            out.append((p + body, nothing))
        # too short
        out.append((prefix + body[:-1], nothing))
        out.append(("Bearer %s " % (prefix + body[:-1]), nothing))
        out.append((prefix + body[:mid], nothing))
        # too long: more token characters after it
        for c in ("A", "z", "0", "_", "-"):
            out.append((t + c, nothing))
        out.append((t + other, nothing))
        out.append((prefix + "_" + body, nothing))
        # preceded by a character a token can hold
        for c in HELD[kind]:
            out.append((c + t, nothing))
        # bad alphabet: a character base64url does not have, inside the body or at its end
        for c in ("+", "/", "=", "!", ".", "~", "é", " "):
            out.append((prefix + body[:mid] + c + body[mid + 1:], nothing))
        out.append((t[:-1] + "=", nothing))
        # a token that differs in one good character is still a token
        out.append((flip_char(t, len(t) - 2), found_by_both(flip_char(t, len(t) - 2))))
    return out


def expected(form, engine, corpus):
    """[(line number, text the engine prints)] that the corpus must give."""
    want = []
    for n, (line, finds) in enumerate(corpus, 1):
        for t in finds[form]:
            if engine == "grep -P" and form == "re2":
                # grep prints the whole match: the token and the boundary characters
                # around it, when they are characters and not a line's start or end.
                at = line.index(t)
                before = line[at - 1] if at > 0 else ""
                after = line[at + len(t)] if at + len(t) < len(line) else ""
                want.append((n, before + t + after))
            else:
                want.append((n, t))
    return want


def describe_differences(corpus, want, got):
    lines = []
    for n, (line, _finds) in enumerate(corpus, 1):
        w = [s for m, s in want if m == n]
        g = [s for m, s in got if m == n]
        if w != g:
            lines.append("line %r: expected %r, found %r" % (line, w, g))
    return "\n".join(lines[:20]) + ("\n… %d more" % (len(lines) - 20) if len(lines) > 20 else "")


# ---------------------------------------------------------------------------

def test_the_doc_publishes_both_forms_for_both_kinds_and_says_who_takes_them():
    exprs = published_expressions()
    claims = engine_claims()
    assert claims[("pcre", "re2")] is False, "the doc must not offer lookaround to RE2"
    assert all(claims[("re2", e)] for e in ENGINES)
    for (kind, form), expr in exprs.items():
        assert re.escape(PREFIX[kind]) in expr, (kind, form, expr)


@pytest.mark.parametrize("kind", sorted(KINDS.values()))
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("engine", ENGINES)
def test_expression_in_engine(tokens, kind, form, engine):
    expr = published_expressions()[(kind, form)]
    takes = engine_claims()[(form, engine)]
    corpus = cases(kind, tokens[kind])
    text = "".join(line + "\n" for line, _ in corpus)
    if not takes:
        with pytest.raises(Refused):
            RUN[engine](expr, text)
        return
    try:
        got = RUN[engine](expr, text)
    except Refused as e:
        pytest.fail("%s refuses the %s %s expression %s, which docs/tokens.md offers it: %s"
                    % (engine, kind, form, expr, e))
    want = expected(form, engine, corpus)
    assert got == want, "%s with the %s %s expression %s:\n%s" % (
        engine, kind, form, expr, describe_differences(corpus, want, got))


def test_the_doc_checksum_snippet_tells_good_from_mistyped(tokens):
    """The Python checksum check that docs/tokens.md gives beside the expressions."""
    doc = _doc()
    snippet = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    scope = {}
    exec(compile(snippet, TOKENS_MD, "exec"), scope)  # the doc's own code
    ok = scope["mgmtd_checksum_ok"]
    for t in tokens["management"]:
        assert ok(t), t
        for pos in (5, 30, 47, 48, 53):
            assert not ok(flip_char(t, pos)), (t, pos)
