"""The documentation files that mirror the code stay equal to it, and read as written."""
import difflib
import glob
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_example_config_is_the_printed_defaults(mgmtd_bin):
    printed = subprocess.run([mgmtd_bin, "check-config", "--print-defaults"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    with open(os.path.join(ROOT, "config", "mgmtd.ini")) as f:
        committed = f.read()
    assert committed == printed, "regenerate config/mgmtd.ini with `mgmtd check-config --print-defaults`"


def test_shipped_configs_check_out(mgmtd_bin):
    for name in ("mgmtd.ini", "dev.ini"):
        r = subprocess.run([mgmtd_bin, "check-config", "--config", os.path.join("config", name)],
                           cwd=ROOT, capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stderr


def test_every_config_key_is_documented(mgmtd_bin):
    printed = subprocess.run([mgmtd_bin, "check-config", "--print-defaults"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    with open(os.path.join(ROOT, "docs", "configuration.md")) as f:
        doc = f.read()
    section = None
    for line in printed.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line and not line.startswith(";"):
            key = line.split("=")[0].strip()
            assert f"[{section}] {key}" in doc or f"`{key}`" in doc or f", {key}" in doc, \
                f"[{section}] {key} is missing from docs/configuration.md"


def _json_routes():
    """(method, pattern) of every always-on route that takes a JSON body, from routes.c."""
    import re
    with open(os.path.join(ROOT, "server", "routes.c")) as f:
        src = f.read()
    prefixes = {"ACCOUNT": "/api/v0/accounts/{}", "CLUSTER": "/api/v0/accounts/{}/clusters/{}"}
    found = set()
    for m in re.finditer(r'\{"(GET|POST|PUT|PATCH|DELETE)",\s*(ACCOUNT|CLUSTER)?\s*"([^"]*)"([^}]*)\}', src):
        method, prefix, path, rest = m.groups()
        if "ROUTE_JSON_BODY" not in rest or "ROUTE_DEV_IDP" in rest or "ROUTE_TESTING" in rest:
            continue
        found.add((method, re.sub(r"\{[^}]*\}", "{}", prefixes.get(prefix, "") + path)))
    return found


def test_fuzzer_covers_every_json_route():
    import re
    with open(os.path.join(ROOT, "tests", "fuzz", "fuzz_request.c")) as f:
        src = f.read()
    fuzzed = set()
    for method, path in re.findall(r'\{"(GET|POST|PUT|PATCH|DELETE)",\s*"([^"]*)"\}', src):
        # the harness's concrete names (harness.c) stand where the patterns capture
        path = re.sub(r"\{[^}]*\}", "{}", path)
        path = "/".join("{}" if seg in ("fuzzdb", "t1") else seg for seg in path.split("/"))
        fuzzed.add((method, path))
    routes = _json_routes()
    assert len(routes) >= 10
    missing = routes - fuzzed
    assert not missing, "JSON routes tests/fuzz/fuzz_request.c does not fuzz: %s" % sorted(missing)


# ---------------------------------------------------------------------------
# Markdown structure of README.md and docs/*.md: no heading repeated next to
# itself (a merge that kept both sides), no ordered list that counts wrong
# (a step listed twice, a step lost, a paragraph that Markdown takes for a list).

MARKDOWN_FILES = ["README.md"] + sorted(
    os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$")
_ORDERED = re.compile(r"^( *)(\d{1,9})[.)](?:\s+|$)")
_BULLET = re.compile(r"^( *)[-*+](?:\s+|$)")
# How alike two adjacent headings may be. The most alike adjacent pair in the
# docs today ("Configuration" / "Checking a configuration") scores 0.70.
NEAR_DUPLICATE_RATIO = 0.85


def _outside_fences(text):
    """(line number, line, is_fence_opening) of every line that is not inside a
    fenced code block: the opening fence line is given (it ends or continues a
    list like any block), its contents and closing fence are not."""
    fence = None
    for n, line in enumerate(text.splitlines(), 1):
        m = _FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line.strip()[len(m.group(1)):].strip():
                fence = None
            continue
        if m:
            fence = m.group(1)
        yield n, line, bool(m)


def _headings(text):
    return [(n, len(m.group(1)), m.group(2) or "")
            for n, line, fence in _outside_fences(text)
            if not fence and (m := _HEADING.match(line))]


def _heading_words(title):
    """The words of a heading, lower-cased, a plural s dropped: "Identity
    providers" and "identity provider" are the same heading."""
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w
                    for w in re.findall(r"[a-z0-9]+", title.lower()))


def heading_problems(text):
    """Headings that repeat the one before them (same or nearly the same words),
    and headings that repeat a sibling (same level, same parent)."""
    problems = []
    hs = _headings(text)
    for (n1, _l1, t1), (n2, _l2, t2) in zip(hs, hs[1:]):
        w1, w2 = _heading_words(t1), _heading_words(t2)
        if w1 == w2 or difflib.SequenceMatcher(None, w1, w2).ratio() >= NEAR_DUPLICATE_RATIO:
            problems.append("line %d: heading %r repeats the heading %r of line %d"
                            % (n2, t2, t1, n1))
    seen = {}  # (parent line, level, words) -> line
    parents = []  # (level, line) of the open headings
    for n, level, title in hs:
        while parents and parents[-1][0] >= level:
            parents.pop()
        key = (parents[-1][1] if parents else 0, level, _heading_words(title))
        if key in seen and not any(p.startswith("line %d:" % n) for p in problems):
            problems.append("line %d: heading %r repeats the sibling heading of line %d"
                            % (n, title, seen[key]))
        seen.setdefault(key, n)
        parents.append((level, n))
    return problems


def ordered_list_problems(text):
    """Ordered lists that do not count 1, 2, 3…: an item whose number is not the
    one before plus one, and a list that starts past 1 (which is also what a
    paragraph beginning with "204." becomes)."""
    problems = []
    lists = []  # open ordered lists: [marker indent, content column, last number]
    previous = "blank"  # the line before: blank, text (a paragraph goes on) or block
    for n, line, fence in _outside_fences(text):
        if not line.strip():
            previous = "blank"
            continue
        indent = len(line) - len(line.lstrip(" "))
        item = None if fence else _ORDERED.match(line)
        block_start = fence or item or _HEADING.match(line) or _BULLET.match(line) \
            or line.lstrip().startswith((">", "|"))
        if previous == "text" and not block_start:
            continue  # a paragraph's lazy continuation line
        sibling = False
        while lists and indent < lists[-1][1]:
            if item and indent >= lists[-1][0]:
                sibling = True
                break
            lists.pop()
        if item:
            number = int(item.group(2))
            if sibling:
                if number != lists[-1][2] + 1:
                    problems.append("line %d: item %d follows item %d" % (n, number, lists[-1][2]))
                lists[-1][2] = number
            elif previous == "text" and number != 1:
                continue  # only a 1. interrupts a paragraph: this is its text
            else:
                if number != 1:
                    problems.append("line %d: an ordered list starts at %d (a paragraph that "
                                    "begins with a number and a dot is a list to Markdown)"
                                    % (n, number))
                lists.append([indent, len(item.group(0)), number])
        previous = "block" if (fence or _HEADING.match(line)) else "text"
    return problems


@pytest.mark.parametrize("name", MARKDOWN_FILES)
def test_no_heading_repeats_its_neighbour(name):
    with open(os.path.join(ROOT, name)) as f:
        problems = heading_problems(f.read())
    assert not problems, "%s:\n%s" % (name, "\n".join(problems))


@pytest.mark.parametrize("name", MARKDOWN_FILES)
def test_ordered_lists_count_one_two_three(name):
    with open(os.path.join(ROOT, name)) as f:
        problems = ordered_list_problems(f.read())
    assert not problems, "%s:\n%s" % (name, "\n".join(problems))


def test_markdown_checks_find_what_they_are_for():
    """The two checks above, on the texts that slipped through before they existed."""
    assert heading_problems("## Failed\n\ntext\n\n## Identity provider\n## Identity providers\n\n"
                            "text\n") != []
    assert heading_problems("# T\n\n## Object\n\nx\n\n## List\n\n## Object\n") != []
    assert heading_problems("# T\n\n## A\n\n### Object\n\n## B\n\n### Object\n") == []
    assert heading_problems("# Configuration\n\n## Checking a configuration\n") == []
    step = "1. `http.c` allocates the\n   per-request state.\n"
    assert ordered_list_problems(step + step + "2. dispatch\n3. handler\n") != []
    assert ordered_list_problems("1. a\n3. c\n") != []
    assert ordered_list_problems("### Revoke\n\n204. Revoking again is 204.\n") != []
    assert ordered_list_problems("1. a\n\n   ```ini\n   2. x\n   ```\n2. b\n   - sub\n"
                                 "3. c\ncontinued lazily\n4. d\n\ntext\n\n1. again\n") == []
    assert ordered_list_problems("The answer is\n204. Revoking again.\n") == []


# The man pages against the code: mgmtd.8 against every command's --help, mgmtd.conf.5
# against the descriptor table (check-config --print-defaults).

def _roff_text(s):
    """roff escapes of the man pages as plain text: \\- is -, fonts are dropped."""
    import re
    return re.sub(r"\\f[BIRP]", "", s).replace("\\-", "-").replace("\\&", "")


def _man_sections(path, macro):
    """{title: body} of the .SS (or .SH) sections of a man page."""
    import re
    with open(path) as f:
        text = f.read()
    parts = re.split(r"^%s \"?([^\"\n]*)\"?\n" % re.escape(macro), text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _options(text):
    import re
    return set(re.findall(r"--[a-z][a-z-]*", _roff_text(text))) - {"--help"}


def _commands(mgmtd_bin):
    import re
    out = subprocess.run([mgmtd_bin, "--help"], capture_output=True, text=True, timeout=10,
                         check=True).stdout
    return re.findall(r"^  ([a-z][a-z-]*) ", out, flags=re.M)


def test_man_page_lists_every_command_with_the_options_of_its_help(mgmtd_bin):
    man = _man_sections(os.path.join(ROOT, "man", "mgmtd.8"), ".SS")
    commands = _commands(mgmtd_bin)
    assert len(commands) >= 10
    assert sorted("mgmtd " + c for c in commands) == sorted(man), \
        "man/mgmtd.8 .SS sections differ from the commands of mgmtd --help"
    for c in commands:
        helped = subprocess.run([mgmtd_bin, c, "--help"], capture_output=True, text=True,
                                timeout=10)
        assert helped.returncode == 0, (c, helped.stderr)
        in_help = _options(helped.stdout) - {"--version"}
        in_man = _options(man["mgmtd " + c]) - {"--version"}
        assert in_help == in_man, "mgmtd %s: --help has %s, man/mgmtd.8 has %s" % (
            c, sorted(in_help), sorted(in_man))


def test_man_page_of_the_config_lists_every_key_of_the_descriptor_table(mgmtd_bin):
    import re
    printed = subprocess.run([mgmtd_bin, "check-config", "--print-defaults"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    table, section = {}, None
    for line in printed.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
            table[section] = {}
        elif "=" in line and not line.startswith(";"):
            key, default = (x.strip() for x in line.split("=", 1))
            table[section][key] = default
    man = _man_sections(os.path.join(ROOT, "man", "mgmtd.conf.5"), ".SS")
    documented = {}
    for title, body in man.items():
        m = re.fullmatch(r"\[([a-z_]+)\]", title)
        assert m, "unexpected section %r in man/mgmtd.conf.5" % title
        documented[m.group(1)] = {
            k: _roff_text(v).strip() for k, v in
            re.findall(r"^\.TP\n\\fB([a-z_]+)\\fR = (.*)$", body, flags=re.M)}
    assert list(documented) == list(table), "sections differ"
    for section, keys in table.items():
        assert list(documented[section]) == list(keys), "[%s] keys differ" % section
        for key, default in keys.items():
            shown = documented[section][key]
            assert shown == (default or "(empty)"), "[%s] %s: man says %r, code %r" % (
                section, key, shown, default)


def test_man_pages_render_without_warnings():
    for page in ("mgmtd.8", "mgmtd.conf.5"):
        res = subprocess.run(["groff", "-man", "-ww", "-z", os.path.join(ROOT, "man", page)],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0 and res.stderr == "", (page, res.stderr)


def _make_dry_run(target):
    """What `make TARGET` would run (make -n), without running it."""
    return subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=True).stdout


def test_make_run_installs_only_what_building_and_running_need():
    """README: `make run` installs what building needs; the tests' tools and npm packages
    are `make test`'s (issue 17: make run used to install them all)."""
    run = _make_dry_run("run")
    assert "npm ci" not in run
    assert "serve --config config/dev.ini" in run
    debs = re.findall(r"for p in ([^;]*); do", run)
    assert len(debs) == 1, run
    debs = set(debs[0].split())
    assert "libmicrohttpd-dev" in debs and "libpq-dev" in debs
    for test_only in ("chromium", "python3-pytest", "valgrind", "postgresql", "caddy", "nginx"):
        assert test_only not in debs, test_only
    deps = _make_dry_run("deps")
    assert "npm ci" in deps
    assert {"chromium", "libmicrohttpd-dev", "python3-pytest"} <= set(
        " ".join(re.findall(r"for p in ([^;]*); do", deps)).split())


def test_configuration_doc_is_true_about_postgresql():
    with open(os.path.join(ROOT, "docs", "configuration.md")) as f:
        text = f.read()
    assert "not built yet" not in text
    assert "`postgres` backend is built in" in text


def test_readme_says_how_to_change_the_listen_address():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    assert "MGMTD_SERVER_LISTEN=127.0.0.1:9090 make run" in text and "--listen" in text
