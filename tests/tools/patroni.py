#!/usr/bin/python3
"""A throwaway Patroni cluster for the tests and the benchmark.

PatroniCluster(nodes=3) runs Debian's `etcd` (3.4, one member), N Patroni 3.0
nodes, each with its PostgreSQL 15, and optionally HAProxy in front, all on free
loopback ports in one fresh directory under the system temp dir, as an
unprivileged user (MGMTD_TEST_PG_USER, default `nobody`, when run as root; else
the caller). Nothing of a system service is used: every process is a child this
class started, and stop() ends every one of them and deletes the directory.

The cluster runs with `synchronous_mode: true` and short timings (ttl 5 s,
loop_wait 1 s, retry_timeout 2 s): start() returns once one node leads and a
synchronous standby streams from it (about 15 s on 2 CPUs). Faults:

    kill(node, what="both"|"postgres"|"patroni", sig=signal.SIGKILL)
    pause(node) / resume(node)   SIGSTOP / SIGCONT of Patroni and PostgreSQL
    switchover()                 Patroni's REST API, to the synchronous standby
    restart(node)                Patroni again on a node whose Patroni is gone

and what they change: leader(), sync_standby(), wait_settled(). URLs:
multi_host_url(db) lists every node with target_session_attrs=read-write;
haproxy_url(db) goes through HAProxy, whose health check is Patroni's
`GET /primary` (200 on the leader only) and which closes the sessions of a node
it marks down.

Pitfalls met, and what this file does about them:
- etcd 3.4 serves no v2 API unless told: Patroni talks to it as `etcd3:`.
- Patroni starts the postmaster in a session of its own (setsid), so killing
  Patroni's process group leaves PostgreSQL running; and every process the
  postmaster starts runs in a session of its own too. The postmaster's pid comes
  from postmaster.pid, and it and each of its children are signalled one by one.
- `runuser`/`su` fork, and a SIGKILL of their pid orphans the real process:
  Popen(user=...) changes user in the child before exec, so every pid we hold is
  the process itself.
- Each node has its own unix_socket_directories (the default, /var/run/
  postgresql, is the system's and shared).

As a command it runs another command beside a cluster:

    tests/tools/patroni.py [--nodes N] [--haproxy] -- COMMAND ARGS...

with MGMTD_TEST_POSTGRES_URL (through HAProxy when given, else the multi-host
URL) and MGMTD_TEST_PATRONI_DIR set for the command.
"""
import ctypes
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgserver import bindir, free_port, run_beside  # noqa: E402

ETCD = "/usr/bin/etcd"
PATRONI = "/usr/bin/patroni"
HAPROXY = "/usr/sbin/haproxy"
SCOPE = "mgmtd-test"
SUPERUSER = "postgres"

# ttl >= loop_wait + 2 * retry_timeout, as Patroni requires.
TTL, LOOP_WAIT, RETRY_TIMEOUT = 5, 1, 2


def clean_env():
    """The environment of every process started here: the servers are not under
    test, so they run on the real clock and without the tests' sanitizers."""
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("FAKETIME")
           and not k.endswith("SAN_OPTIONS") and not k.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    return env


def children(pid):
    """The pids of pid's children (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # the command may hold spaces and parentheses: the fields follow the last ')'
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and fields[1] == str(pid):
            out.append(int(entry))
    return out


def signal_postgres(postmaster_pid, sig):
    """Sends sig to a postmaster and every process it started. Each of those runs in
    a session of its own (PostgreSQL's InitPostmasterChild calls setsid), so no
    process group holds them all. The postmaster goes first: stopped or dead, it
    starts no new child meanwhile."""
    try:
        os.kill(postmaster_pid, sig)
    except ProcessLookupError:
        return False
    for pid in children(postmaster_pid):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    return True


_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In a child before exec (after its change of user, which would clear it): SIGTERM
    when the process that started it dies, however it dies (a test run killed from
    outside runs no finally). Patroni stops its PostgreSQL on SIGTERM."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _http(method, url, body=None, timeout=2.0):
    """(status, text) of an HTTP exchange; (0, reason) when nothing answered."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (OSError, ValueError) as e:
        return 0, str(e)


class Node:
    """One Patroni and its PostgreSQL."""

    def __init__(self, cluster, index):
        self.cluster = cluster
        self.name = "node%d" % index
        self.dir = os.path.join(cluster.dir, self.name)
        self.data = os.path.join(self.dir, "data")
        self.config = os.path.join(self.dir, "patroni.yml")
        self.log = os.path.join(self.dir, "patroni.log")
        self.port = free_port()
        self.api_port = free_port()
        self.proc = None  # Patroni

    @property
    def api(self):
        return "http://127.0.0.1:%d" % self.api_port

    def postmaster_pid(self):
        """The postmaster's pid from postmaster.pid, or None when there is none."""
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            return None

    def patroni_alive(self):
        return self.proc is not None and self.proc.poll() is None

    def postgres_alive(self):
        pid = self.postmaster_pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    def write_config(self):
        c = self.cluster
        # JSON is YAML: no YAML writer needed.
        conf = {
            "scope": SCOPE,
            "name": self.name,
            "log": {"level": "WARNING", "format": "%(asctime)s %(levelname)s: %(message)s"},
            "restapi": {"listen": "127.0.0.1:%d" % self.api_port,
                        "connect_address": "127.0.0.1:%d" % self.api_port},
            "etcd3": {"hosts": ["127.0.0.1:%d" % c.etcd_port]},
            # A watchdog needs /dev/watchdog: none here. The margin keeps Patroni from
            # warning about the short ttl on every loop.
            "watchdog": {"mode": "off", "safety_margin": -1},
            "bootstrap": {
                "dcs": {
                    "ttl": TTL, "loop_wait": LOOP_WAIT, "retry_timeout": RETRY_TIMEOUT,
                    "maximum_lag_on_failover": 1048576,
                    "synchronous_mode": c.synchronous,
                    "postgresql": {
                        "use_pg_rewind": True,
                        "use_slots": True,
                        "parameters": dict({
                            "max_connections": 200,
                            "shared_buffers": "32MB",
                            "wal_level": "replica",
                            "hot_standby": "on",
                            "max_wal_senders": 10,
                            "max_replication_slots": 10,
                            "wal_keep_size": "64MB",
                            "wal_log_hints": "on",
                            "fsync": "on",
                            "synchronous_commit": "on",
                        }, **c.parameters),
                    },
                },
                "initdb": [{"encoding": "UTF8"}, {"locale": "C"}, {"auth": "trust"},
                           "data-checksums"],
            },
            "postgresql": {
                "listen": "127.0.0.1:%d" % self.port,
                "connect_address": "127.0.0.1:%d" % self.port,
                "data_dir": self.data,
                "bin_dir": bindir(),
                "pgpass": os.path.join(self.dir, "pgpass"),
                "authentication": {
                    "superuser": {"username": SUPERUSER},
                    "replication": {"username": "replicator"},
                },
                "pg_hba": ["local all all trust", "local replication all trust",
                           "host all all 127.0.0.1/32 trust",
                           "host replication all 127.0.0.1/32 trust"],
                "parameters": {
                    "unix_socket_directories": self.dir,
                    "log_min_messages": "warning",
                    "log_line_prefix": "%m [%p] ",
                    "logging_collector": "off",
                },
            },
            "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False,
                     "nosync": False},
        }
        with open(self.config, "w") as f:
            json.dump(conf, f, indent=1)

    def start(self):
        """Starts Patroni (which starts or adopts PostgreSQL)."""
        if self.patroni_alive():
            return
        c = self.cluster
        log = open(self.log, "ab")
        try:
            self.proc = subprocess.Popen([PATRONI, self.config], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         cwd=self.dir, env=clean_env(), start_new_session=True,
                                         preexec_fn=_die_with_parent, **c.as_user())
        finally:
            log.close()

    def signal(self, what, sig):
        """Sends sig to Patroni ("patroni": its process group), PostgreSQL
        ("postgres": the postmaster and every backend) or both."""
        if what not in ("both", "patroni", "postgres"):
            raise ValueError(what)
        if what in ("both", "patroni") and self.proc is not None:
            _signal_group(self.proc.pid, sig)
        if what in ("both", "postgres"):
            pid = self.postmaster_pid()
            if pid is not None:
                signal_postgres(pid, sig)
        if sig == signal.SIGKILL and what in ("both", "patroni") and self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def psql(self, sql, db="postgres", check=True, timeout=30):
        return self.cluster.psql(sql, db=db, node=self, check=check, timeout=timeout)


class PatroniCluster:
    def __init__(self, nodes=3, haproxy=False, synchronous=True, parameters=None):
        """parameters: more postgresql.conf settings for every node {name: value}."""
        for exe in (ETCD, PATRONI) + ((HAPROXY,) if haproxy else ()):
            if not os.access(exe, os.X_OK):
                raise RuntimeError("%s is missing (Debian packages patroni, etcd-server, "
                                   "haproxy; `make deps` installs them)" % exe)
        self.root = os.geteuid() == 0
        self.user = os.environ.get("MGMTD_TEST_PG_USER", "nobody") if self.root \
            else pwd.getpwuid(os.geteuid()).pw_name
        self.synchronous = synchronous
        self.parameters = dict(parameters or {})
        # Not under pytest's temp dir: that is 0700 to root, and the servers run as user.
        self.dir = tempfile.mkdtemp(prefix="mgmtd-patroni.")
        if self.root:
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.dir, 0o700)
        self.etcd_port = free_port()
        self.etcd_peer_port = free_port()
        self.etcd = None
        self.nodes = [Node(self, i) for i in range(nodes)]
        for n in self.nodes:
            self._mkdir(n.dir)
        self.haproxy_port = free_port() if haproxy else None
        self.haproxy = None
        self.nudges = 0  # times wait_settled had to make Patroni pick a synchronous standby

    # -- processes as the unprivileged user --

    def as_user(self):
        """Popen arguments that run a child as the servers' user (no fork between)."""
        if not self.root:
            return {}
        pw = pwd.getpwnam(self.user)
        return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}

    def _mkdir(self, path):
        os.makedirs(path, mode=0o700, exist_ok=True)
        if self.root:
            pw = pwd.getpwnam(self.user)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _spawn(self, argv, log_name):
        log = open(os.path.join(self.dir, log_name), "ab")
        try:
            return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=self.dir, env=clean_env(),
                                    start_new_session=True, preexec_fn=_die_with_parent,
                                    **self.as_user())
        finally:
            log.close()

    # -- lifecycle --

    def start(self, timeout=120):
        """etcd, every node, HAProxy; returns once a synchronous standby streams."""
        try:
            self._start_etcd()
            for n in self.nodes:
                n.write_config()
                n.start()
            if self.haproxy_port is not None:
                self._start_haproxy()
            self.wait_settled(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_etcd(self):
        url = "http://127.0.0.1:%d" % self.etcd_port
        peer = "http://127.0.0.1:%d" % self.etcd_peer_port
        data = os.path.join(self.dir, "etcd")
        self._mkdir(data)
        self.etcd = self._spawn([ETCD, "--name", "etcd0", "--data-dir", data,
                                 "--listen-client-urls", url, "--advertise-client-urls", url,
                                 "--listen-peer-urls", peer,
                                 "--initial-advertise-peer-urls", peer,
                                 "--initial-cluster", "etcd0=" + peer,
                                 "--initial-cluster-state", "new", "--log-level", "warn"],
                                "etcd.log")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status, text = _http("GET", url + "/health")
            if status == 200 and '"true"' in text:
                return
            if self.etcd.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("etcd did not start:\n" + self.log_tail("etcd.log"))

    def _haproxy_config(self):
        lines = [
            "global",
            "    maxconn 1000",
            "defaults",
            "    mode tcp",
            "    timeout connect 2s",
            "    timeout client 30m",
            "    timeout server 30m",
            "    timeout check 1s",
            "listen primary",
            "    bind 127.0.0.1:%d" % self.haproxy_port,
            # Patroni answers 200 on the leader only; a node it marks down loses its
            # sessions at once, so that no client goes on talking to an old primary.
            "    option httpchk OPTIONS /primary",
            "    http-check expect status 200",
            "    default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions",
        ]
        for n in self.nodes:
            lines.append("    server %s 127.0.0.1:%d maxconn 500 check port %d"
                         % (n.name, n.port, n.api_port))
        return "\n".join(lines) + "\n"

    def _start_haproxy(self):
        conf = os.path.join(self.dir, "haproxy.cfg")
        with open(conf, "w") as f:
            f.write(self._haproxy_config())
        os.chmod(conf, 0o644)
        self.haproxy = self._spawn([HAPROXY, "-db", "-f", conf], "haproxy.log")

    def stop(self):
        """Ends everything start() began, whatever state it is in, and removes the
        directory. Safe to call twice."""
        for n in self.nodes:
            n.signal("both", signal.SIGCONT)  # a paused process cannot die of SIGTERM
        for p in [self.haproxy] + [n.proc for n in self.nodes]:
            if p is not None and p.poll() is None:
                _signal_group(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for n in self.nodes:
            while n.patroni_alive() and time.monotonic() < deadline:
                time.sleep(0.1)
        for n in self.nodes:
            n.signal("both", signal.SIGKILL)  # what Patroni did not stop, or orphaned
        for p in [self.haproxy, self.etcd]:
            if p is not None and p.poll() is None:
                _signal_group(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- state --

    def members(self):
        """Patroni's view of the cluster (GET /cluster of any node that answers)."""
        for n in self.nodes:
            if not n.patroni_alive():
                continue
            status, text = _http("GET", n.api + "/cluster", timeout=1.0)
            if status == 200:
                try:
                    return json.loads(text).get("members", [])
                except ValueError:
                    pass
        return []

    def node(self, name):
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def _role(self, role):
        for m in self.members():
            if m.get("role") == role and m.get("state") == "running":
                return self.node(m["name"])
        return None

    def leader(self):
        return self._role("leader")

    def sync_standby(self):
        return self._role("sync_standby")

    def is_primary(self, node):
        """Whether Patroni on node answers 200 to GET /primary."""
        return _http("GET", node.api + "/primary", timeout=1.0)[0] == 200

    def wait_settled(self, timeout=120, nodes=None):
        """Waits until one node leads, answers as the primary, and (in synchronous
        mode) has a synchronous standby streaming; with nodes, until that many
        members run. Returns the leader.

        Patroni 3.0.2 sometimes leaves a leader without a synchronous standby after
        an old primary rejoins, every standby streaming asynchronously, and stays so
        (seen after SIGSTOP and SIGCONT of the primary, and after a Patroni restart
        that adopts a running primary). After NUDGE_AFTER seconds of that, this
        turns synchronous_mode off and on again through Patroni's REST API, which
        makes it pick a synchronous standby afresh, and counts it in self.nudges."""
        want = len(self.nodes) if nodes is None else nodes
        deadline = time.monotonic() + timeout
        async_since = None
        last = None
        while time.monotonic() < deadline:
            members = self.members()
            last = members
            running = [m for m in members if m.get("state") in ("running", "streaming")]
            lead = self._role("leader")
            if lead is not None and len(running) >= want and self.is_primary(lead):
                if not self.synchronous:
                    return lead
                out = lead.psql("SELECT count(*) FROM pg_stat_replication WHERE"
                                " sync_state = 'sync' AND state = 'streaming'", check=False)
                if self._role("sync_standby") is not None and out.strip().isdigit() \
                        and int(out.strip()) >= 1:
                    return lead
                async_since = async_since or time.monotonic()
                if time.monotonic() - async_since > self.NUDGE_AFTER:
                    self._toggle_synchronous_mode(lead)
                    async_since = None
            else:
                async_since = None
            time.sleep(0.3)
        raise RuntimeError("the Patroni cluster did not settle in %d s; members: %s\n%s"
                           % (timeout, last, self.logs()))

    NUDGE_AFTER = 20

    def _toggle_synchronous_mode(self, lead):
        self.nudges += 1
        for value in (False, True):
            status, text = _http("PATCH", lead.api + "/config", {"synchronous_mode": value},
                                 timeout=10)
            if status != 200:
                raise RuntimeError("PATCH /config refused (%d): %s" % (status, text))
            time.sleep(LOOP_WAIT * 2)

    # -- faults --

    def kill(self, node, what="both", sig=signal.SIGKILL):
        node.signal(what, sig)

    def pause(self, node):
        node.signal("both", signal.SIGSTOP)

    def resume(self, node):
        node.signal("both", signal.SIGCONT)

    def restart(self, node):
        """Starts the Patroni of a node whose Patroni died (it adopts a PostgreSQL
        that lives on, or starts it, and rejoins as a standby)."""
        node.start()

    def switchover(self, candidate=None, timeout=60):
        """A graceful switchover from the leader to candidate (default: the
        synchronous standby) through the leader's REST API; returns the new leader."""
        lead = self.leader()
        if lead is None:
            raise RuntimeError("no leader to switch over from")
        cand = candidate or self.sync_standby()
        body = {"leader": lead.name}
        if cand is not None:
            body["candidate"] = cand.name
        status, text = _http("POST", lead.api + "/switchover", body, timeout=timeout)
        if status != 200:
            raise RuntimeError("switchover refused (%d): %s" % (status, text))
        return cand

    # -- connections --

    def multi_host_url(self, dbname, **params):
        """Every node, libpq choosing the writable one."""
        q = dict({"target_session_attrs": "read-write", "connect_timeout": "2"}, **params)
        return "postgresql://%s@%s/%s?%s" % (
            SUPERUSER, ",".join("127.0.0.1:%d" % n.port for n in self.nodes), dbname,
            "&".join("%s=%s" % kv for kv in q.items()))

    def haproxy_url(self, dbname, **params):
        if self.haproxy_port is None:
            raise RuntimeError("this cluster has no HAProxy")
        q = dict({"connect_timeout": "2"}, **params)
        return "postgresql://%s@127.0.0.1:%d/%s?%s" % (
            SUPERUSER, self.haproxy_port, dbname, "&".join("%s=%s" % kv for kv in q.items()))

    def psql(self, sql, db="postgres", node=None, check=True, timeout=30):
        """Runs sql on node (default: the leader) through its Unix socket."""
        node = node or self.leader()
        if node is None:
            raise RuntimeError("no leader to run SQL on")
        argv = [os.path.join(bindir(), "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                "-h", node.dir, "-p", str(node.port), "-U", SUPERUSER, "-d", db, "-c", sql]
        try:
            res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                 env=clean_env(), cwd=self.dir, **self.as_user())
        except subprocess.TimeoutExpired:
            if check:
                raise
            return ""
        if check and res.returncode != 0:
            raise RuntimeError("psql on %s failed: %s" % (node.name, res.stderr))
        return res.stdout if res.returncode == 0 else ""

    def create_database(self, name, timeout=30):
        """CREATE DATABASE on the leader; returns once every running node has it
        (a standby that has not replayed it yet would refuse a connection to it,
        and libpq does not try the next host after such a refusal)."""
        self.psql('CREATE DATABASE "%s"' % name)
        deadline = time.monotonic() + timeout
        for n in self.nodes:
            while n.postgres_alive() and time.monotonic() < deadline:
                if n.psql("SELECT 1 FROM pg_database WHERE datname = '%s'" % name,
                          check=False).strip() == "1":
                    break
                time.sleep(0.1)
        return name

    # -- diagnostics --

    def log_tail(self, name, n=30):
        try:
            with open(os.path.join(self.dir, name), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def logs(self, n=15):
        out = []
        for name in ["etcd.log", "haproxy.log"] + [x.name + "/patroni.log" for x in self.nodes]:
            tail = self.log_tail(name, n)
            if tail:
                out.append("--- %s\n%s" % (name, tail))
        return "\n".join(out)


def main(argv):
    nodes, haproxy = 3, False
    while argv and argv[0] != "--":
        if argv[0] == "--nodes" and len(argv) > 1:
            nodes = int(argv[1])
            argv = argv[2:]
        elif argv[0] == "--haproxy":
            haproxy = True
            argv = argv[1:]
        else:
            sys.exit("usage: patroni.py [--nodes N] [--haproxy] -- COMMAND ARGS...")
    if len(argv) < 2:
        sys.exit("usage: patroni.py [--nodes N] [--haproxy] -- COMMAND ARGS...")
    cluster = PatroniCluster(nodes=nodes, haproxy=haproxy).start()
    try:
        cluster.create_database("mgmtd")
        url = cluster.haproxy_url("mgmtd") if haproxy else cluster.multi_host_url("mgmtd")
        return run_beside(argv[1:], MGMTD_TEST_POSTGRES_URL=url,
                          MGMTD_TEST_PATRONI_DIR=cluster.dir)
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
