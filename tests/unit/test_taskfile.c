/* test_taskfile.c - task directories: the corpus under tests/unit/taskfiles/.
 *
 * good/<case>/ must load; bad/<case>/ must fail with exactly the diagnostics in its
 * `expected` file (paths relative to the case directory). Each case is copied into
 * SCANQ_TMP/<kind>-<case>/d and loaded from there; the files named in the case's
 * `videos` file (relative to d, one per line) are created as real MP4s, made once
 * with ffmpeg, and probed with the real libav probe. Adding a case needs no C. */
#include "base/fsutil.h"
#include "media/media.h"
#include "base/strbuf.h"
#include "task/taskfile.h"
#include "base/xalloc.h"
#include "t.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *corpus; /* tests/unit/taskfiles in the source tree */
static char *mp4;    /* the one real video every case links to */
static int probes;   /* calls of the probe, to see it was used */

static int probe_real(void *ctx, const char *video, struct sq_err *err)
{
	int *count = ctx;

	(*count)++;
	if (!strncmp(video, "sftp://", 7))
		return 0; /* remote sources are probed by the remote module, not here */
	return sq_media_probe(video, NULL, NULL, err);
}

static void make_mp4(void)
{
	char *cmd;

	mp4 = sq_path_join(t_tmpdir(), "src.mp4");
	cmd = xasprintf("ffmpeg -nostdin -v error -f lavfi -i testsrc=size=160x120:rate=10 -t 1 "
			"-pix_fmt yuv420p -y '%s'",
			mp4);
	T_EQ_INT(system(cmd), 0);
	T_CHECK(sq_path_exists(mp4));
	free(cmd);
}

static void copy_file(const char *from, const char *to)
{
	struct sq_err err = {SQ_OK, ""};
	size_t len;
	char *data = sq_read_file(from, &len, &err);
	FILE *f = fopen(to, "wb");

	T_CHECK(data && f);
	if (data && f)
		T_EQ_INT(fwrite(data, 1, len, f), len);
	if (f)
		fclose(f);
	free(data);
}

/* Copies the case directory src to dst, leaving out the test's own files. */
static void copy_tree(const char *src, const char *dst)
{
	struct sq_err err = {SQ_OK, ""};
	DIR *d = opendir(src);
	struct dirent *e;

	T_EQ_INT(sq_mkdir_p(dst, &err), 0);
	T_CHECK(d != NULL);
	while (d && (e = readdir(d))) {
		char *from, *to;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, "expected") || !strcmp(e->d_name, "videos"))
			continue;
		from = sq_path_join(src, e->d_name);
		to = sq_path_join(dst, e->d_name);
		if (stat(from, &st) == 0 && S_ISDIR(st.st_mode))
			copy_tree(from, to);
		else
			copy_file(from, to);
		free(from);
		free(to);
	}
	if (d)
		closedir(d);
}

/* Creates the real videos listed in src/videos, relative to dst. */
static void make_videos(const char *src, const char *dst)
{
	struct sq_err err = {SQ_OK, ""};
	char *list_path = sq_path_join(src, "videos"), *list, *line, *save = NULL;

	list = sq_path_exists(list_path) ? sq_read_file(list_path, NULL, &err) : NULL;
	for (line = list ? strtok_r(list, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *path = sq_path_resolve(dst, line), *dir = sq_path_dirname(path);

		T_EQ_INT(sq_mkdir_p(dir, &err), 0);
		if (link(mp4, path) < 0)
			copy_file(mp4, path);
		free(path);
		free(dir);
	}
	free(list);
	free(list_path);
}

/* Copies corpus/<kind>/<name> to SCANQ_TMP/<tag>/d; returns new path of d. */
static char *stage_case(const char *kind, const char *name, const char *tag)
{
	char *src = xasprintf("%s/%s/%s", corpus, kind, name);
	char *dst = xasprintf("%s/%s/d", t_tmpdir(), tag);

	copy_tree(src, dst);
	make_videos(src, dst);
	free(src);
	return dst;
}

static void replace_all(struct sq_strbuf *sb, const char *from, const char *to)
{
	struct sq_strbuf out = SQ_STRBUF_INIT;
	const char *p = sb->buf, *hit;

	while ((hit = strstr(p, from))) {
		sq_strbuf_add(&out, p, (size_t)(hit - p));
		sq_strbuf_adds(&out, to);
		p = hit + strlen(from);
	}
	sq_strbuf_adds(&out, p);
	sq_strbuf_release(sb);
	*sb = out;
}

/* All diagnostics as lines, with the case copy's absolute paths made relative. */
static char *diags_text(const struct sq_diags *diags, const char *d)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	char *slash = xasprintf("%s/", d), *up = sq_path_dirname(d), *upslash;

	for (size_t i = 0; i < diags->n; i++) {
		char *line = sq_diag_format(&diags->v[i]);

		sq_strbuf_addf(&sb, "%s%s", i ? "\n" : "", line);
		free(line);
	}
	upslash = xasprintf("%s/", up);
	replace_all(&sb, slash, "");
	replace_all(&sb, d, ".");
	replace_all(&sb, upslash, "../");
	free(slash);
	free(up);
	free(upslash);
	return sq_strbuf_detach(&sb);
}

static char *expected_text(const char *kind, const char *name)
{
	struct sq_err err = {SQ_OK, ""};
	char *path = xasprintf("%s/%s/%s/expected", corpus, kind, name);
	char *text = sq_read_file(path, NULL, &err);
	size_t n;

	T_CHECK(text != NULL);
	if (!text)
		text = xstrdup(err.msg);
	n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = '\0';
	free(path);
	return text;
}

static void run_bad(const char *name)
{
	struct sq_taskfile_opts opts = {.probe = probe_real, .probe_ctx = &probes};
	struct sq_diags diags = SQ_DIAGS_INIT;
	struct sq_acq acq;
	char *tag = xasprintf("bad-%s", name), *d = stage_case("bad", name, tag);
	char *got, *want = expected_text("bad", name);

	sq_acq_init(&acq);
	T_EQ_INT(sq_taskfile_load_dir(d, &opts, &acq, &diags), -1);
	T_EQ_INT(acq.ntasks, 0);
	got = diags_text(&diags, d);
	if (strcmp(got, want))
		fprintf(stderr, "bad/%s: diagnostics differ\n--- got\n%s\n--- expected\n%s\n", name,
			got, want);
	T_EQ_STR(got, want);
	free(got);
	free(want);
	sq_diags_release(&diags);
	sq_acq_release(&acq);
	free(d);
	free(tag);
}

static void run_good(const char *name)
{
	struct sq_taskfile_opts opts = {.probe = probe_real, .probe_ctx = &probes};
	struct sq_diags diags = SQ_DIAGS_INIT;
	struct sq_acq acq;
	char *tag = xasprintf("good-%s", name), *d = stage_case("good", name, tag), *got;

	sq_acq_init(&acq);
	T_EQ_INT(sq_taskfile_load_dir(d, &opts, &acq, &diags), 0);
	got = diags_text(&diags, d);
	if (diags.n)
		fprintf(stderr, "good/%s: unexpected diagnostics\n%s\n", name, got);
	T_EQ_INT(diags.n, 0);
	T_CHECK(acq.ntasks > 0);
	free(got);
	sq_diags_release(&diags);
	sq_acq_release(&acq);
	free(d);
	free(tag);
}

/* Calls fn for every case directory of corpus/<kind>, in name order. */
static void for_each_case(const char *kind, void (*fn)(const char *name))
{
	char *dir = xasprintf("%s/%s", corpus, kind);
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort), ncases = 0;

	T_CHECK(n > 0);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			fn(names[i]->d_name);
			ncases++;
		}
		free(names[i]);
	}
	printf("%s: %d cases\n", kind, ncases);
	T_CHECK(ncases > 0);
	free(names);
	free(dir);
}

/* Loads good/<name> staged under tag; returns new path of the staged dir. */
static char *load_good(const char *name, const char *tag, int create, struct sq_acq *acq)
{
	struct sq_taskfile_opts opts = {
	    .probe = probe_real, .probe_ctx = &probes, .create_output_root = create};
	struct sq_diags diags = SQ_DIAGS_INIT;
	char *d = stage_case("good", name, tag);

	T_EQ_INT(sq_taskfile_load_dir(d, &opts, acq, &diags), 0);
	T_EQ_INT(diags.n, 0);
	sq_diags_release(&diags);
	return d;
}

static char *under(const char *d, const char *rel)
{
	return sq_path_resolve(d, rel);
}

/* got must be the absolute path of rel inside the staged dir d. */
#define T_EQ_UNDER(got, d, rel)                                                                    \
	do {                                                                                       \
		char *t_p_ = under(d, rel);                                                        \
		T_EQ_STR(got, t_p_);                                                               \
		free(t_p_);                                                                        \
	} while (0)

/* A task from the file name alone: acquisition.yaml supplies everything else. */
static void check_defaults_merged(const struct sq_task *t, const char *d)
{
	T_EQ_STR(t->name, "auv1-seg01"); /* the file stem */
	T_EQ_STR(t->group, "auv1");
	T_EQ_STR(t->acquisition, "demo");
	T_EQ_INT(t->nvideos, 2);
	T_EQ_UNDER(t->videos[0], d, "../videos/auv1-seg01-ch1.mp4");
	T_EQ_UNDER(t->videos[1], d, "../videos/auv1-seg01-ch2.mp4");
	T_EQ_UNDER(t->outdir, d, "../out/auv1/auv1-seg01");
	T_EQ_UNDER(t->source_file, d, "auv1-seg01.yaml");
	T_EQ_INT(t->extract.fps_num, 5); /* fps: 2.5 */
	T_EQ_INT(t->extract.fps_den, 2);
	T_EQ_INT(t->extract.width, 518);
	T_EQ_INT(t->extract.height, 294);
	T_EQ_INT(t->extract.quality, 4);
	T_EQ_INT(t->reconstruct.kind, SQ_BACKEND_COMMAND);
	T_EQ_INT(t->reconstruct.cmd.argc, 7);
	T_EQ_STR(t->reconstruct.cmd.argv[0], "gpu-recon");
	T_EQ_STR(t->reconstruct.cmd.argv[2], "{frames}");
	T_EQ_INT(t->reconstruct.cmd.timeout_ms, 5 * 60 * 1000);
	T_EQ_STR(t->reconstruct.cmd.done_log, "PLY saved:");
	T_CHECK(t->reconstruct.cmd.done_file == NULL);
	T_EQ_INT(t->reconstruct.min_vram_mib, 4096);
	T_EQ_INT(t->stitch.kind, SQ_BACKEND_BUILTIN);
	T_EQ_INT(t->retry.max_attempts, 5);
	T_EQ_INT(t->retry.backoff_ms, 60000);
	T_EQ_INT(strlen(t->version), SQ_VERSION_LEN);
}

/* Per-sub-key override: the task sets some keys of a map, inherits the rest. */
static void check_override(const struct sq_task *t, const char *d)
{
	T_EQ_STR(t->name, "seg-two");
	T_EQ_INT(t->nvideos, 1); /* a single string */
	T_EQ_UNDER(t->videos[0], d, "../videos/auv1-seg02.mp4");
	T_EQ_INT(t->extract.quality, 8);
	T_EQ_INT(t->extract.fps_num, 5);
	T_EQ_INT(t->extract.width, 518);
	T_EQ_INT(t->retry.max_attempts, 2);
	T_EQ_INT(t->retry.backoff_ms, 60000);
	T_EQ_INT(t->reconstruct.kind, SQ_BACKEND_COMMAND);
	T_EQ_INT(t->reconstruct.cmd.timeout_ms, 2 * 3600 * 1000);
	T_EQ_INT(t->reconstruct.cmd.argc, 7);
	T_EQ_STR(t->reconstruct.cmd.done_log, "PLY saved:");
}

/* Switching backend drops the acquisition's command settings. */
static void check_backend_switch(const struct sq_task *t, const char *d)
{
	T_EQ_STR(t->name, "auv2-seg01");
	T_EQ_STR(t->group, "auv2");
	T_EQ_UNDER(t->videos[0], d, "clips/auv2-seg01.mp4");
	T_EQ_INT(t->extract.fps_num, 30000);
	T_EQ_INT(t->extract.fps_den, 1001);
	T_EQ_INT(t->reconstruct.kind, SQ_BACKEND_COLMAP);
	T_EQ_INT(t->reconstruct.cmd.argc, 0);
	T_CHECK(t->reconstruct.cmd.done_log == NULL);
	T_EQ_INT(t->reconstruct.cmd.timeout_ms, 0);
	T_EQ_INT(t->reconstruct.min_vram_mib, 4096);
}

static void test_basic(void)
{
	struct sq_acq acq;
	char *d, *root;
	int before = probes;

	sq_acq_init(&acq);
	d = load_good("basic", "basic", 0, &acq);
	root = under(d, "../out");
	T_EQ_STR(acq.name, "demo");
	T_EQ_STR(acq.dir, d);
	T_EQ_STR(acq.output_root, root);
	T_EQ_INT(acq.ntasks, 3);
	T_EQ_INT(acq.ngroups, 2);
	if (acq.ntasks == 3 && acq.ngroups == 2) {
		T_EQ_STR(acq.groups[0], "auv1");
		T_EQ_STR(acq.groups[1], "auv2");
		check_defaults_merged(&acq.tasks[0], d);
		check_backend_switch(&acq.tasks[1], d);
		check_override(&acq.tasks[2], d);
	}
	T_CHECK(acq.stitch.group == NULL);
	T_EQ_STR(acq.stitch.acquisition, "demo");
	T_EQ_STR(acq.stitch.outdir, root);
	T_EQ_INT(acq.stitch.backend.kind, SQ_BACKEND_BUILTIN);
	T_EQ_INT(acq.stitch.retry.max_attempts, 5);
	T_EQ_INT(strlen(acq.stitch.version), SQ_VERSION_LEN);
	T_EQ_INT(probes - before, 4);	/* every video probed, once */
	T_CHECK(!sq_path_exists(root)); /* checking creates nothing */
	sq_acq_release(&acq);
	free(d);
	free(root);
}

static void test_create_root(void)
{
	struct sq_acq acq;
	char *d, *root;

	sq_acq_init(&acq);
	d = load_good("basic", "basic-create", 1, &acq);
	root = under(d, "../out");
	T_CHECK(sq_path_exists(root));
	sq_acq_release(&acq);
	free(d);
	free(root);
}

/* No acquisition.yaml: built-in defaults, remote video kept as given. */
static void test_minimal(void)
{
	struct sq_acq acq;
	const struct sq_task *t = NULL;
	char *d;

	sq_acq_init(&acq);
	d = load_good("minimal", "minimal", 0, &acq);
	T_EQ_INT(acq.ntasks, 1);
	if (acq.ntasks == 1)
		t = &acq.tasks[0];
	if (t) {
		T_EQ_STR(t->name, "dive");
		T_EQ_STR(t->videos[1], "sftp://pilot@survey-nas:2222/data/dive-2.mp4");
		T_EQ_INT(t->extract.fps_num, 1);
		T_EQ_INT(t->extract.fps_den, 1);
		T_EQ_INT(t->extract.width, -1);
		T_EQ_INT(t->extract.height, -1);
		T_EQ_INT(t->extract.quality, 2);
		T_EQ_INT(t->reconstruct.kind, SQ_BACKEND_COLMAP);
		T_EQ_INT(t->stitch.kind, SQ_BACKEND_BUILTIN);
		T_EQ_INT(t->retry.max_attempts, 3);
		T_EQ_INT(t->retry.backoff_ms, 30000);
	}
	sq_acq_release(&acq);
	free(d);
}

/* A stitch command set for the acquisition reaches the stitch template. */
static void test_stitch_command(void)
{
	struct sq_acq acq;
	const struct sq_command_spec *c = NULL;
	char *d;

	sq_acq_init(&acq);
	d = load_good("stitch-command", "stitch-command", 0, &acq);
	T_EQ_INT(acq.stitch.backend.kind, SQ_BACKEND_COMMAND);
	T_EQ_INT(acq.stitch.backend.cmd.argc, 4);
	if (acq.stitch.backend.cmd.argc == 4)
		c = &acq.stitch.backend.cmd;
	if (c) {
		T_EQ_UNDER(c->argv[0], d, "bin/pc-merge"); /* resolved like any path */
		T_EQ_STR(c->argv[3], "{inputs}");
		T_EQ_STR(c->done_file, "{output}");
		T_EQ_INT(c->timeout_ms, 90 * 1000);
	}
	T_EQ_INT(acq.stitch.backend.min_ram_mib, 2048);
	T_EQ_INT(acq.stitch.retry.max_attempts, 3);
	T_EQ_INT(acq.ngroups, 2);
	sq_acq_release(&acq);
	free(d);
}

/* reconstruct.colmap merges per sub-key; the stride applies to any backend. */
static void test_colmap_settings(void)
{
	struct sq_acq acq;
	const struct sq_backend_spec *a = NULL, *b = NULL, *c = NULL;
	char *d;

	sq_acq_init(&acq);
	d = load_good("colmap-settings", "colmap-settings", 0, &acq);
	T_EQ_INT(acq.ntasks, 3);
	if (acq.ntasks == 3) {
		a = &acq.tasks[0].reconstruct;
		b = &acq.tasks[1].reconstruct;
		c = &acq.tasks[2].reconstruct;
	}
	if (a && b && c) {
		T_EQ_INT(a->kind, SQ_BACKEND_COLMAP);
		T_EQ_INT(a->colmap.threads, 2);
		T_EQ_INT(a->colmap.max_image_size, 518);
		T_EQ_INT(a->colmap.max_features, 8192); /* COLMAP's default */
		T_EQ_INT(a->colmap.overlap, 8);
		T_EQ_INT(a->colmap.min_registered_pct, 50);
		T_EQ_STR(a->colmap.camera_model, "OPENCV_FISHEYE");
		T_EQ_INT(a->colmap.ncamera_params, 0); /* COLMAP estimates them */
		T_EQ_INT(a->stride.stride, 0);
		T_EQ_INT(a->stride.bytes_per_frame, 48LL << 20);
		T_EQ_INT(a->stride.memory_budget_bytes, 2LL << 30);
		T_EQ_INT(b->colmap.overlap, 5);
		T_EQ_INT(b->colmap.min_registered_pct, 90);
		T_EQ_INT(b->colmap.threads, 2);
		T_EQ_STR(b->colmap.camera_model, "OPENCV_FISHEYE");
		T_EQ_INT(b->stride.stride, 3);
		T_EQ_INT(c->kind, SQ_BACKEND_COMMAND);
		T_EQ_STR(c->colmap.camera_model, "OPENCV"); /* not inherited: not colmap */
		T_EQ_INT(c->colmap.overlap, 10);
		T_EQ_INT(c->stride.memory_budget_bytes, 2LL << 30);
		T_CHECK(strcmp(acq.tasks[0].version, acq.tasks[1].version) != 0);
	}
	sq_acq_release(&acq);
	free(d);
}

/* T_CHECKs that the task's camera_params are exactly want[0..n). */
static void check_params(const struct sq_colmap_spec *c, const double *want, int n)
{
	T_EQ_INT(c->ncamera_params, n);
	for (int i = 0; i < n && i < c->ncamera_params; i++) {
		if (c->camera_params[i] != want[i])
			fprintf(stderr, "camera_params[%d]: got %.17g, want %.17g\n", i,
				c->camera_params[i], want[i]);
		T_CHECK(c->camera_params[i] == want[i]);
	}
}

/* camera_params: acquisition.yaml's inherited as is, a task's own (for its own
 * model) replacing them, none for a task that leaves the colmap backend. */
static void test_camera_params(void)
{
	static const double acq_params[] = {320, 320.5, 160, 120, -0.01, 1e-3, 0, -2.5e-4};
	static const double own[] = {500, 499.75, 259, 147};
	const struct sq_task *t = NULL;
	struct sq_acq acq;
	char *d;

	sq_acq_init(&acq);
	d = load_good("camera-params", "camera-params", 0, &acq);
	T_EQ_INT(acq.ntasks, 3);
	if (acq.ntasks == 3)
		t = acq.tasks;
	if (t) {
		T_EQ_STR(t[0].name, "a-inherit");
		T_EQ_STR(t[0].reconstruct.colmap.camera_model, "OPENCV");
		check_params(&t[0].reconstruct.colmap, acq_params, 8);
		T_EQ_STR(t[1].reconstruct.colmap.camera_model, "PINHOLE");
		check_params(&t[1].reconstruct.colmap, own, 4);
		T_EQ_INT(t[2].reconstruct.kind, SQ_BACKEND_COMMAND);
		T_EQ_INT(t[2].reconstruct.colmap.ncamera_params, 0);
	}
	sq_acq_release(&acq);
	free(d);
}

/* A video given as { path, until } carries its limit into the task; plain
 * strings and maps without 'until' mean the whole file. */
static void test_chapter_overlap(void)
{
	struct sq_acq acq;
	const struct sq_task *t = NULL;
	char *d;

	sq_acq_init(&acq);
	d = load_good("chapter-overlap", "chapter-overlap", 0, &acq);
	T_EQ_INT(acq.ntasks, 3);
	if (acq.ntasks == 3)
		t = acq.tasks;
	if (t) {
		T_EQ_STR(t[0].name, "auv1-ch01");
		T_EQ_INT(t[0].nvideos, 2);
		T_EQ_UNDER(t[0].videos[1], d, "../videos/auv1-ch02.mp4");
		T_CHECK(t[0].video_until_ms != NULL);
		if (t[0].video_until_ms)
			T_CHECK(t[0].video_until_ms[0] == 0 && t[0].video_until_ms[1] == 4000);
		T_EQ_INT(t[1].nvideos, 3);
		T_EQ_UNDER(t[1].videos[0], d, "../videos/auv1-ch02.mp4");
		T_EQ_STR(t[1].videos[2], "sftp://pilot@survey-nas/data/auv1-ch04.mp4");
		T_CHECK(t[1].video_until_ms != NULL);
		if (t[1].video_until_ms)
			T_CHECK(t[1].video_until_ms[0] == 0 && t[1].video_until_ms[1] == 1500 &&
				t[1].video_until_ms[2] == 250);
		T_CHECK(t[2].video_until_ms == NULL);
	}
	sq_acq_release(&acq);
	free(d);
}

static void test_load_one(void)
{
	struct sq_taskfile_opts opts = {.probe = probe_real, .probe_ctx = &probes};
	struct sq_diags diags = SQ_DIAGS_INIT;
	struct sq_task t;
	char *d = stage_case("good", "basic", "one"), *path = under(d, "auv1-seg02.yaml");

	sq_task_init(&t);
	T_EQ_INT(sq_taskfile_load_one(path, &opts, &t, &diags), 0);
	T_EQ_INT(diags.n, 0);
	check_override(&t, d);
	T_EQ_STR(t.acquisition, "demo");
	free(path);
	path = under(d, "acquisition.yaml");
	T_EQ_INT(sq_taskfile_load_one(path, &opts, &t, &diags), -1);
	T_EQ_INT(diags.n, 1);
	if (diags.n == 1)
		T_CONTAINS(diags.v[0].msg, "holds acquisition defaults, not a task");
	T_CHECK(t.name == NULL); /* released on failure */
	sq_diags_release(&diags);
	free(path);
	path = under(d, "absent.yaml");
	T_EQ_INT(sq_taskfile_load_one(path, &opts, &t, &diags), -1);
	T_EQ_INT(diags.n, 1);
	if (diags.n == 1)
		T_CONTAINS(diags.v[0].msg, "cannot open");
	sq_diags_release(&diags);
	sq_task_release(&t);
	free(path);
	free(d);
}

static void test_diag_format(void)
{
	struct sq_diag at = {"t.yaml", 3, 12, "bad"}, file = {"dir", 0, 0, "empty"};
	char *s = sq_diag_format(&at);

	T_EQ_STR(s, "t.yaml:3:12: bad");
	free(s);
	s = sq_diag_format(&file);
	T_EQ_STR(s, "dir: empty");
	free(s);
}

int main(void)
{
	const char *src = getenv("SCANQ_SRC");

	corpus = xasprintf("%s/tests/unit/taskfiles", src ? src : ".");
	make_mp4();
	test_diag_format();
	for_each_case("good", run_good);
	for_each_case("bad", run_bad);
	test_basic();
	test_create_root();
	test_minimal();
	test_stitch_command();
	test_colmap_settings();
	test_camera_params();
	test_chapter_overlap();
	test_load_one();
	free(mp4);
	free(corpus);
	return t_done();
}
