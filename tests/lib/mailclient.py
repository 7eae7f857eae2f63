#!/usr/bin/env python3
"""Real IMAP, POP3 and SMTP login attempts from a chosen source address.

    mailclient.py PROTO HOST PORT SRC SESSION...

PROTO is imap, pop3 or smtp. Each SESSION is one TCP connection, in which
the logins "user:password,user:password,..." are tried in order (each a
LOGIN, USER/PASS for POP3, AUTH PLAIN after EHLO for SMTP, which swaks
cannot repeat in one connection); the connection is then closed with
LOGOUT/QUIT.
Prints one line per attempt, "ok USER" or "fail USER", and at the end
"failed N ok M". Exit status 0 when every attempt got an answer, 1 when a
connection or an answer was lost (a timeout or a reset).
"""
import base64
import imaplib
import poplib
import smtplib
import socket
import sys

TIMEOUT = 10


def connect(host, port, src):
	return socket.create_connection((host, port), TIMEOUT,
					source_address=(src, 0))


class Imap(imaplib.IMAP4):
	def __init__(self, host, port, src):
		self._src = src
		super().__init__(host, port, timeout=TIMEOUT)

	def _create_socket(self, timeout):
		return connect(self.host, self.port, self._src)


class Pop3(poplib.POP3):
	def __init__(self, host, port, src):
		self._src = src
		super().__init__(host, port, timeout=TIMEOUT)

	def _create_socket(self, timeout):
		return connect(self.host, self.port, self._src)


def imap_session(host, port, src, logins):
	res = []
	c = Imap(host, port, src)
	for user, pw in logins:
		try:
			c.login(user, pw)
			res.append(("ok", user))
			break  # logged in: LOGIN is no longer allowed
		except imaplib.IMAP4.abort:
			raise  # the server hung up: no answer to count
		except imaplib.IMAP4.error:
			res.append(("fail", user))
	c.logout()
	return res


def pop3_session(host, port, src, logins):
	res = []
	c = Pop3(host, port, src)
	for user, pw in logins:
		try:
			c.user(user)
			c.pass_(pw)
			res.append(("ok", user))
			break
		except poplib.error_proto:
			res.append(("fail", user))
	c.quit()
	return res


def smtp_session(host, port, src, logins):
	res = []
	c = smtplib.SMTP(host, port, local_hostname="client.test",
			 source_address=(src, 0), timeout=60)
	c.ehlo()
	for user, pw in logins:
		tok = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode())
		code, _ = c.docmd("AUTH", "PLAIN " + tok.decode())
		if code == 235:
			res.append(("ok", user))
			break
		if code != 535:
			raise OSError("AUTH answered %d" % code)
		res.append(("fail", user))
	c.quit()
	return res


SESSIONS = {"imap": imap_session, "pop3": pop3_session, "smtp": smtp_session}


def main(argv):
	if len(argv) < 6 or argv[1] not in SESSIONS:
		print(__doc__.strip(), file=sys.stderr)
		return 2
	proto, host, port, src = argv[1], argv[2], int(argv[3]), argv[4]
	run = SESSIONS[proto]
	failed = ok = 0
	lost = False
	for session in argv[5:]:
		logins = [tuple(x.split(":", 1)) for x in session.split(",")]
		try:
			res = run(host, port, src, logins)
		except (OSError, EOFError, imaplib.IMAP4.abort,
			poplib.error_proto, smtplib.SMTPException) as e:
			print("lost %s" % e)
			lost = True
			continue
		for verdict, user in res:
			print(verdict, user)
			if verdict == "ok":
				ok += 1
			else:
				failed += 1
	print("failed %d ok %d" % (failed, ok))
	return 1 if lost else 0


if __name__ == "__main__":
	sys.exit(main(sys.argv))
