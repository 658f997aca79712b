/* scanq-ctl - operator actions: show, cancel, pause, resume, retry, clear,
 * forget, workers.
 *
 * Thin over lib/ops/ctl.h: options -> one request -> sq_ctl_run -> stdout. Every
 * verb is one atomic, idempotent script in Redis, so running it again is safe. */
#include "ops/ctl.h"
#include "base/options.h"
#include "queue/queue.h"
#include "queue/redis.h"
#include "base/strbuf.h"
#include "stage/store_sftp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

#define PROG "scanq-ctl"
#define CTL_RETRY_FOR_MS 10000 /* ride out a short Redis restart, not a long outage */

struct opts {
	const char *url, *prefix;
	int json, force, cancelled, forget_dead;
	long long dead_after_ms, log_lines;
	char *ssh_key, *ssh_known_hosts; /* show: outputs on a storage host */
};

/* What the command line and the environment say (program state: the option
 * table below points into it). */
static struct opts cli;

static const struct sq_option options[] = {
    {.type = SQ_OPTION_FLAG,
     .name = "json",
     .value = &cli.json,
     .help = "print the action's JSON document (for scripts)"},
    {.type = SQ_OPTION_FLAG,
     .name = "force",
     .value = &cli.force,
     .help = "forget: stop the acquisition's running jobs first"},
    {.type = SQ_OPTION_FLAG,
     .name = "cancelled",
     .value = &cli.cancelled,
     .help = "retry: also take back cancelled jobs"},
    {.type = SQ_OPTION_FLAG,
     .name = "forget-dead",
     .value = &cli.forget_dead,
     .help = "workers: remove dead workers, their jobs back to queue"},
    {.type = SQ_OPTION_DURATION,
     .name = "dead-after",
     .value = &cli.dead_after_ms,
     .arg = "D",
     .min = 1000,
     .max = 30LL * 86400000,
     .help = "workers: dead without a heartbeat for D (default 1m)"},
    {.type = SQ_OPTION_INT,
     .name = "log-lines",
     .value = &cli.log_lines,
     .arg = "N",
     .min = 1,
     .max = 10000,
     .help = "show: lines of log tail (default 40)"},
    SQ_OPTION_REDIS(&cli.url, SQ_QUEUE_DEFAULT_URL),
    SQ_OPTION_PREFIX(&cli.prefix),
    SQ_OPTION_SSH_KEY(&cli.ssh_key),
    SQ_OPTION_SSH_KNOWN_HOSTS(&cli.ssh_known_hosts),
    SQ_OPTION_HELP_ENTRY,
    {.type = SQ_OPTION_END},
};

static struct sq_program prog = {
    .name = PROG,
    .usage = PROG " [--json] [--redis URL] [--prefix P] VERB [OPERAND]",
    .notes = "Every verb is atomic and idempotent: running it twice is safe.\n"
	     "Exit status: 0 ok, 1 failure (Redis, unknown acquisition or task, refused),\n"
	     "2 usage.",
    .options = options,
};

/* Returns new string: the verbs, from their table, and what operands are. */
static char *verbs_text(void)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;

	sq_strbuf_adds(&sb, "verbs:");
	for (int i = 0; i < SQ_CTL_VERB_COUNT; i++) {
		const struct sq_ctl_verb_info *v = &sq_ctl_verbs[i];

		sq_strbuf_addf(&sb, "\n  %s %s %s\n      %s", v->name, v->args, v->flags, v->text);
	}
	sq_strbuf_adds(&sb, "\n\nA TASK is a task's name, a GROUP a group's name (or @group:NAME "
			    "when a task\nhas the same name); @acq is the acquisition stitch.");
	return sq_strbuf_detach(&sb);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\ntry '" PROG " --help'\n", stderr);
	return 2;
}

/* Returns -1 to go on, else the exit status. */
static int parse_opts(int argc, char **argv, struct sq_args *args)
{
	struct sq_err err;
	int rc = sq_options_parse(&prog, argc, argv, getenv, args, &err);

	if (rc == 1) {
		char *help = sq_options_help(&prog);

		fputs(help, stdout);
		free(help);
		return 0;
	}
	return rc < 0 ? usage_error("%s", err.msg) : -1;
}

/* A flag given to a verb that has no use for it is a mistake worth saying. */
static int check_flags(const struct opts *o, enum sq_ctl_verb verb)
{
	static const struct {
		const char *flag;
		enum sq_ctl_verb verb;
	} only[] = {{"--force", SQ_CTL_FORGET},
		    {"--cancelled", SQ_CTL_RETRY},
		    {"--forget-dead", SQ_CTL_WORKERS},
		    {"--dead-after", SQ_CTL_WORKERS},
		    {"--log-lines", SQ_CTL_SHOW}};
	const int given[] = {o->force, o->cancelled, o->forget_dead, o->dead_after_ms > 0,
			     o->log_lines > 0};

	for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++)
		if (given[i] && only[i].verb != verb)
			return usage_error("%s is for '%s', not '%s'", only[i].flag,
					   sq_ctl_verbs[only[i].verb].name,
					   sq_ctl_verbs[verb].name);
	return -1;
}

/* Fills r from the verb and operand in args; -1 to go on, else the exit. */
static int build_request(const struct sq_args *args, const struct opts *o, struct sq_ctl_req *r)
{
	const struct sq_ctl_verb_info *v;
	struct sq_err err;
	size_t want;
	int verb, rc;

	if (args->n == 0)
		return usage_error("no verb given");
	if ((verb = sq_ctl_verb_find(args->v[0])) < 0)
		return usage_error("unknown verb '%s'", args->v[0]);
	v = &sq_ctl_verbs[verb];
	r->verb = (enum sq_ctl_verb)verb;
	if ((rc = check_flags(o, r->verb)) >= 0)
		return rc;
	want = v->operand == SQ_CTL_NONE ? 1 : 2;
	if (args->n < want)
		return usage_error("%s needs %s", v->name, v->args);
	if (args->n > want)
		return usage_error("unexpected argument '%s'", args->v[want]);
	if (want == 2 && sq_ctl_parse_operand(r, args->v[1], &err) < 0)
		return usage_error("%s", err.msg);
	r->force = o->force;
	r->cancelled = o->cancelled;
	r->forget_dead = o->forget_dead;
	r->dead_after_ms = o->dead_after_ms;
	r->log_lines = (int)o->log_lines;
	return -1;
}

static int run(const struct opts *o, const struct sq_ctl_req *r)
{
	struct sq_queue_opts qo = {
	    .url = o->url, .prefix = o->prefix, .retry_for_ms = CTL_RETRY_FOR_MS};
	struct sq_strbuf out = SQ_STRBUF_INIT;
	struct sq_queue *q;
	struct sq_err err;
	int rc = 1;

	if (!(q = sq_queue_open(&qo, &err)) || sq_ctl_run(q, r, o->json, &out, &err) < 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		goto out;
	}
	fwrite(out.buf, 1, out.len, stdout);
	if (fflush(stdout) != 0) {
		fprintf(stderr, PROG ": cannot write: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	sq_strbuf_release(&out);
	sq_queue_free(q);
	return rc;
}

int main(int argc, char **argv)
{
	struct sq_ctl_req r;
	struct sq_redis_url u;
	struct sq_args args;
	struct sq_err err;
	char *verbs = verbs_text();
	int rc;

	prog.about = verbs;
	sq_ctl_req_init(&r);
	if ((rc = parse_opts(argc, argv, &args)) >= 0)
		goto out;
	if (sq_redis_url_parse(cli.url, &u, &err) < 0) {
		rc = usage_error("%s", err.msg);
		goto out;
	}
	sq_redis_url_release(&u);
	if ((rc = build_request(&args, &cli, &r)) < 0) {
		/* show reads records and logs where the output root is, sftp:// too */
		struct sq_ssh_opts ssh = {.key_file = cli.ssh_key,
					  .known_hosts = cli.ssh_known_hosts,
					  .home = getenv("HOME")};
		struct sq_sftp_opts so = {.ssh = &ssh};

		r.store = sq_store_sftp_new(&(struct sq_store_sftp_opts){.sftp = &so});
		rc = run(&cli, &r);
		sq_store_free(r.store);
	}
out:
	sq_ctl_req_release(&r);
	sq_options_release(&prog, &args);
	free(verbs);
	return rc;
}
