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
