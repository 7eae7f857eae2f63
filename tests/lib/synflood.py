#!/usr/bin/env python3
"""Raw Ethernet SYN frames out of one interface (AF_PACKET), from many
source /24s, for the fault tests. Only ever run it on a veth of a test's own
namespaces: the sources are spoofed.

  synflood.py IFACE DST_MAC DST_IP --nets N [--first A.B] [--per K]
              [--rounds R] [--gap S] [--random M] [--seconds T]

Fixed mode: R rounds; each round sends K SYNs to port 25 from host .1 of
each of N /24s counted up from A.B.0.0/24 (A.B.0, A.B.1, ... A.(B+1).0 ...),
then sleeps S seconds. Before each round it runs "--hook CMD" when given
(e.g. to pause the daemon). Random mode (--random M): M SYNs from random
/24s of 11.0.0.0-99.255.255.0, stops after T seconds. Prints the frames
sent. Every loop is bounded in count and time.
"""
import argparse, random, socket, struct, subprocess, time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def frame(smac, dmac, src, dst, sport):
    tcp = struct.pack("!HHIIBBHHH", sport, 25, 0x1000, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dmac + smac + b"\x08\x00" + ip + tcp


ap = argparse.ArgumentParser()
ap.add_argument("iface")
ap.add_argument("dmac")
ap.add_argument("dst")
ap.add_argument("--nets", type=int, default=0)
ap.add_argument("--first", default="100.64")
ap.add_argument("--per", type=int, default=2)
ap.add_argument("--rounds", type=int, default=1)
ap.add_argument("--gap", type=float, default=0.0)
ap.add_argument("--hook", default=None)
ap.add_argument("--after", default=None)
ap.add_argument("--random", type=int, default=0)
ap.add_argument("--seconds", type=float, default=30)
a = ap.parse_args()

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((a.iface, 0))
smac = s.getsockname()[4][:6]
dmac = bytes(int(x, 16) for x in a.dmac.split(":"))
dst = socket.inet_aton(a.dst)
end = time.time() + a.seconds
sent = 0

if a.random:
    for i in range(a.random):
        if time.time() > end:
            break
        src = bytes([random.randint(11, 99), random.randint(0, 255), random.randint(0, 255), 1])
        try:
            s.send(frame(smac, dmac, src, dst, 1024 + i % 60000))
            sent += 1
        except OSError:
            time.sleep(0.001)	# the veth queue is full: let it drain
else:
    hi, lo = (int(x) for x in a.first.split("."))
    frames = []
    for n in range(a.nets):
        b = hi * 256 + lo + n // 256
        src = bytes([b >> 8, b & 255, n & 255, 1])
        frames.append([frame(smac, dmac, src, dst, 1024 + k) for k in range(a.per)])
    for r in range(a.rounds):
        if time.time() > end:
            break
        if a.hook:
            subprocess.run(a.hook, shell=True)
        for fs in frames:
            for f in fs:
                for attempt in range(100):
                    try:
                        s.send(f)
                        sent += 1
                        break
                    except OSError:
                        time.sleep(0.001)
        if a.after:
            subprocess.run(a.after, shell=True)
        if r + 1 < a.rounds:
            time.sleep(a.gap)
print(sent)
