"""The documentation files that mirror the code stay equal to it."""
import os
import subprocess

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
