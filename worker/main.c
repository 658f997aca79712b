/* scanq-worker - run worker processes for some stages, or one task locally. */
#include "base/fsutil.h"
#include "task/task.h"
#include "worker/worker.h"
#include "base/xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

static const char usage[] =
	"usage: scanq-worker [--stage S[,S...]] [--acq A...] [-n N] [--gpus LIST] [--drain]\n"
	"       scanq-worker --local TASK.yaml [--stage S]\n"
	"\n"
	"  --stage S      extract, reconstruct, stitch (comma list; default all)\n"
	"  --acq A        serve only these acquisitions (repeat or comma list; default all)\n"
	"  -n N           worker processes on this host (default 1)\n"
	"  --gpus LIST    GPU ids assigned round-robin to the processes (e.g. 0,1)\n"
	"  --drain        exit when nothing is queued or running for these stages\n"
	"  --local FILE   run the stages of one task file here, without Redis\n"
	"  --hwaccel      try hardware video decoding (falls back to software)\n"
	"  --lease D      lease length (default 15s); heartbeats extend it\n"
	"  --grace D      on SIGTERM/SIGINT, how long a running job may finish (default 30s);\n"
	"                 a second signal hands it back at once\n"
	"  --redis URL    redis://[user:pass@]host:port/db or unix:///path (env SCANQ_REDIS)\n"
	"  --prefix P     key prefix (env SCANQ_PREFIX)\n"
	"  --ssh-key FILE private key for sftp:// videos (env SCANQ_SSH_KEY); default:\n"
	"                 ssh-agent and the keys in ~/.ssh\n"
	"  --ssh-known-hosts FILE\n"
	"                 host keys of sftp:// hosts (env SCANQ_SSH_KNOWN_HOSTS); default\n"
	"                 ~/.ssh/known_hosts; an unknown or changed key is refused\n"
	"  -h, --help     this text\n";

static volatile sig_atomic_t stop_level;

/* The SSH options travel in the environment (sq_setenv_path), where
 * lib/media/sftp.c reads them, in every process. */
static void on_signal(int sig)
{
	(void)sig;
	if (stop_level < 2)
		stop_level++;
}

static void log_line(void *ctx, const char *line)
{
	size_t len = strlen(line);
	char *buf = xmalloc(len + 2);

	(void)ctx;
	memcpy(buf, line, len);
	buf[len] = '\n';
	/* one write per line so lines of several processes never interleave */
	if (write(2, buf, len + 1) < 0) {
		/* nowhere left to report it */
	}
	free(buf);
}

/* Splits a comma list into *v (appending); returns -1 on an empty item. */
static int split_list(const char *s, char ***v, size_t *n)
{
	const char *p = s;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == 0)
			return -1;
		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = xstrndup(p, len);
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int parse_stages(const char *s, struct sq_worker_opts *o)
{
	char **names = NULL;
	size_t n = 0;
	int rc = split_list(s, &names, &n);

	o->nstages = 0;
	for (size_t i = 0; i < n; i++) {
		int st = sq_stage_parse(names[i]);

		if (st < 0 || o->nstages >= SQ_STAGE_COUNT)
			rc = -1;
		else
			o->stages[o->nstages++] = (enum sq_stage)st;
		free(names[i]);
	}
	free(names);
	return rc;
}

static int parse_duration(const char *what, const char *s, long long *ms)
{
	if (sq_parse_duration_ms(s, ms) == 0)
		return 0;
	fprintf(stderr, "scanq-worker: invalid %s '%s' (expected e.g. 30s, 5m)\n", what, s);
	return -1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* a file-size limit must fail the write (EFBIG -> task fails cleanly), not
	 * kill the worker */
	signal(SIGXFSZ, SIG_IGN);
}

struct cli {
	struct sq_worker_opts o;
	char **acqs, **gpus;
	size_t nacqs, ngpus;
	const char *local;
	int stage_given;
};

/* Parses argv into c; returns 0, or the exit code for usage errors / --help. */
static int parse_args(int argc, char **argv, struct cli *c)
{
	static const struct option longopts[] = {
		{"stage", required_argument, NULL, 's'}, {"acq", required_argument, NULL, 'a'},
		{"gpus", required_argument, NULL, 'g'},  {"drain", no_argument, NULL, 'd'},
		{"local", required_argument, NULL, 'l'}, {"hwaccel", no_argument, NULL, 'H'},
		{"lease", required_argument, NULL, 'L'}, {"grace", required_argument, NULL, 'G'},
		{"redis", required_argument, NULL, 'r'}, {"prefix", required_argument, NULL, 'p'},
		{"ssh-key", required_argument, NULL, 'k'},
		{"ssh-known-hosts", required_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},	 {NULL, 0, NULL, 0},
	};
	char *end;
	int opt, bad = 0;

	while (!bad && (opt = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': bad = parse_stages(optarg, &c->o); c->stage_given = 1; break;
		case 'a': bad = split_list(optarg, &c->acqs, &c->nacqs); break;
		case 'g': bad = split_list(optarg, &c->gpus, &c->ngpus); break;
		case 'd': c->o.drain = 1; break;
		case 'l': c->local = optarg; break;
		case 'H': c->o.hwaccel = 1; break;
		case 'L': bad = parse_duration("lease", optarg, &c->o.lease_ms); break;
		case 'G': bad = parse_duration("grace", optarg, &c->o.grace_ms); break;
		case 'r': c->o.redis_url = optarg; break;
		case 'p': c->o.prefix = optarg; break;
		case 'k': sq_setenv_path("SCANQ_SSH_KEY", optarg); break;
		case 'K': sq_setenv_path("SCANQ_SSH_KNOWN_HOSTS", optarg); break;
		case 'n':
			c->o.nprocs = (int)strtol(optarg, &end, 10);
			bad = *end || c->o.nprocs < 1 || c->o.nprocs > 1024;
			break;
		case 'h': fputs(usage, stdout); return 1;
		default: bad = 1;
		}
	}
	if (bad || optind != argc || (c->local && c->stage_given && c->o.nstages != 1)) {
		fprintf(stderr, "scanq-worker: invalid arguments\n%s", usage);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c = {.o = {.nprocs = 1, .grace_ms = 30000, .stop = &stop_level,
			      .log = log_line}};
	struct sq_err err;
	int rc;

	c.o.redis_url = getenv("SCANQ_REDIS");
	c.o.prefix = getenv("SCANQ_PREFIX");
	for (int s = 0; s < SQ_STAGE_COUNT; s++)
		c.o.stages[c.o.nstages++] = (enum sq_stage)s;
	rc = parse_args(argc, argv, &c);
	if (rc)
		return rc == 1 ? 0 : rc;
	c.o.acqs = (const char *const *)c.acqs;
	c.o.nacqs = c.nacqs;
	c.o.gpus = (const char *const *)c.gpus;
	c.o.ngpus = c.ngpus;
	install_signals();
	if (c.local)
		rc = sq_worker_run_local(c.local, c.stage_given ? (int)c.o.stages[0] : -1, &c.o,
					 &err);
	else
		rc = sq_worker_run_pool(&c.o, &err);
	if (rc < 0)
		fprintf(stderr, "scanq-worker: %s\n", err.msg);
	for (size_t i = 0; i < c.nacqs; i++)
		free(c.acqs[i]);
	for (size_t i = 0; i < c.ngpus; i++)
		free(c.gpus[i]);
	free(c.acqs);
	free(c.gpus);
	return rc < 0 ? 1 : 0;
}
