/*
 * The check of an exec spec that cannot be started at once (its parent's
 * ordered or group start has not reached it): what execvp and chdir would
 * refuse is refused now, with the same words, so a typo is a spawn_failed
 * answer and never a child failure that counts against the supervisor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"
#include "spec.h"

/* 0 when path names a file this process may execute; else an errno. The
 * child resolves a relative path after its chdir, so this does too. */
static int
check_file(const struct spec_exec *sx, const char *path)
{
	char buf[8192];
	struct stat st;

	if (path[0] != '/' && sx->cwd != NULL) {
		if (snprintf(buf, sizeof buf, "%s/%s", sx->cwd, path) >=
		    (int)sizeof buf)
			return ENAMETOOLONG;
		path = buf;
	}
	if (stat(path, &st) == -1)
		return errno;
	if (!S_ISREG(st.st_mode))
		return EACCES;
	if (access(path, X_OK) == -1)
		return errno;
	return 0;
}

/* As execvp searches: the spec's PATH, else the daemon's, else
 * /bin:/usr/bin; an empty entry is the current directory. EACCES wins
 * over ENOENT, as in execvp, when no entry works. */
static int
check_program(const struct spec_exec *sx)
{
	const char *name = sx->argv[0], *path = NULL, *p, *end;
	char buf[4096];
	int e, worst = ENOENT;

	if (strchr(name, '/') != NULL)
		return check_file(sx, name);
	for (char *const *v = sx->env; v != NULL && *v != NULL; v++)
		if (strncmp(*v, "PATH=", 5) == 0)
			path = *v + 5;
	if (path == NULL && (path = getenv("PATH")) == NULL)
		path = "/bin:/usr/bin";
	for (p = path;; p = end + 1) {
		int dlen;

		end = strchr(p, ':');
		dlen = end != NULL ? (int)(end - p) : (int)strlen(p);
		if (snprintf(buf, sizeof buf, "%.*s/%s", dlen ? dlen : 1,
		        dlen ? p : ".", name) < (int)sizeof buf) {
			if ((e = check_file(sx, buf)) == 0)
				return 0;
			if (e == EACCES)
				worst = EACCES;
		}
		if (end == NULL)
			break;
	}
	return worst;
}

int
exec_check_spec(const struct node_spec *spec, struct proto_err *err)
{
	const struct spec_exec *sx = &spec->u.exec;
	struct stat st;
	int e;

	if (sx->cwd != NULL) {
		e = stat(sx->cwd, &st) == -1    ? errno :
		    !S_ISDIR(st.st_mode)        ? ENOTDIR :
		    access(sx->cwd, X_OK) == -1 ? errno :
		                                  0;
		if (e != 0) {
			proto_errf(err, PROTO_SPAWN_FAILED,
			    "cannot change to "
			    "directory \"%s\": %s",
			    sx->cwd, strerror(e));
			err->sys_errno = e;
			return -1;
		}
	}
	if ((e = check_program(sx)) != 0) {
		proto_errf(err, PROTO_SPAWN_FAILED, "cannot execute \"%s\": %s",
		    sx->argv[0], strerror(e));
		err->sys_errno = e;
		return -1;
	}
	return 0;
}
