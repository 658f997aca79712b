/* test_stage.c - stages write atomically, clean up after killed attempts, and
 * never leave a record that does not match the outputs. */
#include "base/fsutil.h"
#include "stage/record.h"
#include "stage/stage.h"
#include "base/xalloc.h"
#include "t.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char video[512], root[512];

static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "setup failed: %s\n", cmd);
		exit(1);
	}
}

static size_t count_entries(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)))
		if (strstr(e->d_name, needle))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void make_task(struct sq_task *t, const char *name, char **recon_argv, size_t argc)
{
	sq_task_init(t);
	t->acquisition = xstrdup("st");
	t->group = xstrdup("g1");
	t->name = xstrdup(name);
	t->output_root = xstrdup(root);
	t->videos = xcalloc(1, sizeof(char *));
	t->videos[0] = xstrdup(video);
	t->nvideos = 1;
	t->extract = (struct sq_extract_spec){.fps_num = 2, .fps_den = 1, .width = 64,
					      .height = -1, .quality = 5};
	t->reconstruct.kind = SQ_BACKEND_COMMAND;
	t->reconstruct.cmd.argv = xcalloc(argc, sizeof(char *));
	for (size_t i = 0; i < argc; i++)
		t->reconstruct.cmd.argv[i] = xstrdup(recon_argv[i]);
	t->reconstruct.cmd.argc = argc;
	t->stitch.kind = SQ_BACKEND_BUILTIN;
	t->retry = (struct sq_retry_spec){.max_attempts = 1, .backoff_ms = 1000};
	sq_task_finalize(t);
}

static void test_extract_and_leftovers(const char *mini)
{
	char *argv[] = {(char *)mini, "{frames}", "{output}"};
	struct sq_stage_ctx ctx = {0};
	struct sq_task t;
	struct sq_err err = {0};
	char *p;

	make_task(&t, "a", argv, 3);
	/* leftovers of a killed attempt, and a stale record of another version */
	p = xasprintf("mkdir -p %s/frames.tmp.99999 && touch %s/frames.json.tmp.99999", t.outdir,
		      t.outdir);
	sh(p);
	free(p);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_EXTRACT, &ctx, &err), 0);
	T_CHECK(sq_stage_task_done(&t, SQ_STAGE_EXTRACT));
	T_EQ_INT(count_entries(t.outdir, ".tmp."), 0);
	p = sq_path_join(t.outdir, "frames");
	T_EQ_INT(count_entries(p, "frame_"), 4); /* 2 s at 2 fps */
	free(p);
	T_CONTAINS(ctx.result_json, "\"frames\":4");
	free(ctx.result_json);
	ctx.result_json = NULL;

	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_RECONSTRUCT, &ctx, &err), 0);
	T_CHECK(sq_stage_task_done(&t, SQ_STAGE_RECONSTRUCT));
	T_EQ_INT(count_entries(t.outdir, "reconstruct.tmp"), 0);
	p = sq_path_join(t.outdir, "reconstruct.log");
	T_CHECK(sq_path_exists(p));
	free(p);
	sq_task_release(&t);
}

static void test_failures_drop_record(void)
{
	char *bad_exit[] = {"/bin/sh", "-c", "echo boom >&2; exit 3"};
	char *no_output[] = {"/bin/true"};
	struct sq_stage_ctx ctx = {0};
	struct sq_task t;
	struct sq_err err = {0};
	char *rec;

	make_task(&t, "b", bad_exit, 3);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_EXTRACT, &ctx, &err), 0);
	free(ctx.result_json);
	rec = sq_record_task_path(t.outdir, SQ_STAGE_RECONSTRUCT);
	T_EQ_INT(sq_record_write(rec, SQ_STAGE_RECONSTRUCT, t.version, NULL, &err), 0);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_RECONSTRUCT, &ctx, &err), -1);
	T_CONTAINS(err.msg, "status 3");
	T_CONTAINS(err.msg, "boom");
	T_CHECK(!sq_path_exists(rec)); /* an old record never outlives a new attempt */
	T_EQ_INT(count_entries(t.outdir, ".tmp."), 0);
	sq_task_release(&t);

	make_task(&t, "b", no_output, 1);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_EXTRACT, &ctx, &err), 0);
	free(ctx.result_json);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_RECONSTRUCT, &ctx, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_BACKEND);
	T_CONTAINS(err.msg, "no PLY");
	T_CHECK(!sq_path_exists(rec));
	free(rec);
	sq_task_release(&t);
}

static void test_stale_frames_refused(const char *mini)
{
	char *argv[] = {(char *)mini, "{frames}", "{output}"};
	struct sq_stage_ctx ctx = {0};
	struct sq_task t;
	struct sq_err err = {0};

	make_task(&t, "a", argv, 3);
	t.extract.quality = 9; /* new version: the frames on disk are of the old one */
	sq_task_finalize(&t);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_RECONSTRUCT, &ctx, &err), -1);
	T_CONTAINS(err.msg, "missing or stale");
	sq_task_release(&t);
}

static void test_stitch_passthrough(void)
{
	struct sq_stitch_spec s;
	struct sq_stage_ctx ctx = {0};
	struct sq_err err = {0};
	char *in_dir = xasprintf("%s/g1/a", root), *out_ply, *in_ply, *a, *b;
	const char *inputs[] = {in_dir};

	sq_stitch_spec_init(&s);
	s.acquisition = xstrdup("st");
	s.group = xstrdup("g1");
	s.outdir = xasprintf("%s/g1", root);
	s.backend.kind = SQ_BACKEND_BUILTIN;
	sq_stitch_spec_finalize(&s);
	T_EQ_INT(sq_stage_run_stitch(&s, inputs, 1, &ctx, &err), 0);
	out_ply = sq_record_stitch_output(s.outdir);
	in_ply = sq_record_task_output(in_dir, SQ_STAGE_RECONSTRUCT);
	a = sq_read_file(out_ply, NULL, NULL);
	b = sq_read_file(in_ply, NULL, NULL);
	T_CHECK(a && b && strcmp(a, b) == 0); /* a single input passes through unchanged */
	T_CONTAINS(ctx.result_json, "\"placed\":1,\"inputs\":1");
	free(ctx.result_json);
	ctx.result_json = NULL;
	free(a);
	free(b);
	/* an input that is not done is refused, naming it */
	inputs[0] = "/nonexistent/task";
	T_EQ_INT(sq_stage_run_stitch(&s, inputs, 1, &ctx, &err), -1);
	T_CONTAINS(err.msg, "/nonexistent/task");
	free(out_ply);
	free(in_ply);
	free(in_dir);
	sq_stitch_spec_release(&s);
}

/* A disk that fills mid-extraction fails cleanly: no record, no temporaries. */
static void test_disk_full(const char *mini)
{
	char *argv[] = {(char *)mini, "{frames}", "{output}"};
	struct sq_stage_ctx ctx = {0};
	struct sq_task t;
	struct sq_err err = {0};
	struct rlimit old, lim = {.rlim_cur = 3000, .rlim_max = RLIM_INFINITY};
	char *rec;

	make_task(&t, "full", argv, 3);
	t.extract.width = 320;
	sq_task_finalize(&t);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim.rlim_max = old.rlim_max;
	setrlimit(RLIMIT_FSIZE, &lim);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_EXTRACT, &ctx, &err), -1);
	setrlimit(RLIMIT_FSIZE, &old);
	T_EQ_INT(err.code, SQ_ERR_NOSPC);
	rec = sq_record_task_path(t.outdir, SQ_STAGE_EXTRACT);
	T_CHECK(!sq_path_exists(rec));
	T_EQ_INT(count_entries(t.outdir, ".tmp."), 0);
	free(rec);
	sq_task_release(&t);
}

int main(void)
{
	const char *src = getenv("SCANQ_SRC");
	char *mini = xasprintf("%s/tests/cli/bin/mini-reconstruct", src ? src : ".");
	char *cmd;

	snprintf(root, sizeof(root), "%s/out", t_tmpdir());
	snprintf(video, sizeof(video), "%s/v.mp4", t_tmpdir());
	cmd = xasprintf("ffmpeg -v error -y -f lavfi -i testsrc2=size=320x240:rate=10 -t 2 "
			"-pix_fmt yuv420p %s",
			video);
	sh(cmd);
	free(cmd);
	test_extract_and_leftovers(mini);
	test_failures_drop_record();
	test_stale_frames_refused(mini);
	test_stitch_passthrough();
	test_disk_full(mini);
	free(mini);
	return t_done();
}
