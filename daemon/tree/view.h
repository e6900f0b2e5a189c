/* Node views: what spawn, inspect, cancel and wait return (PROTOCOL.md). */
#ifndef VIEW_H
#define VIEW_H

#include <jansson.h>

struct node;

/* A new view of n with children down to depth (-1: all, 0: none). */
json_t *view_node(const struct node *n, int depth);
/* {"code": N} or {"signal": "KILL"}; JSON null before any end. */
json_t *view_exit(const struct node *n);

#endif
