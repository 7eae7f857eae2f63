#!/usr/bin/env python3
"""Accept TCP connections on the given ports and close them at once.
Exits by itself after --for seconds, so a test that dies cannot leave it."""
import argparse, selectors, socket, time

ap = argparse.ArgumentParser()
ap.add_argument("--for", dest="secs", type=float, default=60)
ap.add_argument("--v6", action="store_true")
ap.add_argument("ports", type=int, nargs="+")
a = ap.parse_args()
sel = selectors.DefaultSelector()
for p in a.ports:
    fam = socket.AF_INET6 if a.v6 else socket.AF_INET
    s = socket.socket(fam)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.v6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::" if a.v6 else "0.0.0.0", p))
    s.listen(1024)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
end = time.time() + a.secs
while time.time() < end:
    for key, _ in sel.select(timeout=0.2):
        try:
            c, _ = key.fileobj.accept()
            c.close()
        except OSError:
            pass
