/*
 * Fuzz target for proto/path.c, proto/duration.c and proto/names.c: the
 * input as a C string checked as a path, a name, a duration and a signal
 * name; what is accepted must walk, format and parse back the same.
 */
#include <inttypes.h>
#include <string.h>

#include "duration.h"
#include "fuzz.h"
#include "names.h"
#include "path.h"

static void
fuzz_path(const char *s)
{
	struct proto_err	 err;
	const char		*comp;
	char			 rebuilt[PROTO_PATH_MAX + 2];
	size_t			 pos, len, used, depth;
	int			 rc;

	proto_err_clear(&err);
	rc = proto_path_check(s, "path", &err);
	if (rc != 0) {
		FUZZ_CHECK(rc == -1);
		fuzz_check_err(&err);
		FUZZ_CHECK(err.code == PROTO_INVALID_PARAMS);
	}
	/* Walking works on anything; on a valid path it gives the names. */
	pos = 0;
	used = 0;
	depth = 0;
	while ((comp = proto_path_next(s, &pos, &len)) != NULL) {
		FUZZ_CHECK(len > 0 && pos <= strlen(s));
		FUZZ_CHECK(comp >= s && comp + len == s + pos);
		FUZZ_CHECK(memchr(comp, '/', len) == NULL);
		depth++;
		if (rc != 0)
			continue;
		FUZZ_CHECK(proto_name_valid(comp, len));
		FUZZ_CHECK(used + 1 + len < sizeof rebuilt);
		rebuilt[used++] = '/';
		memcpy(rebuilt + used, comp, len);
		used += len;
	}
	FUZZ_CHECK(s[pos] == '\0');
	if (rc == 0) {
		FUZZ_CHECK(depth <= PROTO_DEPTH_MAX);
		if (used == 0)
			rebuilt[used++] = '/';
		rebuilt[used] = '\0';
		FUZZ_CHECK(strcmp(rebuilt, s) == 0);
	}
}

static void
fuzz_name(const char *s)
{
	struct proto_err	err;
	int			rc;

	proto_err_clear(&err);
	rc = proto_name_check(s, "name", &err);
	FUZZ_CHECK((rc == 0) == proto_name_valid(s, strlen(s)));
	if (rc != 0)
		fuzz_check_err(&err);
	else
		FUZZ_CHECK(strlen(s) >= 1 && strlen(s) <= PROTO_NAME_MAX &&
		    strchr(s, '/') == NULL);
}

static void
fuzz_duration_ms(int64_t ms)
{
	struct proto_err	err;
	char			buf[64];
	int64_t			back;

	proto_duration_format(ms, buf, sizeof buf);
	FUZZ_CHECK(strlen(buf) > 0);
	if (ms < 0 || ms > PROTO_DURATION_MAX_MS)
		return;
	back = -1;
	if (proto_duration_parse(buf, &back, &err) != 0) {
		fprintf(stderr, "%" PRId64 " formats as \"%s\", refused: %s\n",
		    ms, buf, err.message);
		FUZZ_CHECK(0);
	}
	FUZZ_CHECK(back == ms);
}

static void
fuzz_duration(const char *s, const uint8_t *data, size_t size)
{
	struct proto_err	err;
	int64_t			ms = -1, raw = 0;
	int			rc;

	proto_err_clear(&err);
	rc = proto_duration_parse(s, &ms, &err);
	if (rc == 0) {
		FUZZ_CHECK(ms >= 0 && ms <= PROTO_DURATION_MAX_MS);
		fuzz_duration_ms(ms);
	} else {
		FUZZ_CHECK(rc == -1);
		fuzz_check_err(&err);
	}
	/* Any number of ms, straight from the bytes. */
	memcpy(&raw, data, size < sizeof raw ? size : sizeof raw);
	fuzz_duration_ms(raw);
	fuzz_duration_ms(raw < 0 ? -(raw + 1) % (PROTO_DURATION_MAX_MS + 1) :
	    raw % (PROTO_DURATION_MAX_MS + 1));
}

static void
fuzz_signal(const char *s)
{
	const char	*name;
	int		 sig;

	sig = proto_signal_parse(s);
	if (sig == -1)
		return;
	name = proto_signal_name(sig);
	FUZZ_CHECK(name != NULL);
	FUZZ_CHECK(proto_signal_parse(name) == sig);
	FUZZ_CHECK(proto_errno_name(sig) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if (size > 2 * PROTO_PATH_MAX)
		return (0);
	s = malloc(size + 1);
	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_path(s);
	fuzz_name(s);
	fuzz_duration(s, data, size);
	fuzz_signal(s);
	free(s);
	return (0);
}
