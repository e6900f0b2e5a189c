/*
 * Name tables the protocol spells out: signal names without the "SIG"
 * prefix, and errno names for spawn_failed errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* the signals and errno values beyond ISO C */
#endif

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "names.h"

struct proto_name {
	int value;
	const char *name;
};

static const struct proto_name proto_signals[] = {
	{ SIGHUP, "HUP" },
	{ SIGINT, "INT" },
	{ SIGQUIT, "QUIT" },
	{ SIGILL, "ILL" },
	{ SIGTRAP, "TRAP" },
	{ SIGABRT, "ABRT" },
	{ SIGBUS, "BUS" },
	{ SIGFPE, "FPE" },
	{ SIGKILL, "KILL" },
	{ SIGUSR1, "USR1" },
	{ SIGSEGV, "SEGV" },
	{ SIGUSR2, "USR2" },
	{ SIGPIPE, "PIPE" },
	{ SIGALRM, "ALRM" },
	{ SIGTERM, "TERM" },
#ifdef SIGSTKFLT
	{ SIGSTKFLT, "STKFLT" },
#endif
	{ SIGCHLD, "CHLD" },
	{ SIGCONT, "CONT" },
	{ SIGSTOP, "STOP" },
	{ SIGTSTP, "TSTP" },
	{ SIGTTIN, "TTIN" },
	{ SIGTTOU, "TTOU" },
	{ SIGURG, "URG" },
	{ SIGXCPU, "XCPU" },
	{ SIGXFSZ, "XFSZ" },
	{ SIGVTALRM, "VTALRM" },
	{ SIGPROF, "PROF" },
	{ SIGWINCH, "WINCH" },
#ifdef SIGIO
	{ SIGIO, "IO" },
#endif
#ifdef SIGPWR
	{ SIGPWR, "PWR" },
#endif
	{ SIGSYS, "SYS" },
};
#define PROTO_NSIGNALS (sizeof proto_signals / sizeof proto_signals[0])

/* Where two names share a value (EAGAIN and EWOULDBLOCK), the first wins
 * when formatting. */
#define E(x)                                                                   \
	{                                                                      \
		x, #x                                                          \
	}
static const struct proto_name proto_errnos[] = {
	E(EPERM),
	E(ENOENT),
	E(ESRCH),
	E(EINTR),
	E(EIO),
	E(ENXIO),
	E(E2BIG),
	E(ENOEXEC),
	E(EBADF),
	E(ECHILD),
	E(EAGAIN),
	E(ENOMEM),
	E(EACCES),
	E(EFAULT),
	E(ENOTBLK),
	E(EBUSY),
	E(EEXIST),
	E(EXDEV),
	E(ENODEV),
	E(ENOTDIR),
	E(EISDIR),
	E(EINVAL),
	E(ENFILE),
	E(EMFILE),
	E(ENOTTY),
	E(ETXTBSY),
	E(EFBIG),
	E(ENOSPC),
	E(ESPIPE),
	E(EROFS),
	E(EMLINK),
	E(EPIPE),
	E(EDOM),
	E(ERANGE),
	E(EDEADLK),
	E(ENAMETOOLONG),
	E(ENOLCK),
	E(ENOSYS),
	E(ENOTEMPTY),
	E(ELOOP),
	E(EWOULDBLOCK),
	E(ENOMSG),
	E(EIDRM),
	E(ENOSTR),
	E(ENODATA),
	E(ETIME),
	E(ENOSR),
	E(ENOLINK),
	E(EPROTO),
	E(EBADMSG),
	E(EOVERFLOW),
	E(EILSEQ),
	E(EUSERS),
	E(ENOTSOCK),
	E(EDESTADDRREQ),
	E(EMSGSIZE),
	E(EPROTOTYPE),
	E(ENOPROTOOPT),
	E(EPROTONOSUPPORT),
	E(ESOCKTNOSUPPORT),
	E(EOPNOTSUPP),
	E(ENOTSUP),
	E(EPFNOSUPPORT),
	E(EAFNOSUPPORT),
	E(EADDRINUSE),
	E(EADDRNOTAVAIL),
	E(ENETDOWN),
	E(ENETUNREACH),
	E(ENETRESET),
	E(ECONNABORTED),
	E(ECONNRESET),
	E(ENOBUFS),
	E(EISCONN),
	E(ENOTCONN),
	E(ESHUTDOWN),
	E(ETOOMANYREFS),
	E(ETIMEDOUT),
	E(ECONNREFUSED),
	E(EHOSTDOWN),
	E(EHOSTUNREACH),
	E(EALREADY),
	E(EINPROGRESS),
	E(ESTALE),
	E(EDQUOT),
	E(ECANCELED),
	E(EOWNERDEAD),
	E(ENOTRECOVERABLE),
#ifdef ENOMEDIUM
	E(ENOMEDIUM),
#endif
#ifdef EMEDIUMTYPE
	E(EMEDIUMTYPE),
#endif
#ifdef ENOKEY
	E(ENOKEY),
#endif
#ifdef ERFKILL
	E(ERFKILL),
#endif
};
#undef E
#define PROTO_NERRNOS (sizeof proto_errnos / sizeof proto_errnos[0])

int
proto_signal_parse(const char *name)
{
	size_t i;

	if (name == NULL)
		return (-1);
	if (strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (i = 0; i < PROTO_NSIGNALS; i++) {
		if (strcmp(proto_signals[i].name, name) == 0)
			return (proto_signals[i].value);
	}
	return (-1);
}

const char *
proto_signal_name(int sig)
{
	size_t i;

	for (i = 0; i < PROTO_NSIGNALS; i++) {
		if (proto_signals[i].value == sig)
			return (proto_signals[i].name);
	}
	return (NULL);
}

const char *
proto_errno_name(int e)
{
	size_t i;

	for (i = 0; i < PROTO_NERRNOS; i++) {
		if (proto_errnos[i].value == e)
			return (proto_errnos[i].name);
	}
	return ("E?");
}
