/*
 * A small logging API in the OpenBSD manner: to stderr, one line each, with
 * the sd-daemon priority prefix ("<3>") so journald keeps the level; on a
 * terminal, plain lines ("warning: " and "error: " for those levels).
 */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Sets the level, and looks once at stderr and JOURNAL_STREAM to choose
 * between priority prefixes and plain lines. */
void log_init(enum log_level level);
/* Prefixes unless stderr is a terminal and JOURNAL_STREAM is unset or
 * empty: a journal, a pipe or a file keeps them. */
bool log_want_prefixes(bool stderr_tty, const char *journal_stream);
/* What log_init chose. */
bool log_get_prefixed(void);
enum log_level log_get_level(void);
/* "error", "warn", "info", "debug"; -1 when unknown. */
int log_level_parse(const char *name);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only for a broken invariant: logs and aborts. */
void
fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void
fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_enabled(l) ((l) <= log_get_level())

#endif
