/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fleet events on the wire: what one host tells the others through the
 * Redis stream, and the rules a received event must pass before a host
 * lets it near its maps. Pure functions: no I/O, no clock, no globals.
 *
 * An event is a flat list of field/value pairs (a stream entry, or the
 * hash of a current ban):
 *     v        1                       the format version
 *     op       ban | unban
 *     cidr     198.51.100.0/24         host bits zero
 *     expires  unix milliseconds       0: permanent (ban only)
 *     reason   manual|log|rate|import  (ban only)
 *     count    the origin's offence number, 1..65535 (ban only)
 *     origin   the host id of the sender: [A-Za-z0-9._-], 1..64 bytes
 *     evidence one line, printable ASCII, at most 200 bytes (may be empty)
 * Every field at most once; a field not in this list, a missing one, or a
 * value out of its bounds makes the whole event refused.
 */
#ifndef MXG_FLEET_WIRE_H
#define MXG_FLEET_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define MXG_FLEET_VERSION	"1"
#define MXG_FLEET_HOST_MAX	64	/* host id, without the NUL */
#define MXG_FLEET_NAME_MAX	32	/* fleet name (the key prefix part) */
#define MXG_FLEET_EVIDENCE_MAX	200	/* evidence summary, without the NUL */
#define MXG_FLEET_FIELDS	8	/* fields of one event we write at most */
/* Longest value of any field but evidence, with the NUL. */
#define MXG_FLEET_VALUE_MAX	(MXG_FLEET_HOST_MAX + 1)

enum mxg_fleet_op {
	MXG_FLEET_BAN = 1,
	MXG_FLEET_UNBAN = 2,
};

struct mxg_fleet_event {
	int op;				/* enum mxg_fleet_op */
	struct mxg_cidr cidr;
	uint64_t expires_ms;		/* unix ms; 0 = permanent */
	uint32_t reason;		/* enum mxg_reason (include/mxguard.h) */
	uint32_t count;			/* offence number at the origin */
	char origin[MXG_FLEET_HOST_MAX + 1];
	char evidence[MXG_FLEET_EVIDENCE_MAX + 1];
};

/* An event as field/value pairs, ready for a Redis command's argv. */
struct mxg_fleet_fields {
	unsigned int n;
	const char *name[MXG_FLEET_FIELDS];
	const char *value[MXG_FLEET_FIELDS];
	size_t len[MXG_FLEET_FIELDS];
	/* Storage the values point into. */
	char cidr[MXG_CIDR_STRLEN];
	char expires[24];
	char count[12];
};

/* Why an event was refused: the label of its counter. */
enum mxg_fleet_refusal {
	MXG_FLEET_OK = 0,
	MXG_FLEET_BAD_FORMAT,	/* unknown, missing, repeated or malformed field */
	MXG_FLEET_BAD_CIDR,	/* not a CIDR, or host bits set */
	MXG_FLEET_TOO_WIDE,	/* wider than this host's floor */
	MXG_FLEET_EXPIRED,	/* a ban whose expiry is past */
	MXG_FLEET_PROTECTED,	/* overlaps the allowlist, ignoreip, own or loopback */
	MXG_FLEET_N_REFUSALS,
};

/* "bad_format", "bad_cidr", ... for logs and metric labels. */
const char *mxg_fleet_refusal_name(int r);

/* "manual", "log", ... and back; 0 / NULL for what is none of them. */
const char *mxg_fleet_reason_name(uint32_t reason);
uint32_t mxg_fleet_reason_parse(const char *s, size_t len);

/* Is s a fit host id or fleet name: [A-Za-z0-9._-], 1..max bytes? */
bool mxg_fleet_id_ok(const char *s, size_t max);

/*
 * Make ev's fields (ev must itself be well formed: see mxg_fleet_decode).
 * The values point into f and ev, which must outlive f's use.
 */
void mxg_fleet_encode(const struct mxg_fleet_event *ev,
		      struct mxg_fleet_fields *f);

/*
 * Read an event from n field/value pairs (name[i], value[i] of vlen[i]
 * bytes; values need not be NUL-terminated). Returns MXG_FLEET_OK, or a
 * refusal with why filled ("unknown field \"x\"", ...).
 */
int mxg_fleet_decode(unsigned int n, const char *const *name,
		     const size_t *nlen, const char *const *value,
		     const size_t *vlen, struct mxg_fleet_event *ev,
		     char *why, size_t whylen);

/* What a host holds against a peer's event. */
struct mxg_fleet_rules {
	unsigned int floor_v4, floor_v6;	/* widest range accepted */
	const struct mxg_cidr *allow;		/* [xdp] allow */
	unsigned int n_allow;
	const struct mxg_cidr *ignore;		/* [policy] ignoreip */
	unsigned int n_ignore;
	const struct mxg_addr *own;		/* the host's own addresses */
	unsigned int n_own;
};

/*
 * May this host apply ev (decoded) at unix time now_ms? A ban must be no
 * wider than the floors, must not overlap a protected range or address
 * (neither inside it nor holding it), and must not have expired. An unban
 * only needs a well-formed CIDR. Returns MXG_FLEET_OK or the refusal, with
 * why filled.
 */
int mxg_fleet_check(const struct mxg_fleet_event *ev,
		    const struct mxg_fleet_rules *r, uint64_t now_ms,
		    char *why, size_t whylen);

/*
 * A stream entry id "MS-SEQ" and back. Parse returns 0 or -EINVAL;
 * format writes at most 42 bytes with the NUL.
 */
struct mxg_fleet_id {
	uint64_t ms, seq;
};
int mxg_fleet_id_parse(const char *s, size_t len, struct mxg_fleet_id *id);
void mxg_fleet_id_str(const struct mxg_fleet_id *id, char *buf, size_t size);
/* <0, 0, >0 as a is before, equal to or after b. */
int mxg_fleet_id_cmp(const struct mxg_fleet_id *a, const struct mxg_fleet_id *b);

#endif
