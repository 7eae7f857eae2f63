#!/usr/bin/env python3
"""Send one TCP SYN as hand-made (fragmented) Ethernet frames on an
AF_PACKET socket, and report whether a SYN-ACK came back.

Prints "synack" or "none" and exits 0; exits 2 on bad arguments. Bounded:
waits at most --wait seconds. Run it inside the client's network namespace.

Shapes:
  whole        the SYN in one packet
  normal       IPv4/IPv6 fragments, the first holds the whole TCP header
  tiny         first fragment with 8 bytes of TCP (ports and sequence, no
               flags), the rest at offset 8 (RFC 1858)
  overlap      first fragment with 16 bytes of TCP, flags missing; a second
               at offset 8 carries bytes 8.. (RFC 3128 / RFC 1858 overlap)
  v6chain      IPv6 only: the first fragment holds one of two destination
               options headers; the second, and the SYN, come at offset 8
               (RFC 7112: a first fragment must hold the whole chain)
"""
import argparse, os, random, socket, struct, sys, time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def tcp_syn(src, dst, v6, sport, dport, seq):
    # MSS, SACK permitted, timestamps, NOP, window scale: a 40-byte header,
    # so a first fragment can hold the fixed 20 bytes and more.
    opts = struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02" + \
        struct.pack("!BBII", 8, 10, 12345, 0) + b"\x01" + struct.pack("!BBB", 3, 3, 7)
    hl = 20 + len(opts)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (hl // 4) << 4, 0x02,
                      64240, 0, 0) + opts
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(hdr), 6)
    else:
        pseudo = src + dst + struct.pack("!xBH", 6, len(hdr))
    c = csum(pseudo + hdr)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:]


def ip4(src, dst, ident, frag_off, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag_off,
                    64, 6, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def ip6(src, dst, nexthdr, payload):
    return struct.pack("!IHBB", 6 << 28, len(payload), nexthdr, 64) + src + dst + payload


def frag6(nexthdr, offset, more, ident, data):
    return struct.pack("!BBHI", nexthdr, 0, offset | (1 if more else 0), ident) + data


def dstopts(nexthdr):
    # 8 bytes: next header, length 0, PadN with 4 bytes of padding.
    return struct.pack("!BBBB", nexthdr, 0, 1, 4) + b"\0" * 4


def packets(shape, src, dst, v6, sport, dport, seq):
    seg = tcp_syn(src, dst, v6, sport, dport, seq)
    ident = random.randrange(1, 0xFFFF)
    if not v6:
        if shape == "whole":
            return [ip4(src, dst, ident, 0x4000, seg)]
        if shape == "normal":
            return [ip4(src, dst, ident, 0x2000, seg[:24]), ip4(src, dst, ident, 3, seg[24:])]
        if shape == "tiny":
            return [ip4(src, dst, ident, 0x2000, seg[:8]), ip4(src, dst, ident, 1, seg[8:])]
        if shape == "overlap":
            return [ip4(src, dst, ident, 0x2000, seg[:16]), ip4(src, dst, ident, 1, seg[8:])]
        raise ValueError(shape)
    ident |= random.randrange(1, 0xFFFF) << 16
    if shape == "whole":
        return [ip6(src, dst, 6, seg)]
    if shape == "normal":
        return [ip6(src, dst, 44, frag6(6, 0, True, ident, seg[:24])),
                ip6(src, dst, 44, frag6(6, 24, False, ident, seg[24:]))]
    if shape == "tiny":
        return [ip6(src, dst, 44, frag6(6, 0, True, ident, seg[:8])),
                ip6(src, dst, 44, frag6(6, 8, False, ident, seg[8:]))]
    if shape == "overlap":
        return [ip6(src, dst, 44, frag6(6, 0, True, ident, seg[:16])),
                ip6(src, dst, 44, frag6(6, 8, False, ident, seg[8:]))]
    if shape == "v6chain":
        body = dstopts(60) + dstopts(6) + seg
        return [ip6(src, dst, 44, frag6(60, 0, True, ident, body[:8])),
                ip6(src, dst, 44, frag6(60, 8, False, ident, body[8:]))]
    raise ValueError(shape)


def is_synack(frame, v6, src, dst, sport, dport):
    et = struct.unpack("!H", frame[12:14])[0]
    p = frame[14:]
    if v6:
        if et != 0x86DD or len(p) < 60 or p[6] != 6 or p[8:24] != dst or p[24:40] != src:
            return False
        t = p[40:]
    else:
        if et != 0x0800 or len(p) < 40 or p[9] != 6 or p[12:16] != dst or p[16:20] != src:
            return False
        t = p[(p[0] & 15) * 4:]
    if len(t) < 14:
        return False
    sp, dp = struct.unpack("!HH", t[:4])
    return sp == dport and dp == sport and (t[13] & 0x12) == 0x12


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--smac", required=True)
    ap.add_argument("--dmac", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--shape", default="whole",
                    choices=["whole", "normal", "tiny", "overlap", "v6chain"])
    ap.add_argument("--wait", type=float, default=1.5)
    a = ap.parse_args()
    v6 = ":" in a.dst
    if a.shape == "v6chain" and not v6:
        print("fragsyn: v6chain needs IPv6 addresses", file=sys.stderr)
        return 2
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    src, dst = socket.inet_pton(fam, a.src), socket.inet_pton(fam, a.dst)
    sport = random.randrange(20000, 60000)
    eth = mac(a.dmac) + mac(a.smac) + struct.pack("!H", 0x86DD if v6 else 0x0800)

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    try:
        s.bind((a.iface, 0))
        for pkt in packets(a.shape, src, dst, v6, sport, a.port, random.getrandbits(32)):
            s.send(eth + pkt)
        end = time.monotonic() + a.wait
        got = False
        while not got:
            left = end - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                frame, addr = s.recvfrom(65535)
            except socket.timeout:
                break
            if addr[2] != PACKET_OUTGOING:
                got = is_synack(frame, v6, src, dst, sport, a.port)
    finally:
        s.close()
    print("synack" if got else "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
