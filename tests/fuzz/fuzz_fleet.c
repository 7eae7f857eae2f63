// SPDX-License-Identifier: GPL-2.0
/*
 * A peer's fleet event (mxg_fleet_decode and mxg_fleet_check,
 * user/fleet/wire.c): anyone who can write the Redis stream controls
 * these bytes. The input is split at 0x01 bytes into name, value, name,
 * value, ... (values may hold NUL). What is accepted must be a clean
 * event: a masked CIDR of a sane length, an origin of [A-Za-z0-9._-],
 * printable evidence of at most 200 bytes, and it must come back the same
 * through encode and decode.
 */
#include "fuzz.h"
#include "mxguard.h"
#include "wire.h"

#define MAXF 16

static void check_clean(const struct mxg_fleet_event *ev)
{
	struct mxg_addr masked = ev->cidr.addr;
	size_t i;

	FUZZ_CHECK(ev->op == MXG_FLEET_BAN || ev->op == MXG_FLEET_UNBAN, "op %d", ev->op);
	FUZZ_CHECK(ev->cidr.addr.family == 4 || ev->cidr.addr.family == 6, "family");
	FUZZ_CHECK(ev->cidr.prefixlen <= (ev->cidr.addr.family == 4 ? 32u : 128u), "prefix");
	mxg_addr_mask(&masked, ev->cidr.prefixlen);
	FUZZ_CHECK(mxg_addr_equal(&masked, &ev->cidr.addr), "host bits");
	FUZZ_CHECK(mxg_fleet_id_ok(ev->origin, MXG_FLEET_HOST_MAX), "origin");
	FUZZ_CHECK(strlen(ev->evidence) <= MXG_FLEET_EVIDENCE_MAX, "evidence length");
	for (i = 0; ev->evidence[i]; i++)
		FUZZ_CHECK(ev->evidence[i] >= 0x20 && ev->evidence[i] <= 0x7e, "evidence byte");
	if (ev->op == MXG_FLEET_BAN) {
		FUZZ_CHECK(ev->reason >= MXG_REASON_MANUAL && ev->reason <= MXG_REASON_IMPORT,
			   "reason %u", ev->reason);
		FUZZ_CHECK(ev->count >= 1 && ev->count <= 65535, "count");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mxg_cidr allow[1] = { { { 4, { 192, 0, 2, 0 } }, 24 } };
	static const struct mxg_addr own[1] = { { 6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } } };
	struct mxg_fleet_rules rules = {
		.floor_v4 = 16, .floor_v6 = 32, .allow = allow, .n_allow = 1,
		.own = own, .n_own = 1,
	};
	const char *part[2 * MAXF], *name[MAXF], *value[MAXF];
	size_t plen[2 * MAXF], nlen[MAXF], vlen[MAXF];
	struct mxg_fleet_event ev, back;
	struct mxg_fleet_fields f;
	unsigned int n = 0, i, k;
	char why[256];
	size_t start = 0, j;
	int r;

	for (j = 0; j <= size && n < 2 * MAXF; j++) {
		if (j == size || data[j] == 0x01) {
			part[n] = (const char *)data + start;
			plen[n++] = j - start;
			start = j + 1;
		}
	}
	for (i = 0; i + 1 < n; i += 2) {
		name[i / 2] = part[i];
		nlen[i / 2] = plen[i];
		value[i / 2] = part[i + 1];
		vlen[i / 2] = plen[i + 1];
	}
	k = n / 2;
	r = mxg_fleet_decode(k, name, nlen, value, vlen, &ev, why, sizeof(why));
	FUZZ_CHECK(r >= 0 && r < MXG_FLEET_N_REFUSALS, "refusal %d", r);
	FUZZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL, "why not terminated");
	if (r != MXG_FLEET_OK)
		return 0;
	check_clean(&ev);
	r = mxg_fleet_check(&ev, &rules, 1800000000000ULL, why, sizeof(why));
	FUZZ_CHECK(r >= 0 && r < MXG_FLEET_N_REFUSALS, "check %d", r);
	if (r == MXG_FLEET_OK && ev.op == MXG_FLEET_BAN)
		FUZZ_CHECK(ev.cidr.prefixlen >= (ev.cidr.addr.family == 4 ? 16u : 32u),
			   "wider than the floor passed");
	mxg_fleet_encode(&ev, &f);
	for (i = 0; i < f.n; i++)
		nlen[i] = strlen(f.name[i]);
	r = mxg_fleet_decode(f.n, f.name, nlen, f.value, f.len, &back, why, sizeof(why));
	FUZZ_CHECK(r == MXG_FLEET_OK, "re-decode: %s", why);
	FUZZ_CHECK(back.op == ev.op && back.cidr.prefixlen == ev.cidr.prefixlen &&
		   mxg_addr_equal(&back.cidr.addr, &ev.cidr.addr) &&
		   back.expires_ms == ev.expires_ms && back.reason == ev.reason &&
		   back.count == ev.count && !strcmp(back.origin, ev.origin) &&
		   !strcmp(back.evidence, ev.evidence), "round trip");
	return 0;
}
