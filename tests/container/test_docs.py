"""docs/container.md's examples that cannot run here (compose with registry images,
Java, Python): every MGMTD_ variable they name is an option of mgmtd, the YAML parses,
and the sed lines that adapt config/nginx-data-plane.conf still find their EDIT lines.
Needs no container engine; needs build/mgmtd (MGMTD_BIN names another)."""
import os
import re
import subprocess

import pytest
import yaml

from conftest import ROOT

DOC = (ROOT / "docs" / "container.md").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def blocks(lang):
    return re.findall(r"```%s\n(.*?)```" % lang, DOC, re.S)


@pytest.fixture(scope="module")
def option_names():
    """MGMTD_<SECTION>_<KEY> of every option, from the binary's own list."""
    binary = os.environ.get("MGMTD_BIN") or str(ROOT / "build" / "mgmtd")
    assert os.access(binary, os.X_OK), "%s missing: run make first" % binary
    printed = subprocess.run([binary, "check-config", "--print-defaults"], capture_output=True,
                             text=True, timeout=10, check=True).stdout
    return set(re.findall(r"environment (MGMTD_[A-Z0-9_]+)", printed))


def test_every_variable_the_docs_and_the_dockerfile_name_is_an_option(option_names):
    assert "MGMTD_SERVER_SEED_FILE" in option_names  # the list is what it claims
    named = set(re.findall(r"MGMTD_[A-Z][A-Z0-9_]*[A-Z0-9]", DOC + DOCKERFILE))
    unknown = sorted(n for n in named if n not in option_names)
    assert unknown == [], "not options of mgmtd: %s" % unknown


def test_compose_examples_parse_and_name_the_right_services():
    files = [yaml.safe_load(b) for b in blocks("yaml")]
    assert len(files) == 2, "docs/container.md: expected the compose file and its variant"
    services = files[0]["services"]
    assert set(services) == {"mgmtd", "influxdb", "gateway"}
    assert services["mgmtd"]["environment"]["MGMTD_SERVER_SEED_FILE"] == "/seed/seed.json"
    # the seed is mounted where the variable says
    assert any(v.endswith(":/seed/seed.json:ro") for v in services["mgmtd"]["volumes"])
    assert "service_healthy" == services["gateway"]["depends_on"]["mgmtd"]["condition"]
    # the PostgreSQL variant replaces the in-memory store (the two are refused together)
    override = files[1]["services"]["mgmtd"]["environment"]
    assert override["MGMTD_SERVER_DATA_DIR"] == "/var/lib/mgmtd"
    assert override["MGMTD_STORE_BACKEND"] == "postgres"
    assert set(files[1]["services"]) == {"mgmtd", "postgres"}


def test_the_sed_lines_change_exactly_the_edit_lines_of_the_nginx_config():
    script = next(b for b in blocks("sh") if "nginx-data-plane.conf" in b)
    exprs = re.findall(r"-e '(s/[^']*)'", script)
    assert len(exprs) == 3, script
    original = (ROOT / "config" / "nginx-data-plane.conf").read_text()
    for expr in exprs:
        res = subprocess.run(["sed", "-e", expr], input=original, capture_output=True,
                             text=True, check=True)
        changed = [(a, b) for a, b in zip(original.splitlines(), res.stdout.splitlines())
                   if a != b]
        assert len(changed) == 1, "%s changes %d lines" % (expr, len(changed))
        assert "EDIT" in changed[0][0], changed
