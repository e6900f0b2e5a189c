/*
 * Events the daemon owns through a pointer field (timers mostly): freeing
 * one and forgetting it in one step, so a field is never left pointing at
 * a freed event.
 */
#ifndef TIMER_H
#define TIMER_H

struct event;

/* Frees *evp (deleting it first when pending) and sets it to NULL;
 * nothing when it is NULL already. */
void timer_clear(struct event **evp);

#endif
