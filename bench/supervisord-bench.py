#!/usr/bin/python3
"""supervisord's side of `bench/run --peers` (issue 7).

usage: supervisord-bench.py DIR N SECONDS MARKER [ARBOR_SOCKET]

Starts a private supervisord (nodaemon, its own config and unix socket in
DIR) with one group `p` of N programs `sleep MARKER` (autostart=false,
startsecs=0, stopwaitsecs=1), and over its XML-RPC unix socket with
supervisor's own transport times startProcessGroup(p, wait=True),
getProcessInfo of one process repeated for SECONDS, and
stopProcessGroup(p, wait=True). Prints one JSON object:
{"start_ms", "stop_ms", "info_per_s", "rss_mib", ...}. With ARBOR_SOCKET,
also times arbord's `inspect` of `/` one at a time from Python
(arbor_inspect_py_per_s), to show what the client language costs; it is
only reported, never compared.
The supervisord it started is always stopped (and killed if need be).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return -1.0


def main():
    d, n, secs, marker = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    arbor = sys.argv[5] if len(sys.argv) > 5 else None
    sock = os.path.join(d, "supervisor.sock")
    conf = os.path.join(d, "supervisord.conf")
    with open(conf, "w") as f:
        f.write(f"""[unix_http_server]
file={sock}
chmod=0700

[supervisord]
nodaemon=true
logfile={d}/supervisord.log
pidfile={d}/supervisord.pid
childlogdir={d}
minfds=8192
minprocs=4096
loglevel=warn

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{sock}

[program:p]
command=sleep {marker}
process_name=p%(process_num)d
numprocs={n}
autostart=false
autorestart=false
startsecs=0
stopwaitsecs=1
stdout_logfile=NONE
stderr_logfile=NONE
""")
    proc = subprocess.Popen(["supervisord", "-c", conf],
                            stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(d, "stderr"), "w"))
    try:
        def connect():
            return xmlrpc.client.ServerProxy(
                "http://127.0.0.1",
                transport=SupervisorTransport(None, None, "unix://" + sock))
        deadline = time.monotonic() + 30
        while True:
            try:
                # a fresh proxy per try: a failed one stays unusable
                if connect().supervisor.getState()["statename"] == "RUNNING":
                    break
            except (OSError, xmlrpc.client.Fault):
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("supervisord did not come up")
            time.sleep(0.05)

        proxy = connect()
        t0 = time.monotonic()
        proxy.supervisor.startProcessGroup("p", True)
        start_ms = (time.monotonic() - t0) * 1e3
        infos = proxy.supervisor.getAllProcessInfo()
        running = sum(1 for i in infos if i["statename"] == "RUNNING")
        if running != n:
            raise SystemExit("only %d of %d running" % (running, n))
        rss = rss_mib(proc.pid)

        cnt = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < secs:
            proxy.supervisor.getProcessInfo("p:p0")
            cnt += 1
        info_per_s = cnt / (time.monotonic() - t0)

        t0 = time.monotonic()
        proxy.supervisor.stopProcessGroup("p", True)
        stop_ms = (time.monotonic() - t0) * 1e3
        infos = proxy.supervisor.getAllProcessInfo()
        left = sum(1 for i in infos if i["statename"] != "STOPPED")

        out = {"start_ms": start_ms, "stop_ms": stop_ms,
               "info_per_s": info_per_s, "rss_mib": rss, "n": n,
               "not_stopped": left}
        if arbor:
            s = socket.socket(socket.AF_UNIX)
            s.connect(arbor)
            f = s.makefile("rwb")
            req = b'{"jsonrpc":"2.0","id":1,"method":"inspect","params":{"path":"/"}}\n'
            cnt = 0
            t0 = time.monotonic()
            while time.monotonic() - t0 < secs:
                f.write(req)
                f.flush()
                json.loads(f.readline())
                cnt += 1
            out["arbor_inspect_py_per_s"] = cnt / (time.monotonic() - t0)
            s.close()
        print(json.dumps(out))
        try:
            proxy.supervisor.shutdown()
        except Exception:
            pass
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
