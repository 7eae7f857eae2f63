/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet parsing for the XDP program: cursor-style helpers that check every
 * header against data_end before reading it. A packet that ends inside a
 * header it announces is MALFORMED and passes untouched: a malformed packet
 * must never cause a drop.
 *
 * Fragments are the exception, because the kernel reassembles them into a
 * packet no filter has read: a first fragment that does not hold the whole
 * TCP header (RFC 1858 tiny fragments; RFC 7112 for IPv6, where the whole
 * header chain must be in the first fragment) is not malformed but marked
 * frag_bad, with its destination port when those 4 bytes are there; so is a
 * fragment at offset 8, which can rewrite the flags of the first (RFC 3128):
 * for IPv4 when it is TCP, for IPv6 whatever its fragment header names. What a first fragment holds is bounded by the length its IP
 * header gives as well as by the frame: Ethernet padding is not packet data.
 */
#ifndef MXG_BPF_PARSING_H
#define MXG_BPF_PARSING_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "mxguard.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

/* Fragment offset mask in iphdr.frag_off (network order handled by caller). */
#define MXG_IP_OFFSET 0x1FFF
/* "More fragments" flag in iphdr.frag_off. */
#define MXG_IP_MF 0x2000
/* Fragment offset mask in the IPv6 fragment header (low 3 bits are flags). */
#define MXG_IP6_OFFSET 0xFFF8
/* "More fragments" flag in the IPv6 fragment header. */
#define MXG_IP6_MF 0x0001
/* Offset (8 bytes) at which a fragment overlaps the TCP flags (RFC 3128). */
#define MXG_FRAG_OVERLAP_V4 1
#define MXG_FRAG_OVERLAP_V6 8
/* Bytes of TCP header that hold the destination port, and the fixed header. */
#define MXG_TCP_PORT_BYTES 4
#define MXG_TCP_HDR_BYTES 20

/* Most VLAN tags walked (802.1Q inside 802.1ad, i.e. QinQ). */
#define MXG_MAX_VLAN 2

enum parse_result {
	PARSE_OK = 0,		/* an IP packet, l4 filled in when present */
	PARSE_NOT_IP = 1,	/* not IPv4/IPv6: not ours */
	PARSE_MALFORMED = 2,	/* truncated or invalid header */
};

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
};

/* What the verdict needs from a packet. */
struct pkt {
	__u32 family;		/* 4 or 6 */
	__u8 src[16];		/* network order; v4 in the first 4 bytes */
	__u16 dport;		/* host order; valid when has_port */
	__u8 has_tcp;		/* a TCP header was found (first fragment or unfragmented) */
	__u8 has_port;		/* dport was read: has_tcp, or a first fragment cut short */
	__u8 syn;
	__u8 ack;
	__u8 l4_opaque;		/* IPv6 extension chain longer than we walk */
	__u8 frag;		/* a fragment of a larger datagram (not an atomic fragment) */
	__u8 frag_bad;		/* a fragment shaped as an attack, see the top of this file */
};

/* Ethernet and up to two VLAN tags; returns the inner EtherType (network order) or 0. */
static __always_inline int parse_eth(void **cur, void *data_end, __be16 *proto)
{
	struct ethhdr *eth = *cur;
	struct vlan_hdr *vh;
	__be16 p;
	int i;

	if ((void *)(eth + 1) > data_end)
		return PARSE_MALFORMED;
	p = eth->h_proto;
	*cur = eth + 1;

#pragma unroll
	for (i = 0; i < MXG_MAX_VLAN; i++) {
		if (p != bpf_htons(ETH_P_8021Q) && p != bpf_htons(ETH_P_8021AD))
			break;
		vh = *cur;
		if ((void *)(vh + 1) > data_end)
			return PARSE_MALFORMED;
		p = vh->encap_proto;
		*cur = vh + 1;
	}
	*proto = p;
	return PARSE_OK;
}

static __always_inline int parse_tcp(void *cur, void *data_end, struct pkt *pkt)
{
	struct tcphdr *th = cur;

	if ((void *)(th + 1) > data_end)
		return PARSE_MALFORMED;
	if (th->doff < 5)
		return PARSE_MALFORMED;
	pkt->has_tcp = 1;
	pkt->has_port = 1;
	pkt->dport = bpf_ntohs(th->dest);
	pkt->syn = th->syn;
	pkt->ack = th->ack;
	return PARSE_OK;
}

/*
 * The TCP header of a first fragment, of which the IP header says `len`
 * bytes are in this packet. Never MALFORMED: a header cut short is the
 * tiny-fragment attack, to be judged, not passed.
 */
static __always_inline int parse_tcp_first_frag(void *cur, void *data_end, __u32 len,
						struct pkt *pkt)
{
	struct tcphdr *th = cur;

	if ((void *)(th + 1) <= data_end && len >= MXG_TCP_HDR_BYTES && th->doff >= 5) {
		pkt->has_tcp = 1;
		pkt->has_port = 1;
		pkt->dport = bpf_ntohs(th->dest);
		pkt->syn = th->syn;
		pkt->ack = th->ack;
		return PARSE_OK;
	}
	pkt->frag_bad = 1;
	if (cur + MXG_TCP_PORT_BYTES <= data_end && len >= MXG_TCP_PORT_BYTES) {
		pkt->has_port = 1;
		pkt->dport = bpf_ntohs(th->dest);
	}
	return PARSE_OK;
}

/* An IPv6 header chain that ends before its upper layer: malformed, unless in a first fragment. */
static __always_inline int chain_cut(struct pkt *pkt)
{
	if (!pkt->frag)
		return PARSE_MALFORMED;
	pkt->frag_bad = 1;
	return PARSE_OK;
}

static __always_inline int parse_ipv4(void *cur, void *data_end, struct pkt *pkt)
{
	struct iphdr *iph = cur;
	__u32 hlen, ip_len;
	__be16 fo;

	if ((void *)(iph + 1) > data_end)
		return PARSE_MALFORMED;
	if (iph->version != 4 || iph->ihl < 5)
		return PARSE_MALFORMED;
	hlen = iph->ihl * 4;
	if (cur + hlen > data_end)
		return PARSE_MALFORMED;

	pkt->family = 4;
	__builtin_memcpy(pkt->src, &iph->saddr, 4);

	fo = iph->frag_off;
	if (!(fo & bpf_htons(MXG_IP_MF | MXG_IP_OFFSET))) {
		if (iph->protocol != IPPROTO_TCP)
			return PARSE_OK;
		return parse_tcp(cur + hlen, data_end, pkt);
	}
	pkt->frag = 1;
	/* A non-first fragment carries no TCP header, only payload bytes. */
	if (fo & bpf_htons(MXG_IP_OFFSET)) {
		if (iph->protocol == IPPROTO_TCP &&
		    (fo & bpf_htons(MXG_IP_OFFSET)) == bpf_htons(MXG_FRAG_OVERLAP_V4))
			pkt->frag_bad = 1;
		return PARSE_OK;
	}
	if (iph->protocol != IPPROTO_TCP)
		return PARSE_OK;
	ip_len = bpf_ntohs(iph->tot_len);
	return parse_tcp_first_frag(cur + hlen, data_end, ip_len > hlen ? ip_len - hlen : 0, pkt);
}

static __always_inline int parse_ipv6(void *cur, void *data_end, struct pkt *pkt)
{
	struct ipv6hdr *ip6 = cur;
	struct ipv6_opt_hdr *opt;
	struct ipv6_frag_hdr *frag;
	__u32 off = 0, len, plen;
	__u8 nexthdr;
	int i;

	if ((void *)(ip6 + 1) > data_end)
		return PARSE_MALFORMED;
	if (ip6->version != 6)
		return PARSE_MALFORMED;
	pkt->family = 6;
	__builtin_memcpy(pkt->src, &ip6->saddr, 16);
	nexthdr = ip6->nexthdr;
	cur = ip6 + 1;

#pragma unroll
	for (i = 0; i < MXG_MAX_IPV6_EXT; i++) {
		switch (nexthdr) {
		case IPPROTO_TCP:
			if (!pkt->frag)
				return parse_tcp(cur, data_end, pkt);
			plen = bpf_ntohs(ip6->payload_len);
			return parse_tcp_first_frag(cur, data_end, plen > off ? plen - off : 0, pkt);
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			opt = cur;
			if ((void *)(opt + 1) > data_end)
				return chain_cut(pkt);
			nexthdr = opt->nexthdr;
			len = (opt->hdrlen + 1) * 8;
			cur += len;
			off += len;
			break;
		case IPPROTO_AH:
			opt = cur;
			if ((void *)(opt + 1) > data_end)
				return chain_cut(pkt);
			nexthdr = opt->nexthdr;
			len = (opt->hdrlen + 2) * 4;
			cur += len;
			off += len;
			break;
		case IPPROTO_FRAGMENT:
			frag = cur;
			if ((void *)(frag + 1) > data_end)
				return chain_cut(pkt);
			/* Offset 0 without M is an atomic fragment (RFC 6946): a whole packet. */
			if (frag->frag_off & bpf_htons(MXG_IP6_OFFSET | MXG_IP6_MF))
				pkt->frag = 1;
			/*
			 * Later fragments hold payload, not a TCP header. The
			 * kernel takes the protocol from the first fragment, so
			 * one at offset 8 is suspect whatever it names; with a
			 * 1280-byte minimum MTU no stack sends one.
			 */
			if (frag->frag_off & bpf_htons(MXG_IP6_OFFSET)) {
				if ((frag->frag_off & bpf_htons(MXG_IP6_OFFSET)) ==
				    bpf_htons(MXG_FRAG_OVERLAP_V6))
					pkt->frag_bad = 1;
				return PARSE_OK;
			}
			nexthdr = frag->nexthdr;
			cur = frag + 1;
			off += sizeof(*frag);
			break;
		default:
			/* ESP, no next header, ICMPv6, UDP, ...: no TCP to look at. */
			return PARSE_OK;
		}
	}
	/*
	 * A chain longer than we walk may still hide a TCP SYN: the verdict
	 * applies the denylist to it as if it were SMTP, never the rate limit.
	 */
	pkt->l4_opaque = 1;
	return PARSE_OK;
}

static __always_inline int parse_packet(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *cur = (void *)(long)ctx->data;
	__be16 proto = 0;
	int ret;

	ret = parse_eth(&cur, data_end, &proto);
	if (ret)
		return ret;
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(cur, data_end, pkt);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(cur, data_end, pkt);
	return PARSE_NOT_IP;
}

#endif
