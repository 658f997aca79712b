/* test_owner.c - who owns an output root, and the names a stage keeps.
 *
 * The layout's reserved names, the ownership marker (claimed once, by one
 * acquisition, even by enqueues racing each other), and acquisitions loaded in
 * one scanq-enqueue call checked against each other. */
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "task/layout.h"
#include "task/owner.h"
#include "task/taskfile.h"
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_reserved(void)
{
	static const char *const reserved[] = {".",
					       "..",
					       "frames",
					       "frames.json",
					       "reconstruction.ply",
					       "reconstruction.sift",
					       "reconstruct.json",
					       "reconstruct.log",
					       "stitch.ply",
					       "stitch.json",
					       "stitch.sift",
					       "stitch.log",
					       "preview.png",
					       "preview.ply",
					       "STITCH.PLY",
					       "Frames",
					       "x.tmp.1",
					       "frames.tmp.123",
					       "stitch.old.7",
					       "a.OLD.b",
					       ".scanq-acquisition",
					       ".scanq-check.x1",
					       ".SCANQ",
					       NULL};
	static const char *const free_names[] = {
	    "auv1",  "seg-01", "stitch",  "frames2", "stitch.plyx",    "x.tmp", "tmp.x",
	    "old.1", "...",    ".hidden", "scanq",   "reconstruction", "a.b.c", NULL};

	for (size_t i = 0; reserved[i]; i++) {
		if (!sq_layout_name_reserved(reserved[i]))
			fprintf(stderr, "'%s' should be reserved\n", reserved[i]);
		T_CHECK(sq_layout_name_reserved(reserved[i]));
		T_CHECK(sq_layout_reserved_reason(reserved[i]) != NULL);
	}
	for (size_t i = 0; free_names[i]; i++) {
		if (sq_layout_name_reserved(free_names[i]))
			fprintf(stderr, "'%s' should be free\n", free_names[i]);
		T_CHECK(!sq_layout_name_reserved(free_names[i]));
		T_CHECK(sq_layout_reserved_reason(free_names[i]) == NULL);
	}
	T_CHECK(sq_layout_name_reserved(NULL));
}

static char *marker_of(const char *root)
{
	struct sq_err err = {SQ_OK, ""};
	char *path = sq_path_join(root, SQ_LAYOUT_OWNER_MARKER), *text;

	text = sq_read_file(path, NULL, &err);
	free(path);
	return text;
}

static void test_claim(void)
{
	struct sq_err err = {SQ_OK, ""};
	struct sq_owner o = {NULL, NULL};
	char *root = xasprintf("%s/claim/out", t_tmpdir()), *text;

	T_EQ_INT(sq_mkdir_p(root, &err), 0);
	T_EQ_INT(sq_owner_read(root, &o, &err), 0);
	T_EQ_INT(sq_owner_check(root, "demo", &err), 0);
	T_EQ_INT(sq_owner_claim(root, "demo", "/tasks/demo", &err), 0);
	text = marker_of(root);
	T_EQ_STR(text, "{\"acquisition\":\"demo\",\"task_dir\":\"/tasks/demo\"}\n");
	free(text);
	T_EQ_INT(sq_owner_read(root, &o, &err), 1);
	T_EQ_STR(o.acquisition, "demo");
	T_EQ_STR(o.task_dir, "/tasks/demo");
	/* again: nothing changes; from a moved task directory: the marker follows */
	T_EQ_INT(sq_owner_claim(root, "demo", "/tasks/demo", &err), 0);
	T_EQ_INT(sq_owner_claim(root, "demo", "/new/demo", &err), 0);
	T_EQ_INT(sq_owner_read(root, &o, &err), 1);
	T_EQ_STR(o.task_dir, "/new/demo");
	/* another acquisition, also one whose name differs only in case */
	T_EQ_INT(sq_owner_claim(root, "other", "/tasks/other", &err), -1);
	T_CONTAINS(err.msg, "belongs to acquisition 'demo' (enqueued from '/new/demo')");
	T_EQ_INT(sq_owner_claim(root, "Demo", "/tasks/Demo", &err), -1);
	T_CONTAINS(err.msg, "belongs to acquisition 'demo'");
	T_EQ_INT(sq_owner_check(root, "other", &err), -1);
	T_CONTAINS(err.msg, "belongs to acquisition 'demo'");
	T_EQ_INT(sq_owner_check(root, "demo", &err), 0);
	sq_owner_release(&o);
	free(root);
}

static void test_nested(void)
{
	struct sq_err err = {SQ_OK, ""};
	char *root = xasprintf("%s/nested/out", t_tmpdir());
	char *inner = xasprintf("%s/auv1/seg", root);

	T_EQ_INT(sq_mkdir_p(root, &err), 0);
	T_EQ_INT(sq_owner_claim(root, "demo", "/tasks/demo", &err), 0);
	T_EQ_INT(sq_owner_check(inner, "demo", &err), -1);
	T_CONTAINS(err.msg, "is inside");
	T_CONTAINS(err.msg, "the output root of acquisition 'demo'");
	free(inner);
	free(root);
}

/* Enqueues of different acquisitions racing for one fresh root: one wins,
 * every other is told whose it is. */
static void test_race(void)
{
	enum { N = 8 };
	struct sq_err err = {SQ_OK, ""};
	struct sq_owner o = {NULL, NULL};
	char *root = xasprintf("%s/race/out", t_tmpdir());
	int won = 0;

	T_EQ_INT(sq_mkdir_p(root, &err), 0);
	for (int i = 0; i < N; i++) {
		if (fork() == 0) {
			char name[16], dir[32];

			snprintf(name, sizeof(name), "acq%d", i);
			snprintf(dir, sizeof(dir), "/tasks/acq%d", i);
			_exit(sq_owner_claim(root, name, dir, &err) == 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < N; i++) {
		int status = 0;

		T_CHECK(wait(&status) > 0);
		won += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	T_EQ_INT(won, 1);
	T_EQ_INT(sq_owner_read(root, &o, &err), 1);
	T_CHECK(o.acquisition && !strncmp(o.acquisition, "acq", 3));
	sq_owner_release(&o);
	free(root);
}

/* Writes a task directory dir (acquisition acq, output_root root) with one
 * task; returns new path of dir. */
static char *task_dir(const char *tag, const char *acq, const char *root)
{
	struct sq_err err = {SQ_OK, ""};
	char *d = xasprintf("%s/together/%s", t_tmpdir(), tag), *path, *text;

	T_EQ_INT(sq_mkdir_p(d, &err), 0);
	path = sq_path_join(d, "v.mp4");
	T_EQ_INT(sq_write_file_atomic(path, "x", 1, &err), 0);
	free(path);
	path = sq_path_join(d, "task.yaml");
	text = xasprintf("acquisition: %s\noutput_root: %s\ngroup: auv1\nvideos: [v.mp4]\n", acq,
			 root);
	T_EQ_INT(sq_write_file_atomic(path, text, strlen(text), &err), 0);
	free(text);
	free(path);
	return d;
}

/* Loads the directories of one call; returns the diagnostics of the check
 * across them as one new string ("" when they may go together). */
static char *together(const char *const *dirs, size_t n)
{
	struct sq_diags diags = SQ_DIAGS_INIT;
	struct sq_acq *acqs = xcalloc(n, sizeof(*acqs));
	char *out = xstrdup("");

	for (size_t i = 0; i < n; i++) {
		sq_acq_init(&acqs[i]);
		T_EQ_INT(sq_taskfile_load_dir(dirs[i], NULL, &acqs[i], &diags), 0);
		T_EQ_INT(diags.n, 0);
	}
	if (sq_acq_check_together(acqs, n, &diags) < 0)
		T_CHECK(diags.n > 0);
	for (size_t i = 0; i < diags.n; i++) {
		char *line = sq_diag_format(&diags.v[i]), *next;
		const char *at = strstr(line, "task.yaml");

		next = xasprintf("%s%s%s", out, *out ? "\n" : "", at ? at : line);
		free(out);
		free(line);
		out = next;
	}
	for (size_t i = 0; i < n; i++)
		sq_acq_release(&acqs[i]);
	free(acqs);
	sq_diags_release(&diags);
	return out;
}

/* A directory that failed to load (its acquisition released) is passed over. */
static void test_together_failed(const char *good)
{
	struct sq_diags diags = SQ_DIAGS_INIT;
	struct sq_acq acqs[2];

	sq_acq_init(&acqs[0]);
	sq_acq_init(&acqs[1]);
	T_EQ_INT(sq_taskfile_load_dir(good, NULL, &acqs[1], &diags), 0);
	T_EQ_INT(sq_acq_check_together(acqs, 2, &diags), 0);
	T_EQ_INT(diags.n, 0);
	sq_acq_release(&acqs[1]);
	sq_diags_release(&diags);
}

static void test_together(void)
{
	char *root = xasprintf("%s/together/out", t_tmpdir()), *sub = xasprintf("%s/x", root);
	char *other = xasprintf("%s/together/out2", t_tmpdir());
	char *a = task_dir("a", "demo", root), *b = task_dir("b", "Demo", root);
	char *c = task_dir("c", "third", sub), *e = task_dir("e", "demo", other);
	char *f = task_dir("f", "fourth", other), *got, *link = xasprintf("%s-link", a);
	const char *const same_root[] = {a, b}, *const nested[] = {a, c}, *const twice[] = {a, a};
	const char *const same_name[] = {a, e}, *const fine[] = {a, f}, *const linked[] = {a, link};

	T_EQ_INT(symlink(a, link), 0);
	got = together(same_root, 2);
	T_CONTAINS(got, "task.yaml:2:14: output root '");
	T_CONTAINS(got, "' is also the output root of acquisition 'demo'");
	free(got);
	got = together(nested, 2);
	T_CONTAINS(got, "task.yaml:2:14: output root '");
	T_CONTAINS(got, "lie one inside the other");
	free(got);
	got = together(twice, 2);
	T_CONTAINS(got, "task.yaml:1:14: task directory '");
	T_CONTAINS(got, "' is given twice");
	free(got);
	got = together(linked, 2); /* the same directory by another path */
	T_CONTAINS(got, "is given twice");
	free(got);
	got = together(same_name, 2);
	T_CONTAINS(got, "task.yaml:1:14: acquisition 'demo' is also defined by task directory");
	free(got);
	got = together(fine, 2);
	T_EQ_STR(got, "");
	free(got);
	test_together_failed(a);
	free(root), free(sub), free(other), free(a), free(b), free(c), free(e), free(f);
	free(link);
}

/* The task directory the Redis side pushes: absolute, symlinks resolved. */
static void test_task_dir(void)
{
	struct sq_diags diags = SQ_DIAGS_INIT;
	struct sq_acq acq;
	char *d = task_dir("canon", "canon", "out"), *link = xasprintf("%s-link", d);
	char *real = realpath(d, NULL), *cwd = getcwd(NULL, 0);

	T_EQ_INT(symlink(d, link), 0);
	sq_acq_init(&acq);
	T_EQ_INT(sq_taskfile_load_dir(link, NULL, &acq, &diags), 0);
	T_EQ_STR(acq.dir, link);
	T_EQ_STR(acq.task_dir, real);
	T_EQ_INT(chdir(t_tmpdir()), 0);
	T_EQ_INT(sq_taskfile_load_dir("together/canon-link/", NULL, &acq, &diags), 0);
	T_EQ_STR(acq.task_dir, real);
	T_EQ_INT(chdir(cwd), 0);
	T_EQ_INT(diags.n, 0);
	sq_acq_release(&acq);
	free(d), free(link), free(real), free(cwd);
}

int main(void)
{
	test_reserved();
	test_claim();
	test_nested();
	test_race();
	test_together();
	test_task_dir();
	return t_done();
}
