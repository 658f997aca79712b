/* harness.c - bench-queue's surroundings: a private redis-server started and
 * stopped without a shell, child programs (npm, node), and the BullMQ 5
 * reference run whose one result line is parsed and checked here. */
#include "harness.h"

#include "base/fsutil.h"
#include "queue/redis.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/banned.h"

#ifndef SQ_BENCH_SRC
#define SQ_BENCH_SRC "tests/bench"
#endif

long long bench_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* INFO <section> as a new string, or NULL. */
static char *redis_info(struct sq_redis *r, const char *section)
{
	struct sq_redis_args a = SQ_REDIS_ARGS_INIT;
	struct sq_reply *rep;
	struct sq_err err;
	char *text = NULL;

	sq_redis_args_add(&a, "INFO");
	sq_redis_args_add(&a, section);
	rep = sq_redis_command(r, &a, &err);
	if (rep && rep->type == SQ_REPLY_STRING)
		text = xstrdup(rep->str);
	sq_reply_free(rep);
	sq_redis_args_release(&a);
	return text;
}

/* The number after "\n<name>" (e.g. "used_cpu_sys:") in INFO text, or -1. */
static double info_number(const char *text, const char *name)
{
	char *needle = xasprintf("\n%s", name);
	const char *at = text ? strstr(text, needle) : NULL;
	double v = at ? strtod(at + strlen(needle), NULL) : -1;

	free(needle);
	return v;
}

double bench_redis_cpu_s(struct sq_redis *r)
{
	char *text = redis_info(r, "cpu");
	double user = info_number(text, "used_cpu_user:"), sys = info_number(text, "used_cpu_sys:");

	free(text);
	return user < 0 || sys < 0 ? -1 : user + sys;
}

const char *bench_script_mode(struct sq_redis *r)
{
	char *text = redis_info(r, "commandstats");
	double fcall = info_number(text, "cmdstat_fcall:calls="),
	       evalsha = info_number(text, "cmdstat_evalsha:calls=");

	free(text);
	if (fcall > evalsha)
		return "functions (FCALL)";
	return evalsha > 0 ? "scripts (EVALSHA)" : "?";
}

int bench_check_eq(const char *what, long long got, long long want)
{
	if (got == want)
		return 0;
	fprintf(stderr, "bench-queue: check failed: %s: %lld, expected %lld\n", what, got, want);
	return -1;
}

static int sock_answers(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), ok;

	if (fd < 0)
		return 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void redis_exec(const struct bench_redis *rs)
{
	char *log = sq_path_join(rs->dir, "redis.log");
	/* no TCP port, no persistence: a scratch server only this run can reach */
	/* clang-format off */
	char *const argv[] = {
		"redis-server",
		"--port", "0",
		"--unixsocket", rs->sock,
		"--unixsocketperm", "700",
		"--dir", rs->dir,
		"--logfile", log,
		"--appendonly", "no",
		"--save", "",
		"--daemonize", "no",
		NULL,
	};
	/* clang-format on */

	execvp(argv[0], argv);
	fprintf(stderr, "bench-queue: cannot run 'redis-server': %s\n", strerror(errno));
	_exit(127);
}

/* Starts redis-server on a unix socket in a new temp dir and waits until it
 * accepts connections (10 s at most). */
int bench_redis_start(struct bench_redis *rs)
{
	char tmpl[] = "/tmp/scanq-bench.XXXXXX";
	long long deadline = bench_mono_ns() + 10000000000LL;

	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "bench-queue: cannot create a temp dir: %s\n", strerror(errno));
		return -1;
	}
	rs->dir = xstrdup(tmpl);
	rs->sock = sq_path_join(rs->dir, "redis.sock");
	rs->url = xasprintf("unix://%s", rs->sock);
	fflush(NULL);
	rs->pid = fork();
	if (rs->pid < 0) {
		fprintf(stderr, "bench-queue: cannot fork: %s\n", strerror(errno));
		return -1;
	}
	if (rs->pid == 0)
		redis_exec(rs);
	while (!sock_answers(rs->sock)) {
		if (waitpid(rs->pid, NULL, WNOHANG) == rs->pid || bench_mono_ns() > deadline) {
			rs->pid = 0;
			fprintf(stderr,
				"bench-queue: redis-server did not start (see %s/redis.log)\n",
				rs->dir);
			return -1;
		}
		usleep(20000);
	}
	return 0;
}

/* Stops the server (SIGTERM: with save "" it writes nothing) and removes its dir. */
void bench_redis_stop(struct bench_redis *rs)
{
	if (rs->pid > 0) {
		kill(rs->pid, SIGTERM);
		waitpid(rs->pid, NULL, 0);
	}
	if (rs->dir)
		sq_rm_rf(rs->dir, NULL);
	free(rs->dir);
	free(rs->sock);
	free(rs->url);
	memset(rs, 0, sizeof(*rs));
}

/* Runs argv (no shell). With out, its stdout is captured there; without, it goes
 * to our stderr so the table on stdout stays clean. Returns its exit status, or
 * -1 if it could not run or was killed. */
static int run_prog(char *const argv[], struct sq_strbuf *out)
{
	int fds[2] = {-1, -1}, status;
	char buf[4096];
	ssize_t n;
	pid_t pid;

	if (out && pipe(fds) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(out ? fds[1] : STDERR_FILENO, STDOUT_FILENO);
		if (out)
			close(fds[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "bench-queue: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (out) {
		close(fds[1]);
		while (pid > 0 && (n = read(fds[0], buf, sizeof(buf))) > 0)
			sq_strbuf_add(out, buf, (size_t)n);
		close(fds[0]);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Default install dir: bullmq-bench beside this executable (in the build dir). */
static char *default_bullmq_dir(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *dir, *res;

	if (n <= 0)
		return xstrdup("bullmq-bench");
	exe[n] = '\0';
	dir = sq_path_dirname(exe);
	res = sq_path_join(dir, "bullmq-bench");
	free(dir);
	return res;
}

/* Copies SQ_BENCH_SRC/bullmq/<name> into dir; returns 1 if it changed, 0 if the
 * same, -1 on error. */
static int copy_source(const char *dir, const char *name)
{
	char *from = xasprintf("%s/bullmq/%s", SQ_BENCH_SRC, name), *to = sq_path_join(dir, name);
	char *src, *old;
	size_t len, old_len = 0;
	struct sq_err err;
	int rc = -1;

	src = sq_read_file(from, &len, &err);
	old = sq_path_exists(to) ? sq_read_file(to, &old_len, NULL) : NULL;
	if (!src)
		fprintf(stderr, "bench-queue: %s\n", err.msg);
	else if (old && old_len == len && !memcmp(old, src, len))
		rc = 0;
	else if (sq_write_file_atomic(to, src, len, &err) < 0)
		fprintf(stderr, "bench-queue: %s\n", err.msg);
	else
		rc = 1;
	free(src);
	free(old);
	free(from);
	free(to);
	return rc;
}

/* Puts bench.mjs and package.json in dir, and npm-installs bullmq there when it
 * is missing or package.json changed. */
static int bullmq_setup(const char *dir)
{
	char *marker = xasprintf("%s/node_modules/bullmq/package.json", dir);
	char *const npm[] = {"npm",	   "install",	"--prefix",	    (char *)dir,
			     "--no-audit", "--no-fund", "--loglevel=error", NULL};
	struct sq_err err;
	int rc = -1, pkg;

	if (sq_mkdir_p(dir, &err) < 0) {
		fprintf(stderr, "bench-queue: %s\n", err.msg);
		goto out;
	}
	pkg = copy_source(dir, "package.json");
	if (pkg < 0 || copy_source(dir, "bench.mjs") < 0)
		goto out;
	rc = 0;
	if (pkg == 0 && sq_path_exists(marker))
		goto out;
	fprintf(stderr, "bench-queue: installing bullmq into '%s' (npm)\n", dir);
	if (run_prog(npm, NULL) != 0 || !sq_path_exists(marker)) {
		fprintf(stderr, "bench-queue: npm install into '%s' failed\n", dir);
		rc = -1;
	}
out:
	free(marker);
	return rc;
}

/* Parses "bullmq enqueue_ms=.. process_ms=.. completed=.. failed=.. left=..
 * redis_cpu_ms=..". */
static int bullmq_parse(const char *out, long ntasks, struct bench_figures *f)
{
	const char *line = strstr(out, "bullmq enqueue_ms=");
	double enq_ms, proc_ms, cpu_ms;
	long long completed, failed, left;

	if (!line || sscanf(line,
			    "bullmq enqueue_ms=%lf process_ms=%lf completed=%lld failed=%lld "
			    "left=%lld redis_cpu_ms=%lf",
			    &enq_ms, &proc_ms, &completed, &failed, &left, &cpu_ms) != 6) {
		fprintf(stderr, "bench-queue: bench.mjs printed no result line\n");
		return -1;
	}
	if (bench_check_eq("bullmq completed jobs", completed, ntasks) |
	    bench_check_eq("bullmq failed jobs", failed, 0) |
	    bench_check_eq("bullmq jobs left", left, 0))
		return -1;
	f->enqueue_s = enq_ms / 1000.0;
	f->process_s = proc_ms / 1000.0;
	f->jobs = completed;
	f->redis_cpu_s = cpu_ms / 1000.0;
	return 0;
}

int bench_run_bullmq(const char *dir_opt, const char *url, const char *prefix, long njobs,
		     int concurrency, struct bench_figures *f)
{
	char *dir = dir_opt ? xstrdup(dir_opt) : default_bullmq_dir();
	char *script = sq_path_join(dir, "bench.mjs"), *jobs = xasprintf("%ld", njobs);
	char *conc = xasprintf("%d", concurrency), *bprefix = xasprintf("%sbull", prefix);
	char *const argv[] = {"node",	script, "--redis",	 (char *)url, "--prefix", bprefix,
			      "--jobs", jobs,	"--concurrency", conc,	      NULL};
	struct sq_strbuf out = SQ_STRBUF_INIT;
	int rc = -1;

	if (bullmq_setup(dir) < 0)
		goto out;
	if (run_prog(argv, &out) != 0) {
		fprintf(stderr, "bench-queue: node bench.mjs failed\n");
		goto out;
	}
	rc = bullmq_parse(out.buf, njobs, f);
out:
	sq_strbuf_release(&out);
	free(dir);
	free(script);
	free(jobs);
	free(conc);
	free(bprefix);
	return rc;
}
