/* supervisor.c - the worker pool: one process per slot, restarted when it dies.
 *
 * The supervisor never touches Redis while its children are healthy. When a child
 * dies without finishing (SIGKILL, OOM, a crash in a backend library), the
 * supervisor hands the child's job back at once instead of waiting for the lease
 * to expire, then starts a replacement (with backoff if it keeps dying young). */
#include "worker/worker.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "worker/host.h"
#include "queue/queue.h"
#include "stage/proctree.h"
#include "base/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/banned.h"

struct child {
	pid_t pid; /* 0: not running */
	int finished; /* exited 0: drained or stopped */
	char id[160];
	long long started_ms;
	long long restart_at_ms; /* monotonic; when to start a replacement */
	int young_deaths;
};

struct pool {
	const struct sq_worker_opts *opts;
	struct child *kids;
	struct sq_queue *q; /* opened on first need, after the children forked */
	int forwarded;	    /* highest stop level forwarded to the children */
	/* jobs dead-lettered by the children, counted as they happen in memory
	 * shared with them (a child killed later cannot lose its count) */
	atomic_llong *dead_by_kids;
	long long dead_by_crash; /* crashed on their last attempt (child_died) */
};

static void plog(const struct pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void plog(const struct pool *p, const char *fmt, ...)
{
	char msg[1024], line[1400], stamp[320];
	va_list ap;

	if (!p->opts->hooks.log)
		return;
	sq_log_stamp(stamp, sizeof(stamp));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s - - %s", stamp, msg);
	p->opts->hooks.log(p->opts->hooks.ctx, line);
}

static void spawn(struct pool *p, int slot)
{
	struct child *c = &p->kids[slot];
	unsigned nonce = (unsigned)(sq_now_ms() ^ (slot * 7919) ^ (getpid() << 8)) & 0xffffff;
	pid_t pid = fork();

	if (pid < 0) {
		plog(p, "cannot fork worker %d: %s", slot, strerror(errno));
		c->restart_at_ms = sq_mono_ms() + 1000;
		return;
	}
	if (pid == 0) {
		char id[160];
		struct sq_err err;

		/* own process group: a terminal's Ctrl-C reaches the supervisor only,
		 * which forwards it once; die with the supervisor */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		snprintf(id, sizeof(id), "%s:%ld:%06x", sq_hostname(), (long)getpid(), nonce);
		/* the slot's GPU reaches its backends as CUDA_VISIBLE_DEVICES and
		 * hardware decoding as its device (stage.c), not through our
		 * environment */
		_exit(sq_worker_run_one(p->opts, slot, id, p->dead_by_kids, &err) == 0 ? 0 : 1);
	}
	snprintf(c->id, sizeof(c->id), "%s:%ld:%06x", sq_hostname(), (long)pid, nonce);
	c->pid = pid;
	c->started_ms = sq_mono_ms();
}

static int find_slot(const struct pool *p, pid_t pid)
{
	for (int i = 0; i < p->opts->nprocs; i++)
		if (p->kids[i].pid == pid)
			return i;
	return -1;
}

/* As child subreaper we inherit the backends of a worker that died, and
 * whatever they started; kill them all and reap them before the job is handed
 * to someone else, so a task never runs twice at once. The live workers and
 * their trees are left alone. */
static void kill_orphans(const struct pool *p)
{
	pid_t *keep = xcalloc((size_t)p->opts->nprocs, sizeof(*keep));
	size_t n = 0;

	for (int i = 0; i < p->opts->nprocs; i++)
		if (p->kids[i].pid > 0)
			keep[n++] = p->kids[i].pid;
	if (sq_proctree_kill_strays(keep, n, 5000) > 0)
		plog(p, "some processes of a dead worker's backend could not be killed");
	free(keep);
}

/* A child died without a clean exit: hand its job back now and plan a restart. */
static void child_died(struct pool *p, int slot, int status)
{
	struct child *c = &p->kids[slot];
	char reason[128];
	struct sq_err err;
	int held = 0;

	if (WIFSIGNALED(status))
		snprintf(reason, sizeof(reason), "worker process killed by signal %d",
			 WTERMSIG(status));
	else
		snprintf(reason, sizeof(reason), "worker process exited with status %d",
			 WEXITSTATUS(status));
	kill_orphans(p);
	if (!p->q) {
		struct sq_queue_opts qo = {.url = p->opts->redis_url, .prefix = p->opts->prefix,
					   .lease_ms = p->opts->lease_ms};
		p->q = sq_queue_open(&qo, &err);
	}
	if (p->q && (held = sq_queue_release_owner(p->q, c->id, reason, &err)) < 0)
		plog(p, "cannot hand back the job of %s: %s", c->id, err.msg);
	p->dead_by_crash += held == 2;
	plog(p, "%s (%s)%s", reason, c->id,
	     held == 2	 ? "; its job crashed on its last attempt and was dead-lettered"
	     : held == 1 ? "; its job was handed back"
			 : "");
	c->young_deaths = sq_mono_ms() - c->started_ms < 5000 ? c->young_deaths + 1 : 0;
	c->restart_at_ms = sq_mono_ms() + (c->young_deaths ? (1LL << (c->young_deaths < 5
								     ? c->young_deaths : 5)) * 1000
							 : 0);
	c->pid = 0;
}

static void forward_stop(struct pool *p)
{
	int level = p->opts->stop ? *p->opts->stop : 0;

	for (; p->forwarded < level; p->forwarded++)
		for (int i = 0; i < p->opts->nprocs; i++)
			if (p->kids[i].pid > 0)
				kill(p->kids[i].pid, SIGTERM);
}

static void reap(struct pool *p)
{
	int status, slot;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		slot = find_slot(p, pid);
		if (slot < 0)
			continue;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			p->kids[slot].pid = 0;
			p->kids[slot].finished = 1;
		} else {
			child_died(p, slot, status);
		}
	}
}

/* 1 while some child runs or still has to be (re)started. */
static int step(struct pool *p)
{
	int stop = p->opts->stop ? *p->opts->stop : 0, alive = 0;

	forward_stop(p);
	reap(p);
	for (int i = 0; i < p->opts->nprocs; i++) {
		struct child *c = &p->kids[i];

		/* in drain mode one drained child means the queue is drained for all */
		if (c->finished && !stop && !p->opts->drain) {
			plog(p, "worker %s exited unexpectedly; restarting", c->id);
			c->finished = 0;
		}
		if (!c->pid && !c->finished && !stop && sq_mono_ms() >= c->restart_at_ms)
			spawn(p, i);
		if (c->pid || (!c->finished && !stop))
			alive = 1;
	}
	return alive;
}

/* Says which of the GPUs given this host cannot see: a slot on one of them
 * never claims a job that needs VRAM, and would otherwise wait in silence. */
static void check_gpus(const struct pool *p)
{
	const struct sq_worker_opts *o = p->opts;
	struct sq_host_gpus g;
	char listed[256] = "";
	int seen;

	if (!o->ngpus)
		return;
	seen = sq_host_gpus_read(&g) == 0;
	for (size_t i = 0, used = 0; i < g.n && used < sizeof(listed); i++)
		used += (size_t)snprintf(listed + used, sizeof(listed) - used, "%s%s",
					 i ? ", " : "", g.index[i]);
	for (size_t i = 0; i < o->ngpus; i++) {
		if (!seen)
			plog(p,
			     "gpu %s: cannot see it: nvidia-smi is missing or failed; slots "
			     "on it will not claim jobs that need VRAM (min_vram_mib)",
			     o->gpus[i]);
		else if (!sq_host_gpus_has(&g, o->gpus[i]))
			plog(p,
			     "gpu %s: cannot see it: nvidia-smi lists %s; slots on it will "
			     "not claim jobs that need VRAM (min_vram_mib)",
			     o->gpus[i], g.n ? listed : "no GPU");
	}
	sq_host_gpus_release(&g);
}

int sq_worker_run_pool(const struct sq_worker_opts *opts, struct sq_err *err)
{
	struct pool p = {.opts = opts};
	struct timespec tick = {0, 100 * 1000000L};
	long long dead;

	if (opts->nprocs < 1)
		return sq_error(err, SQ_ERR_INVALID, "need at least one worker process");
	p.dead_by_kids = mmap(NULL, sizeof(*p.dead_by_kids), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p.dead_by_kids == MAP_FAILED)
		return sq_error_errno(err, errno, "cannot share memory with the workers");
	atomic_init(p.dead_by_kids, 0);
	p.kids = xcalloc((size_t)opts->nprocs, sizeof(*p.kids));
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	plog(&p, "starting %d worker process%s", opts->nprocs, opts->nprocs == 1 ? "" : "es");
	check_gpus(&p);
	while (step(&p))
		nanosleep(&tick, NULL);
	dead = atomic_load(p.dead_by_kids) + p.dead_by_crash;
	plog(&p, "all workers exited%s", dead ? "; some jobs were dead-lettered" : "");
	sq_queue_free(p.q);
	free(p.kids);
	munmap(p.dead_by_kids, sizeof(*p.dead_by_kids));
	return dead > INT_MAX ? INT_MAX : (int)dead;
}
