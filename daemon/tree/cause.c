/* Shared cause strings. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cause.h"

struct cause {
	unsigned long refs;
	enum cause_class cls;
	char text[];
};

struct cause *
cause_new(enum cause_class cls, const char *fmt, ...)
{
	struct cause *c;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (c = malloc(sizeof *c + (size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(c->text, (size_t)n + 1, fmt, ap);
	va_end(ap);
	c->refs = 1;
	c->cls = cls;
	return c;
}

struct cause *
cause_ref(struct cause *c)
{
	if (c != NULL)
		c->refs++;
	return c;
}

void
cause_unref(struct cause *c)
{
	if (c != NULL && --c->refs == 0)
		free(c);
}

const char *
cause_text(const struct cause *c)
{
	return c != NULL ? c->text : NULL;
}

enum cause_class
cause_class(const struct cause *c)
{
	return c != NULL ? c->cls : CAUSE_OTHER;
}
