/* scanq-worker - run worker processes for some stages, or one task locally.
 *
 * Options (flags and SCANQ_* variables, read once here) -> sq_worker_opts ->
 * lib/worker -> exit status: 0 ok, 1 failure (or, with --drain, a job of the
 * pool dead-lettered), 2 usage. */
#include "base/fsutil.h"
#include "base/options.h"
#include "base/parallel.h"
#include "media/media.h"
#include "queue/queue.h"
#include "task/task.h"
#include "worker/worker.h"
#include "base/xalloc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

#define PROG "scanq-worker"

static volatile sig_atomic_t stop_level;

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

/* Everything the command line and the environment say (program state: the
 * option table below points into it). */
static struct cli {
	struct sq_option_list stages, acqs, gpus;
	long long nprocs, lease_ms, grace_ms, threads;
	int drain, hwaccel;
	const char *local, *redis_url, *prefix, *scratch_max;
	char *ssh_key, *ssh_known_hosts, *scratch;
	struct sq_media_read_opts media;
} cli = {.nprocs = 1, .grace_ms = 30000};

static const char *const stage_names[] = {"extract", "reconstruct", "stitch", NULL};

static int size_ok(const char *s)
{
	long long bytes;

	return sq_parse_size_bytes(s, &bytes) == 0 && bytes > 0;
}

static const struct sq_option options[] = {
    {.type = SQ_OPTION_LIST,
     .name = "stage",
     .env = "SCANQ_STAGES",
     .value = &cli.stages,
     .arg = "S[,S...]",
     .choices = stage_names,
     .help = "extract, reconstruct, stitch (default all)"},
    {.type = SQ_OPTION_LIST,
     .name = "acq",
     .env = "SCANQ_ACQS",
     .value = &cli.acqs,
     .arg = "A",
     .check = sq_name_valid,
     .expect = "an acquisition name, [A-Za-z0-9._-]{1,64}",
     .help = "serve only these acquisitions (repeat or comma list;\ndefault all)"},
    {.type = SQ_OPTION_INT,
     .short_name = 'n',
     .env = "SCANQ_PROCS",
     .value = &cli.nprocs,
     .arg = "N",
     .min = 1,
     .max = 1024,
     .help = "worker processes on this host (default 1)"},
    {.type = SQ_OPTION_LIST,
     .name = "gpus",
     .env = "SCANQ_GPUS",
     .value = &cli.gpus,
     .arg = "LIST",
     .help = "GPUs (index or UUID, as nvidia-smi lists them) assigned\n"
	     "round-robin to the processes, e.g. 0,1"},
    {.type = SQ_OPTION_FLAG,
     .name = "drain",
     .value = &cli.drain,
     .help = "exit when nothing is queued or running for these stages;\n"
	     "exit 1 if a job this pool ran was dead-lettered"},
    {.type = SQ_OPTION_STRING,
     .name = "local",
     .value = &cli.local,
     .arg = "FILE",
     .help = "run the stages of one task file here, without Redis"},
    {.type = SQ_OPTION_FLAG,
     .name = "hwaccel",
     .value = &cli.hwaccel,
     .help = "try hardware video decoding (falls back to software)"},
    {.type = SQ_OPTION_PATH,
     .name = "scratch",
     .env = "SCANQ_SCRATCH",
     .value = &cli.scratch,
     .arg = "DIR",
     .help = "local folder where stages of sftp:// output roots work and\n"
	     "keep copies (default " SQ_WORKER_SCRATCH_DEFAULT ")"},
    {.type = SQ_OPTION_STRING,
     .name = "scratch-max",
     .env = "SCANQ_SCRATCH_MAX",
     .value = &cli.scratch_max,
     .arg = "SIZE",
     .check = size_ok,
     .expect = "a size like 50G or 512M",
     .help = "cap of the scratch folder (default 10G): older copies are\n"
	     "evicted to stay under it"},
    {.type = SQ_OPTION_DURATION,
     .name = "lease",
     .value = &cli.lease_ms,
     .arg = "D",
     .min = 1000,
     .max = 86400000,
     .help = "lease length, 1s..1d (default 15s); heartbeats extend it"},
    {.type = SQ_OPTION_DURATION,
     .name = "grace",
     .env = "SCANQ_GRACE",
     .value = &cli.grace_ms,
     .arg = "D",
     .min = 0,
     .max = 86400000,
     .help = "on SIGTERM/SIGINT, how long a running job may finish\n"
	     "(default 30s); a second signal hands it back at once"},
    {.type = SQ_OPTION_INT,
     .name = "threads",
     .env = "SCANQ_THREADS",
     .value = &cli.threads,
     .arg = "N",
     .min = 1,
     .max = 1024,
     .help = "threads of the built-in stitch per process (default: the\n"
	     "CPUs it may use, at most 16)"},
    SQ_OPTION_STALL_TIMEOUT(&cli.media.stall_ms),
    SQ_OPTION_REDIS(&cli.redis_url, SQ_QUEUE_DEFAULT_URL),
    SQ_OPTION_PREFIX(&cli.prefix),
    SQ_OPTION_SSH_KEY(&cli.ssh_key),
    SQ_OPTION_SSH_KNOWN_HOSTS(&cli.ssh_known_hosts),
    SQ_OPTION_HELP_ENTRY,
    {.type = SQ_OPTION_END},
};

static const struct sq_program prog = {
    .name = PROG,
    .usage = PROG " [--stage S[,S...]] [--acq A...] [-n N] [--gpus LIST] [--scratch DIR]\n"
		  "       [--scratch-max SIZE] [--drain]\n" PROG " --local TASK.yaml [--stage S]",
    .about = "Runs N worker processes that claim jobs of these stages from Redis, or\n"
	     "the stages of one task file here (--local).",
    .notes = "Exit status: 0 ok (also after SIGTERM/SIGINT), 1 failure (with --drain:\n"
	     "also when a job this pool ran was dead-lettered), 2 usage.",
    .options = options,
};

/* The checks that span options; returns 0 or -1 with err. */
static int check_cli(const struct cli *c, struct sq_err *err)
{
	if (c->local && c->stages.n > 1)
		return sq_error(err, SQ_ERR_INVALID,
				"--local runs one stage or all: give --stage one stage, not %zu",
				c->stages.n);
	return 0;
}

/* The worker's options from the command line's. */
static void fill_opts(struct cli *c, struct sq_worker_opts *o)
{
	o->nstages = 0;
	for (size_t i = 0; i < c->stages.n; i++) {
		enum sq_stage st = (enum sq_stage)sq_stage_parse(c->stages.v[i]);
		size_t k = 0;

		while (k < o->nstages && o->stages[k] != st)
			k++;
		if (k == o->nstages && o->nstages < SQ_STAGE_COUNT)
			o->stages[o->nstages++] = st;
	}
	for (int s = 0; c->stages.n == 0 && s < SQ_STAGE_COUNT; s++)
		o->stages[o->nstages++] = (enum sq_stage)s;
	o->acqs = (const char *const *)c->acqs.v;
	o->nacqs = c->acqs.n;
	o->gpus = (const char *const *)c->gpus.v;
	o->ngpus = c->gpus.n;
	o->nprocs = (int)c->nprocs;
	o->drain = c->drain;
	o->hwaccel = c->hwaccel;
	o->lease_ms = c->lease_ms;
	o->grace_ms = c->grace_ms;
	o->redis_url = c->redis_url;
	o->prefix = c->prefix;
	o->scratch_dir = c->scratch;
	if (c->scratch_max) /* checked by the parser */
		sq_parse_size_bytes(c->scratch_max, &o->scratch_max_bytes);
	c->media.ssh.key_file = c->ssh_key;
	c->media.ssh.known_hosts = c->ssh_known_hosts;
	c->media.ssh.home = getenv("HOME"); /* ~/.ssh: config, keys, known_hosts */
	o->media = &c->media;
	o->stop = &stop_level;
	o->hooks.log = log_line;
}

static int run(struct cli *c)
{
	struct sq_worker_opts o = {0};
	struct sq_err err;
	int rc;

	fill_opts(c, &o);
	if (c->threads)
		sq_par_set_max_threads((int)c->threads);
	install_signals();
	if (c->local)
		rc = sq_worker_run_local(c->local, c->stages.n ? (int)o.stages[0] : -1, &o, &err);
	else
		rc = sq_worker_run_pool(&o, &err);
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return 1;
	}
	if (!c->local && c->drain && rc > 0) {
		fprintf(stderr, PROG ": %d job%s dead-lettered (scanq-status shows why)\n", rc,
			rc == 1 ? " was" : "s were");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sq_args args;
	struct sq_err err;
	int rc = sq_options_parse(&prog, argc, argv, getenv, &args, &err);

	if (rc == 0 && args.n)
		rc = sq_error(&err, SQ_ERR_INVALID, "unexpected argument '%s'", args.v[0]);
	if (rc == 0)
		rc = check_cli(&cli, &err);
	if (rc == 1) {
		char *help = sq_options_help(&prog);

		fputs(help, stdout);
		free(help);
		rc = 0;
	} else if (rc < 0) {
		fprintf(stderr, PROG ": %s\ntry '" PROG " --help'\n", err.msg);
		rc = 2;
	} else {
		rc = run(&cli);
	}
	sq_options_release(&prog, &args);
	return rc;
}
