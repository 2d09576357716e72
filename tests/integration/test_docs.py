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
