/* taskfile_yaml.c - the YAML node helpers the schema walker and the value
 * checkers share (see taskfile_yaml.h): positions, problems, scalars, and
 * what the user wrote, for messages. */
#include "task/taskfile_yaml.h"
#include "task/taskfile_schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/banned.h"

static const char *const section_names[SQ_TF_SEC_COUNT] = {
    [SQ_TF_SEC_TOP] = "",
    [SQ_TF_SEC_EXTRACT] = "extract",
    [SQ_TF_SEC_RECONSTRUCT] = "reconstruct",
    [SQ_TF_SEC_STITCH] = "stitch",
    [SQ_TF_SEC_RETRY] = "retry",
    [SQ_TF_SEC_COLMAP] = "colmap",
};

const char *sq_tf_section_name(enum sq_tf_section sec)
{
	return section_names[sec];
}

struct sq_tf_pos sq_tf_pos_of(const yaml_node_t *n)
{
	struct sq_tf_pos p = {(int)n->start_mark.line + 1, (int)n->start_mark.column + 1};

	return p;
}

/* One systematic mistake in a long file is not worth a thousand lines: past
 * SQ_TASKFILE_MAX_DIAGS problems are only counted. */
int sq_tf_muted(struct ctx *c)
{
	if (c->errors < SQ_TASKFILE_MAX_DIAGS)
		return 0;
	c->errors++;
	return 1;
}

/* Reports a problem at node n of the file being read. */
void sq_tf_bad(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[SQ_ERR_MSG_MAX];
	va_list ap;

	if (sq_tf_muted(c))
		return;
	c->errors++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sq_taskfile_diag(c->d, c->l->file, sq_tf_pos_of(n), "%s", msg);
}

/* --- scalars ------------------------------------------------------------------ */

const char *sq_tf_scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int sq_tf_is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML's null: an empty or ~/null plain scalar. */
int sq_tf_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

	if (!sq_tf_is_plain(n))
		return 0;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!strcmp(sq_tf_scalar(n), nulls[i]))
			return 1;
	return 0;
}

/* What the user wrote, for "got ...": numbers bare, text quoted. Always written
 * into buf (and returned), so a caller may use either. */
const char *sq_tf_describe(const yaml_node_t *n, char *buf, size_t len)
{
	const char *s = sq_tf_scalar(n), *what = NULL;

	if (n->type == YAML_SEQUENCE_NODE)
		what = n->data.sequence.items.start == n->data.sequence.items.top ? "an empty list"
										  : "a list";
	else if (n->type == YAML_MAPPING_NODE)
		what = n->data.mapping.pairs.start == n->data.mapping.pairs.top ? "an empty map"
										: "a map";
	else if (!s || sq_tf_is_null(n))
		what = "nothing";
	if (what)
		snprintf(buf, len, "%s", what);
	else if (sq_tf_is_plain(n) && sq_tf_decimal_number(s))
		snprintf(buf, len, "%.40s", s);
	else
		snprintf(buf, len, "'%.40s%s'", s, strlen(s) > 40 ? "..." : "");
	return buf;
}
