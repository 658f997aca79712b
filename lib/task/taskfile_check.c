/* taskfile_check.c - the task file's value checkers: each type of key of the
 * schema (taskfile_schema.c) has one, which turns a YAML node into a struct
 * sq_tf_value or reports why it cannot, at the node's line:col. */
#include "task/taskfile_schema.h"
#include "base/clock.h"
#include "task/taskfile_yaml.h"
#include "base/fsutil.h"
#include "task/layout.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

/* A string value: any non-null scalar (YAML would read `group: 001` as a number,
 * but as a name it is the text the user typed). */
static const char *text(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && !sq_tf_is_null(n) ? sq_tf_scalar(n) : NULL;
}

static int matches(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return 1;
	return 0;
}

static char *join(const char *const *set, const char *pre, const char *post)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;

	for (size_t i = 0; set[i]; i++)
		sq_strbuf_addf(&sb, "%s%s%s%s", i ? ", " : "", pre, set[i], post);
	return sq_strbuf_detach(&sb);
}

/* --- value checkers: node -> value, 0 or -1 after reporting ------------------- */

/* 1 after reporting if the list n has more than max items: each is checked (a
 * video is probed), so a list is refused before its items are looked at. */
static int too_many(struct ctx *c, const struct key *k, yaml_node_t *n, size_t max,
		    const char *what)
{
	size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);

	if (len <= max)
		return 0;
	sq_tf_bad(c, n, "'%s' lists %zu %s, more than the %zu a task file may have", k->name, len,
		  what, max);
	return 1;
}

static int check_name(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_value *v)
{
	const char *s = text(n);
	char buf[64];

	if (!s)
		sq_tf_bad(c, n, "'%s' must be a name (%s), got %s", k->name, SQ_TF_NAME_RULE,
			  sq_tf_describe(n, buf, sizeof(buf)));
	else if (!sq_name_valid(s))
		sq_tf_bad(c, n, "invalid %s name '%s' (%s)",
			  strcmp(k->name, "name") ? k->name : "task", s, SQ_TF_NAME_RULE);
	else if (sq_layout_name_reserved(s))
		sq_tf_bad(c, n, "invalid %s name '%s' (%s)",
			  strcmp(k->name, "name") ? k->name : "task", s,
			  sq_layout_reserved_reason(s));
	else
		v->s = xstrdup(s);
	return v->s ? 0 : -1;
}

#define WORD_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

/* Length of the URL scheme of s ("sftp" in sftp://...), 0 if s is a path. */
static size_t scheme_len(const char *s)
{
	size_t n = strspn(s, WORD_CHARS "+");

	return n > 0 && isalpha((unsigned char)s[0]) && !strncmp(s + n, "://", 3) ? n : 0;
}

static int sftp_url_valid(const char *url);

/* An output root on a storage host: sftp://[user@]host[:port]/abs/path, its
 * path normalised ("." and ".." resolved) so that the folders under it are
 * spelled one way. */
static int check_root_url(struct ctx *c, const struct key *k, yaml_node_t *n, const char *s,
			  struct sq_tf_value *v)
{
	const char *path = strchr(s + strlen("sftp://"), '/');
	char *abs;

	if (!sftp_url_valid(s)) {
		sq_tf_bad(
		    c, n,
		    "invalid sftp url '%s' for '%s' (expected sftp://[user@]host[:port]/abs/path)",
		    s, k->name);
		return -1;
	}
	abs = sq_path_resolve("/", path);
	v->s = xasprintf("%.*s%s", (int)(path - s), s, abs);
	free(abs);
	return 0;
}

static int check_path(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_value *v)
{
	const char *s = text(n);
	char buf[64];

	if (!s || !*s) {
		sq_tf_bad(c, n, "'%s' must be a path, got %s", k->name,
			  sq_tf_describe(n, buf, sizeof(buf)));
		return -1;
	}
	/* read as a relative path, sftp://host/x would become a local folder 'sftp:' */
	if (!strncmp(s, "sftp://", 7))
		return check_root_url(c, k, n, s, v);
	if (scheme_len(s)) {
		sq_tf_bad(c, n,
			  "'%s' must be a local path or an sftp:// url (a url like '%s' is not "
			  "supported)",
			  k->name, s);
		return -1;
	}
	v->s = sq_path_resolve(c->base, s);
	return 0;
}

/* 1 if the len chars at s are all WORD_CHARS and there are at least min. */
static int plain_run(const char *s, size_t len, size_t min)
{
	return len >= min && strspn(s, WORD_CHARS) >= len;
}

/* sftp://[user@]host[:port]/abs/path */
static int sftp_url_valid(const char *url)
{
	const char *auth = url + strlen("sftp://"), *path = strchr(auth, '/');
	const char *at, *colon, *host;
	long long port;

	if (!path || !path[1])
		return 0;
	at = memchr(auth, '@', (size_t)(path - auth));
	if (at && !plain_run(auth, (size_t)(at - auth), 1))
		return 0;
	host = at ? at + 1 : auth;
	colon = memchr(host, ':', (size_t)(path - host));
	if (!plain_run(host, (size_t)((colon ? colon : path) - host), 1))
		return 0;
	if (colon) {
		char *p = xstrndup(colon + 1, (size_t)(path - colon - 1));
		int ok = sq_tf_parse_ll(p, &port) == 0 && port >= 1 && port <= 65535;

		free(p);
		return ok;
	}
	return 1;
}

/* A video's path or URL: a list item, or the 'path' of a video map (what names
 * it in the message). */
static int check_video(struct ctx *c, yaml_node_t *n, const char *what, struct sq_tf_item *item)
{
	const char *s = text(n);
	char buf[64];
	size_t sl;

	item->pos = sq_tf_pos_of(n);
	if (!s || !*s) {
		sq_tf_bad(c, n, "%s must be a path or sftp:// url, got %s", what,
			  sq_tf_describe(n, buf, sizeof(buf)));
		return -1;
	}
	sl = scheme_len(s);
	if (sl == 0) {
		item->s = sq_path_resolve(c->base, s);
		return 0;
	}
	if (sl != 4 || strncmp(s, "sftp", 4)) {
		sq_tf_bad(c, n, "unsupported video url '%s' (expected a local path or sftp://)", s);
		return -1;
	}
	if (!sftp_url_valid(s)) {
		sq_tf_bad(c, n,
			  "invalid sftp url '%s' (expected sftp://[user@]host[:port]/abs/path)", s);
		return -1;
	}
	item->s = xstrdup(s);
	return 0;
}

static int check_duration(struct ctx *c, const struct key *k, yaml_node_t *n,
			  struct sq_tf_value *v);

/* `until` of a video map: how much of the video, from its start, is decoded. */
static const struct key until_key = {
    .sec = SQ_TF_SEC_TOP, .name = "until", .type = T_DURATION, .min = 1, .max = UNBOUNDED};

/* Sorts the pairs of a video map into *path and *until; -1 after reporting an
 * unknown, repeated or non-word key. */
static int video_map_keys(struct ctx *c, yaml_node_t *n, yaml_node_t **path, yaml_node_t **until)
{
	int rc = 0;

	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		const char *key = kn->type == YAML_SCALAR_NODE ? sq_tf_scalar(kn) : NULL;
		yaml_node_t **slot = NULL;

		if (key && !strcmp(key, "path"))
			slot = path;
		else if (key && !strcmp(key, "until"))
			slot = until;
		if (slot && !*slot) {
			*slot = yaml_document_get_node(c->doc, p->value);
			continue;
		}
		if (!key)
			sq_tf_bad(c, kn, "keys must be plain words, not a list or map");
		else if (!slot)
			sq_tf_bad(c, kn, "unknown key '%s' in a video (expected path, until)", key);
		else
			sq_tf_bad(c, kn, "duplicate key '%s'", key);
		rc = -1;
	}
	return rc;
}

/* { path: ../videos/ch02.mp4, until: 4s }: a video of which only the start is
 * wanted (the first seconds of the next chapter, shared with the next task). */
static int check_video_map(struct ctx *c, yaml_node_t *n, struct sq_tf_item *item)
{
	yaml_node_t *path = NULL, *until = NULL;
	struct sq_tf_value u = {0};
	int rc = video_map_keys(c, n, &path, &until);

	item->pos = sq_tf_pos_of(n);
	if (!path && rc == 0)
		sq_tf_bad(c, n, "missing required key 'path' in a video (its path or sftp:// url)");
	if (!path || check_video(c, path, "'path'", item) < 0)
		rc = -1;
	if (until && check_duration(c, &until_key, until, &u) < 0)
		rc = -1;
	item->until_ms = until ? u.i : 0;
	return rc;
}

/* One item of the videos list: a string or a video map. */
static int check_video_item(struct ctx *c, yaml_node_t *n, struct sq_tf_item *item)
{
	char buf[64];

	if (n->type == YAML_MAPPING_NODE)
		return check_video_map(c, n, item);
	if (n->type == YAML_SCALAR_NODE && !sq_tf_is_null(n))
		return check_video(c, n, "each video", item);
	item->pos = sq_tf_pos_of(n);
	sq_tf_bad(
	    c, n,
	    "each video must be a path, an sftp:// url or a map with 'path' and 'until', got %s",
	    sq_tf_describe(n, buf, sizeof(buf)));
	return -1;
}

static int check_videos(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_value *v)
{
	yaml_node_item_t *it;
	char buf[64];
	int rc = 0;

	if (n->type == YAML_SCALAR_NODE && !sq_tf_is_null(n)) {
		v->items = xcalloc(1, sizeof(*v->items));
		v->nitems = 1;
		return check_video(c, n, "each video", &v->items[0]);
	}
	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.start == n->data.sequence.items.top) {
		sq_tf_bad(c, n, "'%s' must list at least one video (a path or sftp:// url), got %s",
			  k->name, sq_tf_describe(n, buf, sizeof(buf)));
		return -1;
	}
	if (too_many(c, k, n, SQ_TASKFILE_MAX_VIDEOS, "videos"))
		return -1;
	v->items = xcalloc((size_t)(n->data.sequence.items.top - n->data.sequence.items.start),
			   sizeof(*v->items));
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
		if (check_video_item(c, yaml_document_get_node(c->doc, *it),
				     &v->items[v->nitems++]) < 0)
			rc = -1;
	return rc;
}

long long *sq_taskfile_video_until(const struct sq_tf_value *v)
{
	long long *out = NULL;

	for (size_t i = 0; i < v->nitems; i++) {
		if (v->items[i].until_ms <= 0)
			continue;
		if (!out)
			out = xcalloc(v->nitems, sizeof(*out));
		out[i] = v->items[i].until_ms;
	}
	return out;
}

static int check_fps(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_value *v)
{
	const char *s = text(n);
	long long num = 0, den = 0, g;
	char buf[64];

	if (!s || sq_tf_parse_rational(s, &num, &den) < 0 || num <= 0 || den <= 0 ||
	    num > k->max * den) {
		sq_tf_bad(c, n,
			  "'%s' must be a positive number like 3 or 2.5 or a ratio like 30000/1001 "
			  "(at most %lld), got %s",
			  k->name, k->max, sq_tf_describe(n, buf, sizeof(buf)));
		return -1;
	}
	g = sq_tf_gcd(num, den);
	v->num = (int)(num / g);
	v->den = (int)(den / g);
	return 0;
}

static int check_int(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_value *v)
{
	char buf[64];

	if (sq_tf_is_plain(n) && sq_tf_parse_ll(sq_tf_scalar(n), &v->i) == 0 &&
	    ((v->i >= k->min && v->i <= k->max) || (k->type == T_SIZE && v->i == -1)))
		return 0;
	sq_tf_describe(n, buf, sizeof(buf));
	if (k->type == T_SIZE)
		sq_tf_bad(c, n, "'%s' must be an integer between %lld and %lld, or -1, got %s",
			  k->name, k->min, k->max, buf);
	else if (k->max >= UNBOUNDED)
		sq_tf_bad(c, n, "'%s' must be an integer >= %lld, got %s", k->name, k->min, buf);
	else
		sq_tf_bad(c, n, "'%s' must be an integer between %lld and %lld, got %s", k->name,
			  k->min, k->max, buf);
	return -1;
}

static int check_backend(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_value *v)
{
	const char *s = text(n);
	char *list = join(k->choices, "", ""), buf[64];
	int rc = -1;

	if (!s) {
		sq_tf_bad(c, n, "'%s' must be one of %s, got %s", k->name, list,
			  sq_tf_describe(n, buf, sizeof(buf)));
		goto out;
	}
	if (!matches(s, k->choices)) {
		sq_tf_bad(c, n, "unknown %s backend '%s' (expected %s)", sq_tf_section_name(k->sec),
			  s, list);
		goto out;
	}
	for (int kind = SQ_BACKEND_COLMAP; kind <= SQ_BACKEND_BUILTIN; kind++)
		if (!strcmp(s, sq_backend_name((enum sq_backend_kind)kind)))
			v->i = kind;
	rc = 0;
out:
	free(list);
	return rc;
}

/* Checks the {placeholders} of one template string against the allowed set.
 * inputs_whole: 1 if {inputs} may appear (and then only as the whole string). */
static int check_holders(struct ctx *c, yaml_node_t *n, const char *where, const char *s,
			 const char *const *holders, int inputs_whole)
{
	const char *p = s;

	while ((p = strchr(p, '{'))) {
		size_t len = strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789_");
		char *name;
		int ok;

		if (len == 0 || p[1 + len] != '}') { /* not a placeholder: literal brace */
			p++;
			continue;
		}
		name = xstrndup(p + 1, len);
		ok = matches(name, holders) && (inputs_whole || strcmp(name, "inputs"));
		if (!ok) {
			char *list = join(holders, "{", "}");

			sq_tf_bad(c, n, "unknown placeholder '{%s}' in '%s' (expected %s)", name,
				  where, list);
			free(list);
		} else if (!strcmp(name, "inputs") && strcmp(s, "{inputs}")) {
			sq_tf_bad(c, n,
				  "'{inputs}' must be a whole argument of '%s' (it expands to one "
				  "argument per input)",
				  where);
			ok = 0;
		}
		free(name);
		if (!ok)
			return -1;
		p += len + 2;
	}
	return 0;
}

static int check_arg(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_item *item,
		     int first)
{
	const char *s = n->type == YAML_SCALAR_NODE ? sq_tf_scalar(n) : NULL;
	char buf[64];

	item->pos = sq_tf_pos_of(n);
	if (!s || (first && (!*s || sq_tf_is_null(n)))) {
		sq_tf_bad(c, n, "each argument of '%s' must be a string%s, got %s", k->name,
			  first ? " (the first names the program)" : "",
			  sq_tf_describe(n, buf, sizeof(buf)));
		return -1;
	}
	if (check_holders(c, n, k->name, s, k->choices, 1) < 0)
		return -1;
	/* a program given by relative path (./bin/tool) is found from the YAML file,
	 * like every other path in it; a bare name is looked up in PATH */
	if (first && s[0] != '/' && strchr(s, '/') && !strchr(s, '{'))
		item->s = sq_path_resolve(c->base, s);
	else
		item->s = xstrdup(s);
	return 0;
}

static int check_argv(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_value *v)
{
	yaml_node_item_t *it;
	char buf[64];
	int rc = 0;

	if (text(n)) {
		sq_tf_bad(c, n, "'%s' must be a list of arguments, not a shell string", k->name);
		return -1;
	}
	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.start == n->data.sequence.items.top) {
		sq_tf_bad(c, n, "'%s' must be a non-empty list of arguments, got %s", k->name,
			  sq_tf_describe(n, buf, sizeof(buf)));
		return -1;
	}
	if (too_many(c, k, n, SQ_TASKFILE_MAX_ARGS, "arguments"))
		return -1;
	v->items = xcalloc((size_t)(n->data.sequence.items.top - n->data.sequence.items.start),
			   sizeof(*v->items));
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *arg = yaml_document_get_node(c->doc, *it);
		size_t i = v->nitems++;

		if (check_arg(c, k, arg, &v->items[i], i == 0) < 0)
			rc = -1;
	}
	return rc;
}

static int check_duration(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_value *v)
{
	const char *s = text(n);
	char buf[64];

	if (s && sq_parse_duration_ms(s, &v->i) == 0 && v->i >= k->min && v->i <= k->max)
		return 0;
	sq_tf_bad(c, n, "'%s' must be a %sduration like 90s, 5m or 3h, got %s", k->name,
		  k->min > 0 ? "non-zero " : "", sq_tf_describe(n, buf, sizeof(buf)));
	return -1;
}

/* done_when: { log: "text" } or { file: "{output}" } - exactly one. */
static int check_done_when(struct ctx *c, const struct key *k, yaml_node_t *n,
			   struct sq_tf_value *v)
{
	static const char *const keys[] = {"log", "file", NULL};
	yaml_node_pair_t *p;
	char buf[64];
	int rc = 0;

	if (n->type != YAML_MAPPING_NODE ||
	    n->data.mapping.pairs.start == n->data.mapping.pairs.top) {
		sq_tf_bad(c, n, "'%s' must be a map with 'log' or 'file', got %s", k->name,
			  sq_tf_describe(n, buf, sizeof(buf)));
		return -1;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(c->doc, p->value);
		const char *key = text(kn), *val = text(vn);

		if (!key || !matches(key, keys)) {
			sq_tf_bad(c, kn, "unknown key '%s' in '%s' (expected log, file)",
				  key ? key : "?", k->name);
			rc = -1;
		} else if (v->s) {
			sq_tf_bad(c, kn, "'%s' takes one of 'log' or 'file', not both", k->name);
			rc = -1;
		} else if (!val || !*val) {
			sq_tf_bad(c, vn, "'%s' must be a non-empty string, got %s", key,
				  sq_tf_describe(vn, buf, sizeof(buf)));
			rc = -1;
		} else if (!strcmp(key, "file") &&
			   check_holders(c, vn, "file", val, k->choices, 0) < 0) {
			rc = -1;
		} else {
			v->s = xstrdup(val);
			v->i = !strcmp(key, "file");
		}
	}
	return rc;
}

/* A memory size: 123, 64k, 48M, 2G (binary units), as bytes. */
static int check_bytes(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_value *v)
{
	const char *s = text(n);
	char buf[64], *num = NULL;
	size_t len = s ? strlen(s) : 0;
	int shift = 0;

	if (len > 1 && strchr("kMG", s[len - 1]))
		shift = s[len - 1] == 'k' ? 10 : s[len - 1] == 'M' ? 20 : 30;
	if (s && sq_tf_is_plain(n))
		num = xstrndup(s, len - (shift ? 1 : 0));
	if (num && sq_tf_parse_ll(num, &v->i) == 0 && v->i >= 0 && v->i <= (k->max >> shift)) {
		v->i <<= shift;
		free(num);
		return 0;
	}
	free(num);
	sq_tf_bad(c, n, "'%s' must be a size in bytes like 4096, 512k, 48M or 2G, got %s", k->name,
		  sq_tf_describe(n, buf, sizeof(buf)));
	return -1;
}

static int check_choice(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_value *v)
{
	const char *s = text(n);
	char *list, buf[64];

	if (s && matches(s, k->choices)) {
		v->s = xstrdup(s);
		return 0;
	}
	list = join(k->choices, "", "");
	sq_tf_bad(c, n, "'%s' must be one of %s, got %s", k->name, list,
		  sq_tf_describe(n, buf, sizeof(buf)));
	free(list);
	return -1;
}

/* A number as YAML writes one: a plain scalar in decimal notation (320, -0.01,
 * 1e-3); .inf, .nan, 0x10 and quoted text are not numbers here, nor is what
 * overflows a double. */
static int check_number(struct ctx *c, const struct key *k, yaml_node_t *n, double *out)
{
	const char *s = sq_tf_is_plain(n) ? sq_tf_scalar(n) : NULL;
	char buf[64], *end = NULL;

	if (s && sq_tf_decimal_number(s))
		*out = strtod(s, &end);
	if (end && end != s && *end == '\0' && isfinite(*out))
		return 0;
	sq_tf_bad(c, n, "each item of '%s' must be a finite number, got %s", k->name,
		  sq_tf_describe(n, buf, sizeof(buf)));
	return -1;
}

/* camera_params: the models take at most SQ_COLMAP_PARAMS_MAX; a few more get
 * the message that names the model's count (taskfile.c), a flood gets this */
#define NUMBERS_MAX 64

static int check_numbers(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_value *v)
{
	yaml_node_item_t *it;
	size_t len;
	char buf[64];
	int rc = 0;

	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.start == n->data.sequence.items.top) {
		sq_tf_bad(c, n, "'%s' must be a non-empty list of numbers, got %s", k->name,
			  sq_tf_describe(n, buf, sizeof(buf)));
		return -1;
	}
	if (too_many(c, k, n, NUMBERS_MAX, "numbers"))
		return -1;
	len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	v->items = xcalloc(len, sizeof(*v->items));
	v->nums = xcalloc(len, sizeof(*v->nums));
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *num = yaml_document_get_node(c->doc, *it);

		v->items[v->nitems].pos = sq_tf_pos_of(num);
		if (check_number(c, k, num, &v->nums[v->nitems++]) < 0)
			rc = -1;
	}
	return rc;
}

typedef int (*checker)(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_value *v);

static const checker checkers[] = {
    [T_SECTION] = NULL,
    [T_NAME] = check_name,
    [T_PATH] = check_path,
    [T_VIDEOS] = check_videos,
    [T_FPS] = check_fps,
    [T_SIZE] = check_int,
    [T_INT] = check_int,
    [T_BACKEND] = check_backend,
    [T_ARGV] = check_argv,
    [T_DURATION] = check_duration,
    [T_DONE_WHEN] = check_done_when,
    [T_BYTES] = check_bytes,
    [T_CHOICE] = check_choice,
    [T_NUMBERS] = check_numbers,
};

int sq_tf_check(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_value *v)
{
	return checkers[k->type](c, k, n, v);
}
