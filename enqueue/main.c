/* scanq-enqueue - validate task directories, then push their tasks to Redis.
 *
 * Every directory is validated before anything is pushed: one bad file anywhere
 * means nothing is pushed at all. */
#include "base/fsutil.h"
#include "media/media.h"
#include "queue/queue.h"
#include "task/owner.h"
#include "task/taskfile.h"
#include "base/xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

static const char usage[] =
	"usage: scanq-enqueue [--check] [--replace] [--redis URL] [--prefix P] DIR...\n"
	"\n"
	"Validates every task directory (one acquisition each), then pushes its tasks;\n"
	"tasks no longer in the directory are removed from Redis (outputs stay).\n"
	"  --check        validate only, push nothing\n"
	"  --replace      take over an acquisition enqueued from another directory\n"
	"  --redis URL    redis://[user:pass@]host:port/db or unix:///path (env SCANQ_REDIS)\n"
	"  --prefix P     key prefix shared by one deployment (env SCANQ_PREFIX)\n"
	"  --ssh-key FILE private key for sftp:// videos (env SCANQ_SSH_KEY); default:\n"
	"                 ssh-agent and the keys in ~/.ssh\n"
	"  --ssh-known-hosts FILE\n"
	"                 host keys of sftp:// hosts (env SCANQ_SSH_KNOWN_HOSTS); default\n"
	"                 ~/.ssh/known_hosts; an unknown or changed key is refused\n"
	"  -h, --help     this text\n";

/* The SSH options travel in the environment (sq_setenv_path), where
 * lib/media/sftp.c reads them, in every process. */
static int probe(void *ctx, const char *video, struct sq_err *err)
{
	(void)ctx;
	return sq_media_probe(video, NULL, err);
}

static int identify(void *ctx, const char *video, struct sq_video_id *id, struct sq_err *err)
{
	(void)ctx;
	return sq_media_identify(video, id, err);
}

static void print_diags(const struct sq_diags *diags)
{
	for (size_t d = 0; d < diags->n; d++) {
		char *line = sq_diag_format(&diags->v[d]);

		fprintf(stderr, "scanq-enqueue: %s\n", line);
		free(line);
	}
}

/* Loads every directory, then checks them against each other (two task
 * directories must not share an output root or an acquisition name). */
static int load_all(char **dirs, int n, int check, struct sq_acq *acqs)
{
	struct sq_taskfile_opts to = {
	    .probe = probe, .create_output_root = !check, .identify = identify};
	struct sq_diags diags = SQ_DIAGS_INIT;
	int bad = 0;

	for (int i = 0; i < n; i++) {
		sq_acq_init(&acqs[i]);
		if (sq_taskfile_load_dir(dirs[i], &to, &acqs[i], &diags) < 0)
			bad = 1;
		print_diags(&diags);
		sq_diags_release(&diags);
	}
	if (sq_acq_check_together(acqs, (size_t)n, &diags) < 0)
		bad = 1;
	print_diags(&diags);
	sq_diags_release(&diags);
	return bad ? -1 : 0;
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* Each output root becomes its acquisition's (owner.h) before anything of it
 * is pushed; one that another acquisition took meanwhile stops everything. */
static int claim_roots(const struct sq_acq *acqs, int n)
{
	struct sq_err err;

	for (int i = 0; i < n; i++) {
		if (sq_owner_claim(acqs[i].output_root, acqs[i].name, acqs[i].task_dir, &err) < 0) {
			fprintf(stderr, "scanq-enqueue: %s: %s\n", acqs[i].dir, err.msg);
			return -1;
		}
	}
	return 0;
}

static void report(const struct sq_acq *a, const struct sq_enqueue_report *rep)
{
	static const char *const words[] = {"added", "unchanged", "updated"};
	const enum sq_enqueue_outcome *out = rep->outcomes;
	size_t count[3] = {0, 0, 0};

	if (rep->replaced_dir)
		printf("replacing acquisition '%s', enqueued from '%s', by the tasks of '%s' "
		       "(its tasks not there are removed from redis)\n",
		       a->name, rep->replaced_dir, a->dir);
	for (size_t i = 0; i < a->ntasks; i++) {
		count[out[i]]++;
		printf("%-9s %s/%s (version %s)\n", words[out[i]], a->name, a->tasks[i].name,
		       a->tasks[i].version);
	}
	for (size_t i = 0; i < rep->nremoved; i++)
		printf("removed   %s/%s (not in the directory any more; its outputs stay in '%s')\n",
		       a->name, rep->removed[i].jid, rep->removed[i].outdir);
	if (rep->repushed || rep->reregistered)
		printf("%s: redis lost part of the push (restarted?): %zu task%s and %s pushed "
		       "again, and checked\n",
		       a->name, rep->repushed, plural(rep->repushed),
		       rep->reregistered ? "the stitch specs" : "nothing else");
	printf("%s: %zu added, %zu unchanged, %zu updated, %zu removed; %zu task%s in %zu group%s\n",
	       a->name, count[0], count[1], count[2], rep->nremoved, a->ntasks, plural(a->ntasks),
	       a->ngroups, plural(a->ngroups));
}

/* Pushes one loaded directory: the whole acquisition (tasks no longer in it
 * are removed), owned by the directory's canonical path (task_dir), so that
 * two spellings of one directory are one owner. */
static int push_one(struct sq_queue *q, const struct sq_acq *a, int replace, struct sq_err *err)
{
	struct sq_enqueue_opts o = {a->task_dir ? a->task_dir : a->dir, replace, 1};
	struct sq_enqueue_report rep;
	enum sq_enqueue_outcome *out = xcalloc(a->ntasks + 1, sizeof(*out));
	int rc;

	sq_enqueue_report_init(&rep, out);
	rc = sq_queue_enqueue_dir(q, a->tasks, a->ntasks, &a->stitch, &o, &rep, err);
	if (rc == 0)
		report(a, &rep);
	else if (rep.owned_by)
		fprintf(stderr, "scanq-enqueue: %s: %s (--replace replaces them)\n", a->dir,
			err->msg);
	else
		fprintf(stderr, "scanq-enqueue: %s: %s\n", a->dir, err->msg);
	sq_enqueue_report_release(&rep);
	free(out);
	return rc;
}

static int push_all(struct sq_acq *acqs, int n, const char *url, const char *prefix, int replace)
{
	/* an operator at a prompt wants an answer, not a minute of retries */
	struct sq_queue_opts qo = {.url = url, .prefix = prefix, .retry_for_ms = 5000};
	struct sq_err err;
	struct sq_queue *q = sq_queue_open(&qo, &err);
	int rc = 0;

	if (!q) {
		fprintf(stderr, "scanq-enqueue: %s\n", err.msg);
		return -1;
	}
	for (int i = 0; i < n && rc == 0; i++)
		if (push_one(q, &acqs[i], replace, &err) < 0)
			rc = -1;
	sq_queue_free(q);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"check", no_argument, NULL, 'c'},   {"redis", required_argument, NULL, 'r'},
		{"prefix", required_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'},
		{"ssh-key", required_argument, NULL, 'k'},
		{"ssh-known-hosts", required_argument, NULL, 'K'},
		{"replace", no_argument, NULL, 'R'},
		{NULL, 0, NULL, 0},
	};
	const char *url = getenv("SCANQ_REDIS"), *prefix = getenv("SCANQ_PREFIX");
	struct sq_acq *acqs;
	int check = 0, replace = 0, opt, ndirs, rc = 0;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': check = 1; break;
		case 'r': url = optarg; break;
		case 'p': prefix = optarg; break;
		case 'k': sq_setenv_path("SCANQ_SSH_KEY", optarg); break;
		case 'K': sq_setenv_path("SCANQ_SSH_KNOWN_HOSTS", optarg); break;
		case 'R': replace = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	ndirs = argc - optind;
	if (ndirs < 1) {
		fprintf(stderr, "scanq-enqueue: no task directory given\n%s", usage);
		return 2;
	}
	acqs = xcalloc((size_t)ndirs, sizeof(*acqs));
	if (load_all(argv + optind, ndirs, check, acqs) < 0) {
		fprintf(stderr, "scanq-enqueue: nothing pushed\n");
		rc = 1;
	} else if (check) {
		for (int i = 0; i < ndirs; i++)
			printf("%s: acquisition '%s' ok: %zu task%s in %zu group%s\n", acqs[i].dir,
			       acqs[i].name, acqs[i].ntasks, plural(acqs[i].ntasks),
			       acqs[i].ngroups, plural(acqs[i].ngroups));
	} else if (claim_roots(acqs, ndirs) < 0) {
		fprintf(stderr, "scanq-enqueue: nothing pushed\n");
		rc = 1;
	} else if (push_all(acqs, ndirs, url, prefix, replace) < 0) {
		rc = 1;
	}
	for (int i = 0; i < ndirs; i++)
		sq_acq_release(&acqs[i]);
	free(acqs);
	return rc;
}
