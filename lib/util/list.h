/* SPDX-License-Identifier: MIT */
/*
 * Intrusive circular doubly linked lists.
 *
 * A list head and a list node are the same structure; an empty list (or an
 * unlinked node after epcg_list_del_init) points at itself.  Nothing here
 * locks: the owner of the list says which lock guards it.
 */
#ifndef EPCG_UTIL_LIST_H
#define EPCG_UTIL_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "macros.h"

struct epcg_list {
	struct epcg_list *next;
	struct epcg_list *prev;
};

#define EPCG_LIST_INIT(name) { &(name), &(name) }

static inline void epcg_list_init(struct epcg_list *l)
{
	l->next = l;
	l->prev = l;
}

static inline bool epcg_list_empty(const struct epcg_list *l)
{
	return l->next == l;
}

static inline void epcg__list_insert(struct epcg_list *n, struct epcg_list *prev,
				     struct epcg_list *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

/* Insert @n right after @head (stack order). */
static inline void epcg_list_add(struct epcg_list *n, struct epcg_list *head)
{
	epcg__list_insert(n, head, head->next);
}

/* Insert @n right before @head, i.e. at the tail (queue order). */
static inline void epcg_list_add_tail(struct epcg_list *n,
				      struct epcg_list *head)
{
	epcg__list_insert(n, head->prev, head);
}

/* Unlink @n and leave it pointing at itself, so epcg_list_empty(n) holds. */
static inline void epcg_list_del_init(struct epcg_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	epcg_list_init(n);
}

static inline void epcg_list_move_tail(struct epcg_list *n,
				       struct epcg_list *head)
{
	epcg_list_del_init(n);
	epcg_list_add_tail(n, head);
}

#define epcg_list_entry(ptr, type, member) epcg_container_of(ptr, type, member)

#define epcg_list_first_entry(head, type, member) \
	epcg_list_entry((head)->next, type, member)

#define epcg_list_for_each(pos, head) \
	for (pos = (head)->next; pos != (head); pos = pos->next)

#define epcg_list_for_each_safe(pos, tmp, head)                  \
	for (pos = (head)->next, tmp = pos->next; pos != (head); \
	     pos = tmp, tmp = pos->next)

#define epcg_list_for_each_entry(pos, head, member)                    \
	for (pos = epcg_list_entry((head)->next, __typeof__(*pos), member); \
	     &pos->member != (head);                                        \
	     pos = epcg_list_entry(pos->member.next, __typeof__(*pos), member))

#define epcg_list_for_each_entry_safe(pos, tmp, head, member)               \
	for (pos = epcg_list_entry((head)->next, __typeof__(*pos), member),  \
	    tmp = epcg_list_entry(pos->member.next, __typeof__(*pos), member); \
	     &pos->member != (head); pos = tmp,                              \
	    tmp = epcg_list_entry(tmp->member.next, __typeof__(*tmp), member))

#endif
