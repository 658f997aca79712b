/* scanq-repair - compare outputs on disk with Redis and re-inject what is missing.
 *
 * Thin over lib/ops/repair.h: options, load every directory (all must validate before
 * Redis is touched), plan, print the plan, and with --apply execute it. */
#include "ops/repair.h"
#include "base/options.h"
#include "media/media.h"
#include "base/xalloc.h"
#include "stage/store_sftp.h"

#include <stdio.h>
#include <stdlib.h>
#include "base/banned.h"

#define PROG "scanq-repair"

/* Redis may be restarting; wait a little, not the worker's full minute. */
#define REPAIR_RETRY_FOR_MS 10000

struct options {
	const char *redis_url;
	const char *prefix;
	int apply;
	int retry_failed;
	char **dirs;
	size_t ndirs;
	char *ssh_key, *ssh_known_hosts;
	struct sq_media_read_opts media; /* to identify sftp:// videos */
};

/* What the command line and the environment say (program state: the option
 * table below points into it). */
static struct options cli;

static const struct sq_option option_table[] = {
    {.type = SQ_OPTION_FLAG, .name = "apply", .value = &cli.apply, .help = "execute the plan"},
    {.type = SQ_OPTION_FLAG,
     .name = "retry-failed",
     .value = &cli.retry_failed,
     .help = "also re-inject failed (dead-lettered) jobs"},
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
    .usage = PROG " DIR... [--apply] [--retry-failed] [--redis URL] [--prefix P]",
    .about = "For every task of each task directory, compare the stage records on disk with\n"
	     "Redis and re-inject the task at its earliest missing stage; a stitch whose\n"
	     "inputs are being redone follows by fan-in. Jobs queued, leased or waiting for a\n"
	     "retry are never touched. Prints the plan; changes nothing without --apply.",
    .notes = "Exit status: 0 ok (also when repairs were planned), 1 failure, 2 usage.",
    .options = option_table,
};

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct sq_args *args)
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
	cli.dirs = args->v;
	cli.ndirs = args->n;
	cli.media.ssh.key_file = cli.ssh_key;
	cli.media.ssh.known_hosts = cli.ssh_known_hosts;
	cli.media.ssh.home = getenv("HOME"); /* ~/.ssh: config, keys, known_hosts */
	return -1;
}

/* Loads every directory, printing all diagnostics; 0 if all loaded. Outputs
 * are read where the output roots say: this host's filesystem, or a storage
 * host over SFTP (the SFTP store hands plain paths to the local one). */
static int load_all(const struct options *o, struct sq_repair_acq *acqs)
{
	/* the videos' SSH options reach the storage host of sftp:// roots too */
	struct sq_sftp_opts so = {.ssh = &o->media.ssh, .stall_ms = o->media.stall_ms};
	struct sq_store *store = sq_store_sftp_new(&(struct sq_store_sftp_opts){.sftp = &so});
	int rc = 0;

	for (size_t i = 0; i < o->ndirs; i++) {
		struct sq_diags diags = SQ_DIAGS_INIT;

		if (sq_repair_load(o->dirs[i], &o->media, store, &acqs[i], &diags) < 0)
			rc = -1;
		for (size_t k = 0; k < diags.n; k++) {
			char *line = sq_diag_format(&diags.v[k]);

			fprintf(stderr, PROG ": %s\n", line);
			free(line);
		}
		sq_diags_release(&diags);
	}
	sq_store_free(store);
	return rc;
}

static void print_plan(const struct sq_repair_plan *plan)
{
	char *line;

	for (size_t i = 0; i < plan->n; i++) {
		line = sq_repair_action_format(&plan->v[i]);
		printf("%s\n", line);
		free(line);
	}
	line = sq_repair_counts_format(&plan->counts);
	printf("%s\n", line);
	free(line);
}

static void print_results(const struct sq_repair_plan *plan)
{
	size_t reinjected = 0, marked = 0, unchanged = 0, refused = 0;

	for (size_t i = 0; i < plan->n; i++) {
		const struct sq_repair_action *act = &plan->v[i];
		char *line = sq_repair_result_format(act);

		if (line)
			printf("%s\n", line);
		free(line);
		unchanged += act->applied == 0;
		refused += act->applied == -2;
		reinjected += act->applied == 1 && act->verb == SQ_REPAIR_REINJECT;
		marked += act->applied == 1 && act->verb == SQ_REPAIR_MARK_DONE;
	}
	printf("applied: %zu re-injected, %zu marked done, %zu unchanged", reinjected, marked,
	       unchanged);
	if (refused)
		printf(", %zu refused by redis", refused);
	printf("\n");
}

/* One warning line per job repair could not read (and so skipped). */
static void warn_unreadable(const struct sq_repair_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		if (plan->v[i].why == SQ_REPAIR_UNREADABLE) {
			char *line = sq_repair_action_format(&plan->v[i]);

			fprintf(stderr, PROG ": warning: %s\n", line + 10); /* past the verb */
			free(line);
		}
}

static int repair(const struct options *o, struct sq_repair_acq *acqs)
{
	struct sq_queue_opts qopts = {o->redis_url, o->prefix, 0, 0, REPAIR_RETRY_FOR_MS};
	struct sq_repair_plan plan = SQ_REPAIR_PLAN_INIT;
	struct sq_err err = {SQ_OK, ""};
	struct sq_queue *q = sq_queue_open(&qopts, &err);
	int rc = 1;

	if (!q)
		goto fail;
	for (size_t i = 0; i < o->ndirs; i++) {
		if (sq_repair_read_queue(q, &acqs[i], &err) < 0)
			goto fail;
		sq_repair_plan(&acqs[i], o->retry_failed, &plan);
	}
	print_plan(&plan);
	warn_unreadable(&plan);
	if (!o->apply) {
		if (plan.counts.reinject || plan.counts.mark_done)
			printf("dry run: nothing changed; use --apply to repair\n");
	} else {
		int applied = sq_repair_apply(q, &plan, &err);

		print_results(&plan);
		if (applied < 0)
			goto fail;
	}
	rc = 0;
	goto out;
fail:
	fflush(stdout);
	fprintf(stderr, PROG ": %s\n", err.msg);
out:
	sq_repair_plan_release(&plan);
	if (q)
		sq_queue_free(q);
	return rc;
}

int main(int argc, char **argv)
{
	struct sq_repair_acq *acqs;
	struct sq_args args;
	int rc = parse_options(argc, argv, &args);

	if (rc >= 0)
		goto out;
	acqs = xcalloc(cli.ndirs, sizeof(*acqs));
	rc = load_all(&cli, acqs) < 0 ? 1 : repair(&cli, acqs);
	for (size_t i = 0; i < cli.ndirs; i++)
		sq_repair_acq_release(&acqs[i]);
	free(acqs);
out:
	sq_options_release(&prog, &args);
	return rc;
}
