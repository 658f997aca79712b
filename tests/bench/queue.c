/* queue.c - bench-queue: scanq's queue throughput, and BullMQ 5's on the same Redis.
 *
 * N no-op tasks (acquisition "bench", G groups) are enqueued through
 * sq_queue_enqueue, then P forked processes, each with its own connection, do
 * what the worker does: sq_queue_claim when holding nothing, then
 * sq_queue_complete_and_claim while it hands them a next job, until
 * sq_queue_pending says nothing is left. Every job goes through the real
 * scripts (lease, fencing token, history, fan-in), so a task costs two stage jobs
 * and the groups add G + 1 stitch jobs. The result is checked (every task done,
 * exactly the expected stitches ran once) before a figure is printed: a fast
 * wrong answer is not a benchmark.
 *
 * --vs-bullmq runs tests/bench/bullmq/bench.mjs (installed under the build dir
 * with npm on first use) against the same Redis and prints the ratios. Not run by
 * CI: see tests/bench/README.md. The redis-server and BullMQ plumbing is in
 * harness.c. */
#include "harness.h"
#include "base/clock.h"

#include "base/fsutil.h"
#include "queue/queue.h"
#include "queue/queue_priv.h"
#include "task/task.h"
#include "base/xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/banned.h"

#define ACQ "bench"
#define BULLMQ_CONCURRENCY 8

static const char usage[] =
    "usage: bench-queue [--tasks N] [--procs P] [--groups G] [--redis URL]\n"
    "                   [--vs-bullmq] [--bullmq-dir DIR] [--timeout S] [--evalsha]\n"
    "\n"
    "Enqueues N no-op tasks, then P worker processes claim and complete every job\n"
    "(extract, reconstruct, group and acquisition stitches) through libscanq, as\n"
    "the worker does: sq_queue_claim when holding nothing, then\n"
    "sq_queue_complete_and_claim.\n"
    "  --tasks N        tasks to enqueue (default 20000)\n"
    "  --procs P        worker processes (default 4)\n"
    "  --groups G       groups the tasks are spread over (default 100)\n"
    "  --redis URL      use this Redis (keys under a fresh prefix are left there);\n"
    "                   default: a private redis-server on a unix socket\n"
    "  --vs-bullmq      also run BullMQ 5 (one Node process, concurrency 8)\n"
    "  --bullmq-dir DIR where bullmq is npm-installed (default: beside this program)\n"
    "  --timeout S      give up after S seconds of processing (default 600)\n"
    "  --evalsha        run scanq's scripts as EVALSHA (as on Redis 6.2), not FCALL\n"
    "  -h, --help       this text\n";

struct bench_opts {
	long ntasks;
	long nprocs;
	long ngroups;
	const char *redis_url;
	int vs_bullmq;
	int eval_only; /* --evalsha: scripts as EVALSHA, as on Redis 6.2 */
	const char *bullmq_dir;
	long long timeout_ms;
};

/* What one worker process did, sent to the parent through a pipe in one write. */
struct worker_counts {
	long long jobs[SQ_STAGE_COUNT]; /* completions per stage */
	long long group_stitches;
	long long acq_stitches;
	long long odd;	       /* jobs of an unexpected kind/stage pair */
	long long retried;     /* claims with attempt > 1: nothing should fail here */
	long long stale;       /* completions refused by fencing */
	long long empty;       /* claims that found nothing */
	long long last_end_ns; /* monotonic time of this process's last completion */
	int failed;	       /* 1: an error ended the loop (message on stderr) */
};

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parses a numeric option's value into *out; -1 with a usage message if bad. */
static int num_opt(const char *opt, const char *arg, long min, long max, long *out)
{
	if (parse_long(arg, min, max, out) == 0)
		return 0;
	fprintf(stderr, "bench-queue: invalid %s '%s'\n%s", opt, arg, usage);
	return -1;
}

/* Applies one option; returns 0, 1 for --help, -1 on a usage error (printed). */
static int set_opt(struct bench_opts *o, int opt, const char *arg, int *groups_given)
{
	long secs;

	switch (opt) {
	case 'n':
		return num_opt("--tasks", arg, 1, 10000000, &o->ntasks);
	case 'p':
		return num_opt("--procs", arg, 1, 256, &o->nprocs);
	case 'g':
		*groups_given = 1;
		return num_opt("--groups", arg, 1, 100000, &o->ngroups);
	case 't':
		if (num_opt("--timeout", arg, 1, 86400, &secs) < 0)
			return -1;
		o->timeout_ms = secs * 1000LL;
		return 0;
	case 'r':
		o->redis_url = arg;
		return 0;
	case 'b':
		o->vs_bullmq = 1;
		return 0;
	case 'e':
		o->eval_only = 1;
		return 0;
	case 'd':
		o->bullmq_dir = arg;
		return 0;
	case 'h':
		fputs(usage, stdout);
		return 1;
	default:
		fputs(usage, stderr);
		return -1;
	}
}

/* Returns 0, 1 for --help, -1 on a usage error (message printed). */
static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
	    {"tasks", required_argument, NULL, 'n'},
	    {"procs", required_argument, NULL, 'p'},
	    {"groups", required_argument, NULL, 'g'},
	    {"redis", required_argument, NULL, 'r'},
	    {"vs-bullmq", no_argument, NULL, 'b'},
	    {"evalsha", no_argument, NULL, 'e'},
	    {"bullmq-dir", required_argument, NULL, 'd'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt, rc, groups_given = 0;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		if ((rc = set_opt(o, opt, optarg, &groups_given)) != 0)
			return rc;
	if (optind < argc) {
		fprintf(stderr, "bench-queue: unexpected argument '%s'\n%s", argv[optind], usage);
		return -1;
	}
	if (!groups_given && o->ngroups > o->ntasks)
		o->ngroups = o->ntasks; /* the default of 100 must not reject a small run */
	if (o->ngroups > o->ntasks) {
		fprintf(stderr,
			"bench-queue: --groups %ld exceeds --tasks %ld: a group needs a task\n",
			o->ngroups, o->ntasks);
		return -1;
	}
	return 0;
}

/* --- the scanq side ---------------------------------------------------------- */

static void build_task(struct sq_task *t, long i, long ngroups)
{
	sq_task_init(t);
	t->acquisition = xstrdup(ACQ);
	t->group = xasprintf("g%03ld", i % ngroups + 1);
	t->name = xasprintf("t%06ld", i + 1);
	/* nothing is decoded or written: the paths only have to look real */
	t->output_root = xstrdup("/nonexistent/scanq-bench/out");
	t->videos = xcalloc(1, sizeof(*t->videos));
	t->videos[0] = xasprintf("/nonexistent/scanq-bench/videos/%s.mp4", t->name);
	t->nvideos = 1;
	sq_task_finalize(t);
}

static void build_stitch(struct sq_stitch_spec *s)
{
	sq_stitch_spec_init(s);
	s->acquisition = xstrdup(ACQ);
	s->outdir = xstrdup("/nonexistent/scanq-bench/out");
	sq_stitch_spec_finalize(s);
}

static struct sq_queue *open_queue(const struct bench_opts *o, const char *prefix)
{
	/* a benchmark should fail fast, not ride out a minute of reconnects */
	struct sq_queue_opts qo = {.url = o->redis_url, .prefix = prefix, .retry_for_ms = 5000};
	struct sq_err err;
	struct sq_queue *q = sq_queue_open(&qo, &err);

	if (!q)
		fprintf(stderr, "bench-queue: %s\n", err.msg);
	else
		sq_redis_debug_eval_only(sq_queue_redis(q), o->eval_only);
	return q;
}

/* Enqueues every task in one sq_queue_enqueue call (as scanq-enqueue does) and
 * times it; every task must come back ADDED. */
static int run_enqueue(const struct bench_opts *o, const char *prefix, struct bench_figures *f)
{
	struct sq_task *tasks = xcalloc((size_t)o->ntasks, sizeof(*tasks));
	enum sq_enqueue_outcome *out = xcalloc((size_t)o->ntasks, sizeof(*out));
	struct sq_stitch_spec stitch;
	struct sq_queue *q = open_queue(o, prefix);
	struct sq_err err;
	long long t0;
	int rc = -1;

	for (long i = 0; i < o->ntasks; i++)
		build_task(&tasks[i], i, o->ngroups);
	build_stitch(&stitch);
	if (!q)
		goto out;
	t0 = bench_mono_ns();
	if (sq_queue_enqueue(q, tasks, (size_t)o->ntasks, &stitch, out, &err) < 0) {
		fprintf(stderr, "bench-queue: cannot enqueue: %s\n", err.msg);
		goto out;
	}
	f->enqueue_s = (double)(bench_mono_ns() - t0) / 1e9;
	rc = 0;
	for (long i = 0; i < o->ntasks && rc == 0; i++) {
		if (out[i] != SQ_ENQUEUE_ADDED) {
			fprintf(stderr, "bench-queue: task '%s' was not added (outcome %d)\n",
				tasks[i].name, (int)out[i]);
			rc = -1;
		}
	}
out:
	sq_queue_free(q);
	for (long i = 0; i < o->ntasks; i++)
		sq_task_release(&tasks[i]);
	free(tasks);
	free(out);
	sq_stitch_spec_release(&stitch);
	return rc;
}

static const enum sq_stage all_stages[] = {SQ_STAGE_EXTRACT, SQ_STAGE_RECONSTRUCT, SQ_STAGE_STITCH};
static const char *const bench_acqs[] = {ACQ};

static void claim_opts(struct sq_claim_opts *co, const char *worker_id)
{
	memset(co, 0, sizeof(*co));
	co->worker_id = worker_id;
	co->stages = all_stages;
	co->nstages = sizeof(all_stages) / sizeof(all_stages[0]);
	co->acqs = bench_acqs;
	co->nacqs = 1;
	co->free_vram_mib = -1;
	co->free_ram_mib = -1;
}

/* Counts one completed job by what it is; a kind that cannot be at its stage is odd. */
static void count_job(struct worker_counts *c, enum sq_job_kind kind, enum sq_stage stage,
		      int attempt)
{
	int task_stage = stage == SQ_STAGE_EXTRACT || stage == SQ_STAGE_RECONSTRUCT;

	if ((kind == SQ_JOB_TASK) != task_stage || (unsigned)stage >= SQ_STAGE_COUNT) {
		c->odd++;
		return;
	}
	c->jobs[stage]++;
	c->group_stitches += kind == SQ_JOB_GROUP_STITCH;
	c->acq_stitches += kind == SQ_JOB_ACQ_STITCH;
	c->retried += attempt > 1;
}

/* One claim and, while a job is held, its no-op completion fused with the next
 * claim, as the worker does: sq_queue_claim only when it holds nothing. Returns
 * 1 after a job, 0 when nothing was claimable, -1 on error (printed). */
static int work_once(struct sq_queue *q, const struct sq_claim_opts *co, struct worker_counts *c)
{
	struct sq_job job;
	struct sq_err err;
	enum sq_job_kind kind;
	enum sq_stage stage;
	int got, attempt, rc = 0;

	sq_job_init(&job);
	got = sq_queue_claim(q, co, &job, &err);
	if (got < 0)
		fprintf(stderr, "bench-queue: claim: %s\n", err.msg);
	if (got <= 0)
		goto out;
	while (got == 1) {
		kind = job.kind;
		stage = job.stage;
		attempt = job.attempt;
		got = sq_queue_complete_and_claim(q, &job, co->worker_id, "{}", co, &job, &err);
		if (got >= 0) {
			count_job(c, kind, stage, attempt);
			c->last_end_ns = bench_mono_ns();
		} else if (err.code == SQ_ERR_STALE) {
			c->stale++;
		} else {
			fprintf(stderr, "bench-queue: complete '%s': %s\n", job.jid, err.msg);
			rc = -1;
		}
	}
	got = rc < 0 ? -1 : 1;
out:
	sq_job_release(&job);
	return got;
}

/* The loop of one worker process: claim -> complete until nothing is pending. */
static void work_loop(struct sq_queue *q, const struct sq_claim_opts *co, long long deadline_ns,
		      struct worker_counts *c)
{
	struct sq_err err;
	long long pending;
	int got;

	for (;;) {
		if (bench_mono_ns() > deadline_ns) {
			fprintf(stderr, "bench-queue: worker %s timed out\n", co->worker_id);
			c->failed = 1;
			return;
		}
		got = work_once(q, co, c);
		if (got < 0) {
			c->failed = 1;
			return;
		}
		if (got > 0)
			continue;
		c->empty++;
		if (sq_queue_pending(q, co, &pending, &err) < 0) {
			fprintf(stderr, "bench-queue: pending: %s\n", err.msg);
			c->failed = 1;
			return;
		}
		if (pending == 0)
			return;
		/* others hold the last leases: wait for the doorbell a fan-in rings */
		sq_queue_wait(q, co, 100, &err);
	}
}

/* Body of a forked worker: connect, say ready, wait for go (EOF on go_fd), work,
 * report the counts on res_fd. Never returns. */
static void worker_main(const struct bench_opts *o, const char *prefix, long slot, int ready_fd,
			int go_fd, int res_fd)
{
	struct worker_counts c;
	struct sq_claim_opts co;
	char *wid = xasprintf("%s:%ld:bench%ld", sq_hostname(), (long)getpid(), slot);
	struct sq_queue *q = open_queue(o, prefix);
	char b = 'r';

	memset(&c, 0, sizeof(c));
	claim_opts(&co, wid);
	c.failed = !q;
	if (write(ready_fd, &b, 1) != 1 || read(go_fd, &b, 1) != 0)
		c.failed = 1;
	if (!c.failed)
		work_loop(q, &co, bench_mono_ns() + o->timeout_ms * 1000000LL, &c);
	if (write(res_fd, &c, sizeof(c)) != (ssize_t)sizeof(c))
		_exit(1);
	sq_queue_free(q);
	free(wid);
	_exit(c.failed);
}

struct pool {
	pid_t *pids;
	long n;
	int ready[2], go[2], res[2];
};

static int pool_fork(struct pool *p, const struct bench_opts *o, const char *prefix)
{
	if (pipe(p->ready) < 0 || pipe(p->go) < 0 || pipe(p->res) < 0) {
		fprintf(stderr, "bench-queue: cannot create a pipe: %s\n", strerror(errno));
		return -1;
	}
	fflush(NULL);
	for (p->n = 0; p->n < o->nprocs; p->n++) {
		pid_t pid = fork();

		if (pid < 0) {
			fprintf(stderr, "bench-queue: cannot fork: %s\n", strerror(errno));
			return -1;
		}
		if (pid == 0) {
			close(p->ready[0]);
			close(p->go[1]);
			close(p->res[0]);
			worker_main(o, prefix, p->n, p->ready[1], p->go[0], p->res[1]);
		}
		p->pids[p->n] = pid;
	}
	return 0;
}

/* Reads one worker's ready byte; a worker that died before sending it (or hangs
 * connecting) must not leave us waiting forever. */
static int read_ready(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char b;

	if (poll(&pfd, 1, 30000) != 1 || read(fd, &b, 1) != 1) {
		fprintf(stderr, "bench-queue: a worker process did not get ready\n");
		return -1;
	}
	return 0;
}

/* Waits for every worker to be connected, releases them at once, and gathers
 * their counts; *cpu_s: Redis's CPU time meanwhile (read through probe).
 * Returns 0 if every worker reported and none failed. */
static int pool_run(struct pool *p, struct sq_redis *probe, long long *t0_ns,
		    struct worker_counts *sum, double *cpu_s)
{
	struct worker_counts c;
	double cpu0, cpu1;
	long got = 0;
	int rc = 0;

	close(p->ready[1]);
	close(p->go[0]);
	close(p->res[1]);
	for (long i = 0; i < p->n && rc == 0; i++)
		rc = read_ready(p->ready[0]);
	cpu0 = bench_redis_cpu_s(probe);
	*t0_ns = bench_mono_ns();
	close(p->go[1]); /* EOF: go */
	while (read(p->res[0], &c, sizeof(c)) == (ssize_t)sizeof(c)) {
		for (int s = 0; s < SQ_STAGE_COUNT; s++)
			sum->jobs[s] += c.jobs[s];
		sum->group_stitches += c.group_stitches;
		sum->acq_stitches += c.acq_stitches;
		sum->odd += c.odd;
		sum->retried += c.retried;
		sum->stale += c.stale;
		sum->empty += c.empty;
		if (c.last_end_ns > sum->last_end_ns)
			sum->last_end_ns = c.last_end_ns;
		sum->failed |= c.failed;
		got++;
	}
	cpu1 = bench_redis_cpu_s(probe);
	*cpu_s = cpu0 < 0 || cpu1 < 0 ? -1 : cpu1 - cpu0;
	return rc < 0 || got != p->n || sum->failed ? -1 : 0;
}

static int pool_reap(struct pool *p)
{
	int rc = 0, status;

	for (long i = 0; i < p->n; i++) {
		if (waitpid(p->pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			rc = -1;
	}
	close(p->ready[0]);
	close(p->res[0]);
	return rc;
}

/* CPU time (user + sys) of the children reaped so far, in seconds. */
static double children_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru) < 0)
		return -1;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Forks the workers, times from the go to the last completion. probe: the
 * parent's own connection, for Redis's CPU time. */
static int run_workers(const struct bench_opts *o, const char *prefix, struct sq_queue *probe,
		       struct worker_counts *sum, struct bench_figures *f)
{
	struct pool p = {.pids = xcalloc((size_t)o->nprocs, sizeof(pid_t))};
	long long t0 = 0;
	int rc = pool_fork(&p, o, prefix);

	if (rc == 0)
		rc = pool_run(&p, sq_queue_redis(probe), &t0, sum, &f->redis_cpu_s);
	else
		for (long i = 0; i < p.n; i++)
			kill(p.pids[i], SIGTERM);
	if (pool_reap(&p) < 0)
		rc = -1;
	f->client_cpu_s = children_cpu_s(); /* the workers: the only children reaped yet */
	free(p.pids);
	if (rc < 0) {
		fprintf(stderr, "bench-queue: a worker process failed\n");
		return -1;
	}
	f->process_s = (double)(sum->last_end_ns - t0) / 1e9;
	f->jobs = sum->jobs[0] + sum->jobs[1] + sum->jobs[2];
	return 0;
}

/* --- checking the result ----------------------------------------------------- */
static long expected_stitches(const struct bench_opts *o)
{
	/* one group stitch per group; the acquisition stitch only with >= 2 groups */
	return o->ngroups + (o->ngroups >= 2);
}

static int check_counts(const struct bench_opts *o, const struct worker_counts *c)
{
	int rc = 0;

	rc |= bench_check_eq("extract completions", c->jobs[SQ_STAGE_EXTRACT], o->ntasks);
	rc |= bench_check_eq("reconstruct completions", c->jobs[SQ_STAGE_RECONSTRUCT], o->ntasks);
	rc |= bench_check_eq("stitch completions", c->jobs[SQ_STAGE_STITCH], expected_stitches(o));
	rc |= bench_check_eq("group stitches", c->group_stitches, o->ngroups);
	rc |= bench_check_eq("acquisition stitches", c->acq_stitches, o->ngroups >= 2);
	rc |= bench_check_eq("jobs of an impossible kind/stage", c->odd, 0);
	rc |= bench_check_eq("retried claims", c->retried, 0);
	rc |= bench_check_eq("stale completions", c->stale, 0);
	return rc;
}

/* The jids to check: every task, every group stitch, the acquisition stitch. */
static char **all_jids(const struct bench_opts *o, size_t *n_out)
{
	size_t n = (size_t)(o->ntasks + o->ngroups) + (o->ngroups >= 2), k = 0;
	char **jids = xcalloc(n, sizeof(*jids));

	for (long i = 0; i < o->ntasks; i++)
		jids[k++] = xasprintf("t%06ld", i + 1);
	for (long g = 0; g < o->ngroups; g++)
		jids[k++] = xasprintf("@group:g%03ld", g + 1);
	if (o->ngroups >= 2)
		jids[k++] = xstrdup("@acq");
	*n_out = n;
	return jids;
}

/* Reads every job's state back from Redis: all must be done, nothing pending. */
static int check_states(const struct bench_opts *o, const char *prefix)
{
	struct sq_queue *q = open_queue(o, prefix);
	struct sq_claim_opts co;
	struct sq_job_info *st = NULL;
	struct sq_err err;
	size_t n = 0, bad = 0;
	char **jids = all_jids(o, &n);
	long long pending = -1;
	int rc = -1;

	claim_opts(&co, "bench-check");
	if (!q)
		goto out;
	st = xcalloc(n, sizeof(*st));
	if (sq_queue_job_states(q, ACQ, (const char *const *)jids, n, st, &err) < 0 ||
	    sq_queue_pending(q, &co, &pending, &err) < 0) {
		fprintf(stderr, "bench-queue: cannot read the job states: %s\n", err.msg);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (st[i].exists && st[i].state == SQ_JOB_DONE)
			continue;
		if (bad++ < 5)
			fprintf(stderr, "bench-queue: check failed: job '%s' is %s\n", jids[i],
				st[i].exists ? sq_job_state_name(st[i].state) : "missing");
	}
	rc = bench_check_eq("jobs not done", (long long)bad, 0) |
	     bench_check_eq("jobs pending", pending, 0);
out:
	for (size_t i = 0; i < n; i++)
		free(jids[i]);
	free(jids);
	free(st);
	sq_queue_free(q);
	return rc;
}
/* --- report ------------------------------------------------------------------ */

/* Redis's CPU time per unit while processing, in µs, as text ("?" unknown). */
static const char *cpu_per(double cpu_s, double units, char *buf, size_t len)
{
	if (cpu_s < 0 || units <= 0)
		return "?";
	snprintf(buf, len, "%.1f", cpu_s * 1e6 / units);
	return buf;
}

static void print_table(const struct bench_opts *o, const struct bench_figures *sq,
			const struct bench_figures *bq)
{
	char b1[32], b2[32], b3[32], b4[32];

	double sq_tasks = (double)o->ntasks / sq->process_s,
	       sq_jobs = (double)sq->jobs / sq->process_s;

	printf("%-8s %12s %16s %12s %10s\n", "system", "enqueue/s", "process tasks/s", "jobs/s",
	       "process s");
	printf("%-8s %12.0f %16.0f %12.0f %10.3f\n", "scanq", (double)o->ntasks / sq->enqueue_s,
	       sq_tasks, sq_jobs, sq->process_s);
	printf("CPU while processing: scanq's redis %s us/task (%s us/job), its workers %s "
	       "us/task",
	       cpu_per(sq->redis_cpu_s, (double)o->ntasks, b1, sizeof(b1)),
	       cpu_per(sq->redis_cpu_s, (double)sq->jobs, b2, sizeof(b2)),
	       cpu_per(sq->client_cpu_s, (double)o->ntasks, b4, sizeof(b4)));
	if (bq)
		printf("; bullmq's redis %s us/job",
		       cpu_per(bq->redis_cpu_s, (double)bq->jobs, b3, sizeof(b3)));
	printf("\n");
	if (!bq)
		return;
	/* a BullMQ job is the whole task: its tasks/s and jobs/s are the same figure */
	printf("%-8s %12.0f %16.0f %12.0f %10.3f\n", "bullmq", (double)bq->jobs / bq->enqueue_s,
	       (double)bq->jobs / bq->process_s, (double)bq->jobs / bq->process_s, bq->process_s);
	printf("%-8s %12.2f %16.2f %12.2f\n", "ratio",
	       ((double)o->ntasks / sq->enqueue_s) / ((double)bq->jobs / bq->enqueue_s),
	       sq_tasks / ((double)bq->jobs / bq->process_s),
	       sq_jobs / ((double)bq->jobs / bq->process_s));
	printf("target (issue): scanq process tasks/s >= 2x BullMQ's: %.2fx, %s\n"
	       "(per job, scanq jobs/s vs BullMQ jobs/s: %.2fx; a scanq task is %.2f jobs)\n",
	       sq_tasks / ((double)bq->jobs / bq->process_s),
	       sq_tasks >= 2.0 * ((double)bq->jobs / bq->process_s) ? "met" : "NOT met",
	       sq_jobs / ((double)bq->jobs / bq->process_s), (double)sq->jobs / (double)o->ntasks);
}

static int run_all(const struct bench_opts *o, const char *prefix)
{
	struct worker_counts sum;
	struct bench_figures sq = {0}, bq = {0};
	struct sq_queue *probe;
	int rc = -1;

	memset(&sum, 0, sizeof(sum));
	printf("bench-queue: %ld tasks in %ld group%s, %ld worker process%s, %s (prefix '%s')\n",
	       o->ntasks, o->ngroups, o->ngroups == 1 ? "" : "s", o->nprocs,
	       o->nprocs == 1 ? "" : "es", o->redis_url, prefix);
	if (!(probe = open_queue(o, prefix)))
		return -1;
	if (run_enqueue(o, prefix, &sq) < 0 || run_workers(o, prefix, probe, &sum, &sq) < 0)
		goto out;
	if (check_counts(o, &sum) < 0 || check_states(o, prefix) < 0)
		goto out;
	printf("verified: %ld tasks done at both stages, %ld stitches ran once each "
	       "(%ld group + %d acquisition), 0 stale, 0 retried; %lld empty claims; "
	       "scanq's scripts ran as %s\n",
	       o->ntasks, expected_stitches(o), o->ngroups, o->ngroups >= 2, sum.empty,
	       bench_script_mode(sq_queue_redis(probe)));
	if (o->vs_bullmq && bench_run_bullmq(o->bullmq_dir, o->redis_url, prefix, o->ntasks,
					     BULLMQ_CONCURRENCY, &bq) < 0)
		goto out;
	print_table(o, &sq, o->vs_bullmq ? &bq : NULL);
	rc = 0;
out:
	sq_queue_free(probe);
	return rc;
}

int main(int argc, char **argv)
{
	struct bench_opts o = {.ntasks = 20000, .nprocs = 4, .ngroups = 100, .timeout_ms = 600000};
	struct bench_redis rs;
	char *prefix;
	int rc;

	memset(&rs, 0, sizeof(rs));
	rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (!o.redis_url) {
		if (bench_redis_start(&rs) < 0) {
			bench_redis_stop(&rs);
			return 1;
		}
		o.redis_url = rs.url;
	}
	prefix = xasprintf("bench-%ld-%lld:", (long)getpid(), sq_now_ms());
	rc = run_all(&o, prefix) < 0 ? 1 : 0;
	free(prefix);
	bench_redis_stop(&rs);
	return rc;
}
