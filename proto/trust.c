/* Deciding whether a socket path can be trusted (trust.h). */
#include <stdio.h>

#include "trust.h"

int
proto_trust_check(const struct stat *st, uid_t uid, bool dir, const char *what,
    const char *path, struct proto_err *err)
{
	if (dir ? !S_ISDIR(st->st_mode) : !S_ISSOCK(st->st_mode))
		return proto_errk(err, PROTO_CONFLICT, "forbidden",
		    "%s %s is not a %s "
		    "(a symlink or another kind of file); remove it or choose "
		    "another path",
		    what, path, dir ? "directory" : "socket");
	if (st->st_uid != uid && st->st_uid != 0)
		return proto_errk(err, PROTO_CONFLICT, "forbidden",
		    "%s %s belongs to uid "
		    "%ld, not to you (uid %ld) or root; someone else may have made "
		    "it to receive your requests: remove it or choose another "
		    "path",
		    what, path, (long)st->st_uid, (long)uid);
	if (dir && (st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (st->st_mode & S_ISVTX) == 0)
		return proto_errk(err, PROTO_CONFLICT, "forbidden",
		    "%s %s is writable by "
		    "others (mode %04o), who could replace the socket: make it "
		    "0700 (chmod 700 %s) or choose another path",
		    what, path, (unsigned)(st->st_mode & 07777), path);
	return 0;
}
