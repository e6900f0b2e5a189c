/*
 * Cgroups (v2), cgroup.h: finding a writable hierarchy, the layout below
 * ROOT, making and removing a node's cgroup, its limits, signals through
 * cgroup.procs and cgroup.kill, emptiness through cgroup.events (watched
 * with inotify: the kernel reports a change of "populated" as a
 * modification of that file, and an inotify fd is one more fd on the
 * loop, where epoll on the file itself would report it readable forever),
 * and accounting from cpu.stat, memory.* and pids.current. Every file
 * here is a pseudo-file: reading one is a short synchronous call.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <event2/event.h>

#include "cgroup.h"
#include "log.h"
#include "node.h"
#include "sentinel.h"
#include "spec.h"
#include "timer.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CG_PURGE_WAIT_MS 3000 /* for killed processes to go */
#define CG_ROOT_MAX      3072 /* room below it for a path of nodes */

/* The controllers whose limits a spec may ask for, in this order. */
enum { CG_CPU, CG_IO, CG_MEMORY, CG_PIDS };
static const char *const cg_limit_ctrls[] = { "cpu", "io", "memory", "pids",
	NULL };

static struct {
	bool available;
	bool own;      /* ROOT was arbord's own cgroup: it moved to a leaf */
	bool top;      /* ROOT is the top of the hierarchy */
	bool created;  /* arbord made ROOT: it removes it at exit */
	bool has_kill; /* cgroup.kill (Linux 5.14) */
	char reason[CG_ROOT_MAX + 256];
	char root[CG_ROOT_MAX];
	char tree[CG_ROOT_MAX + 8]; /* ROOT/tree */
	char controllers[256];      /* ROOT's cgroup.controllers */
	char enabled[64];           /* "+cpu +memory ...": our subtree's */
	bool ctrl_on[4];            /* cg_limit_ctrls enabled */
	int tree_fd;                /* owned: O_PATH fd of ROOT/tree, -1 */
	int ino;                    /* owned: inotify fd, -1 */
	struct event *ino_ev;       /* owned */
	void (*changed)(int wd);
} cg = { .ino = -1, .tree_fd = -1 };

/* dir below ROOT/tree, as a path relative to it ("web/w1"), or NULL. */
static const char *
cg_rel(const char *dir)
{
	size_t len = strlen(cg.tree);

	if (cg.tree_fd == -1 || strncmp(dir, cg.tree, len) != 0 ||
	    dir[len] != '/')
		return NULL;
	return dir + len + 1;
}

/* mkdir, rmdir and open of a directory below ROOT/tree, relative to
 * ROOT/tree's fd: a node's cgroup path is long, and walked for every
 * run. */
static int
cg_mkdir(const char *dir)
{
	const char *rel = cg_rel(dir);

	return rel != NULL ? mkdirat(cg.tree_fd, rel, 0755) : mkdir(dir, 0755);
}

static int
cg_rmdir(const char *dir)
{
	const char *rel = cg_rel(dir);

	return rel != NULL ? unlinkat(cg.tree_fd, rel, AT_REMOVEDIR) :
	                     rmdir(dir);
}

/* --- small file helpers -------------------------------------------------- */

/* Opens file in a cgroup: relative to ROOT/tree's fd when dir is below
 * it (a node's path is walked from there, not from /), else by path. */
static int
cg_open_in(const char *dir, const char *file, int flags)
{
	const char *rel = cg_rel(dir);
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof path, "%s/%s",
	        rel != NULL ? rel : dir, file) >= sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (rel != NULL)
		return openat(cg.tree_fd, path, flags | O_CLOEXEC);
	return open(path, flags | O_CLOEXEC);
}

/* Reads a whole small pseudo-file from fd at offset 0 into buf; its
 * length or -1. A cgroup file hands out its records a page at a time,
 * so a read that returns less than half a page returned all there is:
 * no second read for the end of the file. */
static ssize_t
cg_pread(int fd, char *buf, size_t size)
{
	ssize_t r, len = 0;

	while ((size_t)len < size - 1) {
		r = pread(fd, buf + len, size - 1 - (size_t)len, (off_t)len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		len += r;
		if (r == 0 || r < 2048)
			break;
	}
	buf[len] = '\0';
	return len;
}

static ssize_t
cg_read_at(const char *dir, const char *file, char *buf, size_t size)
{
	ssize_t len;
	int fd, e;

	if ((fd = cg_open_in(dir, file, O_RDONLY)) == -1)
		return -1;
	len = cg_pread(fd, buf, size);
	e = errno;
	close(fd);
	errno = e;
	return len;
}

/* 0 or -1 with errno. */
static int
cg_write_at(const char *dir, const char *file, const char *value)
{
	size_t len = strlen(value);
	ssize_t w;
	int fd, e;

	if ((fd = cg_open_in(dir, file, O_WRONLY)) == -1)
		return -1;
	w = write(fd, value, len);
	e = errno;
	close(fd);
	errno = e;
	return w == (ssize_t)len ? 0 : -1;
}

static int64_t
cg_read_num(const struct cgroup_run *r, const char *file)
{
	char buf[64];

	if (cg_read_at(r->dir, file, buf, sizeof buf) <= 0)
		return -1;
	if (strncmp(buf, "max", 3) == 0)
		return INT64_MAX;
	return strtoll(buf, NULL, 10);
}

/* --- pure helpers ------------------------------------------------------- */

int
cgroup_keyed(const char *text, const char *key, int64_t *out)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
			*out = strtoll(p + klen + 1, NULL, 10);
			return 0;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return -1;
}

/* mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SRC
 * SUPEROPTS; the mount point escapes spaces as \040. */
int
cgroup_find_mount(const char *mountinfo, char *buf, size_t size)
{
	char line[4096], mnt[PATH_MAX], *dash;
	int found = -1;
	FILE *f;

	if ((f = fopen(mountinfo, "re")) == NULL)
		return -1;
	while (found == -1 && fgets(line, sizeof line, f) != NULL) {
		char fstype[64];
		size_t j = 0;

		if ((dash = strstr(line, " - ")) == NULL ||
		    sscanf(dash + 3, "%63s", fstype) != 1 ||
		    strcmp(fstype, "cgroup2") != 0 ||
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		/* Undo the octal escapes (\040 space, \011 tab, \134). */
		for (size_t i = 0; mnt[i] != '\0' && j + 1 < size; i++) {
			if (mnt[i] == '\\' && mnt[i + 1] >= '0' &&
			    mnt[i + 1] <= '3' && mnt[i + 2] != '\0' &&
			    mnt[i + 3] != '\0') {
				buf[j++] = (char)((mnt[i + 1] - '0') * 64 +
				    (mnt[i + 2] - '0') * 8 +
				    (mnt[i + 3] - '0'));
				i += 3;
			} else
				buf[j++] = mnt[i];
		}
		buf[j] = '\0';
		found = 0;
	}
	fclose(f);
	return found;
}

int
cgroup_find_own(const char *self_cgroup, char *buf, size_t size)
{
	char line[PATH_MAX + 64];
	int found = -1;
	FILE *f;

	if ((f = fopen(self_cgroup, "re")) == NULL)
		return -1;
	while (found == -1 && fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (line[3] != '/' ||
		    (size_t)snprintf(buf, size, "%s", line + 3) >= size)
			continue;
		found = 0;
	}
	fclose(f);
	return found;
}

int
cgroup_detect(const char *mountinfo, const char *self_cgroup, char *buf,
    size_t size, bool *own, char *reason, size_t rsize)
{
	char mnt[PATH_MAX], rel[PATH_MAX];
	int n;

	*own = false;
	if (cgroup_find_mount(mountinfo, mnt, sizeof mnt) == -1) {
		snprintf(reason, rsize, "no cgroup2 file system is mounted");
		return -1;
	}
	if (cgroup_find_own(self_cgroup, rel, sizeof rel) == -1) {
		snprintf(reason, rsize,
		    "%s has no cgroup v2 line (\"0::\"): a cgroup v1 host",
		    self_cgroup);
		return -1;
	}
	if (strstr(rel, "/..") != NULL) {
		/* Outside our namespace's view: not ours to touch. */
		snprintf(reason, rsize,
		    "arbord's cgroup (%s) is outside the view of %s; give it "
		    "--cgroup PATH",
		    rel, mnt);
		return -1;
	}
	/* The top of the hierarchy (as root in a container with a cgroup
	 * namespace, say) is as much arbord's own as a delegated one: it is
	 * taken only if arbord is all there is in it (cg_setup checks). */
	if (strcmp(rel, "/") == 0)
		rel[0] = '\0';
	n = snprintf(buf, size, "%s%s", mnt, rel);
	*own = true;
	if (n < 0 || (size_t)n >= size) {
		snprintf(reason, rsize, "the cgroup path is too long");
		return -1;
	}
	return 0;
}

int
cgroup_escape(const char *name, char *buf, size_t size)
{
	bool esc = name[0] == '_' || strchr(name, '.') != NULL;
	int n = snprintf(buf, size, "%s%s", esc ? "_" : "", name);

	return n < 0 || (size_t)n >= size ? -1 : n;
}

int
cgroup_path_dir(const char *root, const char *path, char *buf, size_t size)
{
	size_t used;
	const char *p = path;
	int n;

	n = snprintf(buf, size, "%s/tree", root);
	if (n < 0 || (size_t)n >= size)
		return -1;
	used = (size_t)n;
	while (*p == '/')
		p++;
	while (*p != '\0') {
		char name[PROTO_NAME_MAX + 1];
		size_t len = strcspn(p, "/");

		if (len > PROTO_NAME_MAX || used + 1 >= size)
			return -1;
		memcpy(name, p, len);
		name[len] = '\0';
		buf[used++] = '/';
		if ((n = cgroup_escape(name, buf + used, size - used)) == -1)
			return -1;
		used += (size_t)n;
		p += len;
		while (*p == '/')
			p++;
	}
	return 0;
}

/* --- set-up and teardown ------------------------------------------------- */

/* Kills everything below dir and removes it, deepest first; waits (at
 * start and exit only) for the killed to go. */
static void
cg_purge(const char *dir, int depth)
{
	struct dirent *de;
	DIR *d;

	struct cgroup_run run = { (char *)dir, -1, false };

	if (depth == 0) {
		if (cg_write_at(dir, "cgroup.kill", "1") == -1 &&
		    errno == ENOENT)
			cgroup_signal(&run, SIGKILL);
	}
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char sub[PATH_MAX];

		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		struct cgroup_run subrun = { sub, -1, false };

		if ((size_t)snprintf(sub, sizeof sub, "%s/%s", dir,
		        de->d_name) >= sizeof sub)
			continue;
		if (!cg.has_kill)
			cgroup_signal(&subrun, SIGKILL);
		cg_purge(sub, depth + 1);
	}
	closedir(d);
	for (int ms = 0; rmdir(dir) == -1 && errno == EBUSY; ms += 5) {
		if (ms >= CG_PURGE_WAIT_MS) {
			log_warn("cgroups: cannot remove %s", dir);
			return;
		}
		if (!cg.has_kill)
			cgroup_signal(&run, SIGKILL);
		usleep(5000);
	}
}

/* Whether ROOT, arbord's own cgroup, holds only arbord and its sentinel:
 * a cgroup systemd delegated to the service. A shell's session scope or
 * an undelegated service's holds others, and is not arbord's to use. */
static bool
cg_only_ours(void)
{
	char buf[8192], *p, *end;

	if (cg_read_at(cg.root, "cgroup.procs", buf, sizeof buf) < 0)
		return false;
	for (p = buf;; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			return true;
		if (pid != (long)getpid() && pid != (long)sentinel_pid())
			return false;
	}
}

/* Every process of ROOT (arbord, its sentinel) into ROOT/arbord: a
 * cgroup that has children under controllers may hold no process. */
static int
cg_move_into_leaf(void)
{
	char leaf[PATH_MAX], buf[8192], *p, *end;

	if ((size_t)snprintf(leaf, sizeof leaf, "%s/arbord", cg.root) >=
	    sizeof leaf)
		return -1;
	if (mkdir(leaf, 0755) == -1 && errno != EEXIST)
		return -1;
	if (cg_read_at(cg.root, "cgroup.procs", buf, sizeof buf) < 0)
		return -1;
	for (p = buf; *p != '\0'; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0) {
			char v[32];

			snprintf(v, sizeof v, "%ld", pid);
			/* A process that just exited is no obstacle. */
			if (cg_write_at(leaf, "cgroup.procs", v) == -1 &&
			    errno != ESRCH)
				return -1;
		}
	}
	return 0;
}

static void
cg_inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t r;

	while ((r = read(cg.ino, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + r;) {
			const struct inotify_event *ev = (const void *)p;

			if ((ev->mask & IN_MODIFY) && cg.changed != NULL)
				cg.changed(ev->wd);
			p += sizeof *ev + ev->len;
		}
	}
}

/* Turns the limit controllers ROOT has on for our subtree, one by one
 * (one the host refuses does not keep the others off). */
static void
cg_enable_controllers(void)
{
	char want[16];
	size_t used = 0;

	for (int i = 0; cg_limit_ctrls[i] != NULL; i++) {
		const char *c = cg_limit_ctrls[i];
		const char *p = cg.controllers;
		size_t len = strlen(c);
		bool listed = false;

		for (; (p = strstr(p, c)) != NULL; p += len)
			if ((p == cg.controllers || p[-1] == ' ') &&
			    (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
				listed = true;
		snprintf(want, sizeof want, "+%s", c);
		if (!listed ||
		    cg_write_at(cg.root, "cgroup.subtree_control", want) ==
		        -1 ||
		    cg_write_at(cg.tree, "cgroup.subtree_control", want) == -1)
			continue;
		cg.ctrl_on[i] = true;
		used += (size_t)snprintf(cg.enabled + used,
		    sizeof cg.enabled - used, "%s%s", used ? " " : "", want);
	}
}

/* Where ROOT is: --cgroup, else found (cgroup_detect); whether it is
 * arbord's own cgroup (cg.own) and the top of the mount (cg.top). */
static int
cg_find_root(const struct cgroup_config *cfg)
{
	char own[PATH_MAX], rel[PATH_MAX], mnt[PATH_MAX];

	if (cfg->path != NULL) {
		if ((size_t)snprintf(cg.root, sizeof cg.root, "%s",
		        cfg->path) >= sizeof cg.root)
			return -1;
		/* arbord's own cgroup is a leaf already unless it is ROOT. */
		if (cgroup_find_mount(cfg->mountinfo, mnt, sizeof mnt) == 0 &&
		    cgroup_find_own(cfg->self_cgroup, rel, sizeof rel) == 0 &&
		    (size_t)snprintf(own, sizeof own, "%s%s", mnt,
		        strcmp(rel, "/") == 0 ? "" : rel) < sizeof own)
			cg.own = strcmp(own, cg.root) == 0;
	} else if (cgroup_detect(cfg->mountinfo, cfg->self_cgroup, cg.root,
	               sizeof cg.root, &cg.own, cg.reason,
	               sizeof cg.reason) == -1)
		return -1;
	cg.top = cgroup_find_mount(cfg->mountinfo, mnt, sizeof mnt) == 0 &&
	    strcmp(mnt, cg.root) == 0;
	return 0;
}

/* ROOT exists (made if need be), is cgroup2, writable, and, when it is
 * arbord's own, holds arbord alone, which then moves into ROOT/arbord. */
static int
cg_check_root(void)
{
	struct statfs sfs;

	if (mkdir(cg.root, 0755) == 0)
		cg.created = true;
	else if (errno != EEXIST) {
		snprintf(cg.reason, sizeof cg.reason, "cannot create %s: %s",
		    cg.root, strerror(errno));
		return -1;
	}
	if (statfs(cg.root, &sfs) == -1 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(cg.reason, sizeof cg.reason,
		    "%s is not in a cgroup2 file system", cg.root);
		if (cg.created)
			rmdir(cg.root);
		cg.created = false;
		return -1;
	}
	if (access(cg.root, W_OK) == -1) {
		snprintf(cg.reason, sizeof cg.reason, "%s is not writable: %s",
		    cg.root, strerror(errno));
		return -1;
	}
	if (cg.own && !cg_only_ours()) {
		if (cg.top)
			snprintf(cg.reason, sizeof cg.reason,
			    "arbord runs in the top cgroup of %s, which holds "
			    "other processes; give it --cgroup PATH, or run it "
			    "under systemd with Delegate=yes",
			    cg.root);
		else
			snprintf(cg.reason, sizeof cg.reason,
			    "%s holds processes other than arbord's (it was "
			    "not delegated to arbord); give it --cgroup PATH, "
			    "or run it under systemd with Delegate=yes",
			    cg.root);
		return -1;
	}
	if (cg.own && cg_move_into_leaf() == -1) {
		snprintf(cg.reason, sizeof cg.reason,
		    "cannot move arbord into %s/arbord: %s", cg.root,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* ROOT/tree, new (what an earlier arbord left goes first), its fd, and
 * what it offers: cgroup.kill, the controllers. */
static int
cg_make_tree(void)
{
	char kill[PATH_MAX + 16];

	snprintf(cg.tree, sizeof cg.tree, "%s/tree", cg.root);
	/* A previous arbord killed with -9: what it left goes now. */
	if (access(cg.tree, F_OK) == 0) {
		log_info("cgroups: removing %s, left by an earlier run",
		    cg.tree);
		cg.has_kill = true;
		cg_purge(cg.tree, 0);
	}
	if (mkdir(cg.tree, 0755) == -1) {
		snprintf(cg.reason, sizeof cg.reason, "cannot create %s: %s",
		    cg.tree, strerror(errno));
		return -1;
	}
	if ((cg.tree_fd = open(cg.tree, O_PATH | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		log_warn("cgroups: %s", cg.tree);
	snprintf(kill, sizeof kill, "%s/cgroup.kill", cg.tree);
	cg.has_kill = access(kill, W_OK) == 0;
	if (cg_read_at(cg.root, "cgroup.controllers", cg.controllers,
	        sizeof cg.controllers) < 0)
		cg.controllers[0] = '\0';
	cg.controllers[strcspn(cg.controllers, "\n")] = '\0';
	cg_enable_controllers();
	if (cg.has_kill)
		sentinel_set_cgroup_kill(kill);
	return 0;
}

static int
cg_setup(const struct cgroup_config *cfg)
{
	if (cg_find_root(cfg) == -1 || cg_check_root() == -1)
		return -1;
	return cg_make_tree();
}

int
cgroup_init(struct event_base *base, const struct cgroup_config *cfg_in)
{
	struct cgroup_config cfg = *cfg_in;

	if (cfg.mountinfo == NULL)
		cfg.mountinfo = CGROUP_MOUNTINFO;
	if (cfg.self_cgroup == NULL)
		cfg.self_cgroup = CGROUP_SELF_CGROUP;
	cg.available = false;
	if (cfg.disabled)
		snprintf(cg.reason, sizeof cg.reason,
		    "disabled by --no-cgroup");
	else if (cg_setup(&cfg) == 0)
		cg.available = true;
	if (!cg.available) {
		if (cg.reason[0] == '\0')
			snprintf(cg.reason, sizeof cg.reason,
			    "no writable cgroup v2 hierarchy");
		log_info("cgroups: not available (%s); workers are contained "
		         "by their process group, the subreaper and the "
		         "sentinel",
		    cg.reason);
		return 0;
	}
	if ((cg.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		log_warn("cgroups: inotify; the ends of runs are polled");
	else if ((cg.ino_ev = event_new(base, cg.ino, EV_READ | EV_PERSIST,
	              cg_inotify_cb, NULL)) == NULL ||
	    event_add(cg.ino_ev, NULL) == -1)
		return -1;
	log_info("cgroups: nodes in %s (controllers: %s; enabled: %s)", cg.tree,
	    cg.controllers[0] ? cg.controllers : "none",
	    cg.enabled[0] ? cg.enabled : "none");
	return 0;
}

void
cgroup_teardown(void)
{
	timer_clear(&cg.ino_ev);
	if (cg.ino != -1) {
		close(cg.ino);
		cg.ino = -1;
	}
	if (cg.tree_fd != -1) {
		close(cg.tree_fd);
		cg.tree_fd = -1;
	}
	if (cg.available) {
		cg_purge(cg.tree, 0);
		if (cg.created && !cg.own)
			rmdir(cg.root);
	}
	cg.available = false;
	cg.changed = NULL;
}

bool
cgroup_available(void)
{
	return cg.available;
}

bool
cgroup_has_memory(void)
{
	return cg.available && cg.ctrl_on[CG_MEMORY];
}

void
cgroup_set_changed(void (*fn)(int wd))
{
	cg.changed = fn;
}

json_t *
cgroup_stats_json(void)
{
	json_t *o = json_object(), *ctrls = json_array();
	char buf[256], *save = NULL, *tok;

	if (o == NULL || ctrls == NULL) {
		json_decref(o);
		json_decref(ctrls);
		return NULL;
	}
	json_object_set_new(o, "available", json_boolean(cg.available));
	if (!cg.available) {
		json_object_set_new(o, "reason", json_string(cg.reason));
		json_decref(ctrls);
		return o;
	}
	json_object_set_new(o, "root", json_string(cg.root));
	snprintf(buf, sizeof buf, "%s", cg.controllers);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save))
		json_array_append_new(ctrls, json_string(tok));
	json_object_set_new(o, "controllers", ctrls);
	return o;
}

/* --- specs --------------------------------------------------------------- */

static int
cg_ctrl_index(const char *name)
{
	for (int i = 0; cg_limit_ctrls[i] != NULL; i++)
		if (strcmp(cg_limit_ctrls[i], name) == 0)
			return i;
	return -1;
}

static int
cg_check_one(const struct node_spec *s, const char *loc, struct proto_err *err)
{
	for (int f = 0; f < SPEC_CG__FIELDS; f++) {
		const char *ctrl = spec_cgroup_files[f].controller;
		int i = cg_ctrl_index(ctrl);

		if (!spec_cgroup_has(s->cgroup, f) ||
		    (cg.available && i >= 0 && cg.ctrl_on[i]))
			continue;
		if (!cg.available)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "%s%s: the %s controller is not available: no "
			    "cgroups (%s)",
			    loc, spec_cgroup_fields[f], ctrl, cg.reason);
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "%s%s: the %s controller is not available in %s", loc,
		    spec_cgroup_fields[f], ctrl, cg.root);
	}
	return 0;
}

static int
cg_check_tree(const struct node_spec *s, char *loc, size_t len,
    struct proto_err *err)
{
	if (cg_check_one(s, loc, err) == -1)
		return -1;
	if (s->kind != KIND_SUPERVISOR)
		return 0;
	for (size_t i = 0; i < s->u.sup.nchildren; i++) {
		int n = snprintf(loc + len, 256 - len, "children[%zu].", i);

		if (n < 0 || len + (size_t)n >= 256)
			n = 0;
		if (cg_check_tree(s->u.sup.children[i], loc, len + (size_t)n,
		        err) == -1)
			return -1;
		loc[len] = '\0';
	}
	return 0;
}

int
cgroup_check_spec(const struct node_spec *spec, struct proto_err *err)
{
	char loc[256] = "";

	return cg_check_tree(spec, loc, 0, err);
}

/* --- a node's cgroup ----------------------------------------------------- */

char *
cgroup_node_dir(const struct node *n)
{
	char path[PROTO_PATH_MAX], dir[PATH_MAX];

	if (!cg.available)
		return NULL;
	node_path(n, path, sizeof path);
	if (cgroup_path_dir(cg.root, path, dir, sizeof dir) == -1)
		return NULL;
	return strdup(dir);
}

/* Writes n's limits into dir: the set ones, or with all every one its
 * controllers allow. */
static int
cg_limits(const struct node *n, const char *dir, bool all,
    struct proto_err *err)
{
	const struct spec_cgroup *sc = n->spec->cgroup;
	char val[64];

	for (int f = 0; f < SPEC_CG__FIELDS; f++) {
		int i = cg_ctrl_index(spec_cgroup_files[f].controller);

		if (!spec_cgroup_has(sc, f) &&
		    !(all && i >= 0 && cg.ctrl_on[i]))
			continue;
		spec_cgroup_value(sc, f, val, sizeof val);
		if (cg_write_at(dir, spec_cgroup_files[f].file, val) == -1) {
			if (!spec_cgroup_has(sc, f))
				continue; /* e.g. no swap: no memory.swap.max */
			return proto_errf(err, PROTO_SPAWN_FAILED,
			    "cannot set %s to %s in %s: %s",
			    spec_cgroup_files[f].file, val, dir,
			    strerror(errno));
		}
	}
	return 0;
}

/* Makes n's cgroup dir, its ancestors' first when they are missing. */
static int
cg_make(const struct node *n, const char *dir, struct proto_err *err)
{
	char *pdir;
	int rc;

	if (cg_mkdir(dir) == 0) {
		if (node_is_sup(n) && cg.enabled[0] != '\0' &&
		    cg_write_at(dir, "cgroup.subtree_control", cg.enabled) ==
		        -1)
			log_warn("cgroups: %s: cannot enable %s", dir,
			    cg.enabled);
		if (cg_limits(n, dir, false, err) == -1) {
			cg_rmdir(dir);
			return -1;
		}
		return 0;
	}
	if (errno == EEXIST) /* a run's, left by a failed rmdir: its limits */
		return node_is_sup(n) ? 0 : cg_limits(n, dir, false, err);
	if (errno != ENOENT || n->parent == NULL)
		return proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot create cgroup %s: %s", dir, strerror(errno));
	if ((pdir = cgroup_node_dir(n->parent)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	rc = cg_make(n->parent, pdir, err);
	free(pdir);
	if (rc == -1)
		return -1;
	if (cg_mkdir(dir) == -1 && errno != EEXIST)
		return proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot create cgroup %s: %s", dir, strerror(errno));
	if (node_is_sup(n) && cg.enabled[0] != '\0')
		cg_write_at(dir, "cgroup.subtree_control", cg.enabled);
	return cg_limits(n, dir, false, err);
}

int
cgroup_node_prepare(const struct node *n, struct cgroup_run *run,
    struct proto_err *err)
{
	char *dir;

	run->dir = NULL;
	run->fd = -1;
	run->removed = false;
	if (!cg.available) {
		/* Checked at spawn; a spec restored from --state on a host
		 * (or with options) without cgroups is said so, not
		 * silently unlimited. */
		for (int f = 0; f < SPEC_CG__FIELDS; f++)
			if (spec_cgroup_has(n->spec->cgroup, f)) {
				char npath[PROTO_PATH_MAX];

				log_warnx("%s: %s not applied: no cgroups (%s)",
				    node_path(n, npath, sizeof npath),
				    spec_cgroup_fields[f], cg.reason);
				break;
			}
		return 0;
	}
	if ((dir = cgroup_node_dir(n)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	if (n->parent == NULL || cg_make(n, dir, err) == -1) {
		if (n->parent == NULL)
			proto_errf(err, PROTO_INTERNAL,
			    "the root runs nothing");
		free(dir);
		return -1;
	}
	if ((run->fd = cg_open_in(dir, "cgroup.procs", O_WRONLY)) == -1) {
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot open %s/cgroup.procs: %s", dir, strerror(errno));
		cg_rmdir(dir);
		free(dir);
		return -1;
	}
	run->dir = dir;
	return 0;
}

void
cgroup_node_apply(const struct node *n)
{
	struct proto_err err;
	char *dir;

	if (!cg.available || (dir = cgroup_node_dir(n)) == NULL)
		return;
	if (access(dir, F_OK) == 0 && cg_limits(n, dir, true, &err) == -1)
		log_warnx("cgroups: %s", err.message);
	free(dir);
}

void
cgroup_node_remove(const struct node *n)
{
	char *dir;

	if (!cg.available || n->parent == NULL ||
	    (dir = cgroup_node_dir(n)) == NULL)
		return;
	if (cg_rmdir(dir) == -1 && errno != ENOENT)
		log_warn("cgroups: cannot remove %s", dir);
	free(dir);
}

/* --- a run's cgroup ------------------------------------------------------ */

int
cgroup_watch(const struct cgroup_run *r)
{
	char path[PATH_MAX];

	if (cg.ino == -1 ||
	    (size_t)snprintf(path, sizeof path, "%s/cgroup.events", r->dir) >=
	        sizeof path)
		return -1;
	return inotify_add_watch(cg.ino, path, IN_MODIFY);
}

void
cgroup_unwatch(int wd)
{
	if (wd >= 0 && cg.ino != -1)
		inotify_rm_watch(cg.ino, wd);
}

int
cgroup_populated(const struct cgroup_run *r)
{
	char buf[128];
	int64_t v;

	if (cg_read_at(r->dir, "cgroup.events", buf, sizeof buf) < 0 ||
	    cgroup_keyed(buf, "populated", &v) == -1)
		return 0;
	return v != 0;
}

int
cgroup_open_procs(const struct cgroup_run *r)
{
	if (r->dir == NULL)
		return -1;
	return cg_open_in(r->dir, "cgroup.procs", O_WRONLY);
}

static ssize_t
cg_read_procs(const struct cgroup_run *r, char *buf, size_t size)
{
	return cg_read_at(r->dir, "cgroup.procs", buf, size);
}

void
cgroup_signal(const struct cgroup_run *r, int sig)
{
	char buf[16384], *p, *end;

	if (sig == SIGKILL && cg.has_kill) {
		cgroup_kill(r);
		return;
	}
	if (cg_read_procs(r, buf, sizeof buf) < 0)
		return;
	for (p = buf;; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid <= 0)
			continue;
		kill((pid_t)pid, sig);
		if (sig != SIGKILL)
			kill((pid_t)pid, SIGCONT);
	}
}

/* Up to max pids of a cgroup.procs text. */
static int
cg_parse_pids(const char *buf, pid_t *v, int max)
{
	const char *p;
	char *end;
	int n = 0;

	for (p = buf; n < max; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0)
			v[n++] = (pid_t)pid;
	}
	return n;
}

int
cgroup_pids(const struct cgroup_run *r, pid_t *v, int max)
{
	char buf[16384];

	if (cg_read_procs(r, buf, sizeof buf) < 0)
		return -1;
	return cg_parse_pids(buf, v, max);
}

void
cgroup_kill(const struct cgroup_run *r)
{
	if (!cg.has_kill || cg_write_at(r->dir, "cgroup.kill", "1") == -1) {
		bool had = cg.has_kill;

		cg.has_kill = false;
		cgroup_signal(r, SIGKILL);
		cg.has_kill = had;
	}
}

int
cgroup_run_remove(struct cgroup_run *r)
{
	if (r->dir == NULL || r->removed)
		return 0;
	if (cg_rmdir(r->dir) == -1)
		return -1;
	r->removed = true;
	return 0;
}

void
cgroup_run_end(struct cgroup_run *r, bool remove)
{
	if (r->fd != -1)
		close(r->fd);
	r->fd = -1;
	if (r->dir == NULL)
		return;
	if (remove && !r->removed && cg_rmdir(r->dir) == -1 && errno != ENOENT)
		log_warn("cgroups: cannot remove %s", r->dir);
	free(r->dir);
	r->dir = NULL;
	r->removed = false;
}

void
cgroup_acct_final(const struct cgroup_run *r, struct cgroup_acct *a, bool cpu)
{
	char buf[1024];

	a->cpu_usec = a->memory_bytes = a->memory_peak_bytes = a->tasks =
	    a->oom_kills = -1;
	if (cpu && cg_read_at(r->dir, "cpu.stat", buf, sizeof buf) > 0)
		cgroup_keyed(buf, "usage_usec", &a->cpu_usec);
	if (cgroup_has_memory()) {
		a->memory_peak_bytes = cg_read_num(r, "memory.peak");
		if (cg_read_at(r->dir, "memory.events", buf, sizeof buf) > 0)
			cgroup_keyed(buf, "oom_kill", &a->oom_kills);
	}
}

int
cgroup_acct_read_pids(const struct cgroup_run *r, struct cgroup_acct *a,
    pid_t *v, int max)
{
	char procs[16384];
	ssize_t len;

	cgroup_acct_final(r, a, true);
	if (cgroup_has_memory())
		a->memory_bytes = cg_read_num(r, "memory.current");
	if (cg.ctrl_on[CG_PIDS])
		a->tasks = cg_read_num(r, "pids.current");
	if (cg.ctrl_on[CG_PIDS] && v == NULL)
		return -1;
	/* One read for the count and the pids. */
	if ((len = cg_read_procs(r, procs, sizeof procs)) < 0)
		return -1;
	if (!cg.ctrl_on[CG_PIDS]) {
		a->tasks = 0;
		for (ssize_t i = 0; i < len; i++)
			a->tasks += procs[i] == '\n';
	}
	return v != NULL ? cg_parse_pids(procs, v, max) : -1;
}

void
cgroup_acct_read(const struct cgroup_run *r, struct cgroup_acct *a)
{
	(void)cgroup_acct_read_pids(r, a, NULL, 0);
}

static json_t *
cg_num(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

void
cgroup_acct_json(const struct cgroup_acct *a, json_t *view)
{
	json_object_set_new(view, "cpu_usec", cg_num(a->cpu_usec));
	json_object_set_new(view, "memory_bytes", cg_num(a->memory_bytes));
	json_object_set_new(view, "memory_peak_bytes",
	    cg_num(a->memory_peak_bytes));
	json_object_set_new(view, "tasks", cg_num(a->tasks));
	json_object_set_new(view, "oom_kills", cg_num(a->oom_kills));
}

void
cgroup_sup_acct(const struct node *n, struct cgroup_acct *a)
{
	char *dir = NULL;

	a->cpu_usec = a->memory_bytes = a->memory_peak_bytes = a->tasks =
	    a->oom_kills = -1;
	if (cg.available && (dir = cgroup_node_dir(n)) != NULL) {
		struct cgroup_run r = { dir, -1, false };

		cgroup_acct_read(&r, a);
		/* A supervisor's own cgroup.procs is empty by rule: only
		 * pids.current counts its subtree. */
		if (!cg.ctrl_on[CG_PIDS])
			a->tasks = -1;
	}
	free(dir);
}

void
cgroup_sup_view(const struct node *n, json_t *view, bool fresh)
{
	struct cgroup_acct a = { -1, -1, -1, -1, -1 };

	if (fresh)
		cgroup_sup_acct(n, &a);
	cgroup_acct_json(&a, view);
}
