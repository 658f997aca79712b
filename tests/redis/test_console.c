/* test_console.c - the web console's server side against a real Redis: over
 * 5000 jobs (queued, running, done, done with warnings, dead-lettered) every
 * refresh is answered in under a second and costs one script call in Redis, as
 * the terminal view's does; the acquisition page of 5000 jobs too. And the pure
 * parts: listen addresses, the paths it serves, the token compare.
 *
 * Requests go over a real socket to the real server (http.c), so the time
 * measured is what a browser waits. */
#include "fixture.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "ops/console.h"
#include "ops/http.h"
#include "queue/queue.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "t.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define NGROUPS 50
#define PER_GROUP 100 /* 5000 tasks */
#define REFRESHES 10

static void test_pure(void)
{
	struct sq_err err;
	char *host = NULL;
	int port = -1;

	T_EQ_INT(sq_http_parse_addr("8080", &host, &port, &err), 0);
	T_EQ_STR(host, "127.0.0.1");
	T_EQ_INT(port, 8080);
	free(host);
	T_EQ_INT(sq_http_parse_addr(":0", &host, &port, &err), 0);
	T_EQ_STR(host, "127.0.0.1");
	free(host);
	T_EQ_INT(sq_http_parse_addr("0.0.0.0:80", &host, &port, &err), 0);
	T_EQ_STR(host, "0.0.0.0");
	free(host);
	T_EQ_INT(sq_http_parse_addr("[::1]:9000", &host, &port, &err), 0);
	T_EQ_STR(host, "::1");
	T_EQ_INT(port, 9000);
	free(host);
	T_EQ_INT(sq_http_parse_addr("x:70000", &host, &port, &err), -1);
	T_EQ_INT(sq_http_parse_addr("x:", &host, &port, &err), -1);
	T_EQ_INT(sq_http_parse_addr("[::1]9000", &host, &port, &err), -1);
	T_EQ_INT(sq_http_parse_addr("", &host, &port, &err), -1);

	T_CHECK(sq_console_path_ok("preview.png"));
	T_CHECK(sq_console_path_ok("frames/frame_000001.jpg"));
	T_CHECK(sq_console_path_ok("reconstruct.log"));
	T_CHECK(sq_console_path_ok("stitch.json"));
	T_CHECK(!sq_console_path_ok("../x.json"));
	T_CHECK(!sq_console_path_ok("frames/../../x.json"));
	T_CHECK(!sq_console_path_ok("/etc/x.json"));
	T_CHECK(!sq_console_path_ok("./x.json"));
	T_CHECK(!sq_console_path_ok("a//x.json"));
	T_CHECK(!sq_console_path_ok("a/b/x.json")); /* two deep */
	T_CHECK(!sq_console_path_ok("x.sh"));
	T_CHECK(!sq_console_path_ok("frames"));
	T_CHECK(!sq_console_path_ok("a b.json"));
	T_CHECK(!sq_console_path_ok("x.json\n"));
	T_CHECK(!sq_console_path_ok(""));

	T_CHECK(sq_console_token_eq("secret-token", "secret-token"));
	T_CHECK(!sq_console_token_eq("secret-token", "secret-tokem"));
	T_CHECK(!sq_console_token_eq("secret-token", "secret-token2"));
	T_CHECK(!sq_console_token_eq("secret-token", "secret"));
	T_CHECK(!sq_console_token_eq("", "x"));
}

/* GET path from port; returns the response (headers and body) as a new string. */
static char *http_get(int port, const char *path)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	char buf[65536];
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char *req = xasprintf("GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		fprintf(stderr, "cannot reach the console\n");
		exit(1);
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sq_strbuf_add(&sb, buf, (size_t)n);
	close(fd);
	free(req);
	return sq_strbuf_detach(&sb);
}

/* Script calls Redis has answered so far (FCALL and EVALSHA). */
static long long script_calls(struct sq_queue *q)
{
	struct sq_redis_args a = SQ_REDIS_ARGS_INIT;
	struct sq_err err;
	struct sq_reply *rep;
	long long n = 0;
	const char *names[] = {
	    "cmdstat_fcall:calls=", "cmdstat_evalsha:calls=", "cmdstat_eval:calls="};

	sq_redis_args_add(&a, "INFO");
	sq_redis_args_add(&a, "commandstats");
	rep = sq_redis_command(sq_queue_redis(q), &a, &err);
	for (size_t i = 0; rep && rep->str && i < 3; i++) {
		const char *p = strstr(rep->str, names[i]);

		if (p)
			n += strtoll(p + strlen(names[i]), NULL, 10);
	}
	sq_reply_free(rep);
	sq_redis_args_release(&a);
	return n;
}

/* 5000 tasks: 300 running, 1500 past extract (200 of them with warnings), 40
 * dead-lettered, the rest queued. */
static void fill(struct sq_queue *q, struct acq *a)
{
	enum sq_stage ex = SQ_STAGE_EXTRACT;
	struct sq_claim_opts o = {"w", &ex, 1, NULL, 0, -1, -1};
	struct sq_err err = {0};
	struct sq_job job;
	int dead;

	acq_make(a, "big", NGROUPS, PER_GROUP, 1, 10);
	T_EQ_INT(sq_queue_enqueue(q, a->tasks, a->n, &a->stitch, a->out, &err), 0);
	for (int i = 0; i < 1840; i++) {
		char wid[32];

		snprintf(wid, sizeof(wid), "w%d", i);
		o.worker_id = wid;
		sq_job_init(&job);
		if (sq_queue_claim(q, &o, &job, &err) != 1)
			break;
		if (i < 200)
			sq_queue_complete(q, &job, wid, "{\"warnings\":[\"'x.mp4' is truncated\"]}",
					  &err);
		else if (i < 1500)
			sq_queue_complete(q, &job, wid, "{\"frames\":4,\"warnings\":[]}", &err);
		else if (i < 1540)
			sq_queue_fail(q, &job, wid, "decoder said no\nand more", 0, &dead, &err);
		/* else: left running */
		sq_job_release(&job);
	}
}

/* The extract counts of the snapshot in an HTTP response. */
static void check_counts(const char *resp)
{
	const char *body = strstr(resp, "\r\n\r\n");
	cJSON *doc = body ? cJSON_Parse(body + 4) : NULL;
	const cJSON *a =
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "acquisitions"), 0);
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(a, "stages"), "extract");
	const char *keys[] = {"running", "done", "failed", "warnings", "queued"};
	const int want[] = {300, 1500, 40, 200, 3160};

	T_CHECK(ex != NULL);
	for (size_t i = 0; ex && i < 5; i++)
		T_EQ_INT(cJSON_GetObjectItemCaseSensitive(ex, keys[i])->valueint, want[i]);
	cJSON_Delete(doc);
}

static void test_5000(void)
{
	char prefix[64];
	struct sq_queue_opts qo = {.url = getenv("SCANQ_REDIS"), .prefix = prefix};
	struct sq_console_opts co = {.queue = qo,
				     .refresh_ms = 1}; /* no sharing: every call measured */
	struct sq_http_opts ho = {.addr = "127.0.0.1:0", .handler = sq_console_handle};
	struct sq_queue *q;
	struct sq_http *h;
	struct sq_err err = {0};
	struct acq a;
	long long worst = 0, sum = 0, calls, worst_show = 0;
	int port;

	snprintf(prefix, sizeof(prefix), "tcon%d:", (int)getpid());
	co.queue.prefix = prefix;
	q = fx_open(prefix, 60000, 0);
	fill(q, &a);
	ho.ctx = sq_console_new(&co);
	h = sq_http_start(&ho, &err);
	T_CHECK(h != NULL);
	if (!h) {
		fprintf(stderr, "http: %s\n", err.msg);
		exit(1);
	}
	port = atoi(strrchr(sq_http_url(h), ':') + 1);
	free(http_get(port, "/api/snapshot")); /* connects, loads the scripts */
	for (int i = 0; i < REFRESHES; i++) {
		long long t0 = sq_mono_ms(), dt;
		char *resp;

		calls = script_calls(q);
		resp = http_get(port, "/api/snapshot");
		dt = sq_mono_ms() - t0;
		T_EQ_INT(script_calls(q) - calls, 1); /* one round trip, as the terminal's */
		T_CONTAINS(resp, " 200 OK\r\n");
		check_counts(resp);
		free(resp);
		worst = dt > worst ? dt : worst;
		sum += dt;
	}
	for (int i = 0; i < 3; i++) {
		long long t0 = sq_mono_ms(), dt;
		char *resp = http_get(port, "/api/show?acq=big");

		dt = sq_mono_ms() - t0;
		T_CONTAINS(resp, " 200 OK\r\n");
		T_CONTAINS(resp, "\"jid\":\"g50-100\"");
		free(resp);
		worst_show = dt > worst_show ? dt : worst_show;
	}
	{
		long long t0 = sq_mono_ms();
		char *doc = sq_queue_show(q, "big", NULL, &err);

		printf("show script alone: %lld ms, %zu bytes\n", sq_mono_ms() - t0,
		       doc ? strlen(doc) : 0);
		free(doc);
	}
	printf("console over %zu jobs: /api/snapshot mean %lld ms, worst %lld ms (%d refreshes); "
	       "/api/show of the acquisition worst %lld ms\n",
	       a.n, sum / REFRESHES, worst, REFRESHES, worst_show);
	T_CHECK(worst < 1000);
	T_CHECK(worst_show < 1000);
	sq_http_stop(h);
	sq_console_free(ho.ctx);
	sq_queue_free(q);
	acq_free(&a);
}

int main(void)
{
	if (!getenv("SCANQ_REDIS")) {
		fprintf(stderr, "SCANQ_REDIS not set: run through tests/run-test\n");
		return 1;
	}
	test_pure();
	test_5000();
	return t_done();
}
