/* scanq-enqueue - validate task directories, then push their tasks to Redis.
 *
 * Every directory is validated before anything is pushed: one bad file anywhere
 * means nothing is pushed at all. */
#include "base/options.h"
#include "media/media.h"
#include "queue/queue.h"
#include "stage/store_sftp.h"
#include "task/owner.h"
#include "task/taskfile.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

#define PROG "scanq-enqueue"

/* Everything the command line and the environment say (program state: the
 * option table below points into it). */
static struct cli {
	int check, replace;
	const char *redis_url, *prefix;
	char *ssh_key, *ssh_known_hosts;
	struct sq_media_read_opts media;
	struct sq_sftp_opts sftp; /* output roots on a storage host: the same SSH options */
	struct sq_store *store;	  /* sftp:// output roots (plain paths go local) */
} cli;

static const struct sq_option options[] = {
    {.type = SQ_OPTION_FLAG,
     .name = "check",
     .value = &cli.check,
     .help = "validate only, push nothing"},
    {.type = SQ_OPTION_FLAG,
     .name = "replace",
     .value = &cli.replace,
     .help = "take over an acquisition enqueued from another directory"},
    SQ_OPTION_REDIS(&cli.redis_url, SQ_QUEUE_DEFAULT_URL),
    SQ_OPTION_PREFIX(&cli.prefix),
    SQ_OPTION_SSH_KEY(&cli.ssh_key),
    SQ_OPTION_SSH_KNOWN_HOSTS(&cli.ssh_known_hosts),
    SQ_OPTION_STALL_TIMEOUT(&cli.media.stall_ms),
    SQ_OPTION_HELP_ENTRY,
    {.type = SQ_OPTION_END},
};

static const struct sq_program prog = {
    .name = PROG,
    .usage = PROG " [--check] [--replace] [--redis URL] [--prefix P] DIR...",
    .about = "Validates every task directory (one acquisition each), then pushes its tasks;\n"
	     "one bad file anywhere means nothing is pushed. Tasks no longer in the\n"
	     "directory are removed from Redis (outputs stay).",
    .notes = "Exit status: 0 ok, 1 failure (nothing pushed when validation fails), 2 usage.",
    .options = options,
};

/* sftp:// videos are probed with the SSH options of the command line. */
static int probe(void *ctx, const char *video, struct sq_err *err)
{
	const struct sq_media_read_opts *read = ctx;

	return sq_media_probe(video, read, NULL, err);
}

static int identify(void *ctx, const char *video, struct sq_video_id *id, struct sq_err *err)
{
	const struct sq_media_read_opts *read = ctx;

	return sq_media_identify(video, read, id, err);
}

static void print_diags(const struct sq_diags *diags)
{
	for (size_t d = 0; d < diags->n; d++) {
		char *line = sq_diag_format(&diags->v[d]);

		fprintf(stderr, "scanq-enqueue: %s\n", line);
		free(line);
	}
}

/* An output root on a storage host: its owner checked, then made (not with
 * --check) and written to, as the workers will, through the SFTP store. */
static int remote_root(void *ctx, const char *root, const char *acquisition, int create,
		       struct sq_err *err)
{
	(void)ctx;
	/* another's root is not even probed, as for a local one */
	if (sq_store_sftp_owner_check(cli.store, root, acquisition, err) < 0)
		return -1;
	if (sq_store_check_root(cli.store, root,
				create ? SQ_STORE_ROOT_CREATE : SQ_STORE_ROOT_CAN_CREATE, err) == 0)
		return 0;
	sq_err_prefix(err, "cannot use output root '%s'", root);
	return -1;
}

/* Loads every directory, then checks them against each other (two task
 * directories must not share an output root or an acquisition name). */
static int load_all(char **dirs, int n, int check, struct sq_acq *acqs)
{
	struct sq_taskfile_opts to = {.probe = probe,
				      .probe_ctx = &cli.media,
				      .create_output_root = !check,
				      .identify = identify,
				      .remote_root = remote_root};
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
		const struct sq_acq *a = &acqs[i];
		int rc = sq_store_path_is_remote(a->output_root)
			     ? sq_store_sftp_owner_claim(cli.store, a->output_root, a->name,
							 a->task_dir, &err)
			     : sq_owner_claim(a->output_root, a->name, a->task_dir, &err);

		if (rc < 0) {
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

/* Returns -1 to go on, else the exit status. */
static int parse_cli(int argc, char **argv, struct sq_args *args)
{
	struct sq_err err;
	int rc = sq_options_parse(&prog, argc, argv, getenv, args, &err);

	if (rc == 0 && args->n == 0)
		rc = sq_error(&err, SQ_ERR_INVALID, "no task directory given");
	if (rc == 1) {
		char *help = sq_options_help(&prog);

		fputs(help, stdout);
		free(help);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\ntry '" PROG " --help'\n", err.msg);
		return 2;
	}
	cli.media.ssh.key_file = cli.ssh_key;
	cli.media.ssh.known_hosts = cli.ssh_known_hosts;
	cli.media.ssh.home = getenv("HOME"); /* ~/.ssh: config, keys, known_hosts */
	cli.sftp.ssh = &cli.media.ssh;
	cli.sftp.stall_ms = cli.media.stall_ms;
	return -1;
}

int main(int argc, char **argv)
{
	struct sq_args args;
	struct sq_acq *acqs;
	int ndirs, rc = parse_cli(argc, argv, &args), check = cli.check, replace = cli.replace;
	const char *url = cli.redis_url, *prefix = cli.prefix;

	if (rc >= 0)
		goto out;
	rc = 0;
	ndirs = (int)args.n;
	acqs = xcalloc((size_t)ndirs, sizeof(*acqs));
	cli.store = sq_store_sftp_new(&(struct sq_store_sftp_opts){.sftp = &cli.sftp});
	if (load_all(args.v, ndirs, check, acqs) < 0) {
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
	sq_store_free(cli.store);
out:
	sq_options_release(&prog, &args);
	return rc;
}
