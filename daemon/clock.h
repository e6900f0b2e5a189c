/* Time as the daemon reads it: wall clock for views, monotonic for timers. */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>
#include <sys/time.h>

int64_t clock_wall_ms(void); /* ms since the epoch, for started_ms etc. */
int64_t clock_mono_ms(void); /* ms on CLOCK_MONOTONIC, for intervals */
struct timeval clock_tv(int64_t ms);

#endif
