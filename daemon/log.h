/*
 * A small logging API in the OpenBSD manner: to stderr, one line each, with
 * the sd-daemon priority prefix ("<3>") so journald keeps the level.
 */
#ifndef LOG_H
#define LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_init(enum log_level level);
enum log_level log_get_level(void);
/* "error", "warn", "info", "debug"; -1 when unknown. */
int log_level_parse(const char *name);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only for a broken invariant: logs and aborts. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#define log_enabled(l) ((l) <= log_get_level())

#endif
