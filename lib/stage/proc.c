/* proc.c - running external backends: argv templates, process trees, timeouts.
 *
 * A backend (colmap, a GPU model, a stitcher) runs as its own process group,
 * and everything it starts is stopped with it: on timeout, cancel, a done_when
 * condition, and also after an ordinary exit (a backend's daemonised helpers
 * must not outlive it). The group is signalled first; then its whole tree is
 * killed and reaped, including descendants that left the group with setsid()
 * or were re-parented by a double fork (proctree.h: while the run lasts, the
 * calling process is a child subreaper, so none of them can escape to init).
 *
 * The child only calls async-signal-safe functions between fork and exec (the
 * worker may be threaded): the environment, /dev/null and the log are prepared in
 * the parent. An exec failure travels back over a close-on-exec pipe, so
 * "cannot run 'colmapx': no such file or directory" is an error of its own, not
 * an exit status 127.
 *
 * Callers must not set SIGCHLD to SIG_IGN (the kernel would reap the child before
 * we can read its status). No signal handler is installed here. */
#include "stage/proc.h"
#include "stage/proctree.h"
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "base/banned.h"

#define POLL_MS 50
#define DEFAULT_GRACE_MS 5000
#define TREE_KILL_MS 5000 /* how long SIGKILLed descendants are waited for */
#define TAIL_LINES 5
#define TAIL_BYTES 4096
#define TAIL_LINE_MAX 160

/* ---- templates ---- */

/* Finds the value of the placeholder name[0..len). Returns 0 and sets *val, or -1
 * with err set (unknown name, or a variable this stage does not have). */
static int lookup_var(const char *name, size_t len, const struct sq_proc_vars *vars,
		      const char *tmpl, const char **val, struct sq_err *err)
{
	static const char *const names[] = {"frames", "output", "workdir", "gpu"};
	const char *vals[4] = {NULL, NULL, NULL, NULL};

	if (vars) {
		vals[0] = vars->frames;
		vals[1] = vars->output;
		vals[2] = vars->workdir;
		vals[3] = vars->gpu;
	}
	if (len == 6 && !memcmp(name, "inputs", 6))
		return sq_error(err, SQ_ERR_INVALID,
				"placeholder '{inputs}' must be a whole argument by itself, not "
				"part of '%s'",
				tmpl);
	for (size_t i = 0; i < 4; i++) {
		if (strlen(names[i]) != len || memcmp(names[i], name, len))
			continue;
		if (!vals[i])
			return sq_error(err, SQ_ERR_INVALID,
					"placeholder '{%s}' is not available here", names[i]);
		*val = vals[i];
		return 0;
	}
	return sq_error(err, SQ_ERR_INVALID, "unknown placeholder '{%.*s}' in '%s'", (int)len, name,
			tmpl);
}

/* Appends the expansion of the placeholder starting at *p (just after '{') and
 * advances *p past its '}'. */
static int expand_one(struct sq_strbuf *sb, const char **p, const struct sq_proc_vars *vars,
		      const char *tmpl, struct sq_err *err)
{
	const char *name = *p, *close = strchr(name, '}');
	const char *val = NULL;

	if (!close)
		return sq_error(err, SQ_ERR_INVALID,
				"unterminated placeholder in '%s' (write '{{' for a literal brace)",
				tmpl);
	if (lookup_var(name, (size_t)(close - name), vars, tmpl, &val, err) < 0)
		return -1;
	sq_strbuf_adds(sb, val);
	*p = close + 1;
	return 0;
}

char *sq_template_expand(const char *tmpl, const struct sq_proc_vars *vars, struct sq_err *err)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	const char *p = tmpl;

	while (*p) {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			sq_strbuf_addch(&sb, p[0]);
			p += 2;
		} else if (p[0] == '{') {
			p++;
			if (expand_one(&sb, &p, vars, tmpl, err) < 0)
				goto fail;
		} else if (p[0] == '}') {
			sq_error(err, SQ_ERR_INVALID,
				 "single '}' in '%s' (write '}}' for a literal brace)", tmpl);
			goto fail;
		} else {
			sq_strbuf_addch(&sb, *p++);
		}
	}
	return sq_strbuf_detach(&sb);
fail:
	sq_strbuf_release(&sb);
	return NULL;
}

char **sq_argv_expand(const struct sq_command_spec *cmd, const struct sq_proc_vars *vars,
		      struct sq_err *err)
{
	size_t n = 0, alloc = 0;
	char **argv = NULL;

	if (!cmd || cmd->argc == 0 || !cmd->argv || !cmd->argv[0] || !*cmd->argv[0]) {
		sq_error(err, SQ_ERR_INVALID, "command is empty");
		return NULL;
	}
	for (size_t i = 0; i < cmd->argc; i++) {
		if (!strcmp(cmd->argv[i], "{inputs}")) {
			if (!vars || !vars->inputs) {
				sq_error(err, SQ_ERR_INVALID,
					 "placeholder '{inputs}' is not available here");
				goto fail;
			}
			for (size_t k = 0; k < vars->ninputs; k++) {
				xgrow((void **)&argv, &alloc, n + 2, sizeof(*argv));
				argv[n++] = xstrdup(vars->inputs[k]);
			}
			continue;
		}
		xgrow((void **)&argv, &alloc, n + 2, sizeof(*argv));
		argv[n] = sq_template_expand(cmd->argv[i], vars, err);
		if (!argv[n])
			goto fail;
		n++;
	}
	xgrow((void **)&argv, &alloc, n + 1, sizeof(*argv));
	argv[n] = NULL;
	return argv;
fail:
	if (argv) {
		argv[n] = NULL;
		sq_argv_free(argv);
	}
	return NULL;
}

void sq_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

/* ---- the log: incremental marker scan and tail for errors ---- */

struct log_scan {
	int fd;	   /* read side of the log, -1 if not scanning */
	off_t off; /* next byte to read */
	const char *marker;
	size_t mlen;
	struct sq_strbuf carry; /* last mlen-1 bytes, for a marker split across reads */
};

/* Reads what the backend appended since the last call. Returns 1 once the
 * marker has been seen. */
static int log_scan_step(struct log_scan *ls)
{
	char chunk[8192];
	ssize_t n;

	if (ls->fd < 0 || !ls->mlen)
		return 0;
	while ((n = pread(ls->fd, chunk, sizeof(chunk), ls->off)) > 0) {
		size_t keep;

		ls->off += n;
		sq_strbuf_add(&ls->carry, chunk, (size_t)n);
		if (memmem(ls->carry.buf, ls->carry.len, ls->marker, ls->mlen))
			return 1;
		keep = ls->mlen - 1 < ls->carry.len ? ls->mlen - 1 : ls->carry.len;
		memmove(ls->carry.buf, ls->carry.buf + ls->carry.len - keep, keep);
		ls->carry.len = keep;
		ls->carry.buf[keep] = '\0';
	}
	return 0;
}

/* Appends the last TAIL_LINES lines the backend wrote (after byte `from`) to sb,
 * each on its own indented line; '\r' also ends a line (progress bars). */
static void log_tail(struct sq_strbuf *sb, const char *path, off_t from)
{
	char buf[TAIL_BYTES + 1];
	const char *lines[TAIL_LINES];
	size_t nl = 0, len;
	struct stat st;
	off_t start;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || st.st_size <= from)
		goto out;
	start = st.st_size - TAIL_BYTES > from ? st.st_size - TAIL_BYTES : from;
	n = pread(fd, buf, TAIL_BYTES, start);
	if (n <= 0)
		goto out;
	len = (size_t)n;
	buf[len] = '\0';
	for (char *p = buf; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = '\0';
	/* walk back over the NUL-separated pieces, keeping the non-blank ones */
	for (size_t end = len; end > 0 && nl < TAIL_LINES;) {
		size_t b = end;

		while (b > 0 && buf[b - 1])
			b--;
		if (b < end)
			lines[nl++] = buf + b;
		end = b ? b - 1 : 0;
	}
	if (nl)
		sq_strbuf_adds(sb, "; last lines of its log:");
	while (nl--)
		sq_strbuf_addf(sb, "\n  %.*s", TAIL_LINE_MAX, lines[nl]);
out:
	close(fd);
}

/* ---- the child ---- */

/* Returns a new environment: ours with each "K=V" of extra added or replacing K. */
static char **build_env(char *const *extra)
{
	size_t n = 0, alloc = 0;
	char **env = NULL;

	for (char **e = environ; e && *e; e++) {
		xgrow((void **)&env, &alloc, n + 1, sizeof(*env));
		env[n++] = *e;
	}
	for (char *const *x = extra; x && *x; x++) {
		const char *eq = strchr(*x, '=');
		size_t klen, i;

		if (!eq || eq == *x)
			continue; /* not "K=V": nothing sensible to add */
		klen = (size_t)(eq - *x) + 1;

		for (i = 0; i < n; i++)
			if (!strncmp(env[i], *x, klen))
				break;
		if (i == n)
			xgrow((void **)&env, &alloc, ++n, sizeof(*env));
		env[i] = *x;
	}
	xgrow((void **)&env, &alloc, n + 1, sizeof(*env));
	env[n] = NULL;
	return env;
}

struct exec_failure {
	int step; /* 0: chdir, 1: exec, 2: redirect */
	int errnum;
};

/* In the child: only async-signal-safe calls from here to exec. */
static void __attribute__((noreturn))
child(const struct sq_proc_opts *opts, char **env, int nullfd, int logfd, int errfd)
{
	static const int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD};
	struct exec_failure f = {2, 0};
	struct sigaction dfl;
	sigset_t none;

	setpgid(0, 0);
	/* a worker may block or ignore signals; a backend starts with defaults */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
		goto fail;
	/* descriptors the worker left inheritable (a Redis socket) stay with us */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	f.step = 0;
	if (opts->cwd && chdir(opts->cwd) < 0)
		goto fail;
	f.step = 1;
	execvpe(opts->argv[0], opts->argv, env);
fail:
	f.errnum = errno;
	while (write(errfd, &f, sizeof(f)) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* ---- the parent ---- */

struct proc_run {
	const struct sq_proc_opts *opts;
	pid_t pid;
	off_t log_start; /* log size before the run: older attempts' lines are not ours */
	struct log_scan scan;
	char *done_file;  /* opts->done_file, relative to the command's cwd */
	int file_existed; /* done_file was there already: wait for it to change */
	struct stat file_st;
	long long t0_ms, grace_ms;
	int status;
	int reaped;
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Returns the error text without its capital: "no such file or directory". */
static void add_strerror(struct sq_strbuf *sb, int errnum)
{
	const char *s = strerror(errnum);

	sq_strbuf_addch(sb, (char)tolower((unsigned char)s[0]));
	sq_strbuf_adds(sb, s + 1);
}

/* Moves a new close-on-exec fd to 3 or above. A worker started with stdin,
 * stdout or stderr closed gets them back from open(); the child's dup2() onto
 * 0, 1, 2 would then clobber or keep close-on-exec on them. */
static int above_stdio(int fd)
{
	int moved, saved_errno;

	if (fd < 0 || fd > 2)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	saved_errno = errno;
	close(fd);
	errno = saved_errno;
	return moved;
}

/* Opens the log for the child (append) and for the marker scan (read). */
static int open_log(struct proc_run *r, int *logfd, struct sq_err *err)
{
	const struct sq_proc_opts *o = r->opts;
	struct stat st;

	*logfd = above_stdio(open(o->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
	if (*logfd < 0)
		return sq_error_errno(err, errno, "cannot open log '%s'", o->log_path);
	r->log_start = fstat(*logfd, &st) == 0 ? st.st_size : 0;
	r->scan.off = r->log_start;
	if (o->done_log && *o->done_log) {
		r->scan.fd = open(o->log_path, O_RDONLY | O_CLOEXEC);
		if (r->scan.fd < 0)
			return sq_error_errno(err, errno, "cannot read log '%s'", o->log_path);
		r->scan.marker = o->done_log;
		r->scan.mlen = strlen(o->done_log);
	}
	if (o->done_file && *o->done_file) {
		r->done_file =
		    o->cwd ? sq_path_resolve(o->cwd, o->done_file) : xstrdup(o->done_file);
		r->file_existed = stat(r->done_file, &r->file_st) == 0;
	}
	return 0;
}

/* Reads the exec-failure pipe: EOF means exec succeeded. */
static int check_exec(struct proc_run *r, int errfd, struct sq_err *err)
{
	static const char *const what[] = {"cannot change to directory", "cannot run",
					   "cannot redirect output of"};
	struct exec_failure f;
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	ssize_t n;

	do
		n = read(errfd, &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(f) || f.step < 0 || f.step > 2)
		return 0;
	while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
		;
	r->reaped = 1;
	if (f.step == 0)
		sq_strbuf_addf(&sb, "%s '%s' for '%s': ", what[0], r->opts->cwd, r->opts->argv[0]);
	else
		sq_strbuf_addf(&sb, "%s '%s': ", what[f.step], r->opts->argv[0]);
	add_strerror(&sb, f.errnum);
	sq_error(err, SQ_ERR_PROC, "%s", sb.buf);
	sq_strbuf_release(&sb);
	return -1;
}

/* Starts the child. Returns 0, or -1 with err set and nothing left running. */
static int start(struct proc_run *r, int logfd, struct sq_err *err)
{
	int pipefd[2] = {-1, -1}, nullfd, rc = -1;
	char **env = build_env(r->opts->env_extra);

	nullfd = above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
	if (nullfd < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		sq_error_errno(err, errno, "cannot start '%s'", r->opts->argv[0]);
		goto out;
	}
	pipefd[0] = above_stdio(pipefd[0]);
	pipefd[1] = above_stdio(pipefd[1]);
	if (pipefd[0] < 0 || pipefd[1] < 0) {
		sq_error_errno(err, errno, "cannot start '%s'", r->opts->argv[0]);
		goto out;
	}
	r->pid = fork();
	if (r->pid < 0) {
		r->pid = 0;
		sq_error_errno(err, errno, "cannot start '%s'", r->opts->argv[0]);
		goto out;
	}
	if (r->pid == 0)
		child(r->opts, env, nullfd, logfd, pipefd[1]);
	sq_proctree_started(r->pid);
	/* also set it here, so kill(-pgid) is valid before the child has run */
	setpgid(r->pid, r->pid);
	close(pipefd[1]);
	pipefd[1] = -1;
	rc = check_exec(r, pipefd[0], err);
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (nullfd >= 0)
		close(nullfd);
	free(env);
	return rc;
}

/* 1 once the leader has exited. It is left a zombie (WNOWAIT) so that its pid,
 * which is the group id, cannot be reused before the group is killed. */
static int leader_exited(struct proc_run *r)
{
	siginfo_t si;

	if (r->reaped)
		return 1;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno != EINTR; /* ECHILD: someone reaped it; nothing to wait for */
	return si.si_pid == r->pid;
}

/* Kills whatever is left of the group and of the tree, then reaps the leader
 * (last: its start time anchors the tree, and its pid, the group's id, must
 * not be reused before). */
static void finish_group(struct proc_run *r)
{
	if (r->reaped)
		return;
	kill(-r->pid, SIGKILL);
	sq_proctree_kill(r->pid, TREE_KILL_MS);
	while (waitpid(r->pid, &r->status, 0) < 0) {
		if (errno != EINTR) {
			r->status = -1;
			break;
		}
	}
	r->reaped = 1;
}

/* SIGTERM to the group and the rest of the tree, up to grace_ms for the leader
 * to go, then SIGKILL to all. */
static void terminate_group(struct proc_run *r)
{
	long long until = mono_ms() + r->grace_ms;

	kill(-r->pid, SIGTERM);
	sq_proctree_signal(r->pid, SIGTERM);
	while (!leader_exited(r) && mono_ms() < until)
		poll(NULL, 0, 10);
	finish_group(r);
}

/* 1 when the done_when condition (log marker or file) is met. */
static int done_met(struct proc_run *r)
{
	struct stat st;

	if (log_scan_step(&r->scan))
		return 1;
	if (!r->done_file || stat(r->done_file, &st) < 0)
		return 0;
	if (!r->file_existed)
		return 1;
	/* an output left by an earlier attempt counts only once rewritten */
	return st.st_ino != r->file_st.st_ino || st.st_size != r->file_st.st_size ||
	       st.st_mtim.tv_sec != r->file_st.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != r->file_st.st_mtim.tv_nsec;
}

enum end { END_EXIT, END_DONE, END_TIMEOUT, END_CANCEL };

/* Polls until the leader exits, the done condition holds, time runs out or the
 * caller cancels. The group is gone when this returns. */
static enum end supervise(struct proc_run *r)
{
	const struct sq_proc_opts *o = r->opts;

	for (;;) {
		if (leader_exited(r)) {
			finish_group(r);
			return done_met(r) ? END_DONE : END_EXIT;
		}
		if (done_met(r)) {
			terminate_group(r);
			return END_DONE;
		}
		if (sq_hooks_cancelled(&o->hooks)) {
			terminate_group(r);
			return END_CANCEL;
		}
		if (o->timeout_ms > 0 && mono_ms() - r->t0_ms >= o->timeout_ms) {
			terminate_group(r);
			return END_TIMEOUT;
		}
		poll(NULL, 0, POLL_MS);
	}
}

static void fill_result(const struct proc_run *r, enum end how, struct sq_proc_result *res)
{
	memset(res, 0, sizeof(*res));
	if (r->status != -1 && WIFEXITED(r->status)) {
		res->exited = 1;
		res->exit_code = WEXITSTATUS(r->status);
	} else if (r->status != -1 && WIFSIGNALED(r->status)) {
		res->term_signal = WTERMSIG(r->status);
	}
	res->done_by_marker = how == END_DONE;
	res->wall_ms = mono_ms() - r->t0_ms;
}

static void add_duration(struct sq_strbuf *sb, long long ms)
{
	if (ms < 1000)
		sq_strbuf_addf(sb, "%lld ms", ms);
	else if (ms % 1000)
		sq_strbuf_addf(sb, "%.1f s", (double)ms / 1000.0);
	else
		sq_strbuf_addf(sb, "%lld s", ms / 1000);
}

/* Sets err for a run that did not succeed: the command, how it ended, its log. */
static int report(const struct proc_run *r, enum end how, const struct sq_proc_result *res,
		  struct sq_err *err)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	enum sq_err_code code = SQ_ERR_PROC;

	sq_strbuf_addf(&sb, "command '%s' ", r->opts->argv[0]);
	if (how == END_TIMEOUT) {
		sq_strbuf_adds(&sb, "timed out after ");
		add_duration(&sb, r->opts->timeout_ms);
		code = SQ_ERR_TIMEOUT;
	} else if (how == END_CANCEL) {
		sq_strbuf_adds(&sb, "was cancelled");
		code = SQ_ERR_CANCEL;
	} else if (res->exited) {
		sq_strbuf_addf(&sb, "exited with status %d", res->exit_code);
	} else if (res->term_signal) {
		const char *abbrev = sigabbrev_np(res->term_signal);

		sq_strbuf_addf(&sb, "killed by signal %d (SIG%s)", res->term_signal,
			       abbrev ? abbrev : "?");
	} else {
		sq_strbuf_adds(&sb, "ended, but its exit status was lost");
	}
	if (how != END_CANCEL)
		log_tail(&sb, r->opts->log_path, r->log_start);
	sq_error(err, code, "%s", sb.buf);
	sq_strbuf_release(&sb);
	return -1;
}

int sq_proc_run(const struct sq_proc_opts *opts, struct sq_proc_result *res, struct sq_err *err)
{
	struct proc_run r = {.opts = opts, .scan = {.fd = -1, .carry = SQ_STRBUF_INIT}};
	struct sq_proc_result local;
	int logfd = -1, rc = -1, entered = 0;
	enum end how;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	if (!opts->argv || !opts->argv[0] || !*opts->argv[0] || !opts->log_path) {
		sq_error(err, SQ_ERR_INVALID, "command is empty or has no log file");
		goto out;
	}
	r.grace_ms = opts->kill_grace_ms ? opts->kill_grace_ms : DEFAULT_GRACE_MS;
	if (r.grace_ms < 0)
		r.grace_ms = 0;
	r.t0_ms = mono_ms();
	sq_proctree_enter();
	entered = 1;
	if (open_log(&r, &logfd, err) < 0 || start(&r, logfd, err) < 0)
		goto out;
	close(logfd);
	logfd = -1;
	how = supervise(&r);
	fill_result(&r, how, res);
	if (how == END_DONE || (how == END_EXIT && res->exited && res->exit_code == 0))
		rc = 0;
	else
		report(&r, how, res, err);
out:
	if (entered)
		sq_proctree_leave(r.pid);
	if (logfd >= 0)
		close(logfd);
	if (r.scan.fd >= 0)
		close(r.scan.fd);
	sq_strbuf_release(&r.scan.carry);
	free(r.done_file);
	return rc;
}
