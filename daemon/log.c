/*
 * Logging to stderr: with journald priority prefixes when a journal or a
 * file reads it, with plain lines on a terminal (decided once, at
 * log_init).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static enum log_level log_level = LOG_LEVEL_INFO;

static const char *const log_names[] = { "error", "warn", "info", "debug" };
/* syslog priorities: err, warning, info, debug */
static const int log_prio[] = { 3, 4, 6, 7 };
/* On a terminal: a word for what needs a look, nothing for the rest. */
static const char *const log_words[] = { "error: ", "warning: ", "", "" };
/* Until log_init: prefixes, as a journal wants them. */
static bool log_prefixed = true;

bool
log_want_prefixes(bool stderr_tty, const char *journal_stream)
{
	return !stderr_tty ||
	    (journal_stream != NULL && *journal_stream != '\0');
}

void
log_init(enum log_level level)
{
	log_level = level;
	log_prefixed = log_want_prefixes(isatty(STDERR_FILENO) == 1,
	    getenv("JOURNAL_STREAM"));
}

bool
log_get_prefixed(void)
{
	return log_prefixed;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof log_names / sizeof log_names[0]; i++)
		if (strcmp(name, log_names[i]) == 0)
			return (int)i;
	return -1;
}

static void
log_vwrite(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char buf[2048], head[16];
	int n;

	if (level > log_level)
		return;
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n < 0)
		return;
	if (log_prefixed)
		snprintf(head, sizeof head, "<%d>", log_prio[level]);
	else
		snprintf(head, sizeof head, "%s", log_words[level]);
	if (errnum != 0)
		fprintf(stderr, "%s%s: %s\n", head, buf, strerror(errnum));
	else
		fprintf(stderr, "%s%s\n", head, buf);
}

#define LOG_FN(fn, level, with_errno)                                          \
	void fn(const char *fmt, ...)                                          \
	{                                                                      \
		int saved = errno;                                             \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vwrite(level, with_errno ? saved : 0, fmt, ap);            \
		va_end(ap);                                                    \
		errno = saved;                                                 \
	}

LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, saved, fmt, ap);
	va_end(ap);
	abort();
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	abort();
}
