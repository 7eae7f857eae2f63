// SPDX-License-Identifier: GPL-2.0
/*
 * Seeded random frames through BPF_PROG_TEST_RUN against an oracle.
 *
 * The frames mix truncations, odd IPv4 header lengths and total lengths,
 * 0 to 3 VLAN tags, IPv6 extension chains (hop-by-hop, routing, destination
 * options, AH, fragment), first, later, tiny and overlapping fragments, odd
 * TCP flags and data offsets, Ethernet padding, and sources from a pool of
 * which some are denied (active, expired, nested) and some allowlisted.
 *
 * The oracle below is written from the README's "How it decides" rules,
 * not from bpf/parsing.h: it reads the frame with plain byte offsets and
 * says which verdict and which counter the rules give. Every frame checks
 *   (a) nothing is dropped outside those rules (the verdicts agree), and
 *   (b) no frame from a denied source that could carry data to a protected
 *       port passes (a fragment, a TCP header to a protected port, or an
 *       IPv6 chain too long to read), unless allowlisted or in monitor mode;
 * and the counters the rules name move, every frame.
 *
 * Rate drops depend on history, so every port gets the largest rate and
 * burst: the bucket never runs out here (tests/bpf/test_xdp.c covers it).
 *
 *   MXG_SEED=N      seed (default 20261201), printed either way
 *   MXG_FRAMES=N    frames to try (default 2000000)
 *   MXG_SECONDS=S   stop earlier after S seconds (default 240)
 */
#include <stddef.h>
#include <sys/mount.h>

#include "test.h"
#include "xdp_fixture.h"

#define DEFAULT_SEED	20261201ULL
#define DEFAULT_FRAMES	2000000ULL
#define DEFAULT_SECONDS	240.0

/* What the README gives as limits of the walk. */
#define O_MAX_VLAN	2
#define O_MAX_V6_EXT	8

static const uint16_t protected_ports[] = { 25, 465, 587 };

/* ---- random numbers ------------------------------------------------------ */

static uint64_t rng_state;

/* splitmix64: small, seedable, good enough for test inputs. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

/* true with probability pct/100 */
static bool chance(uint32_t pct)
{
	return below(100) < pct;
}

/* ---- the lists ------------------------------------------------------------ */

enum ent_kind { ALLOW, DENY_ACTIVE, DENY_PERMANENT, DENY_EXPIRED };

struct ent {
	const char *cidr;
	enum ent_kind kind;
	int family;
	uint8_t addr[16];
	int plen;
};

/*
 * Sources are drawn from 198.18.0-7.x and 2001:db8:0-7::x; these entries
 * cover some of them: plain bans, an expired one, an expired host or
 * half inside an active range, an allowed half inside a ban.
 */
static struct ent ents[] = {
	{ .cidr = "198.18.1.0/24", .kind = DENY_PERMANENT },
	{ .cidr = "198.18.2.0/24", .kind = DENY_EXPIRED },
	{ .cidr = "198.18.3.0/24", .kind = DENY_ACTIVE },
	{ .cidr = "198.18.3.0/25", .kind = DENY_EXPIRED },
	{ .cidr = "198.18.3.7/32", .kind = DENY_EXPIRED },
	{ .cidr = "198.18.4.0/24", .kind = DENY_ACTIVE },
	{ .cidr = "198.18.4.128/25", .kind = ALLOW },
	{ .cidr = "198.18.5.0/24", .kind = ALLOW },
	{ .cidr = "198.18.6.7/32", .kind = DENY_ACTIVE },
	{ .cidr = "198.18.6.0/24", .kind = DENY_EXPIRED },
	{ .cidr = "2001:db8:1::/48", .kind = DENY_PERMANENT },
	{ .cidr = "2001:db8:2::/48", .kind = DENY_EXPIRED },
	{ .cidr = "2001:db8:3::/48", .kind = DENY_ACTIVE },
	{ .cidr = "2001:db8:3::/64", .kind = DENY_EXPIRED },
	{ .cidr = "2001:db8:3::7/128", .kind = DENY_EXPIRED },
	{ .cidr = "2001:db8:4::/48", .kind = DENY_ACTIVE },
	{ .cidr = "2001:db8:4::/64", .kind = ALLOW },
	{ .cidr = "2001:db8:5::/48", .kind = ALLOW },
	{ .cidr = "2001:db8:6::7/128", .kind = DENY_ACTIVE },
	{ .cidr = "2001:db8:6::/48", .kind = DENY_EXPIRED },
};
#define NENTS (sizeof(ents) / sizeof(ents[0]))

static bool prefix_covers(const struct ent *e, int family, const uint8_t *src)
{
	int bits = e->plen, i;

	if (e->family != family)
		return false;
	for (i = 0; bits > 0; i++, bits -= 8) {
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if ((src[i] & mask) != (e->addr[i] & mask))
			return false;
	}
	return true;
}

/* Longest deny entry covering src with a prefix of at most maxlen bits. */
static const struct ent *deny_longest(int family, const uint8_t *src, int maxlen)
{
	const struct ent *best = NULL;
	size_t i;

	for (i = 0; i < NENTS; i++) {
		if (ents[i].kind == ALLOW || ents[i].plen > maxlen ||
		    !prefix_covers(&ents[i], family, src))
			continue;
		if (!best || ents[i].plen > best->plen)
			best = &ents[i];
	}
	return best;
}

static bool oracle_allowed(int family, const uint8_t *src)
{
	size_t i;

	for (i = 0; i < NENTS; i++)
		if (ents[i].kind == ALLOW && prefix_covers(&ents[i], family, src))
			return true;
	return false;
}

enum deny_state { NOT_DENIED, DENY_EXPIRED_ONLY, DENIED };

/* README: when the longest match has expired, the longest active wider entry counts. */
static enum deny_state oracle_deny(int family, const uint8_t *src)
{
	const struct ent *d = deny_longest(family, src, 128), *w;
	int steps;

	if (!d)
		return NOT_DENIED;
	/* the program looks at most MXG_DENY_WIDER wider entries; ours nest 3 deep */
	for (steps = 0; steps < MXG_DENY_WIDER && d->kind == DENY_EXPIRED && d->plen; steps++) {
		w = deny_longest(family, src, d->plen - 1);
		if (!w)
			break;
		d = w;
	}
	return d->kind == DENY_EXPIRED ? DENY_EXPIRED_ONLY : DENIED;
}

static int lists_load(struct fixture *fx)
{
	int64_t now = boot_ns();
	size_t i;
	int err;

	for (i = 0; i < NENTS; i++) {
		char buf[64], *slash;
		uint64_t exp;

		snprintf(buf, sizeof(buf), "%s", ents[i].cidr);
		slash = strchr(buf, '/');
		*slash = 0;
		ents[i].plen = atoi(slash + 1);
		ents[i].family = strchr(buf, ':') ? 6 : 4;
		memset(ents[i].addr, 0, 16);
		inet_pton(ents[i].family == 6 ? AF_INET6 : AF_INET, buf, ents[i].addr);
		exp = ents[i].kind == DENY_EXPIRED ? (uint64_t)(now - 1000000000LL) :
		      ents[i].kind == DENY_ACTIVE ? (uint64_t)(now + 3600LL * 1000000000LL) : 0;
		err = list_add(fx, ents[i].kind != ALLOW, ents[i].cidr, exp);
		if (err)
			return err;
	}
	return 0;
}

/* ---- the oracle ----------------------------------------------------------- */

/* What the rules say of a frame. */
struct want {
	int verdict;
	size_t counter;		/* offsetof + 1 of the reason counter, 0 for none */
	bool smtp_syn;
	bool deny_expired;	/* an expired entry was the judge, and the rules went on */
	/* for property (b) */
	bool ip;
	int family;
	uint8_t src[16];
	bool carries_to_smtp;	/* fragment, TCP to a protected port, or unreadable chain */
};

#define CNT(f) (offsetof(struct mxg_stats, f) + 1)

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool is_protected(uint16_t port)
{
	size_t i;

	for (i = 0; i < sizeof(protected_ports) / sizeof(protected_ports[0]); i++)
		if (protected_ports[i] == port)
			return true;
	return false;
}

/* Facts about the layer 4 of a parsed packet. */
struct l4 {
	bool tcp;		/* a whole TCP header */
	bool port_known;
	uint16_t port;
	bool syn, ack;
	bool frag;		/* part of a larger datagram */
	bool frag_bad;		/* tiny first fragment, cut chain, or TCP at offset 8 */
	bool opaque;		/* IPv6 chain longer than the program walks */
};

enum verdict_kind { V_IP, V_MALFORMED, V_NON_IP };

/*
 * A first fragment's TCP bytes: `have` in the frame, `says` by the IP
 * lengths. README: it must hold the whole 20-byte TCP header (data offset
 * at least 5), else it is a tiny fragment; its port counts when 4 bytes
 * are there.
 */
static void first_frag_tcp(const uint8_t *t, long have, long says, struct l4 *l)
{
	long n = have < says ? have : says;

	if (n >= 20 && (t[12] >> 4) >= 5) {
		l->tcp = l->port_known = true;
		l->port = be16(t + 2);
		l->syn = t[13] & TF_SYN;
		l->ack = t[13] & TF_ACK;
		return;
	}
	l->frag_bad = true;
	if (n >= 4) {
		l->port_known = true;
		l->port = be16(t + 2);
	}
}

/* An unfragmented TCP header: whole, with data offset 5 or more, or malformed. */
static enum verdict_kind whole_tcp(const uint8_t *t, long have, struct l4 *l)
{
	if (have < 20 || (t[12] >> 4) < 5)
		return V_MALFORMED;
	l->tcp = l->port_known = true;
	l->port = be16(t + 2);
	l->syn = t[13] & TF_SYN;
	l->ack = t[13] & TF_ACK;
	return V_IP;
}

static enum verdict_kind read_v4(const uint8_t *ip, long have, struct want *w, struct l4 *l)
{
	long hlen, tot;
	uint16_t fo;

	if (have < 20 || (ip[0] >> 4) != 4 || (ip[0] & 15) < 5)
		return V_MALFORMED;
	hlen = (ip[0] & 15) * 4;
	if (hlen > have)
		return V_MALFORMED;
	w->family = 4;
	memcpy(w->src, ip + 12, 4);
	fo = be16(ip + 6);
	tot = be16(ip + 2);
	if (fo & 0x3fff) {			/* MF or an offset: a fragment */
		l->frag = true;
		if (fo & 0x1fff) {		/* later fragment: payload only */
			if (ip[9] == IPPROTO_TCP && (fo & 0x1fff) == 1)
				l->frag_bad = true;
			return V_IP;
		}
		if (ip[9] == IPPROTO_TCP)
			first_frag_tcp(ip + hlen, have - hlen, tot > hlen ? tot - hlen : 0, l);
		return V_IP;
	}
	if (ip[9] != IPPROTO_TCP)
		return V_IP;
	return whole_tcp(ip + hlen, have - hlen, l);
}

static enum verdict_kind read_v6(const uint8_t *ip, long have, struct want *w, struct l4 *l)
{
	long pos = 40, walked = 0, payload;
	uint8_t nh;
	int i;

	if (have < 40 || (ip[0] >> 4) != 6)
		return V_MALFORMED;
	w->family = 6;
	memcpy(w->src, ip + 8, 16);
	payload = be16(ip + 4);
	nh = ip[6];
	for (i = 0; i < O_MAX_V6_EXT; i++) {
		long len;

		switch (nh) {
		case IPPROTO_TCP:
			if (!l->frag)
				return whole_tcp(ip + pos, have - pos, l);
			first_frag_tcp(ip + pos, have - pos, payload > walked ? payload - walked : 0, l);
			return V_IP;
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
			if (pos + 2 > have)
				goto cut;
			len = nh == IPPROTO_AH ? (ip[pos + 1] + 2) * 4 : (ip[pos + 1] + 1) * 8;
			nh = ip[pos];
			pos += len;
			walked += len;
			break;
		case IPPROTO_FRAGMENT: {
			uint16_t fo;

			if (pos + 8 > have)
				goto cut;
			fo = be16(ip + pos + 2);
			if (fo & 0xfff9)	/* an offset or M: not an atomic fragment */
				l->frag = true;
			if (fo & 0xfff8) {
				if ((fo & 0xfff8) == 8)	/* any protocol it names */
					l->frag_bad = true;
				return V_IP;
			}
			nh = ip[pos];
			pos += 8;
			walked += 8;
			break;
		}
		default:
			return V_IP;
		}
	}
	l->opaque = true;
	return V_IP;
cut:
	if (!l->frag)
		return V_MALFORMED;
	l->frag_bad = true;
	return V_IP;
}

static void oracle(const uint8_t *d, long len, uint32_t flags, struct want *w)
{
	bool monitor = flags & MXG_F_MONITOR, deny_all = flags & MXG_F_DENY_ALL;
	enum verdict_kind k = V_NON_IP;
	struct l4 l = {};
	enum deny_state ds;
	uint16_t type;
	long pos = 14;
	bool limit;
	int tags;

	memset(w, 0, sizeof(*w));
	w->verdict = XDP_PASS;
	type = be16(d + 12);
	for (tags = 0; tags < O_MAX_VLAN && (type == ETH_P_8021Q || type == ETH_P_8021AD); tags++) {
		if (pos + 4 > len) {
			k = V_MALFORMED;
			goto judged;
		}
		type = be16(d + pos + 2);
		pos += 4;
	}
	if (type == ETH_P_IP)
		k = read_v4(d + pos, len - pos, w, &l);
	else if (type == ETH_P_IPV6)
		k = read_v6(d + pos, len - pos, w, &l);
judged:
	if (k == V_MALFORMED) {
		w->counter = CNT(malformed);
		return;
	}
	if (k == V_NON_IP) {
		w->counter = CNT(non_ip);
		return;
	}
	w->ip = true;
	limit = l.port_known && is_protected(l.port);
	w->carries_to_smtp = l.frag || (l.tcp && limit) || l.opaque;

	/* step 1: nothing here can drop it */
	if (!limit && !l.opaque && !l.frag && !deny_all) {
		w->counter = CNT(passed);
		return;
	}
	w->smtp_syn = limit && l.syn && !l.ack;
	ds = oracle_deny(w->family, w->src);
	w->deny_expired = ds == DENY_EXPIRED_ONLY;
	/* step 2, where step 3, 4 or 5 could judge the packet */
	if (oracle_allowed(w->family, w->src) &&
	    (ds == DENIED || (l.frag_bad && (limit || !l.port_known)) || w->smtp_syn)) {
		w->counter = CNT(allowlisted);
		return;
	}
	/* step 3 */
	if (ds == DENIED) {
		if (monitor) {
			w->counter = CNT(monitor_deny);
			return;
		}
		w->verdict = XDP_DROP;
		w->counter = limit || l.opaque || deny_all ? CNT(denied) : CNT(frag_denied);
		return;
	}
	/* step 4 */
	if (l.frag_bad && (limit || !l.port_known)) {
		if (monitor) {
			w->counter = CNT(monitor_frag);
			return;
		}
		w->verdict = XDP_DROP;
		w->counter = CNT(frag_invalid);
		return;
	}
	/* step 5 never drops here (largest burst); step 6 */
	w->counter = w->deny_expired ? CNT(deny_expired) : CNT(passed);
}

/* ---- the generator -------------------------------------------------------- */

static const uint16_t some_ports[] = { 25, 465, 587, 80, 443, 24, 26, 2525, 0, 65535 };

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint8_t tcp_flags_pick(void)
{
	switch (below(6)) {
	case 0: return TF_SYN;
	case 1: return TF_SYN | TF_ACK;
	case 2: return TF_ACK;
	case 3: return TF_SYN | TF_FIN | 0x08 /* PSH */;
	default: return (uint8_t)rnd();
	}
}

/* A layer-4 header of up to 20 bytes at p; returns its length. */
static uint32_t gen_l4(uint8_t *p, uint8_t proto)
{
	uint32_t i;

	for (i = 0; i < 20; i++)
		p[i] = (uint8_t)rnd();
	put_u16(p + 2, chance(80) ? some_ports[below(10)] : (uint16_t)rnd());
	if (proto != IPPROTO_TCP)
		return 8;
	p[12] = chance(85) ? 5 << 4 : (uint8_t)(below(16) << 4);
	p[13] = tcp_flags_pick();
	return 20;
}

static uint8_t proto_pick(bool v6)
{
	switch (below(8)) {
	case 0: return IPPROTO_UDP;
	case 1: return v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	case 2: return (uint8_t)rnd();
	default: return IPPROTO_TCP;
	}
}

/* The layer-4 bytes a fragment carries: often the whole header, often not. */
static uint32_t l4_carried(uint32_t full)
{
	switch (below(5)) {
	case 0: return below(full + 1);
	case 1: return 8;
	default: return full;
	}
}

static void src_pick(int family, uint8_t *out)
{
	memset(out, 0, 16);
	if (family == 4) {
		out[0] = 198;
		out[1] = 18;
		out[2] = below(8);
		out[3] = chance(20) ? 7 : (uint8_t)rnd();
		if (chance(10))
			out[3] = 128 + below(128);
	} else {
		out[0] = 0x20; out[1] = 0x01; out[2] = 0x0d; out[3] = 0xb8;
		out[5] = below(8);
		if (chance(30))
			out[15] = 7;
		else
			for (int i = 6; i < 16; i++)
				out[i] = chance(50) ? 0 : (uint8_t)rnd();
	}
}

/* IPv4 at p; returns the bytes written. */
static uint32_t gen_v4(uint8_t *p)
{
	uint8_t proto = proto_pick(false), l4[20];
	uint32_t ihl = chance(85) ? 5 : below(16), hlen, l4_full, l4_len, tot;
	uint16_t fo = 0;

	hlen = (ihl < 5 ? 5 : ihl) * 4;
	memset(p, 0, hlen);
	p[0] = (chance(97) ? 4 << 4 : (uint8_t)(below(16) << 4)) | ihl;
	if (hlen > 20)
		memset(p + 20, 1, hlen - 20);	/* NOP options */
	p[8] = 64;
	p[9] = proto;
	src_pick(4, p + 12);
	p[16] = 198; p[17] = 18; p[18] = 0; p[19] = 1;
	l4_full = gen_l4(l4, proto);
	l4_len = l4_full;
	switch (below(8)) {
	case 0: case 1: case 2:
		break;					/* whole */
	case 3:
		fo = 0x4000;				/* DF */
		break;
	case 4:
		fo = 0x2000;				/* first fragment */
		l4_len = l4_carried(l4_full);
		break;
	case 5:
		fo = (chance(50) ? 0x2000 : 0) | (chance(50) ? 1 : 1 + below(3));	/* at 8-24 bytes */
		break;
	case 6:
		fo = (chance(50) ? 0x2000 : 0) | (uint16_t)below(0x2000);
		break;
	default:
		fo = (uint16_t)rnd();
		break;
	}
	put_u16(p + 6, fo);
	memcpy(p + hlen, l4, l4_len);
	tot = hlen + l4_len;
	if (chance(5))
		tot = below(80);			/* a length that lies */
	put_u16(p + 2, tot);
	return hlen + l4_len;
}

/* IPv6 with an extension chain at p; returns the bytes written. */
static uint32_t gen_v6(uint8_t *p)
{
	static const uint8_t exts[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS,
					IPPROTO_AH, IPPROTO_FRAGMENT };
	uint8_t proto = proto_pick(true), *nh = p + 6, l4[20];
	uint32_t pos = 40, n_ext, i, l4_full, l4_len;
	bool first_frag = false;

	memset(p, 0, 40);
	p[0] = chance(97) ? 6 << 4 : (uint8_t)(below(16) << 4);
	p[7] = 64;
	src_pick(6, p + 8);
	p[24] = 0x20; p[25] = 0x01; p[26] = 0x0d; p[27] = 0xb8; p[39] = 0x25;
	n_ext = chance(40) ? 0 : chance(90) ? 1 + below(4) : 5 + below(6);
	for (i = 0; i < n_ext && pos < 300; i++) {
		uint8_t t = chance(40) ? IPPROTO_FRAGMENT : exts[below(5)];
		uint32_t len;

		*nh = t;
		nh = p + pos;
		if (t == IPPROTO_FRAGMENT) {
			uint16_t fo;

			switch (below(4)) {
			case 0: fo = 1; break;				/* first, M */
			case 1: fo = 0; break;				/* atomic */
			case 2: fo = (uint16_t)((1 + below(3)) << 3 | below(2)); break;
			default: fo = (uint16_t)rnd(); break;
			}
			first_frag |= !(fo & 0xfff8);
			memset(p + pos, 0, 8);
			put_u16(p + pos + 2, fo);
			p[pos + 7] = (uint8_t)rnd();
			len = 8;
		} else if (t == IPPROTO_AH) {
			uint8_t words = below(4);		/* (words + 2) * 4 bytes */

			len = (words + 2) * 4;
			memset(p + pos, 0, len);
			p[pos + 1] = words;
		} else {
			uint8_t units = below(3);		/* (units + 1) * 8 bytes */

			len = (units + 1) * 8;
			memset(p + pos, 0, len);
			p[pos + 1] = units;
			p[pos + 2] = 1;				/* PadN */
			p[pos + 3] = len - 4;
		}
		pos += len;
	}
	*nh = proto;
	l4_full = gen_l4(l4, proto);
	l4_len = first_frag && chance(50) ? l4_carried(l4_full) : l4_full;
	memcpy(p + pos, l4, l4_len);
	pos += l4_len;
	put_u16(p + 4, chance(5) ? (uint16_t)below(120) : (uint16_t)(pos - 40));
	return pos;
}

/* One random frame into f. */
static void gen_frame(struct frame *f)
{
	uint32_t ntags = chance(60) ? 0 : 1 + below(3), i, pos;
	uint16_t type;

	memset(f->d, 0, sizeof(f->d));
	for (i = 0; i < 12; i++)
		f->d[i] = (uint8_t)rnd();
	f->d[0] &= 0xfe;
	switch (below(10)) {
	case 0: type = ETH_P_ARP; break;
	case 1: type = (uint16_t)rnd(); break;
	case 2: case 3: case 4: case 5: type = ETH_P_IP; break;
	default: type = ETH_P_IPV6; break;
	}
	pos = 12;
	for (i = 0; i < ntags; i++) {
		put_u16(f->d + pos, chance(50) ? ETH_P_8021Q : ETH_P_8021AD);
		put_u16(f->d + pos + 2, (uint16_t)below(4096));
		pos += 4;
	}
	put_u16(f->d + pos, type);
	pos += 2;
	if (type == ETH_P_IP)
		pos += gen_v4(f->d + pos);
	else if (type == ETH_P_IPV6)
		pos += gen_v6(f->d + pos);
	else
		for (i = 0; i < 28; i++)
			f->d[pos++] = (uint8_t)rnd();
	f->len = pos;
	if (chance(10) && f->len > 15)
		f->len = 14 + below(f->len - 14);		/* cut anywhere after Ethernet */
	if (chance(10)) {				/* padding, zero or junk */
		uint32_t n = below(24);
		bool junk = chance(50);

		for (i = 0; i < n && f->len < PKT_MAX; i++)
			f->d[f->len++] = junk ? (uint8_t)rnd() : 0;
	}
	if (f->len < 60 && chance(50)) {		/* the Ethernet minimum, zero padded */
		memset(f->d + f->len, 0, 60 - f->len);
		f->len = 60;
	}
}

/* ---- the test ------------------------------------------------------------- */

static void dump_frame(const struct frame *f)
{
	uint32_t i;

	fprintf(stderr, "  frame (%u bytes):", f->len);
	for (i = 0; i < f->len; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n    ", f->d[i]);
	fprintf(stderr, "\n");
}

static const char *counter_name(size_t c)
{
	static const struct { size_t c; const char *n; } names[] = {
		{ CNT(packets), "packets" }, { CNT(dropped), "dropped" },
		{ CNT(smtp_syn), "smtp_syn" }, { CNT(rate_limited), "rate_limited" },
		{ CNT(monitor_rate), "monitor_rate" }, { CNT(cas_busy), "cas_busy" },
		{ CNT(passed), "passed" }, { CNT(malformed), "malformed" },
		{ CNT(non_ip), "non_ip" }, { CNT(allowlisted), "allowlisted" },
		{ CNT(denied), "denied" }, { CNT(deny_expired), "deny_expired" },
		{ CNT(monitor_deny), "monitor_deny" }, { CNT(frag_denied), "frag_denied" },
		{ CNT(frag_invalid), "frag_invalid" }, { CNT(monitor_frag), "monitor_frag" }, { CNT(deny_cached), "deny_cached" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].c == c)
			return names[i].n;
	return "?";
}

/*
 * The counters a frame moved, against the rules: packets and the verdict
 * counter by one, the reason counter by one, smtp_syn when a new
 * connection; events may move (one per deny entry per second), nothing else.
 */
static bool counters_agree(const struct mxg_stats *a, const struct mxg_stats *b,
			   const struct want *w)
{
	size_t off;

	for (off = 0; off < sizeof(*a); off += 8) {
		uint64_t d = stat_at(b, off) - stat_at(a, off), want = 0;

		if (off == offsetof(struct mxg_stats, events) ||
		    off == offsetof(struct mxg_stats, events_lost))
			continue;
		if (off == offsetof(struct mxg_stats, packets))
			want = 1;
		else if (off == offsetof(struct mxg_stats, passed))
			want = w->verdict == XDP_PASS;
		else if (off == offsetof(struct mxg_stats, dropped))
			want = w->verdict == XDP_DROP;
		else if (off == offsetof(struct mxg_stats, smtp_syn))
			want = w->smtp_syn;
		else if (off == offsetof(struct mxg_stats, deny_expired))
			want = w->deny_expired && w->counter != CNT(deny_expired);
		/* Whether the cache or the trie judged a denied frame is history. */
		else if (off == offsetof(struct mxg_stats, deny_cached) && d <= 1 &&
			 (w->counter == CNT(denied) || w->counter == CNT(frag_denied)))
			continue;
		if (w->counter && off == w->counter - 1 && off != offsetof(struct mxg_stats, passed))
			want++;
		if (d != want) {
			fprintf(stderr, "  counter %s moved by %llu, want %llu (rules: %s)\n",
				counter_name(off + 1), (unsigned long long)d, (unsigned long long)want,
				counter_name(w->counter));
			return false;
		}
	}
	return true;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static bool random_frames_agree_with_the_readme_rules(void)
{
	static const uint32_t epochs[] = { 0, MXG_F_DENY_ALL, MXG_F_MONITOR,
					   MXG_F_MONITOR | MXG_F_DENY_ALL };
	uint64_t seed = env_u64("MXG_SEED", DEFAULT_SEED);
	uint64_t frames = env_u64("MXG_FRAMES", DEFAULT_FRAMES);
	double secs = getenv("MXG_SECONDS") ? atof(getenv("MXG_SECONDS")) : DEFAULT_SECONDS;
	uint64_t n, drops = 0, frag = 0, mism = 0, denied_kept = 0;
	uint64_t by_reason[sizeof(struct mxg_stats) / 8 + 1] = {};
	double t0 = mono_s();
	struct mxg_stats s0, s1;
	struct fixture fx;
	uint32_t flags = ~0U;
	bool ok = true;
	size_t i;

	printf("  info: seed %llu (MXG_SEED to replay), up to %llu frames or %.0f s\n",
	       (unsigned long long)seed, (unsigned long long)frames, secs);
	rng_state = seed;
	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	for (i = 0; i < sizeof(protected_ports) / sizeof(protected_ports[0]); i++)
		ok &= ASSERT_EQ(set_port(&fx, protected_ports[i], MXG_RATE_MAX_PPS, MXG_BURST_MAX),
				0, "protected port, largest rate and burst");
	ok &= ASSERT_EQ(lists_load(&fx), 0, "deny and allow lists");
	ok &= ASSERT_EQ(stats_read(&fx, &s0), 0, "stats");
	if (!ok)
		goto out;

	for (n = 0; n < frames; n++) {
		uint32_t want_flags = epochs[n * 4 / frames], verdict;
		struct frame f;
		struct want w;
		int err;

		if (want_flags != flags) {
			flags = want_flags;
			if (!ASSERT_EQ(set_config(&fx, flags, 24, 64), 0, "config")) {
				ok = false;
				break;
			}
		}
		if ((n & 4095) == 0 && mono_s() - t0 > secs)
			break;
		gen_frame(&f);
		oracle(f.d, f.len, flags, &w);
		err = run_frame(fx.prog_fd, &f, 1, &verdict, NULL);
		if (err) {
			fprintf(stderr, "  frame %llu: test_run: %s\n", (unsigned long long)n, strerror(-err));
			dump_frame(&f);
			ok = false;
			break;
		}
		if (stats_read(&fx, &s1)) {
			ok = ASSERT_TRUE(false, "stats");
			break;
		}
		drops += verdict == XDP_DROP;
		by_reason[w.counter / 8]++;
		frag += w.counter == CNT(frag_denied) || w.counter == CNT(frag_invalid);
		/* (b) a denied source's data to a protected port never passes */
		if (w.ip && w.carries_to_smtp && !(flags & MXG_F_MONITOR) &&
		    !oracle_allowed(w.family, w.src) && oracle_deny(w.family, w.src) == DENIED) {
			if (verdict != XDP_DROP) {
				fprintf(stderr, "  frame %llu (flags %u): from a denied source, could reach a "
					"protected port, passed\n", (unsigned long long)n, flags);
				dump_frame(&f);
				ok = false;
				denied_kept++;
			}
		}
		/* (a) no drop outside the rules, and the rules' verdict */
		if (verdict != (uint32_t)w.verdict) {
			fprintf(stderr, "  frame %llu (flags %u): verdict %u, rules say %d (%s)\n",
				(unsigned long long)n, flags, verdict, w.verdict, counter_name(w.counter));
			dump_frame(&f);
			ok = false;
			mism++;
		} else if (!counters_agree(&s0, &s1, &w)) {
			fprintf(stderr, "  frame %llu (flags %u), verdict %u:\n",
				(unsigned long long)n, flags, verdict);
			dump_frame(&f);
			ok = false;
			mism++;
		}
		s0 = s1;
		if (mism + denied_kept >= 10) {
			fprintf(stderr, "  stopping after 10 mismatches\n");
			break;
		}
	}
	printf("  info: seed %llu: %llu frames tried in %.1f s, %llu dropped (%llu by the fragment rules), "
	       "%llu mismatches, %llu denied frames passed\n",
	       (unsigned long long)seed, (unsigned long long)n, mono_s() - t0,
	       (unsigned long long)drops, (unsigned long long)frag,
	       (unsigned long long)mism, (unsigned long long)denied_kept);
	printf("  info: frames by the rules' reason:");
	for (i = 0; i < sizeof(by_reason) / sizeof(by_reason[0]); i++)
		if (by_reason[i])
			printf(" %s %llu", counter_name(i * 8 + 1), (unsigned long long)by_reason[i]);
	printf("\n");
	ok &= ASSERT_TRUE(n >= 100000, "at least 100000 frames tried");
	ok &= ASSERT_TRUE(frag > 0, "the fragment rules were exercised");
out:
	fixture_close(&fx);
	return ok;
}

int main(void)
{
	if (bpffs_ready()) {
		mkdir("/sys/fs/bpf", 0755);
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL) || bpffs_ready()) {
			fprintf(stderr, "test_xdp_random: no bpffs at /sys/fs/bpf and cannot mount one\n");
			return 1;
		}
	}
	TEST_RUN(random_frames_agree_with_the_readme_rules);
	return test_summary();
}
