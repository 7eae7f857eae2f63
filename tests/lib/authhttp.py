#!/usr/bin/env python3
"""The auth_http service of nginx's mail proxy, for tests/live/test_servers.sh.

    authhttp.py ADDR PORT USERS BACKEND_IP IMAP_PORT POP3_PORT

USERS is a file of "user password" lines. A right password is answered
with the backend to proxy to (the Dovecot behind nginx), a wrong one with
"Invalid login or password"; nginx then logs the failure itself.
"""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
	def do_GET(self):
		user = self.headers.get("Auth-User", "")
		pw = self.headers.get("Auth-Pass", "")
		proto = self.headers.get("Auth-Protocol", "imap")
		self.send_response(200)
		if USERS.get(user) == pw:
			port = PORTS.get(proto, PORTS["imap"])
			self.send_header("Auth-Status", "OK")
			self.send_header("Auth-Server", BACKEND)
			self.send_header("Auth-Port", str(port))
		else:
			self.send_header("Auth-Status", "Invalid login or password")
			# The client may try again after a second (nginx closes the
			# connection at once without Auth-Wait, and with 0).
			self.send_header("Auth-Wait", "1")
		self.send_header("Content-Length", "0")
		self.end_headers()

	def log_message(self, fmt, *args):
		pass


if __name__ == "__main__":
	if len(sys.argv) != 7:
		print(__doc__.strip(), file=sys.stderr)
		sys.exit(2)
	USERS = dict(line.split() for line in open(sys.argv[3]) if line.strip())
	BACKEND = sys.argv[4]
	PORTS = {"imap": int(sys.argv[5]), "pop3": int(sys.argv[6])}
	srv = http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), Handler)
	srv.serve_forever()
