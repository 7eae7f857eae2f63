/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The evidence ring: the recent log lines the policy keeps, per address,
 * with secrets removed as they are added, so a ban can take its lines
 * along. The evidence files (evidence.h) are made from the policy's
 * records, never from here.
 *
 * Redaction (mxg_evidence_redact) removes, anywhere in a line:
 * - everything after a "password" or "passwd" marker followed by ':' or '='
 *   (Dovecot "(given password: xxx)", "password=xxx") up to the end of the
 *   line; a closing ')' that ends the line is kept when the marker sits
 *   inside parentheses;
 * - base64 blobs that decode to SASL PLAIN credentials
 *   ("authzid\0authcid\0password": exactly two NULs, the rest printable),
 *   anywhere (debug logs carry them after "AUTH PLAIN");
 * - after "authentication failed:" (Postfix puts there what the SASL layer
 *   returned), any base64 blob that decodes to something with a NUL.
 *   A blob such as "UGFzc3dvcmQ6" ("Password:", the LOGIN challenge) is kept.
 * Control characters become '?', a trailing CR/LF is dropped, so a line
 * stays one line in the evidence file. The replacement text is "***".
 */
#ifndef MXG_EVIDENCE_RING_H
#define MXG_EVIDENCE_RING_H

#include <stddef.h>

#include "addr.h"

/* Longest line kept, with the NUL; longer lines are cut. */
#define MXG_EVIDENCE_LINE_MAX 512

/* Replacement for removed secrets. */
#define MXG_REDACTED "***"

/*
 * Copy in[0..len) to out (outlen >= 1), without secrets, NUL-terminated,
 * cut to outlen - 1 bytes. Returns the length written.
 */
size_t mxg_evidence_redact(const char *in, size_t len, char *out,
			   size_t outlen);

/*
 * The ring of recent lines (used by the policy). Lines are redacted when
 * added; the oldest is overwritten when the ring is full.
 */
struct mxg_evidence_pool;

struct mxg_evidence_pool *mxg_evidence_pool_new(unsigned int lines);
void mxg_evidence_pool_free(struct mxg_evidence_pool *pool);
void mxg_evidence_pool_add(struct mxg_evidence_pool *pool,
			   const struct mxg_addr *addr, const char *line,
			   size_t len);

/*
 * Copy the last (at most max) lines from addresses inside cidr, oldest first,
 * into one malloc'd block of NUL-terminated strings laid end to end
 * (*blob, *n; *blob NULL when none). Returns 0 or -ENOMEM.
 */
int mxg_evidence_pool_collect(const struct mxg_evidence_pool *pool,
			      const struct mxg_cidr *cidr, unsigned int max,
			      char **blob, unsigned int *n);

/* Drop the lines of addresses inside cidr. */
void mxg_evidence_pool_forget(struct mxg_evidence_pool *pool,
			      const struct mxg_cidr *cidr);

#endif
