#!/usr/bin/env python3
"""A scriptable SMTP server for `mxguard probe` tests.

Each SPEC is PORT:OPT,OPT,... and says what that port advertises:

  tls            implicit TLS from the first byte (SMTPS)
  starttls       offer STARTTLS in the cleartext EHLO reply
  pre=M+M        AUTH mechanisms advertised before TLS
  post=M+M       AUTH mechanisms advertised after TLS (STARTTLS or implicit)
  legacy         write AUTH lines in lower case, plus the old "AUTH=" form
  multiline      a three-line 220 banner
  silent         accept, never send a banner
  refuse-tls     answer STARTTLS with 454
  reject         banner 554 (no service)

Every command received is appended to --log as "PORT COMMAND" (AUTH lines
are cut to the verb: they are what the test checks never arrive). The
server exits by itself after --for seconds, so a dying test cannot leave
it behind.
"""
import argparse, os, socket, ssl, sys, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("--cert", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--for", dest="secs", type=float, default=60)
ap.add_argument("--log", default=os.devnull)
ap.add_argument("--ready", help="file created once every port listens")
ap.add_argument("--v6", action="store_true", help="listen on ::1 too")
ap.add_argument("specs", nargs="+")
a = ap.parse_args()

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(a.cert, a.key)
log_lock = threading.Lock()


def log(port, line):
    with log_lock, open(a.log, "a") as f:
        f.write(f"{port} {line}\n")


def parse_spec(spec):
    port, _, opts = spec.partition(":")
    o = {"port": int(port), "pre": [], "post": []}
    for opt in filter(None, opts.split(",")):
        k, _, v = opt.partition("=")
        o[k] = v.split("+") if k in ("pre", "post") else True
    return o


class Conn:
    def __init__(self, sock, o):
        self.s, self.o, self.buf, self.tls = sock, o, b"", False

    def send(self, text):
        self.s.sendall(text.encode())

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                return None
            self.buf += d
        ln, _, self.buf = self.buf.partition(b"\n")
        return ln.rstrip(b"\r").decode(errors="replace")

    def ehlo_reply(self, name):
        o = self.o
        lines = [f"mx.test greets {name}", "PIPELINING", "SIZE 10240000"]
        if not self.tls and o.get("starttls"):
            lines.append("STARTTLS")
        mechs = o["post"] if self.tls else o["pre"]
        if mechs:
            if o.get("legacy"):
                lines.append("auth " + " ".join(m.lower() for m in mechs))
                lines.append("AUTH=" + " ".join(mechs))
            else:
                lines.append("AUTH " + " ".join(mechs))
        lines += ["ENHANCEDSTATUSCODES", "8BITMIME"]
        out = "".join(f"250-{l}\r\n" for l in lines[:-1]) + f"250 {lines[-1]}\r\n"
        self.send(out)

    def run(self):
        o = self.o
        if o.get("tls"):
            self.s = ctx.wrap_socket(self.s, server_side=True)
            self.tls = True
        if o.get("silent"):
            time.sleep(a.secs)
            return
        if o.get("reject"):
            self.send("554 5.3.2 mx.test no service for you\r\n")
        elif o.get("multiline"):
            self.send("220-mx.test ESMTP fake\r\n220-second line\r\n220 ready\r\n")
        else:
            self.send("220 mx.test ESMTP fake\r\n")
        while True:
            ln = self.line()
            if ln is None:
                return
            verb = ln.split(" ", 1)[0].upper()
            log(o["port"], verb if verb == "AUTH" else ln)
            if verb in ("EHLO", "HELO"):
                self.ehlo_reply(ln[5:].strip())
            elif verb == "STARTTLS" and o.get("starttls") and not self.tls:
                if o.get("refuse-tls"):
                    self.send("454 4.7.0 TLS not available due to local problem\r\n")
                    continue
                self.send("220 2.0.0 Ready to start TLS\r\n")
                self.s = ctx.wrap_socket(self.s, server_side=True)
                self.tls, self.buf = True, b""
            elif verb == "AUTH":
                self.send("535 5.7.8 Error: authentication failed\r\n")
            elif verb == "QUIT":
                self.send("221 2.0.0 Bye\r\n")
                return
            else:
                self.send("502 5.5.2 Error: command not recognized\r\n")


def handle(sock, o):
    sock.settimeout(a.secs)
    try:
        Conn(sock, o).run()
    except (OSError, ssl.SSLError):
        pass
    finally:
        sock.close()


def serve(lsock, o):
    while True:
        c, _ = lsock.accept()
        threading.Thread(target=handle, args=(c, o), daemon=True).start()


socks = []
for spec in a.specs:
    o = parse_spec(spec)
    fams = [(socket.AF_INET, "127.0.0.1")] + ([(socket.AF_INET6, "::1")] if a.v6 else [])
    for fam, addr in fams:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, o["port"]))
        s.listen(64)
        socks.append(s)
        threading.Thread(target=serve, args=(s, o), daemon=True).start()
if a.ready:
    open(a.ready, "w").close()
time.sleep(a.secs)
os._exit(0)
