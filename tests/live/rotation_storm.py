#!/usr/bin/env python3
"""Write Postfix AUTH failure lines to LOG at RATE lines/s for SECONDS while
rotating LOG every 150-400 ms, logrotate "create" and "copytruncate" in
turn, shifting LOG.1 to LOG.2 and gzipping it each time.

Every line has a client address of its own (198.18.0.0/15 hosts, in
order), so the daemon's failure count can be checked against what was
written. copytruncate itself loses the lines written after its copy ended
and before its truncate: the rotator holds the writer back from the end of
the copy to the truncate and reads what the copy missed from the log.

Prints one line: written N lost_by_copytruncate N creates N copytruncates N
"""
import gzip
import os
import random
import shutil
import sys
import threading
import time

log, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
lock = threading.Lock()
state = {"written": 0, "reopen": 0, "lost": 0, "creates": 0, "copytruncates": 0,
         "stop": False, "error": None}
MAX = 131072


def line(seq):
    stamp = time.strftime("%b %e %H:%M:%S")
    return ("%s mx postfix/smtpd[123]: warning: unknown[198.%d.%d.%d]: SASL LOGIN "
            "authentication failed: authentication failure\n" %
            (stamp, 18 + (seq >> 16), (seq >> 8) & 255, seq & 255)).encode()


def writer():
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    seen_reopen, reopen_at = 0, -1
    start = time.monotonic()
    while not state["stop"]:
        el = time.monotonic() - start
        if el >= seconds:
            break
        want = min(int(el * rate), MAX)
        while state["written"] < want:
            seq = state["written"]
            if state["reopen"] != seen_reopen:
                # syslog reopens on HUP, a few lines later
                seen_reopen = state["reopen"]
                reopen_at = seq + 20
            if seq == reopen_at:
                os.close(fd)
                fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            data = line(seq)
            with lock:
                if os.write(fd, data) != len(data):
                    state["error"] = "short write"
                state["written"] = seq + 1
        time.sleep(0.001)
    os.close(fd)


def lost_after(copied):
    """Lines of log whose newline lies at or after byte copied."""
    with open(log, "rb") as f:
        start = max(0, copied - 1024)
        f.seek(start)
        data = f.read()
    lines = data.split(b"\n")[:-1]
    pos, n = start, 0
    for i, ln in enumerate(lines):
        end = pos + len(ln)  # offset of its newline
        if end >= copied and (i > 0 or start == 0):
            n += 1
        pos = end + 1
    return n


def rotator():
    rnd = random.Random(7)
    end = time.monotonic() + seconds - 0.3
    i = 0
    while time.monotonic() < end and not state["error"]:
        time.sleep(rnd.uniform(0.15, 0.4))
        try:
            os.unlink(log + ".2.gz")
        except FileNotFoundError:
            pass
        if os.path.exists(log + ".1"):
            os.rename(log + ".1", log + ".2")
            with open(log + ".2", "rb") as src, gzip.open(log + ".2.gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.unlink(log + ".2")
        if i % 2 == 0:
            os.rename(log, log + ".1")
            os.close(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640))
            state["reopen"] += 1
            state["creates"] += 1
        else:
            # the copy races with the writer, as logrotate's does
            shutil.copyfile(log, log + ".1")
            copied = os.stat(log + ".1").st_size
            with lock:
                state["lost"] += lost_after(copied)
                os.truncate(log, 0)
            state["copytruncates"] += 1
        i += 1


w = threading.Thread(target=writer)
r = threading.Thread(target=rotator)
w.start()
r.start()
w.join()
state["stop"] = True
r.join()
if state["error"]:
    print("error", state["error"])
    sys.exit(1)
print("written %d lost_by_copytruncate %d creates %d copytruncates %d" %
      (state["written"], state["lost"], state["creates"], state["copytruncates"]))
