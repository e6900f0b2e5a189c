/* arborctl's small shared checks: running out of memory. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>

#include "ctl.h"

int
ctl_oom(void)
{
	fprintf(stderr, "arborctl: out of memory\n");
	return CTL_EXIT_ERROR;
}
