/* options.c - see options.h.
 *
 * getopt_long is not used: it keeps its state in globals, prints its own
 * messages and cannot say what a value should have been. The grammar is the
 * usual one: "--name value", "--name=value", "-x value", "-xvalue", "-h",
 * "--" ends the options, "-" alone is an argument; long names are matched
 * whole (no abbreviations, so adding an option never breaks a script). */
#include "base/options.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

#define HELP_COLUMN 24 /* where descriptions start in --help */
#define HELP_WIDTH 80  /* and where they should end */

/* The option as the user wrote it, for messages: "--lease", "-n", or the
 * variable's name. */
struct source {
	char label[80];
	int from_env;
};

static void label_long(struct source *s, const char *name, size_t len)
{
	snprintf(s->label, sizeof(s->label), "--%.*s", (int)len, name);
	s->from_env = 0;
}

static void label_short(struct source *s, char c)
{
	snprintf(s->label, sizeof(s->label), "-%c", c);
	s->from_env = 0;
}

/* ---- values ---- */

/* A duration as sq_parse_duration_ms reads it; with bare_ms a bare number
 * (an environment variable named *_MS) is milliseconds. */
static int parse_duration(const char *s, int bare_ms, long long *ms_out)
{
	char *with_unit;
	int rc;

	if (!bare_ms || !*s || s[strspn(s, "0123456789.")] != '\0')
		return sq_parse_duration_ms(s, ms_out);
	with_unit = xasprintf("%sms", s);
	rc = sq_parse_duration_ms(with_unit, ms_out);
	free(with_unit);
	return rc;
}

static int parse_int(const char *s, long long *out)
{
	const char *p = s + (*s == '-');
	char *end;

	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || *end ? -1 : 0;
}

/* "1d", "2h", "5m", "30s", "1.5s", "250ms": the shortest exact form. */
static void fmt_duration(long long ms, char *buf, size_t len)
{
	static const struct {
		const char *unit;
		long long ms;
	} units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms >= units[i].ms && ms % units[i].ms == 0) {
			snprintf(buf, len, "%lld%s", ms / units[i].ms, units[i].unit);
			return;
		}
	}
	snprintf(buf, len, "%lldms", ms);
}

static int bad_value(const struct source *src, const char *value, const char *expected,
		     struct sq_err *err)
{
	return sq_error(err, SQ_ERR_INVALID, "invalid %s '%s' (expected %s)", src->label, value,
			expected);
}

static int set_duration(const struct sq_option *o, const struct source *src, const char *value,
			struct sq_err *err)
{
	char lo[32], hi[32], expected[128];
	long long ms;

	if (parse_duration(value, src->from_env && o->env_ms, &ms) == 0 && ms >= o->min &&
	    ms <= o->max) {
		*(long long *)o->value = ms;
		return 0;
	}
	fmt_duration(o->min, lo, sizeof(lo));
	fmt_duration(o->max, hi, sizeof(hi));
	if (src->from_env && o->env_ms)
		snprintf(expected, sizeof(expected), "milliseconds, %lld..%lld", o->min, o->max);
	else
		snprintf(expected, sizeof(expected), "a duration of %s..%s, e.g. %s", lo, hi,
			 o->min <= 30000 && o->max >= 30000 ? "30s" : lo);
	return bad_value(src, value, expected, err);
}

static int set_int(const struct sq_option *o, const struct source *src, const char *value,
		   struct sq_err *err)
{
	char expected[64];
	long long v;

	if (parse_int(value, &v) == 0 && v >= o->min && v <= o->max) {
		*(long long *)o->value = v;
		return 0;
	}
	snprintf(expected, sizeof(expected), "%lld..%lld", o->min, o->max);
	return bad_value(src, value, expected, err);
}

/* "extract, reconstruct, stitch" */
static char *choices_text(const char *const *choices)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;

	for (size_t i = 0; choices[i]; i++)
		sq_strbuf_addf(&sb, "%s%s", i ? ", " : "", choices[i]);
	return sq_strbuf_detach(&sb);
}

static int item_ok(const struct sq_option *o, const char *item, size_t len)
{
	int ok = len > 0;
	char *copy = xstrndup(item, len);

	if (ok && o->choices) {
		ok = 0;
		for (size_t i = 0; o->choices[i] && !ok; i++)
			ok = strcmp(o->choices[i], copy) == 0;
	}
	if (ok && o->check)
		ok = o->check(copy);
	free(copy);
	return ok;
}

/* Names the first bad item of a comma list and what would do. */
static int bad_item(const struct sq_option *o, const struct source *src, const char *item,
		    size_t len, struct sq_err *err)
{
	char *what = o->choices ? choices_text(o->choices) : xstrdup(o->expect ? o->expect : "");
	int rc;

	if (len == 0)
		rc = sq_error(err, SQ_ERR_INVALID, "invalid %s: an empty item in '%s'", src->label,
			      item);
	else
		rc = sq_error(err, SQ_ERR_INVALID, "invalid %s '%.*s' (expected %s)", src->label,
			      (int)len, item, what);
	free(what);
	return rc;
}

static int add_list(const struct sq_option *o, const struct source *src, const char *value,
		    struct sq_err *err)
{
	struct sq_option_list *l = o->value;
	const char *p = value;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (!item_ok(o, p, len))
			return bad_item(o, src, len ? p : value, len, err);
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = xstrndup(p, len);
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int set_path(const struct sq_option *o, const char *value)
{
	char cwd[PATH_MAX];
	char **slot = o->value;

	free(*slot);
	if (value[0] != '/' && getcwd(cwd, sizeof(cwd)))
		*slot = sq_path_resolve(cwd, value);
	else
		*slot = xstrdup(value);
	return 0;
}

static int set_value(const struct sq_option *o, const struct source *src, const char *value,
		     struct sq_err *err)
{
	switch (o->type) {
	case SQ_OPTION_STRING:
		if (o->check && !o->check(value))
			return bad_value(src, value, o->expect ? o->expect : "another value", err);
		*(const char **)o->value = value;
		return 0;
	case SQ_OPTION_PATH:
		if (!*value)
			return bad_value(src, value, "a file name", err);
		return set_path(o, value);
	case SQ_OPTION_INT:
		return set_int(o, src, value, err);
	case SQ_OPTION_DURATION:
		return set_duration(o, src, value, err);
	case SQ_OPTION_LIST:
		return add_list(o, src, value, err);
	default:
		*(int *)o->value = 1;
		return 0;
	}
}

/* ---- the command line ---- */

static int takes_value(const struct sq_option *o)
{
	return o->type != SQ_OPTION_FLAG && o->type != SQ_OPTION_HELP;
}

static const struct sq_option *find_long(const struct sq_program *p, const char *name, size_t len)
{
	for (const struct sq_option *o = p->options; o->type != SQ_OPTION_END; o++)
		if (o->name && strlen(o->name) == len && !memcmp(o->name, name, len))
			return o;
	return NULL;
}

static const struct sq_option *find_short(const struct sq_program *p, char c)
{
	for (const struct sq_option *o = p->options; o->type != SQ_OPTION_END; o++)
		if (o->short_name && o->short_name == c)
			return o;
	return NULL;
}

/* Variables first, so that flags override them; defaults below both. */
static int read_env(const struct sq_program *p, sq_getenv_fn env, struct sq_err *err)
{
	for (const struct sq_option *o = p->options; o->type != SQ_OPTION_END; o++) {
		const char *v = env && o->env ? env(o->env) : NULL;
		struct source src = {.from_env = 1};

		if (o->type == SQ_OPTION_STRING && o->def)
			*(const char **)o->value = o->def;
		if (!v || !*v)
			continue;
		snprintf(src.label, sizeof(src.label), "%s", o->env);
		/* a list from the environment is replaced, not added to, by a flag */
		if (set_value(o, &src, v, err) < 0)
			return -1;
	}
	return 0;
}

/* A list given on the command line replaces one from the environment. */
static void list_from_flag(const struct sq_option *o, unsigned char *seen, size_t idx)
{
	struct sq_option_list *l = o->value;

	if (o->type != SQ_OPTION_LIST || seen[idx])
		return;
	seen[idx] = 1;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

struct cursor {
	const struct sq_program *p;
	int argc;
	char **argv;
	int i; /* the next argument */
	unsigned char *seen;
};

/* Applies option o, whose value is inline (may be NULL) or the next argument. */
static int apply(struct cursor *c, const struct sq_option *o, const struct source *src,
		 const char *inline_value, struct sq_err *err)
{
	const char *value = inline_value;

	if (!takes_value(o)) {
		if (inline_value)
			return sq_error(err, SQ_ERR_INVALID, "option '%s' takes no value",
					src->label);
		if (o->type == SQ_OPTION_HELP)
			return 1;
		*(int *)o->value = 1;
		return 0;
	}
	if (!value) {
		if (c->i >= c->argc)
			return sq_error(err, SQ_ERR_INVALID, "option '%s' needs a value",
					src->label);
		value = c->argv[c->i++];
	}
	list_from_flag(o, c->seen, (size_t)(o - c->p->options));
	return set_value(o, src, value, err);
}

static int parse_long(struct cursor *c, const char *arg, struct sq_err *err)
{
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct sq_option *o = find_long(c->p, name, len);
	struct source src;

	label_long(&src, name, len);
	if (!o)
		return sq_error(err, SQ_ERR_INVALID, "unknown option '%s'", src.label);
	return apply(c, o, &src, eq ? eq + 1 : NULL, err);
}

static int parse_short(struct cursor *c, const char *arg, struct sq_err *err)
{
	const struct sq_option *o = find_short(c->p, arg[1]);
	struct source src;

	label_short(&src, arg[1]);
	if (!o)
		return sq_error(err, SQ_ERR_INVALID, "unknown option '%s'", arg);
	if (arg[2] && !takes_value(o))
		return sq_error(err, SQ_ERR_INVALID, "unknown option '%s'", arg);
	return apply(c, o, &src, arg[2] ? arg + 2 : NULL, err);
}

int sq_options_parse(const struct sq_program *prog, int argc, char **argv, sq_getenv_fn env,
		     struct sq_args *args, struct sq_err *err)
{
	size_t nopts = 0;
	struct cursor c = {.p = prog, .argc = argc, .argv = argv, .i = 1};
	int rc = 0, dashdash = 0;

	args->v = xcalloc((size_t)(argc > 0 ? argc : 1), sizeof(*args->v));
	args->n = 0;
	while (prog->options[nopts].type != SQ_OPTION_END)
		nopts++;
	c.seen = xcalloc(nopts + 1, 1);
	if (read_env(prog, env, err) < 0)
		rc = -1;
	while (rc == 0 && c.i < argc) {
		const char *a = argv[c.i++];

		if (dashdash || a[0] != '-' || !a[1])
			args->v[args->n++] = (char *)a;
		else if (!strcmp(a, "--"))
			dashdash = 1;
		else if (a[1] == '-')
			rc = parse_long(&c, a, err);
		else
			rc = parse_short(&c, a, err);
	}
	free(c.seen);
	return rc;
}

/* ---- help ---- */

static void help_left(struct sq_strbuf *sb, const struct sq_option *o)
{
	size_t start = sb->len;

	sq_strbuf_adds(sb, "  ");
	if (o->short_name)
		sq_strbuf_addf(sb, "-%c%s", o->short_name, o->name ? ", " : "");
	if (o->name)
		sq_strbuf_addf(sb, "--%s", o->name);
	if (o->arg)
		sq_strbuf_addf(sb, " %s", o->arg);
	if (sb->len - start + 1 >= HELP_COLUMN) { /* too long: the text goes below */
		sq_strbuf_addch(sb, '\n');
		start = sb->len;
	}
	while (sb->len - start < HELP_COLUMN)
		sq_strbuf_addch(sb, ' ');
}

static void help_entry(struct sq_strbuf *sb, const struct sq_option *o)
{
	const char *h = o->help ? o->help : "";
	char env[96] = "";
	size_t line;

	help_left(sb, o);
	for (const char *nl; (nl = strchr(h, '\n')); h = nl + 1)
		sq_strbuf_addf(sb, "%.*s\n%*s", (int)(nl - h), h, HELP_COLUMN, "");
	sq_strbuf_adds(sb, h);
	if (o->env)
		snprintf(env, sizeof(env), "(env %s%s)", o->env, o->env_ms ? ", in ms" : "");
	line = HELP_COLUMN + strlen(h);
	if (*env && *h && line + 1 + strlen(env) > HELP_WIDTH)
		sq_strbuf_addf(sb, "\n%*s%s", HELP_COLUMN, "", env);
	else if (*env)
		sq_strbuf_addf(sb, "%s%s", *h ? " " : "", env);
	sq_strbuf_addch(sb, '\n');
}

/* Each line of text, the first after head and the others indented to match. */
static void add_lines(struct sq_strbuf *sb, const char *head, const char *text)
{
	size_t indent = strlen(head);

	sq_strbuf_adds(sb, head);
	for (const char *nl; (nl = strchr(text, '\n')); text = nl + 1)
		sq_strbuf_addf(sb, "%.*s\n%*s", (int)(nl - text), text, (int)indent, "");
	sq_strbuf_addf(sb, "%s\n", text);
}

char *sq_options_help(const struct sq_program *prog)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;

	add_lines(&sb, "usage: ", prog->usage);
	if (prog->about)
		sq_strbuf_addf(&sb, "\n%s\n", prog->about);
	sq_strbuf_addch(&sb, '\n');
	for (const struct sq_option *o = prog->options; o->type != SQ_OPTION_END; o++)
		help_entry(&sb, o);
	if (prog->notes)
		sq_strbuf_addf(&sb, "\n%s\n", prog->notes);
	return sq_strbuf_detach(&sb);
}

void sq_options_release(const struct sq_program *prog, struct sq_args *args)
{
	for (const struct sq_option *o = prog->options; o->type != SQ_OPTION_END; o++) {
		if (o->type == SQ_OPTION_PATH) {
			free(*(char **)o->value);
			*(char **)o->value = NULL;
		} else if (o->type == SQ_OPTION_LIST) {
			struct sq_option_list *l = o->value;

			for (size_t i = 0; i < l->n; i++)
				free(l->v[i]);
			free(l->v);
			l->v = NULL;
			l->n = 0;
		}
	}
	if (args) {
		free(args->v);
		args->v = NULL;
		args->n = 0;
	}
}
