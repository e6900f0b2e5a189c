/* timer_clear: freeing an owned event and its pointer together. */
#include <stddef.h>

#include <event2/event.h>

#include "timer.h"

void
timer_clear(struct event **evp)
{
	if (*evp != NULL) {
		event_free(*evp);
		*evp = NULL;
	}
}
