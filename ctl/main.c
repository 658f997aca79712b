/* scanq-ctl - operator actions: show, cancel, pause, resume, retry, clear,
 * forget, workers.
 *
 * Thin over lib/ops/ctl.h: options -> one request -> sq_ctl_run -> stdout. Every
 * verb is one atomic, idempotent script in Redis, so running it again is safe. */
#include "ops/ctl.h"
#include "base/fsutil.h"
#include "queue/queue.h"
#include "queue/redis.h"
#include "base/strbuf.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

#define PROG "scanq-ctl"
#define CTL_RETRY_FOR_MS 10000 /* ride out a short Redis restart, not a long outage */

struct opts {
	const char *url, *prefix;
	int json, force, cancelled, forget_dead, log_lines;
	long long dead_after_ms;
	int help;
};

static void usage(FILE *f)
{
	fputs("usage: " PROG " [--json] [--redis URL] [--prefix P] VERB [OPERAND]\n\nverbs:\n", f);
	for (int i = 0; i < SQ_CTL_VERB_COUNT; i++) {
		const struct sq_ctl_verb_info *v = &sq_ctl_verbs[i];

		fprintf(f, "  %s %s %s\n      %s\n", v->name, v->args, v->flags, v->text);
	}
	fputs("\nA TASK is a task's name, a GROUP a group's name (or @group:NAME when a task\n"
	      "has the same name); @acq is the acquisition stitch.\n"
	      "\n"
	      "  --json             print the action's JSON document (for scripts)\n"
	      "  --force            forget: stop the acquisition's running jobs first\n"
	      "  --cancelled        retry: also take back cancelled jobs\n"
	      "  --forget-dead      workers: remove dead workers, their jobs back to queue\n"
	      "  --dead-after D     workers: dead without a heartbeat for D (default 1m)\n"
	      "  --log-lines N      show: lines of log tail (default 40)\n"
	      "  --redis URL        redis://[user:pass@]host:port/db or unix:///path\n"
	      "                     (default $SCANQ_REDIS, else " SQ_QUEUE_DEFAULT_URL ")\n"
	      "  --prefix P         key prefix of the deployment (default $SCANQ_PREFIX)\n"
	      "  -h, --help         show this help\n"
	      "\n"
	      "Every verb is atomic and idempotent: running it twice is safe.\n"
	      "Exit status: 0 ok, 1 failure (Redis, unknown acquisition or task, refused),\n"
	      "2 usage.\n",
	      f);
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
static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum {
		O_JSON = 256,
		O_FORCE,
		O_CANCELLED,
		O_FORGET_DEAD,
		O_DEAD_AFTER,
		O_LOG_LINES,
		O_REDIS,
		O_PREFIX
	};
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, O_JSON},
	    {"force", no_argument, NULL, O_FORCE},
	    {"cancelled", no_argument, NULL, O_CANCELLED},
	    {"forget-dead", no_argument, NULL, O_FORGET_DEAD},
	    {"dead-after", required_argument, NULL, O_DEAD_AFTER},
	    {"log-lines", required_argument, NULL, O_LOG_LINES},
	    {"redis", required_argument, NULL, O_REDIS},
	    {"prefix", required_argument, NULL, O_PREFIX},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case O_JSON:
			o->json = 1;
			break;
		case O_FORCE:
			o->force = 1;
			break;
		case O_CANCELLED:
			o->cancelled = 1;
			break;
		case O_FORGET_DEAD:
			o->forget_dead = 1;
			break;
		case O_DEAD_AFTER:
			if (sq_parse_duration_ms(optarg, &o->dead_after_ms) < 0 ||
			    o->dead_after_ms < 1000)
				return usage_error("bad duration '%s' (at least 1s)", optarg);
			break;
		case O_LOG_LINES:
			o->log_lines = (int)strtol(optarg, &end, 10);
			if (*end || o->log_lines < 1 || o->log_lines > 10000)
				return usage_error("bad line count '%s' (1 .. 10000)", optarg);
			break;
		case O_REDIS:
			o->url = optarg;
			break;
		case O_PREFIX:
			o->prefix = optarg;
			break;
		case 'h':
			o->help = 1;
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	return -1;
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

/* Fills r from the verb and operand left in argv; -1 to go on, else the exit. */
static int build_request(int argc, char **argv, const struct opts *o, struct sq_ctl_req *r)
{
	const struct sq_ctl_verb_info *v;
	struct sq_err err;
	int verb, rc;

	if (optind >= argc)
		return usage_error("no verb given");
	if ((verb = sq_ctl_verb_find(argv[optind])) < 0)
		return usage_error("unknown verb '%s'", argv[optind]);
	v = &sq_ctl_verbs[verb];
	r->verb = (enum sq_ctl_verb)verb;
	if ((rc = check_flags(o, r->verb)) >= 0)
		return rc;
	if (v->operand != SQ_CTL_NONE && optind + 1 >= argc)
		return usage_error("%s needs %s", v->name, v->args);
	if (argc - optind > (v->operand == SQ_CTL_NONE ? 1 : 2))
		return usage_error("unexpected argument '%s'",
				   argv[optind + (v->operand == SQ_CTL_NONE ? 1 : 2)]);
	if (v->operand != SQ_CTL_NONE && sq_ctl_parse_operand(r, argv[optind + 1], &err) < 0)
		return usage_error("%s", err.msg);
	r->force = o->force;
	r->cancelled = o->cancelled;
	r->forget_dead = o->forget_dead;
	r->dead_after_ms = o->dead_after_ms;
	r->log_lines = o->log_lines;
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
	struct opts o = {.url = getenv("SCANQ_REDIS"), .prefix = getenv("SCANQ_PREFIX")};
	struct sq_ctl_req r;
	struct sq_redis_url u;
	struct sq_err err;
	int rc;

	sq_ctl_req_init(&r);
	if ((rc = parse_opts(argc, argv, &o)) >= 0 || o.help) {
		if (o.help)
			usage(stdout);
		return o.help ? 0 : rc;
	}
	if (!o.url || !*o.url)
		o.url = SQ_QUEUE_DEFAULT_URL;
	if (sq_redis_url_parse(o.url, &u, &err) < 0)
		return usage_error("%s", err.msg);
	sq_redis_url_release(&u);
	if ((rc = build_request(argc, argv, &o, &r)) < 0)
		rc = run(&o, &r);
	sq_ctl_req_release(&r);
	return rc;
}
