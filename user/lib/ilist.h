/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A doubly linked list through the slots of an array, by index, for the
 * fixed-size tables that keep a least-recently-used order (the policy's
 * counting table, the accounts store). Each slot holds a struct mxg_ilink
 * at offset off; stride is the slot's size. Head is the most recently
 * used. No allocation; MXG_NIL ends the list.
 */
#ifndef MXG_ILIST_H
#define MXG_ILIST_H

#include <stddef.h>
#include <stdint.h>

#define MXG_NIL UINT32_MAX

struct mxg_ilink {
	uint32_t prev, next;
};

struct mxg_ilist {
	uint32_t head, tail;
};

static inline struct mxg_ilink *mxg_ilink_at(void *base, size_t stride,
					     size_t off, uint32_t i)
{
	return (struct mxg_ilink *)((char *)base + (size_t)i * stride + off);
}

static inline void mxg_ilist_init(struct mxg_ilist *l)
{
	l->head = l->tail = MXG_NIL;
}

static inline void mxg_ilist_unlink(struct mxg_ilist *l, void *base,
				    size_t stride, size_t off, uint32_t i)
{
	struct mxg_ilink *n = mxg_ilink_at(base, stride, off, i);

	if (n->prev != MXG_NIL)
		mxg_ilink_at(base, stride, off, n->prev)->next = n->next;
	else
		l->head = n->next;
	if (n->next != MXG_NIL)
		mxg_ilink_at(base, stride, off, n->next)->prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = MXG_NIL;
}

static inline void mxg_ilist_push_head(struct mxg_ilist *l, void *base,
				       size_t stride, size_t off, uint32_t i)
{
	struct mxg_ilink *n = mxg_ilink_at(base, stride, off, i);

	n->prev = MXG_NIL;
	n->next = l->head;
	if (l->head != MXG_NIL)
		mxg_ilink_at(base, stride, off, l->head)->prev = i;
	l->head = i;
	if (l->tail == MXG_NIL)
		l->tail = i;
}

/* Make slot i, already in the list, the most recently used. */
static inline void mxg_ilist_touch(struct mxg_ilist *l, void *base,
				   size_t stride, size_t off, uint32_t i)
{
	if (l->head == i)
		return;
	mxg_ilist_unlink(l, base, stride, off, i);
	mxg_ilist_push_head(l, base, stride, off, i);
}

#endif
