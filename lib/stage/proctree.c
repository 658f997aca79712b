/* proctree.c - see proctree.h.
 *
 * The tree is read afresh from /proc each round (parent pid and start time of
 * every process): it changes while it is being killed, as processes die, are
 * re-parented to us and fork. Killing is done in rounds until a round finds
 * nothing: a child forked between two rounds is caught by the next one, and
 * the parents of zombies are killed, so the zombies come to us to be reaped. */
#include "stage/proctree.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/banned.h"

#define ROUND_MS 5     /* pause between two kill rounds */
#define MAX_DEPTH 4096 /* a longer chain of parents is a loop in a torn read */

struct pinfo {
	pid_t pid, ppid;
	unsigned long long start; /* clock ticks after boot */
};

struct ptable {
	struct pinfo *v; /* sorted by pid */
	size_t n;
};

/* The runs in progress in this process, and the subreaper flag they hold. */
static struct {
	pthread_mutex_t mu;
	int depth;	   /* runs entered and not yet left */
	int was_subreaper; /* the process was one before the first run */
	pid_t *leaders;	   /* leaders of the runs in progress */
	size_t n, alloc;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- the process table ---- */

static int read_stat(pid_t pid, struct pinfo *p)
{
	char path[64], buf[1024], *rp;
	int fd, ppid;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	rp = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	/* fields 3 (state) and 4 (ppid), then 5..21 skipped, then 22 (starttime) */
	if (!rp || sscanf(rp + 2,
			  "%*c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			  "%*s %*s %llu",
			  &ppid, &p->start) != 2)
		return -1;
	p->pid = pid;
	p->ppid = (pid_t)ppid;
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct pinfo *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void ptable_read(struct ptable *t)
{
	DIR *d = opendir("/proc");
	size_t alloc = 0;
	struct dirent *e;

	t->v = NULL;
	t->n = 0;
	while (d && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		struct pinfo p;

		if (*end || pid <= 0 || read_stat((pid_t)pid, &p) < 0)
			continue;
		xgrow((void **)&t->v, &alloc, t->n + 1, sizeof(*t->v));
		t->v[t->n++] = p;
	}
	if (d)
		closedir(d);
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), by_pid);
}

static const struct pinfo *ptable_find(const struct ptable *t, pid_t pid)
{
	struct pinfo key = {.pid = pid};

	return t->n ? bsearch(&key, t->v, t->n, sizeof(*t->v), by_pid) : NULL;
}

/* The child of self whose subtree holds p (p itself when p is a child), or 0
 * when p is not below self. *via is set when `through` is on the chain. */
static pid_t top_below(const struct ptable *t, const struct pinfo *p, pid_t self, pid_t through,
		       int *via)
{
	*via = 0;
	for (int depth = 0; p && depth < MAX_DEPTH; depth++) {
		if (through && p->pid == through)
			*via = 1;
		if (p->ppid == self)
			return p->pid;
		if (p->ppid <= 1)
			return 0;
		p = ptable_find(t, p->ppid);
	}
	return 0;
}

/* ---- membership ---- */

struct run_tree {
	pid_t self;
	const struct pinfo *leader; /* in the table being looked at */
};

struct strays {
	pid_t self;
	const pid_t *keep;
	size_t nkeep;
};

static int is_active_leader(pid_t pid)
{
	int found = 0;

	pthread_mutex_lock(&g.mu);
	for (size_t i = 0; i < g.n && !found; i++)
		found = g.leaders[i] == pid;
	pthread_mutex_unlock(&g.mu);
	return found;
}

static int in_run(const struct ptable *t, const struct pinfo *p, const void *ctx)
{
	const struct run_tree *r = ctx;
	const struct pinfo *top;
	int via;
	pid_t top_pid;

	if (!r->leader || p->pid == r->leader->pid)
		return 0;
	top_pid = top_below(t, p, r->self, r->leader->pid, &via);
	if (!top_pid)
		return 0;
	if (via)
		return 1;
	/* adopted by us during the run: a detached descendant of the backend */
	top = ptable_find(t, top_pid);
	return top && top->start >= r->leader->start && !is_active_leader(top_pid);
}

static int is_stray(const struct ptable *t, const struct pinfo *p, const void *ctx)
{
	const struct strays *s = ctx;
	int via;
	pid_t top = top_below(t, p, s->self, 0, &via);

	for (size_t i = 0; top && i < s->nkeep; i++)
		if (s->keep[i] == top)
			return 0;
	return top != 0;
}

typedef int (*member_fn)(const struct ptable *t, const struct pinfo *p, const void *ctx);

/* One round: sig to every member, then reap the members that are our children
 * and already dead. Returns how many members are left. For a run, ctx's
 * leader is looked up in this round's table. */
static int round_of(member_fn in, void *ctx, pid_t leader, int sig, int reap)
{
	struct ptable t;
	pid_t self = getpid();
	int left = 0;

	ptable_read(&t);
	if (leader)
		((struct run_tree *)ctx)->leader = ptable_find(&t, leader);
	for (size_t i = 0; i < t.n; i++) {
		const struct pinfo *p = &t.v[i];

		if (!in(&t, p, ctx))
			continue;
		kill(p->pid, sig);
		if (reap && p->ppid == self && waitpid(p->pid, NULL, WNOHANG) == p->pid)
			continue;
		left++;
	}
	free(t.v);
	return left;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int kill_rounds(member_fn in, void *ctx, pid_t leader, long long timeout_ms)
{
	long long until = now_ms() + timeout_ms;
	struct timespec pause = {0, ROUND_MS * 1000000L};
	int left;

	while ((left = round_of(in, ctx, leader, SIGKILL, 1)) > 0 && now_ms() < until)
		nanosleep(&pause, NULL);
	return left;
}

/* ---- the calls ---- */

void sq_proctree_enter(void)
{
	pthread_mutex_lock(&g.mu);
	if (g.depth++ == 0) {
		int was = 0;

		if (prctl(PR_GET_CHILD_SUBREAPER, &was) < 0)
			was = 0;
		g.was_subreaper = was;
		if (!was)
			prctl(PR_SET_CHILD_SUBREAPER, 1);
	}
	pthread_mutex_unlock(&g.mu);
}

void sq_proctree_started(pid_t leader)
{
	pthread_mutex_lock(&g.mu);
	xgrow((void **)&g.leaders, &g.alloc, g.n + 1, sizeof(*g.leaders));
	g.leaders[g.n++] = leader;
	pthread_mutex_unlock(&g.mu);
}

void sq_proctree_leave(pid_t leader)
{
	pthread_mutex_lock(&g.mu);
	for (size_t i = 0; leader && i < g.n; i++) {
		if (g.leaders[i] == leader) {
			g.leaders[i] = g.leaders[--g.n];
			break;
		}
	}
	if (g.depth > 0 && --g.depth == 0 && !g.was_subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 0);
	pthread_mutex_unlock(&g.mu);
}

int sq_proctree_signal(pid_t leader, int sig)
{
	struct run_tree r = {.self = getpid()};

	return round_of(in_run, &r, leader, sig, 0);
}

int sq_proctree_kill(pid_t leader, long long timeout_ms)
{
	struct run_tree r = {.self = getpid()};

	return kill_rounds(in_run, &r, leader, timeout_ms);
}

int sq_proctree_kill_strays(const pid_t *keep, size_t nkeep, long long timeout_ms)
{
	struct strays s = {.self = getpid(), .keep = keep, .nkeep = nkeep};

	return kill_rounds(is_stray, &s, 0, timeout_ms);
}
