/* The `log` field of node specs (spec-log.h). */
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "spec-log.h"

enum {
	HAVE_JOURNAL = 1 << 0,
	HAVE_FILE = 1 << 1,
	HAVE_STDERR_FILE = 1 << 2,
	HAVE_MAX_BYTES = 1 << 3,
	HAVE_KEEP = 1 << 4,
	HAVE_RING = 1 << 5,
};

static const char *const spec_log_fields[] = {
	"journal",
	"file",
	"stderr_file",
	"max_bytes",
	"keep",
	"ring",
	NULL,
};

int
spec_log_size(const char *s, int64_t *out)
{
	int64_t v = 0, mult = 1;
	size_t len = strlen(s), i;

	if (len == 0 || len > 20)
		return -1;
	switch (s[len - 1]) {
	case 'k':
	case 'K':
		mult = 1024;
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		break;
	case 'g':
	case 'G':
		mult = 1024 * 1024 * 1024;
		break;
	}
	if (mult != 1)
		len--;
	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (INT64_MAX / 10 - 9) / mult)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v * mult;
	return 0;
}

/* A size as a string ("10M") or an integer of bytes, within min..max. */
static int
spec_log_get_size(const json_t *obj, const char *key, int64_t min, int64_t max,
    int64_t *out, struct proto_err *err)
{
	json_t *v = json_object_get(obj, key);
	int64_t n;

	if (v == NULL)
		return 0;
	if (json_is_integer(v))
		n = json_integer_value(v);
	else if (!json_is_string(v) ||
	    spec_log_size(json_string_value(v), &n) != 0)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"log.%s\" must be a size: bytes, or a number with "
		    "K, M or G (\"10M\")",
		    key);
	if (n < min || n > max)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"log.%s\" must be from %lld to %lld bytes, not "
		    "%lld",
		    key, (long long)min, (long long)max, (long long)n);
	*out = n;
	return 0;
}

/* A file name: absolute, no NUL, not too long; "" stands for none. */
static int
spec_log_get_file(const json_t *obj, const char *key, char **out,
    struct proto_err *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s;

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"log.%s\" must be a string", key);
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || strlen(s) > 4000 ||
	    (s[0] != '\0' && s[0] != '/'))
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"log.%s\" must be an absolute file name (or \"\" "
		    "for none)",
		    key);
	if ((*out = strdup(s)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	return 0;
}

int
spec_log_parse(const json_t *obj, struct spec_log **out, struct proto_err *err)
{
	json_t *v = json_object_get(obj, "log");
	struct spec_log *l;
	bool journal;

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"log\" must be an object");
	if (proto_fields_check(v, "log", spec_log_fields, err) != 0)
		return -1;
	if ((l = calloc(1, sizeof *l)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	l->journal = -1;
	l->max_bytes = l->keep = l->ring = -1;
	*out = l;
	if (json_object_get(v, "journal") != NULL) {
		if (proto_get_bool(v, "journal", false, &journal, err) != 0)
			return -1;
		l->journal = journal;
	}
	if (spec_log_get_file(v, "file", &l->file, err) != 0 ||
	    spec_log_get_file(v, "stderr_file", &l->stderr_file, err) != 0 ||
	    spec_log_get_size(v, "max_bytes", SPEC_LOG_MAX_BYTES_MIN,
	        INT64_MAX / (SPEC_LOG_KEEP_MAX + 1), &l->max_bytes, err) != 0 ||
	    spec_log_get_size(v, "ring", 0, SPEC_LOG_RING_MAX, &l->ring, err) !=
	        0 ||
	    proto_get_int(v, "keep", false, 0, SPEC_LOG_KEEP_MAX, &l->keep,
	        err) != 0)
		return -1;
	return 0;
}

void
spec_log_free(struct spec_log *l)
{
	if (l == NULL)
		return;
	free(l->file);
	free(l->stderr_file);
	free(l);
}

int
spec_log_dup(const struct spec_log *l, struct spec_log **out)
{
	struct spec_log *c;

	*out = NULL;
	if (l == NULL)
		return 0;
	if ((c = malloc(sizeof *c)) == NULL)
		return -1;
	*c = *l;
	c->file = c->stderr_file = NULL;
	if ((l->file != NULL && (c->file = strdup(l->file)) == NULL) ||
	    (l->stderr_file != NULL &&
	        (c->stderr_file = strdup(l->stderr_file)) == NULL)) {
		spec_log_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int
spec_log_to_json(const struct spec_log *l, json_t *obj)
{
	json_t *o;

	if (l == NULL)
		return 0;
	if ((o = json_object()) == NULL ||
	    json_object_set_new(obj, "log", o) != 0)
		return -1;
	/* Only what was given: unset fields stay inherited after a reload. */
	if ((l->journal != -1 &&
	        json_object_set_new(o, "journal", json_boolean(l->journal)) !=
	            0) ||
	    (l->file != NULL &&
	        json_object_set_new(o, "file", json_string(l->file)) != 0) ||
	    (l->stderr_file != NULL &&
	        json_object_set_new(o, "stderr_file",
	            json_string(l->stderr_file)) != 0) ||
	    (l->max_bytes != -1 &&
	        json_object_set_new(o, "max_bytes",
	            json_integer(l->max_bytes)) != 0) ||
	    (l->keep != -1 &&
	        json_object_set_new(o, "keep", json_integer(l->keep)) != 0) ||
	    (l->ring != -1 &&
	        json_object_set_new(o, "ring", json_integer(l->ring)) != 0))
		return -1;
	return 0;
}

static bool
spec_log_str_equal(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

bool
spec_log_equal(const struct spec_log *a, const struct spec_log *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->journal == b->journal && a->max_bytes == b->max_bytes &&
	    a->keep == b->keep && a->ring == b->ring &&
	    spec_log_str_equal(a->file, b->file) &&
	    spec_log_str_equal(a->stderr_file, b->stderr_file);
}

void
spec_log_inherit(struct spec_log_eff *eff, const struct spec_log *l,
    unsigned *have)
{
	if (l == NULL)
		return;
	if (!(*have & HAVE_JOURNAL) && l->journal != -1) {
		eff->journal = l->journal;
		*have |= HAVE_JOURNAL;
	}
	if (!(*have & HAVE_FILE) && l->file != NULL) {
		eff->file = l->file[0] != '\0' ? l->file : NULL;
		*have |= HAVE_FILE;
	}
	if (!(*have & HAVE_STDERR_FILE) && l->stderr_file != NULL) {
		eff->stderr_file = l->stderr_file[0] != '\0' ? l->stderr_file :
		                                               NULL;
		*have |= HAVE_STDERR_FILE;
	}
	if (!(*have & HAVE_MAX_BYTES) && l->max_bytes != -1) {
		eff->max_bytes = l->max_bytes;
		*have |= HAVE_MAX_BYTES;
	}
	if (!(*have & HAVE_KEEP) && l->keep != -1) {
		eff->keep = l->keep;
		*have |= HAVE_KEEP;
	}
	if (!(*have & HAVE_RING) && l->ring != -1) {
		eff->ring = l->ring;
		*have |= HAVE_RING;
	}
}

void
spec_log_defaults(struct spec_log_eff *eff, unsigned have, bool journal_default)
{
	if (!(have & HAVE_JOURNAL))
		eff->journal = journal_default;
	if (!(have & HAVE_FILE))
		eff->file = NULL;
	if (!(have & HAVE_STDERR_FILE))
		eff->stderr_file = NULL;
	if (!(have & HAVE_MAX_BYTES))
		eff->max_bytes = SPEC_LOG_MAX_BYTES;
	if (!(have & HAVE_KEEP))
		eff->keep = SPEC_LOG_KEEP;
	if (!(have & HAVE_RING))
		eff->ring = SPEC_LOG_RING;
}
