/* taskfile_schema.c - the task file schema and the YAML reader behind it.
 *
 * libyaml is seen only by the taskfile_*.c files of this folder
 * (taskfile_yaml.h is their seam). A file is
 * loaded with libyaml's document API (which keeps every node's position), then
 * walked against one declarative table of keys; each key's type has one
 * checker (taskfile_check.c) that turns the node into a struct sq_tf_value or
 * reports why it cannot, at the node's line:col. */
#include "task/taskfile_schema.h"
#include "task/taskfile_yaml.h"
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include "base/banned.h"

static const char *const rc_backends[] = {"colmap", "command", NULL};
static const char *const st_backends[] = {"builtin", "command", NULL};
static const char *const rc_holders[] = {"frames", "output", "workdir", "gpu", NULL};
static const char *const st_holders[] = {"inputs", "output", "workdir", "gpu", NULL};

static const struct key schema[] = {
    {SQ_TF_SEC_TOP, "acquisition", T_NAME, SQ_TF_ACQUISITION, 0, 0, NULL},
    {SQ_TF_SEC_TOP, "output_root", T_PATH, SQ_TF_OUTPUT_ROOT, 0, 0, NULL},
    {SQ_TF_SEC_TOP, "group", T_NAME, SQ_TF_GROUP, 0, 0, NULL},
    {SQ_TF_SEC_TOP, "name", T_NAME, SQ_TF_NAME, 0, 0, NULL},
    {SQ_TF_SEC_TOP, "videos", T_VIDEOS, SQ_TF_VIDEOS, 0, 0, NULL},
    {SQ_TF_SEC_TOP, "extract", T_SECTION, SQ_TF_SEC_EXTRACT, 0, 0, NULL},
    {SQ_TF_SEC_TOP, "reconstruct", T_SECTION, SQ_TF_SEC_RECONSTRUCT, 0, 0, NULL},
    {SQ_TF_SEC_TOP, "stitch", T_SECTION, SQ_TF_SEC_STITCH, 0, 0, NULL},
    {SQ_TF_SEC_TOP, "retry", T_SECTION, SQ_TF_SEC_RETRY, 0, 0, NULL},

    {SQ_TF_SEC_EXTRACT, "fps", T_FPS, SQ_TF_EX_FPS, 0, 1000, NULL},
    {SQ_TF_SEC_EXTRACT, "width", T_SIZE, SQ_TF_EX_WIDTH, 16, 16384, NULL},
    {SQ_TF_SEC_EXTRACT, "height", T_SIZE, SQ_TF_EX_HEIGHT, 16, 16384, NULL},
    {SQ_TF_SEC_EXTRACT, "quality", T_INT, SQ_TF_EX_QUALITY, 2, 31, NULL},

    {SQ_TF_SEC_RECONSTRUCT, "backend", T_BACKEND, SQ_TF_RC_BACKEND, 0, 0, rc_backends},
    {SQ_TF_SEC_RECONSTRUCT, "command", T_ARGV, SQ_TF_RC_COMMAND, 0, 0, rc_holders},
    {SQ_TF_SEC_RECONSTRUCT, "timeout", T_DURATION, SQ_TF_RC_TIMEOUT, 1, UNBOUNDED, NULL},
    {SQ_TF_SEC_RECONSTRUCT, "done_when", T_DONE_WHEN, SQ_TF_RC_DONE_WHEN, 0, 0, rc_holders},
    {SQ_TF_SEC_RECONSTRUCT, "min_vram_mib", T_INT, SQ_TF_RC_VRAM, 0, UNBOUNDED, NULL},
    {SQ_TF_SEC_RECONSTRUCT, "min_ram_mib", T_INT, SQ_TF_RC_RAM, 0, UNBOUNDED, NULL},
    {SQ_TF_SEC_RECONSTRUCT, "stride", T_INT, SQ_TF_RC_STRIDE, 0, 1000000, NULL},
    {SQ_TF_SEC_RECONSTRUCT, "bytes_per_frame", T_BYTES, SQ_TF_RC_BYTES_PER_FRAME, 0, UNBOUNDED,
     NULL},
    {SQ_TF_SEC_RECONSTRUCT, "memory_budget", T_BYTES, SQ_TF_RC_MEMORY_BUDGET, 0, UNBOUNDED, NULL},
    {SQ_TF_SEC_RECONSTRUCT, "colmap", T_SECTION, SQ_TF_SEC_COLMAP, 0, 0, NULL},

    {SQ_TF_SEC_STITCH, "backend", T_BACKEND, SQ_TF_ST_BACKEND, 0, 0, st_backends},
    {SQ_TF_SEC_STITCH, "command", T_ARGV, SQ_TF_ST_COMMAND, 0, 0, st_holders},
    {SQ_TF_SEC_STITCH, "timeout", T_DURATION, SQ_TF_ST_TIMEOUT, 1, UNBOUNDED, NULL},
    {SQ_TF_SEC_STITCH, "done_when", T_DONE_WHEN, SQ_TF_ST_DONE_WHEN, 0, 0, st_holders},
    {SQ_TF_SEC_STITCH, "min_vram_mib", T_INT, SQ_TF_ST_VRAM, 0, UNBOUNDED, NULL},
    {SQ_TF_SEC_STITCH, "min_ram_mib", T_INT, SQ_TF_ST_RAM, 0, UNBOUNDED, NULL},

    {SQ_TF_SEC_RETRY, "max_attempts", T_INT, SQ_TF_RT_MAX_ATTEMPTS, 1, 100, NULL},
    {SQ_TF_SEC_RETRY, "backoff", T_DURATION, SQ_TF_RT_BACKOFF, 0, UNBOUNDED, NULL},

    {SQ_TF_SEC_COLMAP, "threads", T_INT, SQ_TF_CM_THREADS, 0, 4096, NULL},
    {SQ_TF_SEC_COLMAP, "max_image_size", T_INT, SQ_TF_CM_MAX_IMAGE_SIZE, 16, 1 << 20, NULL},
    {SQ_TF_SEC_COLMAP, "max_features", T_INT, SQ_TF_CM_MAX_FEATURES, 1, 1 << 24, NULL},
    {SQ_TF_SEC_COLMAP, "overlap", T_INT, SQ_TF_CM_OVERLAP, 1, 1 << 20, NULL},
    {SQ_TF_SEC_COLMAP, "min_registered_pct", T_INT, SQ_TF_CM_MIN_REGISTERED, 0, 100, NULL},
    {SQ_TF_SEC_COLMAP, "camera_model", T_CHOICE, SQ_TF_CM_CAMERA_MODEL, 0, 0,
     sq_colmap_camera_models},
    /* its count and focal lengths depend on camera_model: checked by taskfile.c */
    {SQ_TF_SEC_COLMAP, "camera_params", T_NUMBERS, SQ_TF_CM_CAMERA_PARAMS, 0, 0, NULL},
};

#define NSCHEMA (sizeof(schema) / sizeof(schema[0]))

const char *sq_taskfile_field_key(enum sq_tf_field f)
{
	for (size_t i = 0; i < NSCHEMA; i++)
		if (schema[i].type != T_SECTION && schema[i].field == (int)f)
			return schema[i].name;
	return "?";
}

/* --- walking the document ----------------------------------------------------- */

static const struct key *find_key(enum sq_tf_section sec, const char *name)
{
	for (size_t i = 0; i < NSCHEMA; i++)
		if (schema[i].sec == sec && !strcmp(schema[i].name, name))
			return &schema[i];
	return NULL;
}

static void unknown_key(struct ctx *c, yaml_node_t *kn, enum sq_tf_section sec)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;

	if (sq_tf_muted(c)) /* past the problems shown: not worth the list */
		return;
	for (size_t i = 0; i < NSCHEMA; i++)
		if (schema[i].sec == sec)
			sq_strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", schema[i].name);
	if (sec == SQ_TF_SEC_TOP)
		sq_tf_bad(c, kn, "unknown key '%s' (expected %s)", sq_tf_scalar(kn), sb.buf);
	else
		sq_tf_bad(c, kn, "unknown key '%s' in '%s' (expected %s)", sq_tf_scalar(kn),
			  sq_tf_section_name(sec), sb.buf);
	sq_strbuf_release(&sb);
}

static void walk_map(struct ctx *c, yaml_node_t *map, enum sq_tf_section sec);

static void walk_section(struct ctx *c, const struct key *k, yaml_node_t *kn, yaml_node_t *vn)
{
	char buf[64];

	if (c->l->section_pos[k->field].line) {
		sq_tf_bad(c, kn, "duplicate key '%s'", k->name);
		return;
	}
	c->l->section_pos[k->field] = sq_tf_pos_of(kn);
	if (sq_tf_is_null(vn))
		return; /* `extract:` with nothing under it: no overrides */
	if (vn->type != YAML_MAPPING_NODE) {
		sq_tf_bad(c, vn, "'%s' must be a map of keys, got %s", k->name,
			  sq_tf_describe(vn, buf, sizeof(buf)));
		return;
	}
	walk_map(c, vn, (enum sq_tf_section)k->field);
}

static void walk_pair(struct ctx *c, yaml_node_t *kn, yaml_node_t *vn, enum sq_tf_section sec)
{
	const struct key *k = kn->type == YAML_SCALAR_NODE ? find_key(sec, sq_tf_scalar(kn)) : NULL;
	struct sq_tf_value *v;

	if (kn->type != YAML_SCALAR_NODE) {
		sq_tf_bad(c, kn, "keys must be plain words, not a list or map");
		return;
	}
	if (!k) {
		unknown_key(c, kn, sec);
		return;
	}
	if (k->type == T_SECTION) {
		walk_section(c, k, kn, vn);
		return;
	}
	v = &c->l->v[k->field];
	if (v->state != SQ_TF_UNSET) {
		sq_tf_bad(c, kn, "duplicate key '%s'", k->name);
		return;
	}
	v->key_pos = sq_tf_pos_of(kn);
	v->pos = sq_tf_pos_of(vn);
	v->state = sq_tf_check(c, k, vn, v) == 0 ? SQ_TF_OK : SQ_TF_BAD;
}

static void walk_map(struct ctx *c, yaml_node_t *map, enum sq_tf_section sec)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++)
		walk_pair(c, yaml_document_get_node(c->doc, p->key),
			  yaml_document_get_node(c->doc, p->value), sec);
}

static void walk_root(struct ctx *c, yaml_node_t *root)
{
	char buf[64];

	c->l->pos = sq_tf_pos_of(root);
	if (sq_tf_is_null(root))
		return;
	if (root->type != YAML_MAPPING_NODE) {
		sq_tf_bad(c, root, "a task file must be a map of keys, got %s",
			  sq_tf_describe(root, buf, sizeof(buf)));
		c->l->parsed = 0; /* nothing in it to check against */
		return;
	}
	walk_map(c, root, SQ_TF_SEC_TOP);
}

/* --- loading ------------------------------------------------------------------ */

static void syntax_error(struct ctx *c, const yaml_parser_t *p)
{
	struct sq_tf_pos pos = {0, 0};

	if (p->error == YAML_SCANNER_ERROR || p->error == YAML_PARSER_ERROR ||
	    p->error == YAML_COMPOSER_ERROR) {
		pos.line = (int)p->problem_mark.line + 1;
		pos.col = (int)p->problem_mark.column + 1;
	}
	if (p->context)
		sq_taskfile_diag(c->d, c->l->file, pos, "invalid yaml: %s (%s at line %d)",
				 p->problem ? p->problem : "syntax error", p->context,
				 (int)p->context_mark.line + 1);
	else
		sq_taskfile_diag(c->d, c->l->file, pos, "invalid yaml: %s",
				 p->problem ? p->problem : "syntax error");
	c->errors++;
}

/* Whether the text stays within the nesting and anchor limits, found from
 * libyaml's events before it builds a document: the check stops at the first
 * excess, so its own cost stays linear. A syntax error is left to the load. */
static int within_limits(struct ctx *c, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, anchors = 0, ok = 1, done = 0;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done && yaml_parser_parse(&parser, &ev)) {
		struct sq_tf_pos at = {(int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1};

		depth +=
		    ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT;
		depth -= ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT;
		anchors +=
		    ev.type == YAML_ALIAS_EVENT ||
		    (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.anchor) ||
		    (ev.type == YAML_SEQUENCE_START_EVENT && ev.data.sequence_start.anchor) ||
		    (ev.type == YAML_MAPPING_START_EVENT && ev.data.mapping_start.anchor);
		done = ev.type == YAML_STREAM_END_EVENT;
		if (depth > SQ_TASKFILE_MAX_DEPTH || anchors > SQ_TASKFILE_MAX_ANCHORS) {
			sq_taskfile_diag(c->d, c->l->file, at,
					 depth > SQ_TASKFILE_MAX_DEPTH
					     ? "lists and maps nested more than %d deep"
					     : "more than %d yaml anchors and aliases",
					 depth > SQ_TASKFILE_MAX_DEPTH ? SQ_TASKFILE_MAX_DEPTH
								       : SQ_TASKFILE_MAX_ANCHORS);
			c->errors++;
			ok = 0;
			done = 1;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return ok;
}

/* Loads the first document and makes sure no second one follows (a stray `---`
 * would otherwise silently drop the rest of the file). */
static void parse_text(struct ctx *c, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc, next;
	yaml_node_t *root;

	if (!within_limits(c, buf, len))
		return;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		syntax_error(c, &parser);
		goto out;
	}
	c->l->parsed = 1;
	c->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root)
		walk_root(c, root);
	if (root && !yaml_parser_load(&parser, &next)) {
		syntax_error(c, &parser);
	} else if (root) {
		yaml_node_t *second = yaml_document_get_root_node(&next);

		if (second)
			sq_tf_bad(c, second,
				  "a task file holds one yaml document, found a second one");
		yaml_document_delete(&next);
	}
	yaml_document_delete(&doc);
out:
	yaml_parser_delete(&parser);
}

/* Returns new absolute path of the folder holding file. */
static char *abs_dir(const char *file)
{
	char *dir = sq_path_dirname(file), *cwd, *out;

	if (dir[0] == '/')
		return dir;
	cwd = getcwd(NULL, 0);
	out = sq_path_resolve(cwd ? cwd : ".", dir);
	free(cwd);
	free(dir);
	return out;
}

/* Reads file whole if it is a regular file within SQ_TASKFILE_MAX_BYTES: returns
 * new buffer, or NULL after reporting (a FIFO or a device is never waited on, a
 * huge file never read). */
static char *read_limited(const char *file, size_t *len, struct sq_diags *d)
{
	struct sq_tf_pos nowhere = {0, 0};
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	char *buf = NULL, ebuf[128];
	ssize_t n = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		sq_taskfile_diag(d, file, nowhere, "cannot open '%s': %s", file,
				 sq_tf_errno_text(errno, ebuf, sizeof(ebuf)));
	else if (!S_ISREG(st.st_mode))
		sq_taskfile_diag(d, file, nowhere, "cannot read '%s': not a regular file", file);
	else if (st.st_size > SQ_TASKFILE_MAX_BYTES)
		sq_taskfile_diag(d, file, nowhere,
				 "task file is %lld bytes, more than the %d a task file may have",
				 (long long)st.st_size, SQ_TASKFILE_MAX_BYTES);
	else
		buf = xmalloc(SQ_TASKFILE_MAX_BYTES + 1);
	for (*len = 0; buf && *len <= SQ_TASKFILE_MAX_BYTES; *len += (size_t)n) {
		n = read(fd, buf + *len, SQ_TASKFILE_MAX_BYTES + 1 - *len);
		if (n < 0 && errno == EINTR)
			n = 0;
		else if (n <= 0)
			break;
	}
	if (buf && (n < 0 || *len > SQ_TASKFILE_MAX_BYTES)) { /* failed, or grew meanwhile */
		sq_taskfile_diag(d, file, nowhere, "cannot read '%s': %s", file,
				 n < 0 ? sq_tf_errno_text(errno, ebuf, sizeof(ebuf))
				       : "it grew past the size limit");
		free(buf);
		buf = NULL;
	}
	if (fd >= 0)
		close(fd);
	return buf;
}

int sq_taskfile_layer_load(struct sq_tf_layer *l, const char *file, struct sq_diags *diags)
{
	struct ctx c = {NULL, l, diags, NULL, 0};
	size_t len;
	char *buf;

	memset(l, 0, sizeof(*l));
	l->file = xstrdup(file);
	l->pos.line = l->pos.col = 1;
	buf = read_limited(file, &len, diags);
	if (!buf)
		return -1;
	c.base = abs_dir(file);
	parse_text(&c, buf, len);
	if (c.errors > SQ_TASKFILE_MAX_DIAGS)
		sq_taskfile_diag(diags, file, (struct sq_tf_pos){0, 0},
				 "%d more problems in this file not shown",
				 c.errors - SQ_TASKFILE_MAX_DIAGS);
	free(c.base);
	free(buf);
	return c.errors ? -1 : 0;
}

void sq_taskfile_layer_release(struct sq_tf_layer *l)
{
	for (int f = 0; f < SQ_TF_COUNT; f++) {
		free(l->v[f].s);
		for (size_t i = 0; i < l->v[f].nitems; i++)
			free(l->v[f].items[i].s);
		free(l->v[f].items);
		free(l->v[f].nums);
	}
	free(l->file);
	memset(l, 0, sizeof(*l));
}
