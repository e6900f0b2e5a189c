#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol on a pipe
(--remote-debugging-pipe: JSON messages ended by NUL on fds 3 and 4), so a
shell test can load a page, run JavaScript in it and wait for what it
shows. No network and nothing beyond the standard library.

usage: cdp.py CHROMIUM PROFILE_DIR

First prints "pid N": Chromium's process group, for the caller to kill.
Then reads commands on stdin, one a line, and answers each with one line:
  open URL          a new tab at URL (the one before is closed): "ok"
  eval JS           the value of JS (a promise is awaited), as JSON
  wait SECS JS      JS every 100 ms until it is truthy: its value as JSON,
                    or "timeout " and its last value (an exception counts
                    as not yet; the last one is the answer at the end)
  shot FILE         a PNG of the page to FILE: "ok"
  quit              ends Chromium and the driver
An exception in the page is answered "error MESSAGE".
"""
import base64
import fcntl
import json
import os
import select
import signal
import subprocess
import sys
import time


class Chrome:
    def __init__(self, chromium, profile):
        to_r, self.to_w = os.pipe()    # ours -> Chromium's fd 3
        self.from_r, from_w = os.pipe()  # Chromium's fd 4 -> ours
        # Out of the way of 3 and 4, which the shell below fills.
        to_r, from_w = self.high(to_r), self.high(from_w)
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1200,800",
                "--remote-debugging-pipe", "--user-data-dir=" + profile,
                "about:blank"]
        # fds 3 and 4 as Chromium wants them, through bash's
        # redirections (pass_fds keeps ours open across the exec).
        self.proc = subprocess.Popen(
            ["bash", "-c", 'exec "$@" 3<&%d 4>&%d %d<&- %d>&-'
             % (to_r, from_w, to_r, from_w), "bash"] + args,
            pass_fds=(to_r, from_w), start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.session = None
        self.target = None

    @staticmethod
    def high(fd):
        h = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100)
        os.close(fd)
        return h

    def send(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session is not None:
            msg["sessionId"] = self.session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        end = time.monotonic() + timeout
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                m = json.loads(raw)
                if m.get("id") == self.next_id:
                    if "error" in m:
                        raise RuntimeError(m["error"].get("message"))
                    return m.get("result", {})
            left = end - time.monotonic()
            if left <= 0:
                raise RuntimeError("no answer to " + method)
            r, _, _ = select.select([self.from_r], [], [], left)
            if r:
                data = os.read(self.from_r, 1 << 16)
                if not data:
                    raise RuntimeError("chromium went away")
                self.buf += data

    def open(self, url):
        if self.target is not None:
            old = self.target
            self.session = None
            self.send("Target.closeTarget", {"targetId": old},
                      session=False)
        self.target = self.send("Target.createTarget", {"url": "about:blank"},
                                session=False)["targetId"]
        self.session = self.send("Target.attachToTarget",
                                 {"targetId": self.target, "flatten": True},
                                 session=False)["sessionId"]
        self.send("Runtime.enable")
        self.send("Page.navigate", {"url": url})
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                if self.eval("document.readyState") == "complete" and \
                        self.eval("location.href") != "about:blank":
                    return
            except RuntimeError:
                pass
            time.sleep(0.05)
        raise RuntimeError("the page did not load")

    def eval(self, js):
        r = self.send("Runtime.evaluate", {"expression": js,
                                           "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            ex = d.get("exception", {})
            raise RuntimeError(ex.get("description") or d.get("text"))
        return r.get("result", {}).get("value")

    def quit(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()


def main():
    chrome = Chrome(sys.argv[1], sys.argv[2])
    print("pid", chrome.proc.pid, flush=True)
    try:
        for line in sys.stdin:
            cmd, _, rest = line.rstrip("\n").partition(" ")
            try:
                if cmd == "quit":
                    print("ok", flush=True)
                    break
                if cmd == "open":
                    chrome.open(rest)
                    out = "ok"
                elif cmd == "eval":
                    out = json.dumps(chrome.eval(rest))
                elif cmd == "shot":
                    png = chrome.send("Page.captureScreenshot",
                                      {"format": "png"})["data"]
                    with open(rest, "wb") as f:
                        f.write(base64.b64decode(png))
                    out = "ok"
                elif cmd == "wait":
                    secs, _, js = rest.partition(" ")
                    end = time.monotonic() + float(secs)
                    while True:
                        # An exception is "not yet" (the element is not
                        # drawn until the next frame), until the end.
                        try:
                            v, err = chrome.eval(js), None
                        except RuntimeError as e:
                            v, err = None, e
                        if v:
                            out = json.dumps(v)
                            break
                        if time.monotonic() > end:
                            if err is not None:
                                raise err
                            out = "timeout " + json.dumps(v)
                            break
                        time.sleep(0.1)
                else:
                    out = "error unknown command " + cmd
            except RuntimeError as e:
                out = "error " + str(e).replace("\n", " ")[:500]
            print(out, flush=True)
    finally:
        chrome.quit()


if __name__ == "__main__":
    main()
