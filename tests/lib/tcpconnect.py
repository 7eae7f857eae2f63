#!/usr/bin/env python3
"""Open N TCP connections from SRC to DST:PORT, each with a timeout, and
print how many were established. Bounded: N * timeout at most."""
import argparse, socket, time

ap = argparse.ArgumentParser()
ap.add_argument("--src", default=None)
ap.add_argument("--timeout", type=float, default=0.5)
ap.add_argument("--count", type=int, default=1)
ap.add_argument("--gap", type=float, default=0.0)
ap.add_argument("dst")
ap.add_argument("port", type=int)
a = ap.parse_args()
fam = socket.AF_INET6 if ":" in a.dst else socket.AF_INET
ok = 0
for i in range(a.count):
    s = socket.socket(fam)
    s.settimeout(a.timeout)
    try:
        if a.src:
            s.bind((a.src, 0))
        s.connect((a.dst, a.port))
        ok += 1
    except OSError:
        pass
    finally:
        s.close()
    if a.gap:
        time.sleep(a.gap)
print(ok)
