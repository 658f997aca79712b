/* taskfile_span.c - the checks that span files: across the task files of one
 * directory (unique names, one acquisition, one output root, one stitch, no two
 * folders that differ only in case) and across the directories of one
 * scanq-enqueue call (sq_acq_check_together). */
#include "task/taskfile_int.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/banned.h"

static void check_unique_names(struct dirload *L, struct sq_diags *d)
{
	for (size_t i = 0; i < L->n; i++) {
		for (size_t j = 0; L->t[i].name && j < i; j++) {
			if (!L->t[j].name || strcmp(L->t[i].name, L->t[j].name))
				continue;
			sq_taskfile_diag(d, L->t[i].layer.file, L->t[i].name_pos,
					 "duplicate task name '%s' (also in '%s')", L->t[i].name,
					 L->t[j].layer.file);
			L->t[i].bad = 1;
			break;
		}
	}
}

static int valid(const struct src *s)
{
	return s->v && s->v->state == SQ_TF_OK;
}

/* The first of tasks 0..i-1 whose folder differs from task i's only in case,
 * reported: on a case-insensitive filesystem (a share, a laptop's disk) those
 * are one folder. Groups share the output root, tasks their group's folder. */
static void check_case_one(struct dirload *L, size_t i, struct sq_diags *d)
{
	struct tload *t = &L->t[i];
	const struct src *g = &t->m[SQ_TF_GROUP];

	for (size_t j = 0; j < i && valid(g); j++) {
		const struct tload *u = &L->t[j];
		const struct src *h = &u->m[SQ_TF_GROUP];

		if (!valid(h))
			continue;
		if (!strcasecmp(g->v->s, h->v->s) && strcmp(g->v->s, h->v->s)) {
			sq_taskfile_diag(
			    d, g->l->file, g->v->pos,
			    "group '%s' differs only in case from group '%s' (in '%s'): "
			    "on a case-insensitive filesystem they are one folder",
			    g->v->s, h->v->s, u->layer.file);
		} else if (!strcmp(g->v->s, h->v->s) && t->name && u->name &&
			   !strcasecmp(t->name, u->name) && strcmp(t->name, u->name)) {
			sq_taskfile_diag(
			    d, t->layer.file, t->name_pos,
			    "task name '%s' differs only in case from task '%s' (in "
			    "'%s') of the same group: on a case-insensitive filesystem "
			    "they are one folder",
			    t->name, u->name, u->layer.file);
		} else {
			continue;
		}
		t->bad = 1;
		return;
	}
}

/* One directory is one acquisition: field f must be the same in every task. */
static void check_same(struct dirload *L, enum sq_tf_field f, const char *what, struct sq_diags *d)
{
	const struct src *ref = NULL;

	for (size_t i = 0; i < L->n; i++) {
		const struct src *s = &L->t[i].m[f];

		if (!s->v || s->v->state != SQ_TF_OK)
			continue;
		if (!ref) {
			ref = s;
		} else if (strcmp(s->v->s, ref->v->s)) {
			sq_taskfile_diag(d, s->l->file, s->v->pos,
					 "%s '%s' differs from '%s' set in '%s' (one directory is "
					 "one acquisition)",
					 what, s->v->s, ref->v->s, ref->l->file);
			L->t[i].bad = 1;
		}
	}
}

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int backend_equal(const struct sq_backend_spec *a, const struct sq_backend_spec *b)
{
	int same = a->kind == b->kind && a->min_vram_mib == b->min_vram_mib &&
		   a->min_ram_mib == b->min_ram_mib && a->cmd.argc == b->cmd.argc &&
		   a->cmd.timeout_ms == b->cmd.timeout_ms &&
		   str_eq(a->cmd.done_log, b->cmd.done_log) &&
		   str_eq(a->cmd.done_file, b->cmd.done_file);

	for (size_t i = 0; same && i < a->cmd.argc; i++)
		same = str_eq(a->cmd.argv[i], b->cmd.argv[i]);
	return same;
}

/* A group is stitched once, so its tasks cannot each ask for a different stitch.
 * The difference is reported at a 'stitch:' key, the task's own if it has one. */
static void check_stitch_same(struct dirload *L, struct sq_diags *d)
{
	const struct tload *ref = NULL;

	for (size_t i = 0; i < L->n; i++) {
		struct tload *t = &L->t[i];
		const struct sq_tf_layer *at = &t->layer;

		if (t->bad)
			continue;
		if (!ref) {
			ref = t;
			continue;
		}
		if (backend_equal(&t->task.stitch, &ref->task.stitch))
			continue;
		if (!at->section_pos[SQ_TF_SEC_STITCH].line &&
		    ref->layer.section_pos[SQ_TF_SEC_STITCH].line)
			at = &ref->layer;
		sq_taskfile_diag(
		    d, at->file,
		    at->section_pos[SQ_TF_SEC_STITCH].line ? at->section_pos[SQ_TF_SEC_STITCH]
							   : at->pos,
		    "'stitch' of task '%s' differs from task '%s' (a group is stitched "
		    "once: set 'stitch' in acquisition.yaml)",
		    t->name, ref->name);
		t->bad = 1;
	}
}

void sq_tf_check_span(struct dirload *L, struct sq_diags *d)
{
	check_unique_names(L, d);
	for (size_t i = 0; i < L->n; i++)
		check_case_one(L, i, d);
	check_same(L, SQ_TF_ACQUISITION, "acquisition", d);
	check_same(L, SQ_TF_OUTPUT_ROOT, "output root", d);
	check_stitch_same(L, d);
}

/* --- acquisitions loaded together -------------------------------------------- */

/* Returns new path of root with symlinks resolved where it exists already. */
static char *root_key(const char *root)
{
	char *real = realpath(root, NULL);

	return real ? real : xstrdup(root);
}

/* 1 if path is dir or inside it (both absolute and normalised). */
static int within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return 1;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

static void diag_at(struct sq_diags *d, const struct sq_acq_at *at, const char *msg)
{
	struct sq_tf_pos pos = {at->line, at->col};

	sq_taskfile_diag(d, at->file, pos, "%s", msg);
}

/* The problem between a and b (b loaded earlier), or none: returns new message,
 * and in *at the key of a to report it at. */
static char *clash(const struct sq_acq *a, const char *ra, const struct sq_acq *b, const char *rb,
		   const struct sq_acq_at **at)
{
	*at = &a->name_at;
	if (!strcmp(a->task_dir, b->task_dir))
		return xasprintf("task directory '%s' is given twice", a->dir);
	if (!strcmp(a->name, b->name))
		return xasprintf("acquisition '%s' is also defined by task directory '%s' (one "
				 "acquisition, one task directory)",
				 a->name, b->dir);
	*at = &a->root_at;
	if (!strcmp(ra, rb))
		return xasprintf("output root '%s' is also the output root of acquisition '%s' "
				 "(task directory '%s'); give each acquisition its own output_root",
				 a->output_root, b->name, b->dir);
	if (within(ra, rb) || within(rb, ra))
		return xasprintf("output root '%s' and the output root '%s' of acquisition '%s' "
				 "(task directory '%s') lie one inside the other",
				 a->output_root, b->output_root, b->name, b->dir);
	return NULL;
}

int sq_acq_check_together(const struct sq_acq *acqs, size_t n, struct sq_diags *diags)
{
	char **keys = xcalloc(n + 1, sizeof(*keys));
	size_t before = diags->n;

	for (size_t i = 0; i < n; i++)
		keys[i] = acqs[i].name ? root_key(acqs[i].output_root) : NULL;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i && keys[i]; j++) {
			const struct sq_acq_at *at;
			char *msg =
			    keys[j] ? clash(&acqs[i], keys[i], &acqs[j], keys[j], &at) : NULL;

			if (!msg)
				continue;
			diag_at(diags, at, msg);
			free(msg);
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	return diags->n == before ? 0 : -1;
}
