#!/usr/bin/python3
"""A throwaway PostgreSQL server for the tests and the benchmark.

PgServer() runs Debian's `postgresql` binaries: initdb into a fresh directory
under the system temp dir, then a server on 127.0.0.1 with a free port and its
Unix socket in that directory. PostgreSQL refuses to run as root, so under root
(CI) everything runs as an unprivileged system user (MGMTD_TEST_PG_USER,
default `nobody`) that owns the directory; as a normal user, as that user.
remove() stops the server and deletes the directory.

Used by tests/integration/conftest.py and tests/bench/run; as a command it runs
another command beside a server:

    tests/tools/pgserver.py -- COMMAND ARGS...

with MGMTD_TEST_POSTGRES_URL set to a database of that server for the command.
"""
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def bindir():
    """The newest installed /usr/lib/postgresql/N/bin."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                  key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not dirs:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql; "
                           "`make deps` installs it)")
    return os.path.dirname(dirs[-1])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PgServer:
    def __init__(self, settings=None):
        """settings: extra postgresql.conf lines {name: value}."""
        self.bin = bindir()
        self.settings = dict(settings or {})
        self.root = os.geteuid() == 0
        self.user = os.environ.get("MGMTD_TEST_PG_USER", "nobody") if self.root \
            else pwd.getpwuid(os.geteuid()).pw_name
        # Not under pytest's temp dir: that is 0700 to root, and the server runs as user.
        self.dir = tempfile.mkdtemp(prefix="mgmtd-pg.")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.port = None
        self.running = False
        if self.root:
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.dir, 0o700)

    # -- running commands as the server's user --

    def _run(self, argv, check=True, timeout=120, **kw):
        # The server is not under test: it runs on the real clock even when the tests
        # run under libfaketime (make clock-ahead), and without the tests' sanitizers.
        kw.setdefault("env", {k: v for k, v in os.environ.items()
                              if k != "LD_PRELOAD" and not k.startswith("FAKETIME")
                              and not k.endswith("SAN_OPTIONS")})
        if self.root:
            kw.setdefault("user", self.user)
            kw.setdefault("group", pwd.getpwnam(self.user).pw_gid)
            kw.setdefault("extra_groups", [])
        kw.setdefault("cwd", self.dir)
        res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
        if check and res.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s" % (" ".join(argv), res.returncode,
                                                         res.stdout, res.stderr))
        return res

    def _pg_ctl(self, *args, check=True, timeout=120):
        return self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l", self.log,
                          "-w", "-t", str(timeout)] + list(args), check=check,
                         timeout=timeout + 10)

    # -- lifecycle --

    def start(self):
        """initdb (the first time) and start; a taken port is retried with another."""
        if not os.path.exists(self.data):
            self._run([os.path.join(self.bin, "initdb"), "-D", self.data, "-U", self.user,
                       "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"])
            conf = {
                "listen_addresses": "'127.0.0.1'",
                "unix_socket_directories": "'%s'" % self.dir,
                "max_connections": "300",
                "shared_buffers": "32MB",
                "fsync": "on",
                "synchronous_commit": "on",
                "log_min_messages": "warning",
                "log_line_prefix": "'%m [%p] '",
            }
            conf.update(self.settings)
            with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as f:
                for k, v in conf.items():
                    f.write("%s = %s\n" % (k, v))
        for _attempt in range(5):
            port = self.port or free_port()
            res = self._pg_ctl("start", "-o", "-p %d" % port, check=False)
            if res.returncode == 0:
                self.port = port
                self.running = True
                return self
            if self.port is not None:
                break  # a restart keeps its port: do not wander
        raise RuntimeError("PostgreSQL did not start: %s%s\n%s" % (res.stdout, res.stderr,
                                                                    self.log_tail()))

    def stop(self, mode="fast"):
        """pg_ctl stop -m fast|immediate|smart; the data directory stays."""
        if self.running:
            self._pg_ctl("stop", "-m", mode, check=False)
            self.running = False

    def remove(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=40):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # -- databases --

    def url(self, dbname, **params):
        """A libpq URL of a database over TCP on loopback."""
        q = "".join("&%s=%s" % kv for kv in params.items())
        return "postgresql://%s@127.0.0.1:%d/%s%s" % (self.user, self.port, dbname,
                                                      ("?" + q[1:]) if q else "")

    def psql(self, sql, db="postgres", check=True):
        """Runs sql through the Unix socket; returns stdout (unaligned, tuples only)."""
        res = self._run([os.path.join(self.bin, "psql"), "-X", "-q", "-At", "-v",
                         "ON_ERROR_STOP=1", "-h", self.dir, "-p", str(self.port), "-U",
                         self.user, "-d", db, "-c", sql], check=check)
        return res.stdout

    def create_database(self, name):
        self.psql('CREATE DATABASE "%s"' % name)
        return name

    def drop_database(self, name):
        self.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name, check=False)

    def database_dir(self, name):
        """The directory of a database's files (after a CHECKPOINT they hold its rows)."""
        oid = self.psql("SELECT oid FROM pg_database WHERE datname = '%s'" % name).strip()
        return os.path.join(self.data, "base", oid)


def run_beside(argv, **env):
    """Runs argv with env added to ours and returns its exit status; a Ctrl-C goes
    on to it, and its end is waited for (the caller then stops its servers)."""
    proc = subprocess.Popen(argv, env=dict(os.environ, **env))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        return proc.wait()


def main(argv):
    if len(argv) < 2 or argv[0] != "--":
        sys.exit("usage: pgserver.py -- COMMAND ARGS...")
    srv = PgServer().start()
    try:
        srv.create_database("mgmtd")
        return run_beside(argv[1:], MGMTD_TEST_POSTGRES_URL=srv.url("mgmtd"))
    finally:
        srv.remove()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
