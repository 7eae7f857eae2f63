/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Text helpers the family matchers share. Every function reads the span
 * [s, e) of a line that need not be NUL terminated and never reads past e.
 */
#ifndef MXG_TEXT_H
#define MXG_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"

const char *mxg_find(const char *s, const char *e, const char *lit, size_t n);
const char *mxg_rfind(const char *s, const char *e, const char *lit, size_t n);
const char *mxg_find_ci(const char *s, const char *e, const char *lit,
			size_t n);
bool mxg_starts(const char *s, const char *e, const char *lit, size_t n);
bool mxg_starts_ci(const char *s, const char *e, const char *lit, size_t n);

/* An address filling [s, e) exactly; 0 or -EINVAL. */
int mxg_addr_span(const char *s, const char *e, struct mxg_addr *out);
/* The same, also with a ":port" after it. */
int mxg_addr_port_span(const char *s, const char *e, struct mxg_addr *out);
/* The "[addr]" that ends at rb (the ']'); its '[' or NULL. */
const char *mxg_addr_bracket_before(const char *s, const char *rb,
				    struct mxg_addr *out);

/*
 * The client in a proxy's list "a, b, c" in [s, e) (X-Forwarded-For): a
 * proxy appends the peer it saw, so a client can only add entries to the
 * left. The rightmost address that is not private (RFC 1918, loopback,
 * link-local, CGN, ULA: another proxy hop), else the rightmost. 0 or
 * -EINVAL.
 */
int mxg_addr_list_client(const char *s, const char *e, struct mxg_addr *out);

/* ev->user from [s, e), cut to fit, control bytes made '?'. */
void mxg_user_copy(struct mxg_auth_event *ev, const char *s, const char *e);
/* Leading decimal digits (saturating near 10^7); *endp after them. */
unsigned int mxg_uint(const char *s, const char *e, const char **endp);

bool mxg_is_hex(char c);
/* The end of a "key=VALUE" value: the next space or e. */
const char *mxg_value_end(const char *v, const char *e);

/* Literal-length helpers: FIND(s, e, "text"). */
#define MXG_FIND(s, e, lit)	mxg_find((s), (e), (lit), sizeof(lit) - 1)
#define MXG_RFIND(s, e, lit)	mxg_rfind((s), (e), (lit), sizeof(lit) - 1)
#define MXG_FIND_CI(s, e, lit)	mxg_find_ci((s), (e), (lit), sizeof(lit) - 1)
#define MXG_STARTS(s, e, lit)	mxg_starts((s), (e), (lit), sizeof(lit) - 1)
#define MXG_STARTS_CI(s, e, lit) mxg_starts_ci((s), (e), (lit), sizeof(lit) - 1)

#endif
