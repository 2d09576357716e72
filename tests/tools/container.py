#!/usr/bin/python3
"""podman for the container test (tests/container/) and the benchmark (tests/bench/run).

Podman() runs Debian's podman as root with runc, on a storage of the tests' own
under build/container/ (images, layers, volumes; MGMTD_CONTAINER_DIR names another
directory), never the machine's /var/lib/containers: other users of podman on the
machine see none of it, and none of theirs takes part. Its containers.conf caps
the open files of a container at what this machine allows (podman's default asks
for more) and names runc (crun refuses a hybrid cgroup layout).

The Dockerfile's base image (its FROM, debian:12-slim) is never pulled: no
registry is reachable here. ensure_base_image() makes it with debootstrap
(--variant=minbase) from the Debian mirror that the machine's apt uses, trims it
as Debian's slim images are trimmed (no documentation, manual pages or
translations), imports it and tags it with the FROM's name. The image stays in the
storage, labelled with a hash of its recipe: a second run reuses it (and the
build's cached layers), a fresh clone builds it once; a changed recipe builds it
again. `rm -rf build/container` starts afresh.

why_not() says why no engine can run here (None when one can): not root, podman,
runc or debootstrap missing (`make deps` installs them), or `podman info` failing.
"""
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from pgserver import free_port  # the same kernel-chosen loopback port (tests/tools/)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCKERFILE = os.path.join(ROOT, "Dockerfile")
STATE_DIR = os.environ.get("MGMTD_CONTAINER_DIR") or os.path.join(ROOT, "build", "container")

# The tag `make container-test` and `make bench` build the Dockerfile into.
IMAGE = "localhost/mgmtd:test"

# Debian release of the FROM image -> the suite debootstrap installs.
SUITES = {"debian:12-slim": "bookworm"}

# What Debian's slim images leave out, as dpkg path excludes (kept in the image,
# so that packages installed later are trimmed the same way).
SLIM_EXCLUDES = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
"""
# Bump when the recipe changes in a way its inputs below do not show.
RECIPE_VERSION = "1"
RECIPE_LABEL = "org.mgmtd.test.base-recipe"

CONTAINERS_CONF = """\
# written by tests/tools/container.py
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "{state}/tmp"
"""

STORAGE_CONF = """\
# written by tests/tools/container.py
[storage]
driver = "overlay"
graphroot = "{state}/storage"
runroot = "{state}/run"
"""


def base_image_name():
    """The FROM of every stage of the Dockerfile (they must agree), fully qualified."""
    with open(DOCKERFILE) as f:
        froms = {m.group(1) for m in re.finditer(r"^FROM\s+(\S+)", f.read(), re.M | re.I)}
    bases = froms & set(SUITES)
    if len(bases) != 1:
        raise RuntimeError("the Dockerfile's FROM lines name %s; the test can make only %s"
                           % (sorted(froms), sorted(SUITES)))
    name = bases.pop()
    return name, "docker.io/library/" + name


def host_debian_sources(suite):
    """[(uri, suite)] of the Debian repositories the machine's apt uses for suite and its
    -updates and -security companions (main component), from `apt-get indextargets`."""
    out = subprocess.run(["apt-get", "indextargets", "--format",
                          "$(REPO_URI) $(RELEASE) $(COMPONENT)", "Created-By: Packages"],
                         capture_output=True, text=True, check=True).stdout
    wanted = (suite, suite + "-updates", suite + "-security")
    found = sorted({tuple(line.split()[:2]) for line in out.splitlines()
                    if len(line.split()) == 3 and line.split()[1] in wanted
                    and line.split()[2] == "main"}, key=lambda s: wanted.index(s[1]))
    if not any(s == suite for _, s in found):
        raise RuntimeError("the machine's apt has no Debian %s repository to debootstrap "
                           "from (apt-get indextargets)" % suite)
    return found


def http_status(url, timeout=2.0):
    """The status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, ValueError):
        return None


def _clear(path, keep=()):
    """Removes what a directory holds, but the names in keep; a missing one is fine."""
    if not os.path.isdir(path) or os.path.islink(path):
        return
    for name in os.listdir(path):
        if name in keep:
            continue
        victim = os.path.join(path, name)
        if os.path.isdir(victim) and not os.path.islink(victim):
            shutil.rmtree(victim)
        else:
            os.unlink(victim)


class Podman:
    def __init__(self, state_dir=STATE_DIR):
        self.state = os.path.abspath(state_dir)
        self.conf = os.path.join(self.state, "containers.conf")
        self.storage_conf = os.path.join(self.state, "storage.conf")
        # Not under the libfaketime or the sanitizers of a test pass: podman is a tool here.
        self.env = {k: v for k, v in os.environ.items()
                    if k != "LD_PRELOAD" and not k.startswith("FAKETIME")
                    and not k.endswith("SAN_OPTIONS")}
        self.env.update(CONTAINERS_CONF=self.conf, CONTAINERS_STORAGE_CONF=self.storage_conf)

    # -- can it run here? --

    def why_not(self):
        """None when podman can run containers here, else the reason, as a sentence."""
        if os.geteuid() != 0:
            return ("needs root: the test runs podman as root (rootful, runc) and debootstrap, "
                    "which need it; CI runs as root")
        missing = [p for p in ("podman", "runc", "debootstrap") if shutil.which(p) is None]
        if missing:
            return "%s not installed (`make deps` installs them)" % ", ".join(missing)
        self._write_config()
        res = subprocess.run(["podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"],
                             capture_output=True, text=True, env=self.env, timeout=120)
        if res.returncode != 0:
            return "`podman info` fails: %s" % (res.stderr.strip() or res.stdout.strip())
        return None

    def _write_config(self):
        for d in ("storage", "run", "tmp"):
            os.makedirs(os.path.join(self.state, d), mode=0o700, exist_ok=True)
        for path, text in ((self.conf, CONTAINERS_CONF), (self.storage_conf, STORAGE_CONF)):
            text = text.format(state=self.state)
            if not os.path.exists(path) or open(path).read() != text:
                with open(path, "w") as f:
                    f.write(text)

    # -- running podman --

    def run(self, *args, check=True, timeout=600, input=None):
        """podman ARGS; the CompletedProcess (text). check: raise with podman's output."""
        res = subprocess.run(["podman", *args], capture_output=True, text=True, env=self.env,
                             timeout=timeout, input=input)
        if check and res.returncode != 0:
            raise RuntimeError("podman %s exited %d:\n%s%s" % (" ".join(args), res.returncode,
                                                                res.stdout[-4000:],
                                                                res.stderr[-4000:]))
        return res

    def out(self, *args, **kw):
        return self.run(*args, **kw).stdout.strip()

    # -- images --

    def ensure_base_image(self, log=print):
        """Makes the Dockerfile's FROM image unless the storage has it from this recipe.
        Returns the seconds it took (0.0 when it was there)."""
        short, full = base_image_name()
        suite = SUITES[short]
        sources = host_debian_sources(suite)
        recipe = hashlib.sha256(json.dumps([RECIPE_VERSION, full, suite, sources,
                                            SLIM_EXCLUDES]).encode()).hexdigest()[:16]
        if self.run("image", "exists", full, check=False).returncode == 0:
            labels = json.loads(self.out("image", "inspect", "--format",
                                         "{{json .Labels}}", full)) or {}
            if labels.get(RECIPE_LABEL) == recipe:
                return 0.0
        started = time.monotonic()
        log("making the base image %s: debootstrap --variant=minbase %s from %s"
            % (full, suite, sources[0][0]))
        work = tempfile.mkdtemp(prefix="base.", dir=self.state)
        try:
            rootfs = os.path.join(work, "rootfs")
            res = subprocess.run(["debootstrap", "--variant=minbase", suite, rootfs,
                                  sources[0][0]], capture_output=True, text=True, timeout=1200)
            if res.returncode != 0:
                raise RuntimeError("debootstrap failed (%d):\n%s" % (
                    res.returncode, (res.stdout + res.stderr)[-4000:]))
            self._trim(rootfs, sources)
            tar = subprocess.Popen(["tar", "-C", rootfs, "--numeric-owner", "-c", "."],
                                   stdout=subprocess.PIPE)
            try:
                imp = subprocess.run(["podman", "import", "--change", 'CMD ["bash"]',
                                      "--change", "LABEL %s=%s" % (RECIPE_LABEL, recipe),
                                      "-", full], stdin=tar.stdout, capture_output=True,
                                     text=True, env=self.env, timeout=600)
            finally:
                tar.stdout.close()
                tar_rc = tar.wait()
            if tar_rc != 0 or imp.returncode != 0:
                raise RuntimeError("importing the base image failed (tar %d, podman %d): %s"
                                   % (tar_rc, imp.returncode, imp.stderr[-2000:]))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return time.monotonic() - started

    @staticmethod
    def _trim(rootfs, sources):
        """apt sources of the machine's mirror, slim excludes, no caches or lists."""
        with open(os.path.join(rootfs, "etc/apt/sources.list"), "w") as f:
            for uri, suite in sources:
                f.write("deb %s %s main\n" % (uri, suite))
        with open(os.path.join(rootfs, "etc/dpkg/dpkg.cfg.d/slim"), "w") as f:
            f.write(SLIM_EXCLUDES)
        for top in ("usr/share/man", "usr/share/groff", "usr/share/info", "usr/share/lintian",
                    "usr/share/linda", "usr/share/locale", "var/lib/apt/lists"):
            _clear(os.path.join(rootfs, top), keep=("lock", "partial"))
        _clear(os.path.join(rootfs, "var/cache/apt"), keep=("archives",))
        _clear(os.path.join(rootfs, "var/cache/apt/archives"), keep=("lock", "partial"))
        doc = os.path.join(rootfs, "usr/share/doc")
        for pkg in os.listdir(doc):
            _clear(os.path.join(doc, pkg), keep=("copyright",))

    def release(self):
        """Undoes the private bind mount that containers/storage puts over its overlay
        directory and may leave behind, so that `rm -rf build` works between runs. Call
        it when no container of this storage runs; podman makes the mount again."""
        path = os.path.realpath(os.path.join(self.state, "storage", "overlay"))
        # a bind mount from the same file system: os.path.ismount cannot see it (same
        # device as its parent), /proc/self/mounts can; it may be stacked
        for _ in range(8):
            with open("/proc/self/mounts") as f:
                mounted = any(line.split()[1] == path for line in f)
            if not mounted:
                return
            subprocess.run(["umount", path], capture_output=True, check=False)

    def build_image(self, tag=IMAGE):
        """podman build of the Dockerfile as it is, in Docker's format (which keeps the
        HEALTHCHECK). Returns (seconds, build log)."""
        started = time.monotonic()
        res = self.run("build", "--format", "docker", "--pull=never", "-t", tag, "-f",
                       DOCKERFILE, ROOT, timeout=1800)
        return time.monotonic() - started, res.stdout + res.stderr

    def image_size(self, tag=IMAGE):
        """Bytes of the image, all layers (as `podman images` counts them)."""
        return int(self.out("image", "inspect", "--format", "{{.Size}}", tag))

    # -- containers --

    def start(self, name, env=None, volumes=(), image=IMAGE, args=(), host_network=False):
        """podman run -d: port 8080 published on a free port of 127.0.0.1; returns the
        Container. host_network: in the host's network namespace instead (to reach a
        server on the host's loopback), listening on 127.0.0.1 on a free port. The
        HEALTHCHECK gets no timer (there is no systemd to run one); `healthcheck run`
        still runs it."""
        port = free_port()
        argv = ["run", "-d", "--name", name, "--health-interval", "disable"]
        if host_network:
            argv += ["--network", "host", "-e", "MGMTD_SERVER_LISTEN=127.0.0.1:%d" % port]
        else:
            argv += ["-p", "127.0.0.1:%d:8080" % port]
        for k, v in (env or {}).items():
            argv += ["-e", "%s=%s" % (k, v)]
        for v in volumes:
            argv += ["-v", v]
        self.run(*argv, image, *args, timeout=120)
        return Container(self, name, port)

    def remove(self, name):
        self.run("rm", "-f", "-v", "-t", "0", "--ignore", name, check=False, timeout=120)

    @contextlib.contextmanager
    def service(self, socket_path):
        """`podman system service` on a Unix socket (Docker's API, for Testcontainers);
        stopped when the block ends."""
        proc = subprocess.Popen(["podman", "system", "service", "--time=0",
                                 "unix://" + socket_path], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 30
            while not os.path.exists(socket_path):
                if proc.poll() is not None:
                    raise RuntimeError("podman system service exited %d: %s"
                                       % (proc.returncode, proc.stderr.read()[-2000:]))
                if time.monotonic() > deadline:
                    raise RuntimeError("podman system service made no socket in 30 s")
                time.sleep(0.05)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stderr.close()


class Container:
    def __init__(self, podman, name, port):
        self.podman = podman
        self.name = name
        self.port = port
        self.url = "http://127.0.0.1:%d" % port

    def wait_healthy(self, path="/ready", timeout=60.0):
        """Polls path until 200; returns the seconds waited. Fails with the log."""
        started = time.monotonic()
        while True:
            if http_status(self.url + path) == 200:
                return time.monotonic() - started
            state = self.inspect("{{.State.Status}}")
            if state not in ("running", "created", "configured") \
                    or time.monotonic() - started > timeout:
                raise RuntimeError("%s never answered %s with 200 (state %s); log:\n%s"
                                   % (self.name, path, state, self.logs()[-4000:]))
            time.sleep(0.02)

    def inspect(self, fmt):
        return self.podman.out("inspect", "--format", fmt, self.name)

    def logs(self):
        res = self.podman.run("logs", self.name, check=False)
        return res.stdout + res.stderr

    def stop(self, timeout=10):
        """podman stop (SIGTERM, then SIGKILL after timeout s); returns the exit code."""
        self.podman.run("stop", "-t", str(timeout), self.name, timeout=timeout + 60)
        return int(self.inspect("{{.State.ExitCode}}"))

    def exec(self, *argv, check=True):
        return self.podman.run("exec", self.name, *argv, check=check, timeout=120)

    def remove(self):
        self.podman.remove(self.name)
