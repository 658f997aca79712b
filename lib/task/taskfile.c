/* taskfile.c - loading a task directory: defaults merged into each task file,
 * checks that span files, and the diagnostics list.
 *
 * taskfile_schema.c reads each YAML file into a layer of checked values; here the
 * acquisition.yaml layer and a task file's layer are merged key by key (the task
 * file wins; the maps extract/reconstruct/stitch/retry merge per sub-key), the
 * result becomes a struct sq_task, and the directory-wide rules are applied:
 * unique names, one acquisition and output root, readable and decodable videos,
 * an output root that can be created. Nothing is returned unless all of it holds. */
#include "task/taskfile.h"
#include "base/fsutil.h"
#include "task/layout.h"
#include "task/taskfile_int.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/banned.h"

static const struct sq_tf_pos nowhere = {0, 0};

/* --- merging one task file with the defaults --------------------------------- */

static const char *backend_section(int base)
{
	return base == SQ_TF_RC_BACKEND ? "reconstruct" : "stitch";
}

static enum sq_backend_kind backend_default(int base)
{
	return base == SQ_TF_RC_BACKEND ? SQ_BACKEND_COLMAP : SQ_BACKEND_BUILTIN;
}

/* The keys of reconstruct.colmap, which only the colmap backend reads. */
static const int colmap_keys[] = {
    SQ_TF_CM_THREADS,	     SQ_TF_CM_MAX_IMAGE_SIZE, SQ_TF_CM_MAX_FEATURES, SQ_TF_CM_OVERLAP,
    SQ_TF_CM_MIN_REGISTERED, SQ_TF_CM_CAMERA_MODEL,   SQ_TF_CM_CAMERA_PARAMS};
#define NCOLMAP_KEYS (sizeof(colmap_keys) / sizeof(colmap_keys[0]))

/* A task file that switches a backend away from the acquisition's does not
 * inherit the acquisition's command (or colmap) settings: they belong to the
 * other backend. */
static void backend_inherit(struct tload *t, const struct sq_tf_layer *acq, int base)
{
	static const int cmd_keys[] = {SQ_TF_BK_COMMAND, SQ_TF_BK_TIMEOUT, SQ_TF_BK_DONE_WHEN};
	const struct sq_tf_value *tb = &t->layer.v[base], *ab = &acq->v[base];
	long long acq_kind = ab->state == SQ_TF_OK ? ab->i : backend_default(base);

	if (tb->state != SQ_TF_OK || ab->state == SQ_TF_BAD || tb->i == acq_kind)
		return;
	for (size_t k = 0; k < sizeof(cmd_keys) / sizeof(cmd_keys[0]); k++) {
		struct src *s = &t->m[base + cmd_keys[k]];

		if (s->l == acq)
			memset(s, 0, sizeof(*s));
	}
	for (size_t k = 0; base == SQ_TF_RC_BACKEND && k < NCOLMAP_KEYS; k++) {
		struct src *s = &t->m[colmap_keys[k]];

		if (s->l == acq)
			memset(s, 0, sizeof(*s));
	}
}

static void merge(struct tload *t, const struct sq_tf_layer *acq)
{
	for (int f = 0; f < SQ_TF_COUNT; f++) {
		if (t->layer.v[f].state != SQ_TF_UNSET) {
			t->m[f].v = &t->layer.v[f];
			t->m[f].l = &t->layer;
		} else if (acq && acq->v[f].state != SQ_TF_UNSET) {
			t->m[f].v = &acq->v[f];
			t->m[f].l = acq;
		}
		if (t->m[f].v && t->m[f].v->state == SQ_TF_BAD)
			t->bad = 1; /* already reported where it was written */
	}
	if (acq) {
		backend_inherit(t, acq, SQ_TF_RC_BACKEND);
		backend_inherit(t, acq, SQ_TF_ST_BACKEND);
	}
}

static void check_required(struct tload *t, const struct sq_tf_layer *acq, struct sq_diags *d)
{
	static const enum sq_tf_field req[] = {SQ_TF_ACQUISITION, SQ_TF_OUTPUT_ROOT, SQ_TF_GROUP,
					       SQ_TF_VIDEOS};

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		if (t->m[req[i]].v)
			continue;
		t->bad = 1;
		/* an unreadable acquisition.yaml was reported; its keys may be there */
		if (!acq || acq->parsed)
			sq_taskfile_diag(d, t->layer.file, t->layer.pos,
					 "missing required key '%s'",
					 sq_taskfile_field_key(req[i]));
	}
}

static void task_name(struct tload *t, struct sq_diags *d)
{
	const struct src *s = &t->m[SQ_TF_NAME];
	char *stem;

	if (s->v) {
		if (s->v->state == SQ_TF_OK) {
			t->name = xstrdup(s->v->s);
			/* a name from acquisition.yaml is the task file's problem */
			t->name_pos = s->l == &t->layer ? s->v->pos : t->layer.pos;
		}
		return;
	}
	stem = sq_path_stem(t->layer.file);
	t->name_pos = t->layer.pos;
	if (sq_name_valid(stem) && !sq_layout_name_reserved(stem)) {
		t->name = stem;
		return;
	}
	sq_taskfile_diag(d, t->layer.file, t->layer.pos,
			 "invalid task name '%s' from the file name (%s); set 'name'", stem,
			 sq_name_valid(stem) ? sq_layout_reserved_reason(stem) : SQ_TF_NAME_RULE);
	t->bad = 1;
	free(stem);
}

/* Command settings need backend: command, and backend: command needs a command. */
static void check_backend(struct tload *t, int base, struct sq_diags *d)
{
	static const int cmd_keys[] = {SQ_TF_BK_COMMAND, SQ_TF_BK_TIMEOUT, SQ_TF_BK_DONE_WHEN};
	const struct src *b = &t->m[base];
	long long kind = b->v ? b->v->i : backend_default(base);

	if (b->v && b->v->state != SQ_TF_OK)
		return;
	if (kind == SQ_BACKEND_COMMAND && !t->m[base + SQ_TF_BK_COMMAND].v) {
		sq_taskfile_diag(
		    d, b->l ? b->l->file : t->layer.file, b->v ? b->v->pos : t->layer.pos,
		    "%s backend 'command' needs a 'command' list", backend_section(base));
		t->bad = 1;
	}
	for (size_t k = 0; kind != SQ_BACKEND_COMMAND && k < 3; k++) {
		const struct src *s = &t->m[base + cmd_keys[k]];

		if (!s->v)
			continue;
		sq_taskfile_diag(d, s->l->file, s->v->key_pos,
				 "'%s' needs 'backend: command' (%s backend is '%s')",
				 sq_taskfile_field_key((enum sq_tf_field)(base + cmd_keys[k])),
				 backend_section(base),
				 sq_backend_name((enum sq_backend_kind)kind));
		t->bad = 1;
	}
	for (size_t k = 0;
	     base == SQ_TF_RC_BACKEND && kind != SQ_BACKEND_COLMAP && k < NCOLMAP_KEYS; k++) {
		const struct src *s = &t->m[colmap_keys[k]];

		if (!s->v)
			continue;
		sq_taskfile_diag(d, s->l->file, s->v->key_pos,
				 "'%s' needs 'backend: colmap' (reconstruct backend is '%s')",
				 sq_taskfile_field_key((enum sq_tf_field)colmap_keys[k]),
				 sq_backend_name((enum sq_backend_kind)kind));
		t->bad = 1;
	}
}

/* " (set in 'acquisition.yaml')" when camera_model comes from another file than
 * camera_params, " (the default)" when it is set nowhere; else "". */
static char *model_origin(const struct src *model, const struct src *params)
{
	if (!model->v)
		return xstrdup(" (the default)");
	if (model->l != params->l)
		return xasprintf(" (set in '%s')", model->l->file);
	return xstrdup("");
}

/* camera_params must fit camera_model, which may come from another file: the
 * count is the model's, and its focal lengths are > 0. */
static void check_camera_params(struct tload *t, struct sq_diags *d)
{
	const struct src *p = &t->m[SQ_TF_CM_CAMERA_PARAMS], *m = &t->m[SQ_TF_CM_CAMERA_MODEL];
	const struct src *b = &t->m[SQ_TF_RC_BACKEND];
	static const char *const focal[2][2] = {{"f", "?"}, {"fx", "fy"}};
	const struct sq_colmap_model_info *cam;
	char *origin;

	if (!p->v || p->v->state != SQ_TF_OK || (m->v && m->v->state != SQ_TF_OK) ||
	    (b->v && (b->v->state != SQ_TF_OK || b->v->i != SQ_BACKEND_COLMAP)))
		return; /* what is wrong there is reported elsewhere */
	cam = sq_colmap_model_find(m->v ? m->v->s : "OPENCV");
	if (!cam || cam->nfocal < 1 || cam->nfocal > 2)
		return;
	if (p->v->nitems != (size_t)cam->nparams) {
		origin = model_origin(m, p);
		sq_taskfile_diag(d, p->l->file, p->v->pos,
				 "'camera_params' has %zu number%s; camera_model %s%s takes %d "
				 "(%s)",
				 p->v->nitems, p->v->nitems == 1 ? "" : "s", cam->model, origin,
				 cam->nparams, cam->params);
		free(origin);
		t->bad = 1;
		return;
	}
	for (int i = 0; i < cam->nfocal; i++) {
		if (p->v->nums[i] > 0)
			continue;
		sq_taskfile_diag(d, p->l->file, p->v->items[i].pos,
				 "focal length '%s' of 'camera_params' must be > 0, got %g",
				 focal[cam->nfocal - 1][i], p->v->nums[i]);
		t->bad = 1;
	}
}

/* --- building the task -------------------------------------------------------- */

/* The merged value of f; only called on tasks whose values are all valid. */
static const struct sq_tf_value *val(const struct tload *t, int f)
{
	return t->m[f].v;
}

static char **items_dup(const struct sq_tf_value *v)
{
	char **out = xcalloc(v->nitems + 1, sizeof(*out));

	for (size_t i = 0; i < v->nitems; i++)
		out[i] = xstrdup(v->items[i].s);
	return out;
}

static void fill_backend(struct sq_backend_spec *b, const struct tload *t, int base)
{
	const struct sq_tf_value *v;

	if ((v = val(t, base + SQ_TF_BK_BACKEND)))
		b->kind = (enum sq_backend_kind)v->i;
	if ((v = val(t, base + SQ_TF_BK_VRAM)))
		b->min_vram_mib = v->i;
	if ((v = val(t, base + SQ_TF_BK_RAM)))
		b->min_ram_mib = v->i;
	if (b->kind != SQ_BACKEND_COMMAND)
		return;
	v = val(t, base + SQ_TF_BK_COMMAND);
	b->cmd.argv = items_dup(v);
	b->cmd.argc = v->nitems;
	if ((v = val(t, base + SQ_TF_BK_TIMEOUT)))
		b->cmd.timeout_ms = v->i;
	if ((v = val(t, base + SQ_TF_BK_DONE_WHEN))) {
		if (v->i)
			b->cmd.done_file = xstrdup(v->s);
		else
			b->cmd.done_log = xstrdup(v->s);
	}
}

/* The reconstruct-only settings: RAM-aware stride and colmap's parameters. */
static void fill_reconstruct(struct sq_backend_spec *b, const struct tload *t)
{
	struct sq_colmap_spec *c = &b->colmap;
	const struct sq_tf_value *v;

	if ((v = val(t, SQ_TF_RC_STRIDE)))
		b->stride.stride = (int)v->i;
	if ((v = val(t, SQ_TF_RC_BYTES_PER_FRAME)))
		b->stride.bytes_per_frame = v->i;
	if ((v = val(t, SQ_TF_RC_MEMORY_BUDGET)))
		b->stride.memory_budget_bytes = v->i;
	if ((v = val(t, SQ_TF_CM_THREADS)))
		c->threads = (int)v->i;
	if ((v = val(t, SQ_TF_CM_MAX_IMAGE_SIZE)))
		c->max_image_size = (int)v->i;
	if ((v = val(t, SQ_TF_CM_MAX_FEATURES)))
		c->max_features = (int)v->i;
	if ((v = val(t, SQ_TF_CM_OVERLAP)))
		c->overlap = (int)v->i;
	if ((v = val(t, SQ_TF_CM_MIN_REGISTERED)))
		c->min_registered_pct = (int)v->i;
	if ((v = val(t, SQ_TF_CM_CAMERA_MODEL)))
		snprintf(c->camera_model, sizeof(c->camera_model), "%s", v->s);
	if ((v = val(t, SQ_TF_CM_CAMERA_PARAMS))) /* its count fits camera_model */
		for (size_t i = 0; i < v->nitems && i < SQ_COLMAP_PARAMS_MAX; i++)
			c->camera_params[c->ncamera_params++] = v->nums[i];
}

static void build(struct tload *t)
{
	struct sq_task *k = &t->task;
	const struct sq_tf_value *v;

	k->acquisition = xstrdup(val(t, SQ_TF_ACQUISITION)->s);
	k->output_root = xstrdup(val(t, SQ_TF_OUTPUT_ROOT)->s);
	k->group = xstrdup(val(t, SQ_TF_GROUP)->s);
	k->name = xstrdup(t->name);
	v = val(t, SQ_TF_VIDEOS);
	k->videos = items_dup(v);
	k->nvideos = v->nitems;
	k->video_until_ms = sq_taskfile_video_until(v);
	if ((v = val(t, SQ_TF_EX_FPS))) {
		k->extract.fps_num = v->num;
		k->extract.fps_den = v->den;
	}
	if ((v = val(t, SQ_TF_EX_WIDTH)))
		k->extract.width = (int)v->i;
	if ((v = val(t, SQ_TF_EX_HEIGHT)))
		k->extract.height = (int)v->i;
	if ((v = val(t, SQ_TF_EX_QUALITY)))
		k->extract.quality = (int)v->i;
	fill_backend(&k->reconstruct, t, SQ_TF_RC_BACKEND);
	fill_reconstruct(&k->reconstruct, t);
	fill_backend(&k->stitch, t, SQ_TF_ST_BACKEND);
	if ((v = val(t, SQ_TF_RT_MAX_ATTEMPTS)))
		k->retry.max_attempts = (int)v->i;
	if ((v = val(t, SQ_TF_RT_BACKOFF)))
		k->retry.backoff_ms = v->i;
	k->source_file = xstrdup(t->layer.file);
	sq_task_finalize(k);
}

/* Reads one task file and checks everything that does not involve other files. */
static void load_task(struct tload *t, const char *file, const struct sq_tf_layer *acq,
		      struct sq_diags *d)
{
	memset(t, 0, sizeof(*t));
	sq_task_init(&t->task);
	sq_taskfile_layer_load(&t->layer, file, d);
	if (!t->layer.parsed) {
		t->bad = 1;
		return;
	}
	merge(t, acq);
	check_required(t, acq, d);
	task_name(t, d);
	check_backend(t, SQ_TF_RC_BACKEND, d);
	check_backend(t, SQ_TF_ST_BACKEND, d);
	check_camera_params(t, d);
	if (!t->bad)
		build(t);
}

static void tload_release(struct tload *t)
{
	sq_taskfile_layer_release(&t->layer);
	sq_task_release(&t->task);
	free(t->name);
}

/* --- the directory ------------------------------------------------------------ */

static int is_yaml(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return 0;
	return (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(name + n - 4, ".yml"));
}

static int is_defaults(const char *name)
{
	return !strcmp(name, "acquisition.yaml") || !strcmp(name, "acquisition.yml");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the *.yaml / *.yml files of dir as "dir/name", sorted. */
static int list_yaml(const char *dir, char ***out, size_t *n, struct sq_diags *d)
{
	DIR *dh = opendir(dir);
	struct dirent *e;
	size_t alloc = 0;
	char buf[128];

	*out = NULL;
	*n = 0;
	if (!dh) {
		sq_taskfile_diag(d, dir, nowhere, "cannot open task directory '%s': %s", dir,
				 sq_tf_errno_text(errno, buf, sizeof(buf)));
		return -1;
	}
	while ((e = readdir(dh))) {
		struct stat st;
		char *path;

		if (!is_yaml(e->d_name))
			continue;
		path = sq_path_join(dir, e->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		xgrow((void **)out, &alloc, *n + 1, sizeof(**out));
		(*out)[(*n)++] = path;
	}
	closedir(dh);
	if (*n > 1) /* *out is NULL when there is none, which qsort may not get */
		qsort(*out, *n, sizeof(**out), cmp_str);
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int cmp_task(const void *a, const void *b)
{
	return strcmp(((const struct sq_task *)a)->name, ((const struct sq_task *)b)->name);
}

/* The acquisition stitch: the tasks' (common) stitch backend, acquisition.yaml's
 * retry policy, writing into the output root. */
static void fill_stitch(struct sq_acq *a, const struct sq_tf_layer *acq)
{
	struct sq_stitch_spec *s = &a->stitch;

	s->acquisition = xstrdup(a->name);
	s->outdir = xstrdup(a->output_root);
	sq_backend_spec_release(&s->backend);
	sq_backend_spec_copy(&s->backend, &a->tasks[0].stitch);
	if (acq && acq->v[SQ_TF_RT_MAX_ATTEMPTS].state == SQ_TF_OK)
		s->retry.max_attempts = (int)acq->v[SQ_TF_RT_MAX_ATTEMPTS].i;
	if (acq && acq->v[SQ_TF_RT_BACKOFF].state == SQ_TF_OK)
		s->retry.backoff_ms = acq->v[SQ_TF_RT_BACKOFF].i;
	sq_stitch_spec_finalize(s);
}

/* Sorted unique groups: borrowed pointers are sorted and compacted, then copied. */
static void fill_groups(struct sq_acq *a)
{
	a->groups = xcalloc(a->ntasks + 1, sizeof(*a->groups));
	for (size_t i = 0; i < a->ntasks; i++)
		a->groups[i] = a->tasks[i].group;
	qsort(a->groups, a->ntasks, sizeof(*a->groups), cmp_str);
	for (size_t i = 0; i < a->ntasks; i++)
		if (a->ngroups == 0 || strcmp(a->groups[a->ngroups - 1], a->groups[i]))
			a->groups[a->ngroups++] = a->groups[i];
	for (size_t i = 0; i < a->ngroups; i++)
		a->groups[i] = xstrdup(a->groups[i]);
}

static void set_at(struct sq_acq_at *at, const struct src *s)
{
	at->file = xstrdup(s->l->file);
	at->line = s->v->pos.line;
	at->col = s->v->pos.col;
}

/* Returns new absolute path of dir with symlinks resolved (lexically made
 * absolute if it vanished meanwhile). */
static char *canonical_dir(const char *dir)
{
	char *real = realpath(dir, NULL), *cwd;

	if (real || dir[0] == '/')
		return real ? real : sq_path_resolve("/", dir);
	cwd = getcwd(NULL, 0);
	real = sq_path_resolve(cwd ? cwd : "/", dir);
	free(cwd);
	return real;
}

/* Moves the built tasks of L into a (all of them valid, at least one). */
static void fill_acq(struct sq_acq *a, struct dirload *L, const char *dir)
{
	a->tasks = xcalloc(L->n, sizeof(*a->tasks));
	for (size_t i = 0; i < L->n; i++) {
		a->tasks[a->ntasks++] = L->t[i].task;
		sq_task_init(&L->t[i].task);
	}
	qsort(a->tasks, a->ntasks, sizeof(*a->tasks), cmp_task);
	a->name = xstrdup(a->tasks[0].acquisition);
	a->dir = xstrdup(dir);
	a->task_dir = canonical_dir(dir);
	a->output_root = xstrdup(a->tasks[0].output_root);
	set_at(&a->name_at, &L->t[0].m[SQ_TF_ACQUISITION]);
	set_at(&a->root_at, &L->t[0].m[SQ_TF_OUTPUT_ROOT]);
	fill_stitch(a, L->have_acq ? &L->acq : NULL);
	fill_groups(a);
}

void sq_acq_init(struct sq_acq *a)
{
	memset(a, 0, sizeof(*a));
	sq_stitch_spec_init(&a->stitch);
}

void sq_acq_release(struct sq_acq *a)
{
	for (size_t i = 0; i < a->ntasks; i++)
		sq_task_release(&a->tasks[i]);
	free(a->tasks);
	for (size_t i = 0; i < a->ngroups; i++)
		free(a->groups[i]);
	free(a->groups);
	free(a->name);
	free(a->dir);
	free(a->task_dir);
	free(a->output_root);
	free(a->name_at.file);
	free(a->root_at.file);
	sq_stitch_spec_release(&a->stitch);
	sq_acq_init(a);
}

/* Loads the defaults file among files (removing it from the list). */
static void load_defaults(struct dirload *L, char **files, size_t *n, struct sq_diags *d)
{
	size_t k = 0;

	for (size_t i = 0; i < *n; i++) {
		if (!is_defaults(base_name(files[i]))) {
			files[k++] = files[i];
		} else if (L->have_acq) {
			sq_taskfile_diag(d, files[i], nowhere,
					 "two defaults files: '%s' is used, remove this one",
					 L->acq.file);
			free(files[i]);
		} else {
			sq_taskfile_layer_load(&L->acq, files[i], d);
			L->have_acq = 1;
			free(files[i]);
		}
	}
	*n = k;
}

static void dirload_release(struct dirload *L)
{
	for (size_t i = 0; i < L->n; i++)
		tload_release(&L->t[i]);
	free(L->t);
	if (L->have_acq)
		sq_taskfile_layer_release(&L->acq);
}

static void check_dir(struct dirload *L, const char *dir, const struct sq_taskfile_opts *opts,
		      struct sq_diags *d)
{
	if (L->n == 0)
		sq_taskfile_diag(d, dir, nowhere, "no task files in '%s' (expected *.yaml files)",
				 dir);
	sq_tf_check_span(L, d);
	for (size_t i = 0; i < L->n; i++)
		sq_tf_check_videos(&L->t[i], opts, d);
	sq_tf_check_root(L->t, L->n, opts, 0, d);
	sq_tf_check_folders(L->t, L->n, d);
}

int sq_taskfile_load_dir(const char *dir, const struct sq_taskfile_opts *opts, struct sq_acq *out,
			 struct sq_diags *diags)
{
	struct dirload L;
	size_t before = diags->n, nfiles;
	char **files;
	int rc = -1;

	memset(&L, 0, sizeof(L));
	if (list_yaml(dir, &files, &nfiles, diags) < 0)
		goto out;
	load_defaults(&L, files, &nfiles, diags);
	L.t = xcalloc(nfiles + 1, sizeof(*L.t));
	for (; L.n < nfiles; L.n++) {
		load_task(&L.t[L.n], files[L.n], L.have_acq ? &L.acq : NULL, diags);
		free(files[L.n]);
	}
	free(files);
	check_dir(&L, dir, opts, diags);
	for (size_t i = 0; i < L.n && diags->n == before; i++)
		if (L.t[i].bad) /* never without a diagnostic, but never build a half task */
			sq_taskfile_diag(diags, L.t[i].layer.file, nowhere, "invalid task file");
	if (diags->n == before && opts && opts->create_output_root)
		sq_tf_check_root(L.t, L.n, opts, 1, diags);
	if (diags->n == before) {
		sq_acq_release(out);
		fill_acq(out, &L, dir);
		rc = 0;
	}
out:
	if (rc < 0)
		sq_acq_release(out);
	sq_taskfile_diags_sort(diags, before);
	dirload_release(&L);
	return rc;
}

/* Returns new path of the defaults file beside path, or NULL if there is none. */
static char *defaults_beside(const char *path)
{
	char *dir = sq_path_dirname(path), *p = sq_path_join(dir, "acquisition.yaml");

	if (!sq_path_exists(p)) {
		free(p);
		p = sq_path_join(dir, "acquisition.yml");
		if (!sq_path_exists(p)) {
			free(p);
			p = NULL;
		}
	}
	free(dir);
	return p;
}

int sq_taskfile_load_one(const char *path, const struct sq_taskfile_opts *opts, struct sq_task *out,
			 struct sq_diags *diags)
{
	struct sq_tf_layer acq;
	struct tload t;
	size_t before = diags->n;
	char *defaults = defaults_beside(path);
	int rc = -1;

	memset(&t, 0, sizeof(t));
	sq_task_init(&t.task);
	if (is_defaults(base_name(path))) {
		sq_taskfile_diag(diags, path, nowhere,
				 "'%s' holds acquisition defaults, not a task", path);
		goto out;
	}
	if (defaults)
		sq_taskfile_layer_load(&acq, defaults, diags);
	load_task(&t, path, defaults ? &acq : NULL, diags);
	sq_tf_check_videos(&t, opts, diags);
	sq_tf_check_root(&t, 1, opts, 0, diags);
	sq_tf_check_folders(&t, 1, diags);
	if (diags->n == before && t.bad) /* never without a diagnostic; never half a task */
		sq_taskfile_diag(diags, path, nowhere, "invalid task file");
	if (diags->n == before && opts && opts->create_output_root)
		sq_tf_check_root(&t, 1, opts, 1, diags);
	if (diags->n == before) {
		sq_task_release(out);
		*out = t.task;
		sq_task_init(&t.task);
		rc = 0;
	}
	if (defaults)
		sq_taskfile_layer_release(&acq);
out:
	if (rc < 0)
		sq_task_release(out);
	sq_taskfile_diags_sort(diags, before);
	tload_release(&t);
	free(defaults);
	return rc;
}
