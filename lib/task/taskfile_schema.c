/* taskfile_schema.c - the task file schema and the YAML reader behind it.
 *
 * libyaml is wrapped here and in taskfile_check.c, nowhere else. A file is
 * loaded with libyaml's document API (which keeps every node's position), then
 * walked against one declarative table of keys; each key's type has one
 * checker (taskfile_check.c) that turns the node into a struct sq_tf_value or
 * reports why it cannot, at the node's line:col. */
#include "task/taskfile_yaml.h"
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

	for (size_t i = 0; i < NSCHEMA; i++)
		if (schema[i].sec == sec)
			sq_strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", schema[i].name);
	if (sec == SQ_TF_SEC_TOP)
		sq_tf_bad(c, kn, "unknown key '%s' (expected %s)", sq_tf_scalar(kn), sb.buf);
	else
		sq_tf_bad(c, kn, "unknown key '%s' in '%s' (expected %s)", sq_tf_scalar(kn),
			  section_names[sec], sb.buf);
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

/* Loads the first document and makes sure no second one follows (a stray `---`
 * would otherwise silently drop the rest of the file). */
static void parse_text(struct ctx *c, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc, next;
	yaml_node_t *root;

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

int sq_taskfile_layer_load(struct sq_tf_layer *l, const char *file, struct sq_diags *diags)
{
	struct ctx c = {NULL, l, diags, NULL, 0};
	struct sq_err err = {SQ_OK, ""};
	struct sq_tf_pos nowhere = {0, 0};
	size_t len;
	char *buf;

	memset(l, 0, sizeof(*l));
	l->file = xstrdup(file);
	l->pos.line = l->pos.col = 1;
	buf = sq_read_file(file, &len, &err);
	if (!buf) {
		sq_taskfile_diag(diags, file, nowhere, "%s", err.msg);
		return -1;
	}
	c.base = abs_dir(file);
	parse_text(&c, buf, len);
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
