/* harness.h - what bench-queue needs around its measurement: a clock, result
 * checks, a private redis-server, and the BullMQ reference run (harness.c). */
#ifndef SQ_BENCH_HARNESS_H
#define SQ_BENCH_HARNESS_H

#include <sys/types.h>

/* Throughput of one system: enqueue and processing wall times in seconds, and
 * the number of jobs processed. */
struct bench_figures {
	double enqueue_s;
	double process_s;
	long long jobs;
	double redis_cpu_s;  /* Redis's CPU time (user + sys) while processing; < 0: unknown */
	double client_cpu_s; /* the worker processes' CPU time (user + sys); < 0: unknown */
};

struct sq_redis;

/* Redis's CPU time so far (INFO cpu: used_cpu_user + used_cpu_sys), in seconds;
 * -1 if it cannot be read. */
double bench_redis_cpu_s(struct sq_redis *r);

/* How the server ran scanq's scripts (INFO commandstats): "functions (FCALL)",
 * "scripts (EVALSHA)", or "?" */
const char *bench_script_mode(struct sq_redis *r);

/* CLOCK_MONOTONIC in ns: system-wide, so comparable across forked processes. */
long long bench_mono_ns(void);

/* Returns 0 if got == want, else prints "check failed: <what>" and returns -1. */
int bench_check_eq(const char *what, long long got, long long want);

struct bench_redis {
	pid_t pid;
	char *dir; /* private temp dir holding the socket and the log */
	char *sock;
	char *url; /* unix://<sock> */
};

/* Starts redis-server (fork/exec, no shell) on a unix socket in a new temp dir,
 * no TCP, no persistence, and waits until it accepts connections. Returns 0, or
 * -1 (message printed; call bench_redis_stop anyway). */
int bench_redis_start(struct bench_redis *rs);
/* Stops the server and removes its dir; fine on a zeroed or failed rs. */
void bench_redis_stop(struct bench_redis *rs);

/* Runs tests/bench/bullmq/bench.mjs with node against url: njobs no-op jobs
 * under key prefix `prefix`, one Worker of the given concurrency. dir is where
 * bullmq is npm-installed (NULL: bullmq-bench beside this executable); it is
 * installed there first if missing. Fills *f after checking every job completed.
 * Returns 0 or -1 (message printed). */
int bench_run_bullmq(const char *dir, const char *url, const char *prefix, long njobs,
		     int concurrency, struct bench_figures *f);

#endif
