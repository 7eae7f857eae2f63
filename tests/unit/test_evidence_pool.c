// SPDX-License-Identifier: GPL-2.0
/*
 * The evidence ring's chains by /24 and /64: collecting and forgetting
 * through them gives exactly what a scan of the whole ring gives, for
 * hosts, narrow and wide ranges, through many overwrites of the ring.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence_ring.h"
#include "test.h"

#define RING	64
#define ADDS	20000

/* The reference: every line ever added, in order, with a forgotten mark. */
struct ref {
	struct mxg_addr addr;
	char text[32];
	bool gone;
};

static struct ref refs[ADDS];

static void rand_addr(struct mxg_addr *a, unsigned int r)
{
	memset(a, 0, sizeof(*a));
	if (r & 1) {
		a->family = 4;
		a->a[0] = 198;
		a->a[1] = 18 + (r >> 1) % 2;
		a->a[2] = (r >> 2) % 6;
		a->a[3] = (r >> 5) % 5;
	} else {
		a->family = 6;
		a->a[0] = 0x20;
		a->a[1] = 0x01;
		a->a[2] = 0x0d;
		a->a[3] = 0xb8;
		a->a[6] = (r >> 2) % 2;
		a->a[7] = (r >> 3) % 4;
		a->a[15] = (r >> 5) % 5;
	}
}

static void rand_cidr(struct mxg_cidr *c, unsigned int r)
{
	static const unsigned int v4[] = { 32, 24, 23, 16 };
	static const unsigned int v6[] = { 128, 64, 63, 48 };
	unsigned int plen;

	rand_addr(&c->addr, r);
	plen = c->addr.family == 4 ? v4[(r >> 8) % 4] : v6[(r >> 8) % 4];
	mxg_addr_mask(&c->addr, plen);
	c->prefixlen = plen;
}

/* What a full scan of the last RING lines would collect, oldest first. */
static unsigned int expect(unsigned int added, const struct mxg_cidr *c,
			   unsigned int max, char *out, size_t size)
{
	unsigned int from = added > RING ? added - RING : 0, i, n = 0, skip;
	size_t off = 0;

	out[0] = '\0';
	for (i = from; i < added; i++)
		if (!refs[i].gone && mxg_cidr_contains(c, &refs[i].addr))
			n++;
	skip = n > max ? n - max : 0;
	n = 0;
	for (i = from; i < added; i++) {
		if (refs[i].gone || !mxg_cidr_contains(c, &refs[i].addr))
			continue;
		if (skip) {
			skip--;
			continue;
		}
		off += (size_t)snprintf(out + off, size - off, "%s|", refs[i].text);
		n++;
	}
	return n;
}

static bool evidence_pool_collect_matches_a_full_scan(void)
{
	struct mxg_evidence_pool *pool = mxg_evidence_pool_new(RING);
	char want[RING * 40], got[RING * 40], *blob;
	unsigned int i, k, j, n, wn, bad = 0, checks = 0;
	struct mxg_cidr c;
	size_t off;
	const char *s;

	if (!ASSERT_TRUE(pool != NULL, "pool"))
		return false;
	srand(7);
	for (i = 0; i < ADDS; i++) {
		rand_addr(&refs[i].addr, (unsigned int)rand());
		snprintf(refs[i].text, sizeof(refs[i].text), "line %u", i);
		mxg_evidence_pool_add(pool, &refs[i].addr, refs[i].text,
				      strlen(refs[i].text));
		/* Now and then forget a range, as an unban does. */
		if (rand() % 50 == 0) {
			rand_cidr(&c, (unsigned int)rand());
			mxg_evidence_pool_forget(pool, &c);
			for (k = 0; k <= i; k++)
				if (mxg_cidr_contains(&c, &refs[k].addr))
					refs[k].gone = true;
		}
		for (k = 0; k < 3; k++) {
			unsigned int max = 1 + (unsigned int)rand() % 20;

			rand_cidr(&c, (unsigned int)rand());
			wn = expect(i + 1, &c, max, want, sizeof(want));
			if (mxg_evidence_pool_collect(pool, &c, max, &blob, &n))
				return false;
			off = 0;
			got[0] = '\0';
			for (s = blob, j = 0; j < n; j++, s += strlen(s) + 1)
				off += (size_t)snprintf(got + off, sizeof(got) - off, "%s|", s);
			free(blob);
			checks++;
			if (n != wn || strcmp(got, want)) {
				if (bad++ < 3) {
					char cb[MXG_CIDR_STRLEN];

					fprintf(stderr, "  after %u lines, %s max %u:\n    want %s\n    got  %s\n",
						i + 1, mxg_cidr_str(&c, cb, sizeof(cb)), max,
						want, got);
				}
			}
		}
	}
	mxg_evidence_pool_free(pool);
	fprintf(stderr, "  %u collects checked, %u differ\n", checks, bad);
	return bad == 0;
}

int main(void)
{
	TEST_RUN(evidence_pool_collect_matches_a_full_scan);
	return test_summary();
}
