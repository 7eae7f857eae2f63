// SPDX-License-Identifier: GPL-2.0
/*
 * Microsoft Exchange SMTP receive protocol log (CSV):
 *   date-time,connector-id,session-id,sequence-number,local-endpoint,
 *   remote-endpoint,event,data,context
 *   2026-11-29T10:00:01.123Z,MX\Default Frontend MX,08DD...,7,
 *       10.0.0.1:587,198.18.1.2:52314,>,535 5.7.3 Authentication unsuccessful,
 * Fields are split honouring CSV quotes; remote-endpoint is Exchange's own.
 * The event ">" is what the server sent, "<" what the client sent: a 535
 * counts only as Exchange's own reply, never as text a client sent.
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

#define CSV_FIELDS 8

/* Split the first CSV_FIELDS fields; quotes kept in the spans. */
static int csv_split(const char *s, const char *e, const char *f[][2])
{
	int n = 0;
	bool quoted = false;
	const char *p, *start = s;

	for (p = s; p <= e && n < CSV_FIELDS; p++) {
		if (p < e && *p == '"') {
			quoted = !quoted;
		} else if (p == e || (*p == ',' && !quoted)) {
			f[n][0] = start;
			f[n][1] = p;
			n++;
			start = p + 1;
		}
	}
	return n;
}

int mxg_match_exchange(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *f[CSV_FIELDS][2];
	const char *d;

	if (s >= e || *s < '0' || *s > '9' ||
	    !MXG_FIND(s, e, ",>,") || !MXG_FIND(s, e, "535 "))
		return 0;
	if (csv_split(s, e, f) < CSV_FIELDS)
		return 0;
	if (f[6][1] - f[6][0] != 1 || f[6][0][0] != '>')
		return 0;
	d = f[7][0];
	if (d < f[7][1] && *d == '"')
		d++;
	if (!MXG_STARTS(d, f[7][1], "535 "))
		return 0;
	return !mxg_addr_port_span(f[5][0], f[5][1], &ev->addr);
}
