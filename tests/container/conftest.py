"""The container test's fixtures: podman on a storage of the test's own, the base image
and the project's image, built once per run (tests/tools/container.py).

  podman  a container.Podman; skips every test that needs it, saying why, when no
          engine can run here (not root, podman/runc/debootstrap missing, `podman info`
          failing): docs/container.md, "The test"
  image   the Dockerfile built as it is (the base image made first when the storage
          lacks it); its name
  run     starts containers of the image for one test and removes them (and their
          volumes) at its end

How long the base image and the build took is printed at the end of the run.
"""
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import container  # noqa: E402  (tests/tools/container.py)

ROOT = Path(__file__).resolve().parents[2]
TIMINGS = {}


@pytest.fixture(scope="session")
def podman():
    engine = container.Podman()
    why = engine.why_not()
    if why:
        pytest.skip("no container engine can run here: " + why)
    yield engine
    engine.release()


@pytest.fixture(scope="session")
def image(podman):
    TIMINGS["base image (0 = reused)"] = podman.ensure_base_image(
        log=lambda m: sys.stderr.write(m + "\n"))
    TIMINGS["image build"], _ = podman.build_image()
    return container.IMAGE


class Runner:
    """Containers and volumes of one test, named so that a run never meets another's."""

    def __init__(self, podman):
        self.podman = podman
        self.tag = uuid.uuid4().hex[:8]
        self.names, self.volumes = [], []

    def volume(self, label):
        name = "mgmtd-test-%s-%s" % (label, self.tag)
        self.podman.run("volume", "create", name)
        self.volumes.append(name)
        return name

    def __call__(self, label, env=None, volumes=(), args=(), host_network=False):
        name = "mgmtd-test-%s-%s" % (label, self.tag)
        self.names.append(name)
        return self.podman.start(name, env=env, volumes=volumes, args=args,
                                 host_network=host_network)

    def close(self):
        for name in self.names:
            self.podman.remove(name)
        for name in self.volumes:
            self.podman.run("volume", "rm", "-f", name, check=False)


@pytest.fixture
def run(podman, image):
    r = Runner(podman)
    yield r
    r.close()


@pytest.fixture
def seed_file(tmp_path):
    """config/dev-seed.json (the README's account and admin) where a bind mount reads it:
    the container's user is not root, so the file is world-readable."""
    path = tmp_path / "seed.json"
    path.write_text((ROOT / "config" / "dev-seed.json").read_text())
    path.chmod(0o644)
    return path


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_line("container timings: " + ", ".join(
            "%s %.1f s" % kv for kv in TIMINGS.items()))


@pytest.fixture(scope="session", autouse=True)
def _whole_run_timing():
    started = time.monotonic()
    yield
    if TIMINGS:
        TIMINGS["whole container run"] = time.monotonic() - started

