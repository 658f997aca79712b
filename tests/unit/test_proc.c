/* test_proc.c - argv templates and running backends in their own process group.
 *
 * The backends here are /bin/sh scripts: in a test a shell is a fine stand-in for
 * colmap. The test process makes itself a child subreaper so that grandchildren
 * orphaned by a killed group are reaped here and "the group is gone" can be
 * checked with kill(-pgid, 0) == ESRCH even where PID 1 reaps nothing. */
#include "base/fsutil.h"
#include "stage/proc.h"
#include "base/xalloc.h"
#include "t.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "base/banned.h"

/* ---- templates ---- */

static const char *const inputs2[] = {"/o/a/reconstruction.ply", "/o/b/reconstruction.ply"};

static const struct sq_proc_vars full = {
    .frames = "/o/t/frames",
    .output = "/o/t/out.ply",
    .workdir = "/o/t/work",
    .gpu = "1",
    .inputs = inputs2,
    .ninputs = 2,
};

static const struct {
	const char *tmpl;
	const char *want; /* NULL: error expected */
	const char *msg;  /* substring of the error */
} expand_cases[] = {
    {"plain", "plain", NULL},
    {"", "", NULL},
    {"{frames}", "/o/t/frames", NULL},
    {"--out={output}", "--out=/o/t/out.ply", NULL},
    {"{workdir}/db-{gpu}.bin", "/o/t/work/db-1.bin", NULL},
    {"cuda:{gpu}{gpu}", "cuda:11", NULL},
    {"{{literal}}", "{literal}", NULL},
    {"a{{{gpu}}}b", "a{1}b", NULL},
    {"}}{{", "}{", NULL},
    {"{nope}", NULL, "unknown placeholder '{nope}' in '{nope}'"},
    {"x{Frames}", NULL, "unknown placeholder '{Frames}'"},
    {"{}", NULL, "unknown placeholder '{}'"},
    {"{frames", NULL, "unterminated placeholder in '{frames'"},
    {"a}b", NULL, "single '}' in 'a}b'"},
    {"--in={inputs}", NULL, "'{inputs}' must be a whole argument"},
    {"{inputs}", NULL, "'{inputs}' must be a whole argument"},
};

static void test_template_table(void)
{
	for (size_t i = 0; i < sizeof(expand_cases) / sizeof(expand_cases[0]); i++) {
		struct sq_err err = {0};
		char *got = sq_template_expand(expand_cases[i].tmpl, &full, &err);

		if (expand_cases[i].want) {
			T_EQ_STR(got, expand_cases[i].want);
		} else {
			T_CHECK(got == NULL);
			T_EQ_INT(err.code, SQ_ERR_INVALID);
			T_CONTAINS(err.msg, expand_cases[i].msg);
		}
		free(got);
	}
}

static void test_template_missing_var(void)
{
	struct sq_proc_vars v = full;
	struct sq_err err = {0};
	char *got;

	v.gpu = NULL;
	got = sq_template_expand("--device=cuda:{gpu}", &v, &err);
	T_CHECK(got == NULL);
	T_EQ_STR(err.msg, "placeholder '{gpu}' is not available here");
	/* the other placeholders still work without it */
	got = sq_template_expand("{frames}", &v, &err);
	T_EQ_STR(got, "/o/t/frames");
	free(got);
	got = sq_template_expand("{output}", NULL, &err);
	T_CHECK(got == NULL);
	T_CONTAINS(err.msg, "'{output}' is not available here");
}

static char **expand(char **tmpl, size_t argc, const struct sq_proc_vars *v, struct sq_err *err)
{
	struct sq_command_spec cmd = {.argv = tmpl, .argc = argc};

	return sq_argv_expand(&cmd, v, err);
}

static void test_argv_expand(void)
{
	char *tmpl[] = {"stitcher", "--out", "{output}", "{inputs}", "--gpu={gpu}"};
	struct sq_proc_vars v = full;
	struct sq_err err = {0};
	char **argv = expand(tmpl, 5, &v, &err);

	T_CHECK(argv != NULL);
	if (argv) {
		T_EQ_STR(argv[0], "stitcher");
		T_EQ_STR(argv[2], "/o/t/out.ply");
		T_EQ_STR(argv[3], "/o/a/reconstruction.ply");
		T_EQ_STR(argv[4], "/o/b/reconstruction.ply");
		T_EQ_STR(argv[5], "--gpu=1");
		T_CHECK(argv[6] == NULL);
	}
	sq_argv_free(argv);

	v.ninputs = 0; /* zero inputs: zero items, not an empty string */
	argv = expand(tmpl, 5, &v, &err);
	T_CHECK(argv && argv[3] && !strcmp(argv[3], "--gpu=1") && argv[4] == NULL);
	sq_argv_free(argv);

	v.inputs = NULL; /* a reconstruct command has no inputs at all */
	argv = expand(tmpl, 5, &v, &err);
	T_CHECK(argv == NULL);
	T_EQ_STR(err.msg, "placeholder '{inputs}' is not available here");

	argv = expand(tmpl, 0, &full, &err);
	T_CHECK(argv == NULL);
	T_CONTAINS(err.msg, "command is empty");

	char *bad[] = {"tool", "{frames}", "{oops}"};
	argv = expand(bad, 3, &full, &err);
	T_CHECK(argv == NULL);
	T_CONTAINS(err.msg, "unknown placeholder '{oops}'");
}

/* ---- running ---- */

static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", t_tmpdir(), name);
}

static int run_sh(const char *script, struct sq_proc_opts *o, struct sq_proc_result *res,
		  struct sq_err *err)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
	char *log = tmp_path("run.log");
	int rc;

	o->argv = argv;
	if (!o->log_path)
		o->log_path = log;
	rc = sq_proc_run(o, res, err);
	free(log);
	return rc;
}

static long read_pid(const char *name)
{
	char *path = tmp_path(name);
	char *s = sq_read_file(path, NULL, NULL);
	long pid = s ? strtol(s, NULL, 10) : 0;

	free(s);
	free(path);
	return pid;
}

/* 1 when no process of group pgid is left (zombies reaped here as subreaper). */
static int group_gone(long pgid)
{
	for (int i = 0; i < 200; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (kill((pid_t)-pgid, 0) < 0 && errno == ESRCH)
			return 1;
		usleep(10000);
	}
	return 0;
}

static void test_exit_codes(void)
{
	struct sq_proc_opts o = {0};
	struct sq_proc_result res;
	struct sq_err err = {0};
	char *log = tmp_path("exit.log");

	o.log_path = log;
	T_EQ_INT(run_sh("echo from-the-old-attempt; exit 0", &o, &res, &err), 0);
	T_EQ_INT(res.exited, 1);
	T_EQ_INT(res.exit_code, 0);
	T_EQ_INT(res.done_by_marker, 0);

	T_EQ_INT(run_sh("for i in 1 2 3 4 5 6 7; do echo line$i; done; echo oops >&2; exit 3", &o,
			&res, &err),
		 -1);
	T_EQ_INT(res.exited, 1);
	T_EQ_INT(res.exit_code, 3);
	T_EQ_INT(err.code, SQ_ERR_PROC);
	T_CONTAINS(err.msg, "command '/bin/sh' exited with status 3");
	T_CONTAINS(err.msg, "line7");
	T_CONTAINS(err.msg, "oops"); /* stderr goes to the log too */
	T_CONTAINS(err.msg, "line4");
	T_CHECK(!strstr(err.msg, "line3")); /* only the last 5 lines */
	T_CHECK(!strstr(err.msg, "from-the-old-attempt"));

	T_EQ_INT(run_sh("kill -9 $$", &o, &res, &err), -1);
	T_EQ_INT(res.exited, 0);
	T_EQ_INT(res.term_signal, SIGKILL);
	T_CONTAINS(err.msg, "command '/bin/sh' killed by signal 9 (SIGKILL)");
	free(log);
}

static void test_not_found(void)
{
	char *argv[] = {"colmapx-scanq-test", "automatic_reconstructor", NULL};
	char *log = tmp_path("nf.log");
	struct sq_proc_opts o = {.argv = argv, .log_path = log};
	struct sq_proc_result res;
	struct sq_err err = {0};

	T_EQ_INT(sq_proc_run(&o, &res, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_PROC);
	T_EQ_STR(err.msg, "cannot run 'colmapx-scanq-test': no such file or directory");

	argv[0] = "/bin/true";
	o.cwd = "/nonexistent-scanq-dir";
	T_EQ_INT(sq_proc_run(&o, &res, &err), -1);
	T_CONTAINS(err.msg, "cannot change to directory '/nonexistent-scanq-dir'");

	o.cwd = NULL;
	o.log_path = "/nonexistent-scanq-dir/x.log";
	T_EQ_INT(sq_proc_run(&o, &res, &err), -1);
	T_CONTAINS(err.msg, "cannot open log '/nonexistent-scanq-dir/x.log'");
	free(log);
}

static void test_timeout(void)
{
	struct sq_proc_opts o = {.timeout_ms = 300, .kill_grace_ms = 500};
	struct sq_proc_result res;
	struct sq_err err = {0};

	T_EQ_INT(run_sh("echo $$ > \"$SCANQ_TMP/to.pid\"; echo started; sleep 10", &o, &res, &err),
		 -1);
	T_EQ_INT(err.code, SQ_ERR_TIMEOUT);
	T_CONTAINS(err.msg, "command '/bin/sh' timed out after 300 ms");
	T_CONTAINS(err.msg, "started");
	T_CHECK(res.wall_ms >= 300 && res.wall_ms < 3000);
	T_CHECK(group_gone(read_pid("to.pid")));
}

static void test_done_log(void)
{
	struct sq_proc_opts o = {
	    .done_log = "PLY saved:", .kill_grace_ms = 1000, .timeout_ms = 20000};
	struct sq_proc_result res;
	struct sq_err err = {0};

	/* never exits by itself; a grandchild shares the group */
	T_EQ_INT(run_sh("echo $$ > \"$SCANQ_TMP/dl.pid\"; sleep 1000 & "
			"sleep 0.2; echo 'PLY saved: x'; while :; do sleep 1; done",
			&o, &res, &err),
		 0);
	T_EQ_INT(res.done_by_marker, 1);
	T_CHECK(res.wall_ms < 3000);
	T_CHECK(group_gone(read_pid("dl.pid")));

	/* the marker arrives in two writes; a child ignores SIGTERM (needs SIGKILL) */
	o.kill_grace_ms = 200;
	T_EQ_INT(run_sh("echo $$ > \"$SCANQ_TMP/dl2.pid\"; trap '' TERM; sleep 1000 & "
			"printf 'PLY sa'; sleep 0.3; printf 'ved: y\\n'; sleep 1000",
			&o, &res, &err),
		 0);
	T_EQ_INT(res.done_by_marker, 1);
	T_CHECK(res.wall_ms >= 300 && res.wall_ms < 3000);
	T_CHECK(group_gone(read_pid("dl2.pid")));
}

static void test_done_log_old_attempt(void)
{
	char *log = tmp_path("old.log");
	struct sq_proc_opts o = {.log_path = log};
	struct sq_proc_result res;
	struct sq_err err = {0};

	T_EQ_INT(run_sh("echo 'PLY saved: from before'", &o, &res, &err), 0);
	o.done_log = "PLY saved:";
	/* the marker of an earlier attempt in the same log must not count */
	T_EQ_INT(run_sh("sleep 0.3; exit 4", &o, &res, &err), -1);
	T_EQ_INT(res.done_by_marker, 0);
	T_CONTAINS(err.msg, "exited with status 4");
	free(log);
}

static void test_done_file(void)
{
	char *out = tmp_path("df.ply");
	struct sq_proc_opts o = {.done_file = out, .kill_grace_ms = 1000, .timeout_ms = 20000};
	struct sq_proc_result res;
	struct sq_err err = {0};

	T_EQ_INT(
	    run_sh("echo $$ > \"$SCANQ_TMP/df.pid\"; sleep 0.2; echo ply > \"$SCANQ_TMP/df.ply\"; "
		   "sleep 1000",
		   &o, &res, &err),
	    0);
	T_EQ_INT(res.done_by_marker, 1);
	T_CHECK(res.wall_ms < 3000);
	T_CHECK(group_gone(read_pid("df.pid")));
	T_CHECK(sq_path_exists(out));

	/* a relative done_file is relative to the command's cwd, like its output */
	o.cwd = t_tmpdir();
	o.done_file = "rel.ply";
	T_EQ_INT(run_sh("sleep 0.2; echo ply > rel.ply; sleep 1000", &o, &res, &err), 0);
	T_EQ_INT(res.done_by_marker, 1);
	T_CHECK(res.wall_ms < 3000);

	/* an output left by an earlier attempt does not count until rewritten */
	o.timeout_ms = 500;
	T_EQ_INT(run_sh("sleep 1000", &o, &res, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_TIMEOUT);
	T_EQ_INT(res.done_by_marker, 0);
	free(out);
}

static int cancel_after;

static int cancelled(void *ctx)
{
	int *calls = ctx;

	return ++*calls > cancel_after;
}

static void test_cancel(void)
{
	int calls = 0;
	struct sq_proc_opts o = {.hooks = {.cancelled = cancelled, .ctx = &calls},
				 .kill_grace_ms = 500};
	struct sq_proc_result res;
	struct sq_err err = {0};

	cancel_after = 4;
	T_EQ_INT(run_sh("echo $$ > \"$SCANQ_TMP/c.pid\"; sleep 1000 & sleep 1000", &o, &res, &err),
		 -1);
	T_EQ_INT(err.code, SQ_ERR_CANCEL);
	T_CONTAINS(err.msg, "command '/bin/sh' was cancelled");
	T_CHECK(calls >= 5);
	T_CHECK(res.wall_ms < 3000);
	T_CHECK(group_gone(read_pid("c.pid")));
}

static void test_daemon_child_killed(void)
{
	struct sq_proc_opts o = {0};
	struct sq_proc_result res;
	struct sq_err err = {0};

	/* the leader exits 0 at once, leaving a background child in its group */
	T_EQ_INT(run_sh("echo $$ > \"$SCANQ_TMP/d.pid\"; sleep 1000 & exit 0", &o, &res, &err), 0);
	T_CHECK(group_gone(read_pid("d.pid")));
}

/* ---- whole trees: descendants that leave the group ---- */

/* A backend whose descendants escape its process group three ways, each
 * writing its pid to a file: a setsid child (a), a setsid grandchild whose
 * parent exits at once (b: a double fork), and a child of a new session's
 * leader that exits at once (c). Then it runs `tail`. */
static char *escaping_script(const char *tag, const char *tail)
{
	return xasprintf("d=\"$SCANQ_TMP\"; "
			 "setsid sleep 1000 & echo $! > \"$d/%s-a.pid\"; "
			 "( setsid sleep 1000 & echo $! > \"$d/%s-b.pid\" ); "
			 "setsid sh -c 'sleep 1000 & echo $! > \"$1\"' sh \"$d/%s-c.pid\" & "
			 "while [ ! -s \"$d/%s-c.pid\" ]; do sleep 0.05; done; echo ready; %s",
			 tag, tag, tag, tag, tail);
}

/* 1 when no process pid exists any more, not even as a zombie: it was killed
 * and reaped. A survivor is killed here, so that a failure leaves nothing. */
static int gone(long pid)
{
	if (pid <= 0)
		return 0;
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return 1;
	kill((pid_t)pid, SIGKILL);
	usleep(50000);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return 0;
}

static void check_tree_gone(const char *tag)
{
	static const char *const which[] = {"a", "b", "c"};

	for (size_t i = 0; i < 3; i++) {
		char *name = xasprintf("%s-%s.pid", tag, which[i]);
		long pid = read_pid(name);
		int ok = gone(pid);

		if (!ok)
			fprintf(stderr, "%s: process %ld (%s) outlived the backend\n", tag, pid,
				name);
		T_CHECK(ok);
		free(name);
	}
}

static void test_tree_timeout(void)
{
	struct sq_proc_opts o = {.timeout_ms = 2000, .kill_grace_ms = 300};
	struct sq_proc_result res;
	struct sq_err err = {0};
	char *script = escaping_script("tt", "sleep 1000");

	T_EQ_INT(run_sh(script, &o, &res, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_TIMEOUT);
	T_CONTAINS(err.msg, "ready");
	check_tree_gone("tt");
	free(script);
}

static void test_tree_cancel(void)
{
	int calls = 0;
	struct sq_proc_opts o = {.hooks = {.cancelled = cancelled, .ctx = &calls},
				 .kill_grace_ms = 300};
	struct sq_proc_result res;
	struct sq_err err = {0};
	char *script = escaping_script("tc", "sleep 1000");

	cancel_after = 40; /* 2 s of polls: the three have started by then */
	T_EQ_INT(run_sh(script, &o, &res, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_CANCEL);
	check_tree_gone("tc");
	free(script);
}

/* In a process that is no subreaper itself (a worker between two runs): its
 * escaped descendants would go to the test process, its subreaper parent,
 * unless the run holds on to them. */
static void test_tree_not_subreaper(void)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int was = -1;

		prctl(PR_GET_CHILD_SUBREAPER, &was);
		t_failures = was != 0;
		test_tree_timeout();
		prctl(PR_GET_CHILD_SUBREAPER, &was);
		_exit(t_failures || was != 0 ? 1 : 0); /* and the flag was put back */
	}
	T_CHECK(pid > 0);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The backend exits 0 by itself: what it left running is ended too, and a
 * child of ours that was there before the run is left alone. */
static void test_tree_exit(void)
{
	struct sq_proc_opts o = {.timeout_ms = 20000};
	struct sq_proc_result res;
	struct sq_err err = {0};
	char *script = escaping_script("te", "exit 0");
	pid_t before = fork();

	if (before == 0) {
		execl("/bin/sleep", "sleep", "1000", (char *)NULL);
		_exit(127);
	}
	T_CHECK(before > 0);
	usleep(20000);
	T_EQ_INT(run_sh(script, &o, &res, &err), 0);
	check_tree_gone("te");
	T_EQ_INT(kill(before, 0), 0); /* not the backend's: untouched */
	kill(before, SIGKILL);
	waitpid(before, NULL, 0);
	free(script);
}

static void test_env_cwd_stdin(void)
{
	char *sub = tmp_path("sub");
	char *envfile = tmp_path("sub/env.out");
	char *extra[] = {"SCANQ_T_FOO=bar baz", "HOME=/scanq-home", "not-an-assignment", NULL};
	struct sq_proc_opts o = {.cwd = sub, .env_extra = extra, .timeout_ms = 5000};
	struct sq_proc_result res;
	struct sq_err err = {0};
	char *got;

	T_EQ_INT(sq_mkdir_p(sub, &err), 0);
	/* stdin is /dev/null: read sees EOF instead of hanging */
	T_EQ_INT(run_sh("read x; r=$?; printf '%s|%s|%s|%s' \"$SCANQ_T_FOO\" \"$HOME\" \"$(pwd)\" "
			"$r > env.out",
			&o, &res, &err),
		 0);
	got = sq_read_file(envfile, NULL, &err);
	T_CHECK(got != NULL);
	if (got) {
		char *want = xasprintf("bar baz|/scanq-home|%s|1", sub);

		T_EQ_STR(got, want);
		free(want);
	}
	T_CHECK(getenv("SCANQ_T_FOO") == NULL); /* the parent's environment is untouched */
	free(got);
	free(envfile);
	free(sub);
}

/* A worker started with stdin, stdout and stderr closed: the descriptors the
 * library opens land on 0..2 and must still reach the child correctly. */
static void test_closed_stdio(void)
{
	char *log = tmp_path("closed.log");
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		struct sq_proc_opts o = {.log_path = log, .timeout_ms = 5000};
		struct sq_proc_result res;
		struct sq_err err;
		char *got;
		int ok;

		close(0);
		close(1);
		close(2);
		ok = run_sh("read x; echo out-$?; echo err >&2", &o, &res, &err) == 0;
		got = sq_read_file(log, NULL, NULL);
		_exit(ok && got && !strcmp(got, "out-1\nerr\n") ? 0 : 1);
	}
	T_CHECK(pid > 0);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(log);
}

int main(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	test_template_table();
	test_template_missing_var();
	test_argv_expand();
	test_exit_codes();
	test_not_found();
	test_timeout();
	test_done_log();
	test_done_log_old_attempt();
	test_done_file();
	test_cancel();
	test_daemon_child_killed();
	test_tree_timeout();
	test_tree_cancel();
	test_tree_not_subreaper();
	test_tree_exit();
	test_env_cwd_stdin();
	test_closed_stdio();
	return t_done();
}
