/* sd_notify messages: the parser (sdnotify.h). */
#include <string.h>

#include "sdnotify.h"
#include "utf8.h"

/* Decimal digits only, no sign, no overflow. */
static bool
sdn_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool
sdn_utf8(const char *s, size_t len)
{
	size_t n;

	for (size_t i = 0; i < len; i += n)
		if ((n = proto_utf8_seq((const unsigned char *)s + i,
		         len - i)) == 0)
			return false;
	return true;
}

static bool
sdn_key(const char *line, size_t len, const char *key, const char **val,
    size_t *vlen)
{
	size_t k = strlen(key);

	if (len < k || memcmp(line, key, k) != 0)
		return false;
	*val = line + k;
	*vlen = len - k;
	return true;
}

static bool
sdn_is(const char *v, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(v, want, len) == 0;
}

/* A flag key: "=1" sets it; any other value is bad. */
static void
sdn_flag(struct sdnotify_msg *m, unsigned flag, const char *v, size_t vlen)
{
	if (m->flags & flag)
		return;
	if (sdn_is(v, vlen, "1"))
		m->flags |= flag;
	else
		m->bad++;
}

/* A number key, the first one wins. */
static void
sdn_num(struct sdnotify_msg *m, unsigned flag, const char *v, size_t vlen,
    uint64_t max, uint64_t *out)
{
	uint64_t n;

	if (m->flags & flag)
		return;
	if (!sdn_u64(v, vlen, &n) || n > max) {
		m->bad++;
		return;
	}
	*out = n;
	m->flags |= flag;
}

static void
sdn_line(struct sdnotify_msg *m, const char *line, size_t len)
{
	const char *v;
	size_t vlen;
	uint64_t n;

	if (sdn_key(line, len, "READY=", &v, &vlen))
		sdn_flag(m, SDN_READY, v, vlen);
	else if (sdn_key(line, len, "RELOADING=", &v, &vlen))
		sdn_flag(m, SDN_RELOADING, v, vlen);
	else if (sdn_key(line, len, "STOPPING=", &v, &vlen))
		sdn_flag(m, SDN_STOPPING, v, vlen);
	else if (sdn_key(line, len, "BARRIER=", &v, &vlen))
		sdn_flag(m, SDN_BARRIER, v, vlen);
	else if (sdn_key(line, len, "FDSTORE=", &v, &vlen))
		sdn_flag(m, SDN_FDSTORE, v, vlen);
	else if (sdn_key(line, len, "STATUS=", &v, &vlen)) {
		if (m->flags & SDN_STATUS)
			return;
		if (!sdn_utf8(v, vlen)) {
			m->bad++;
			return;
		}
		m->status = v;
		m->status_len = vlen;
		m->flags |= SDN_STATUS;
	} else if (sdn_key(line, len, "MAINPID=", &v, &vlen)) {
		n = 0;
		sdn_num(m, SDN_MAINPID, v, vlen, INT32_MAX, &n);
		if ((m->flags & SDN_MAINPID) && m->mainpid == 0) {
			if (n <= 1) { /* never init, never "none" */
				m->flags &= ~(unsigned)SDN_MAINPID;
				m->bad++;
			} else
				m->mainpid = (long)n;
		}
	} else if (sdn_key(line, len, "ERRNO=", &v, &vlen)) {
		n = 0;
		if (!(m->flags & SDN_ERRNO)) {
			sdn_num(m, SDN_ERRNO, v, vlen, 4095, &n);
			m->err_no = (int)n;
		}
	} else if (sdn_key(line, len, "EXTEND_TIMEOUT_USEC=", &v, &vlen))
		sdn_num(m, SDN_EXTEND, v, vlen, UINT64_MAX, &m->extend_usec);
	else if (sdn_key(line, len, "WATCHDOG_USEC=", &v, &vlen))
		sdn_num(m, SDN_WATCHDOG_USEC, v, vlen, UINT64_MAX,
		    &m->watchdog_usec);
	else if (sdn_key(line, len, "MONOTONIC_USEC=", &v, &vlen))
		sdn_num(m, SDN_MONOTONIC, v, vlen, UINT64_MAX,
		    &m->monotonic_usec);
	else if (sdn_key(line, len, "WATCHDOG=", &v, &vlen)) {
		if (sdn_is(v, vlen, "1"))
			m->flags |= SDN_WATCHDOG;
		else if (sdn_is(v, vlen, "trigger"))
			m->flags |= SDN_WATCHDOG_TRIGGER;
		else
			m->bad++;
	} else
		m->unknown++;
}

int
sdnotify_parse(const char *buf, size_t len, struct sdnotify_msg *m)
{
	const char *p = buf, *end = buf + len, *nl;

	memset(m, 0, sizeof *m);
	if (memchr(buf, '\0', len) != NULL)
		return -1;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (nl > p)
			sdn_line(m, p, (size_t)(nl - p));
		p = nl + 1;
	}
	return 0;
}
