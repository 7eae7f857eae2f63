#!/usr/bin/env python3
"""Write a mixed Postfix mail log for benchmarks: LINES lines, FAIL_PCT
of them SASL authentication failures, the rest the everyday traffic of a
busy MX (connects, disconnects, deliveries, rejects, TLS). Deterministic."""
import random, sys

lines = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
fail_pct = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
rnd = random.Random(7)
out = sys.stdout
mechs = ["LOGIN", "PLAIN", "CRAM-MD5"]
users = ["admin", "info", "test", "sales", "alice", "bob", "office"]
svc = ["postfix/smtpd", "postfix/submission/smtpd", "postfix/smtps/smtpd"]


def ip():
    return "198.%d.%d.%d" % (rnd.choice((18, 19)), rnd.randrange(256), rnd.randrange(1, 255))


def qid():
    return "%010X" % rnd.randrange(1 << 40)


normal = [
    lambda: "postfix/smtpd[%d]: connect from mail-%d.example.net[%s]" % (rnd.randrange(1000, 60000), rnd.randrange(99), ip()),
    lambda: "postfix/smtpd[%d]: disconnect from unknown[%s] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5" % (rnd.randrange(1000, 60000), ip()),
    lambda: "postfix/smtpd[%d]: %s: client=mail-%d.example.net[%s]" % (rnd.randrange(1000, 60000), qid(), rnd.randrange(99), ip()),
    lambda: "postfix/cleanup[%d]: %s: message-id=<%x@example.net>" % (rnd.randrange(1000, 60000), qid(), rnd.randrange(1 << 48)),
    lambda: "postfix/qmgr[%d]: %s: from=<news@example.net>, size=%d, nrcpt=1 (queue active)" % (rnd.randrange(1000, 60000), qid(), rnd.randrange(1000, 90000)),
    lambda: "postfix/lmtp[%d]: %s: to=<alice@example.org>, relay=mail.example.org[private/dovecot-lmtp], delay=0.1, delays=0.05/0/0/0.05, dsn=2.0.0, status=sent (250 2.0.0 Saved)" % (rnd.randrange(1000, 60000), qid()),
    lambda: "postfix/smtpd[%d]: NOQUEUE: reject: RCPT from unknown[%s]: 554 5.7.1 <spam@example.org>: Relay access denied; from=<x@example.com> to=<spam@example.org> proto=ESMTP helo=<WIN-ABC>" % (rnd.randrange(1000, 60000), ip()),
    lambda: "postfix/smtpd[%d]: Anonymous TLS connection established from unknown[%s]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" % (rnd.randrange(1000, 60000), ip()),
    lambda: "postfix/smtpd[%d]: lost connection after EHLO from unknown[%s]" % (rnd.randrange(1000, 60000), ip()),
    lambda: "postfix/qmgr[%d]: %s: removed" % (rnd.randrange(1000, 60000), qid()),
]

t0 = 1700000000
for i in range(lines):
    t = t0 + i // 50
    stamp = "Nov %2d %02d:%02d:%02d" % (14 + (t // 86400) % 10, (t // 3600) % 24, (t // 60) % 60, t % 60)
    if rnd.random() * 100 < fail_pct:
        msg = "%s[%d]: warning: unknown[%s]: SASL %s authentication failed: %s" % (
            rnd.choice(svc), rnd.randrange(1000, 60000), ip(), rnd.choice(mechs),
            rnd.choice(["UGFzc3dvcmQ6", "authentication failure", "(reason unavailable), sasl_username=%s" % rnd.choice(users)]))
    else:
        msg = rnd.choice(normal)()
    out.write("%s mx1 %s\n" % (stamp, msg))
