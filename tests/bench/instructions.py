"""Instructions per request, counted by callgrind: the figure that does not move with
the machine's load (requests/s on a shared machine moves by half from one minute to
the next; the number of instructions a request executes does not).

A server runs under `valgrind --tool=callgrind` with one worker thread. The
measurement sends WARMUP requests of a scenario on one keep-alive connection
(caches filled, statements prepared), zeroes the counters (`callgrind_control -z`),
sends COUNT more on the same connection, dumps the counters (`callgrind_control
-d`) and divides the total by COUNT. User-space
instructions of every thread of the server are counted: the listener, the worker,
the background threads (idle ones add next to nothing).

Used by tests/bench/run (`make bench`). For a profile of every scenario, in a
minute however loaded the machine is:
  tests/bench/run --build build --instructions-only --keep-profiles DIR
  callgrind_annotate --inclusive=yes DIR/GET-management-tokens-id-management-token/*
"""
import glob
import os
import re
import socket
import subprocess
import time

WARMUP = 50
COUNT = 300


class CallgrindServer:
    """A server under callgrind; port known once it listens."""

    def __init__(self, argv, port, workdir, env=None, cwd=None):
        self.port = port
        self.workdir = workdir
        self.out_prefix = os.path.join(workdir, "callgrind.out")
        for f in glob.glob(self.out_prefix + "*"):
            os.unlink(f)
        self.log = open(os.path.join(workdir, "callgrind.log"), "wb")
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind",
             "--callgrind-out-file=%s.%%p" % self.out_prefix, "--dump-instr=no"] + list(argv),
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the server under callgrind did not listen on %d" % port)
                time.sleep(0.2)

    def control(self, *args):
        subprocess.run(["callgrind_control"] + list(args) + [str(self.proc.pid)], check=True,
                       capture_output=True, timeout=120)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def raw_request(method, path, headers, body):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1"]
    lines += ["%s: %s" % kv for kv in headers]
    data = body.encode() if body else b""
    if data:
        lines.append("Content-Type: application/json")
        lines.append("Content-Length: %d" % len(data))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def read_response(sock, buf):
    """Reads one response (Content-Length framed); returns (status, rest of buf)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed mid-response")
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    length = int(m.group(1)) if m else 0
    while len(buf) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed mid-body")
        buf += chunk
    return status, buf[length:]


def send_many(port, method, path, headers, body, n, expect):
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    try:
        req = raw_request(method, path, headers, body)
        buf = b""
        for _ in range(n):
            sock.sendall(req)
            status, buf = read_response(sock, buf)
            if status not in expect:
                raise RuntimeError("%s %s answered %d under callgrind" % (method, path, status))
    finally:
        sock.close()


def total_instructions(out_prefix):
    """The Ir of the last dump of every thread's file, added."""
    total = 0
    files = glob.glob(out_prefix + ".*")
    if not files:
        raise RuntimeError("callgrind wrote no profile")
    # one file per dump and thread: name.PID.DUMP-THREAD; sum the newest dump's
    dumps = {}
    for f in files:
        m = re.search(r"\.(\d+)(?:\.(\d+))?(?:-(\d+))?$", f)
        dump = int(m.group(2) or 0) if m else 0
        dumps.setdefault(dump, []).append(f)
    for f in dumps[max(dumps)]:
        with open(f) as fh:
            for line in fh:
                if line.startswith("summary:") or line.startswith("totals:"):
                    total += int(line.split()[1])
                    break
    return total, dumps[max(dumps)]


def measure(server, method, path, headers=(), body=None, expect=(200, 204),
            warmup=WARMUP, count=COUNT):
    """Instructions per request of one scenario against a running CallgrindServer."""
    send_many(server.port, method, path, headers, body, warmup, expect)
    server.control("-z")
    send_many(server.port, method, path, headers, body, count, expect)
    server.control("-d")
    total, files = total_instructions(server.out_prefix)
    return total / count, files


def annotate(files, top=25):
    """callgrind_annotate's inclusive top functions of a dump, as text."""
    res = subprocess.run(["callgrind_annotate", "--inclusive=yes"] + files,
                         capture_output=True, text=True, timeout=300)
    lines = res.stdout.splitlines()
    out, started = [], False
    for line in lines:
        if re.match(r"^-+$", line) and started:
            continue
        if "file:function" in line:
            started = True
            continue
        if started and line.strip():
            out.append(line)
        if len(out) >= top:
            break
    return "\n".join(out)
