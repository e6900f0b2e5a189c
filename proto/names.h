/*
 * Tables of names the protocol spells out: signals ("TERM" <-> SIGTERM,
 * "SIGTERM" accepted too) and errno names ("ENOENT").
 */
#ifndef PROTO_NAMES_H
#define PROTO_NAMES_H

/* -1 when unknown. */
int proto_signal_parse(const char *name);
/* "TERM"; NULL when the signal has no name here. */
const char *proto_signal_name(int sig);
/* "ENOENT"; "E?" (never NULL) when unknown. */
const char *proto_errno_name(int e);

#endif
