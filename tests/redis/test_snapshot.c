/* test_snapshot.c - scanq-status's renderer, and the snapshot it renders.
 *
 * The first half feeds literal snapshot documents to the pure renderer (no
 * Redis): layout, ages, progress bars, stale workers, width and height limits,
 * hostile data. The second half enqueues, claims and fails real jobs on the
 * private redis-server and checks what sq_queue_snapshot reports and how it
 * renders. */
#include "fixture.h"
#include "queue/queue.h"
#include "ops/status.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "t.h"

#include <cjson/cJSON.h>
#include <unistd.h>
#include "base/banned.h"

/* now_ms 1700000000000; ages below are relative to it */
static const char snap[] =
    "{\"now_ms\":1700000000000,\"acquisitions\":[{\"name\":\"demo\",\"tasks\":6,"
    "\"groups\":2,\"stages\":{"
    "\"extract\":{\"queued\":0,\"running\":2,\"done\":4,\"failed\":0,\"retrying\":0},"
    "\"reconstruct\":{\"queued\":3,\"running\":0,\"done\":0,\"failed\":1,\"retrying\":1},"
    "\"stitch\":{\"queued\":0,\"running\":0,\"done\":0,\"failed\":0,\"retrying\":0}},"
    "\"running\":["
    "{\"jid\":\"auv1-seg02\",\"kind\":\"task\",\"stage\":\"extract\",\"owner\":\"rov-a:12:ab\","
    "\"host\":\"rov-a\",\"claimed_ms\":1699999808000,\"lease_until_ms\":1700000010000,"
    "\"progress_done\":12,\"progress_total\":40,\"attempt\":1},"
    "{\"jid\":\"auv2-seg01\",\"kind\":\"task\",\"stage\":\"extract\",\"owner\":\"rov-b:7:cd\","
    "\"host\":\"\",\"claimed_ms\":1699999995000,\"lease_until_ms\":1699999990000,"
    "\"progress_done\":0,\"progress_total\":0,\"attempt\":2}],"
    "\"dead\":[{\"jid\":\"auv2-seg03\",\"stage\":\"reconstruct\",\"error\":\"command 'colmap' "
    "exited with status 1; last lines of its log:\\n  E0101 feature matching failed\\n  "
    "\\u001b[2Jabort\",\"host\":\"gpu-1\",\"attempts\":3,\"errors\":3,\"crashes\":0,"
    "\"history\":[],\"time_ms\":1699999700000}],\"dead_total\":7}],"
    "\"workers\":["
    "{\"id\":\"rov-a:12:ab\",\"host\":\"rov-a\",\"pid\":12,\"stages\":\"extract,reconstruct\","
    "\"gpu\":\"0\",\"job\":\"demo/auv1-seg02/extract\",\"last_beat_ms\":1699999999000,"
    "\"started_ms\":1699999000000},"
    "{\"id\":\"rov-b:7:cd\",\"host\":\"rov-b\",\"pid\":7,\"stages\":\"extract\",\"gpu\":null,"
    "\"job\":null,\"last_beat_ms\":1699999980000,\"started_ms\":1699999000000}]}";

static char *render(const char *json, int width, int height, int ascii)
{
	struct sq_status_view v = {.width = width, .height = height, .ascii = ascii};
	struct sq_strbuf out = SQ_STRBUF_INIT;
	struct sq_err err = {0};

	if (sq_status_render_json(json, &v, &out, &err) < 0) {
		fprintf(stderr, "render: %s\n", err.msg);
		sq_strbuf_release(&out);
		return NULL;
	}
	return sq_strbuf_detach(&out);
}

/* Widest line in columns (UTF-8 aware) and the number of lines. */
static size_t widest(const char *s, size_t *nlines)
{
	size_t max = 0, cols = 0;

	*nlines = 0;
	for (; *s; s++) {
		if (*s == '\n') {
			max = cols > max ? cols : max;
			cols = 0;
			++*nlines;
		} else if (((unsigned char)*s & 0xc0) != 0x80) {
			cols++;
		}
	}
	return cols > max ? cols : max;
}

/* The line of s that contains needle, as a new string ("" if none). */
static char *line_with(const char *s, const char *needle)
{
	const char *hit = strstr(s, needle), *b, *e;

	if (!hit)
		return xstrdup("");
	for (b = hit; b > s && b[-1] != '\n'; b--)
		;
	e = strchr(hit, '\n');
	return xstrndup(b, e ? (size_t)(e - b) : strlen(b));
}

static void test_layout(void)
{
	char *out = render(snap, 200, 0, 0), *l;

	T_CHECK(out != NULL);
	if (!out)
		return;
	/* 6 tasks x 2 stages + 2 group stitches + 1 final stitch = 15 steps */
	T_CONTAINS(out, "demo  6 tasks in 2 groups  [########......................]  26%  4/15 "
			"steps  7 dead");
	T_CONTAINS(out, "  stage         queued  running        done  failed  retrying\n");
	T_CONTAINS(out, "  extract            0        2         4/6       0         0\n");
	T_CONTAINS(out, "  reconstruct        3        0         0/6       1         1\n");
	T_CONTAINS(out, "  stitch             0        0         0/3       0         0\n");
	T_CONTAINS(out, "  running (2):\n");
	l = line_with(out, "auv1-seg02");
	T_EQ_STR(l, "    auv1-seg02 extract     rov-a       3m12s  [###.......] 12/40");
	free(l);
	/* no host: the owner stands in; no total: a dash; retried; lease past due */
	l = line_with(out, "auv2-seg01");
	T_EQ_STR(l, "    auv2-seg01 extract     rov-b:7:cd     5s  \u2014  try 2  lease expired");
	free(l);
	T_CONTAINS(out, "  dead letters (7, newest first):\n");
	l = line_with(out, "auv2-seg03");
	T_CONTAINS(l, "auv2-seg03 reconstruct gpu-1  3 tries  5m00s ago  command 'colmap' exited "
		      "with status 1; last lines of its log: | E0101 feature matching failed | ");
	T_CONTAINS(l, "abort");
	free(l);
	T_CONTAINS(out, "    \u2026 and 6 more\n");
	T_CONTAINS(out, "workers (2, 1 stale):\n");
	l = line_with(out, "rov-a:12:ab extract,reconstruct");
	T_EQ_STR(l, "  rov-a:12:ab extract,reconstruct gpu 0   beat     1s        "
		    "demo/auv1-seg02/extract");
	free(l);
	l = line_with(out, "rov-b:7:cd  extract");
	T_CONTAINS(l, "cpu     beat    20s STALE  idle");
	free(l);
	T_CHECK(!strchr(out, '\033')); /* the escape in the error was blanked */
	free(out);
}

static void test_widths(void)
{
	static const int widths[] = {1, 20, 40, 80, 100, 200};

	for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		char *out = render(snap, widths[i], 0, 0);
		size_t n, w = out ? widest(out, &n) : 999;

		T_CHECK(out != NULL);
		T_CHECK(w <= (size_t)(widths[i] < 20 ? 20 : widths[i]));
		free(out);
	}
	/* a narrow terminal cuts the dead letter's error with an ellipsis */
	char *out = render(snap, 60, 0, 0), *l = out ? line_with(out, "auv2-seg03") : NULL;

	T_CHECK(l && strstr(l, "\u2026") && !strstr(l, "abort"));
	free(l);
	free(out);
}

static void test_height_and_ascii(void)
{
	size_t n;
	char *out = render(snap, 80, 10, 0), *l;

	T_CHECK(out != NULL);
	if (out) {
		widest(out, &n);
		T_EQ_INT(n, 10);
		l = line_with(out, "more lines");
		T_CONTAINS(l, "\u2026 ");
		T_CONTAINS(l, " more lines (enlarge the terminal or use --acq)");
		free(l);
	}
	free(out);
	out = render(snap, 50, 0, 1);
	T_CHECK(out != NULL);
	for (const char *p = out; p && *p; p++)
		if ((unsigned char)*p >= 0x80) {
			T_CHECK(!"ascii view holds a non-ASCII byte");
			break;
		}
	T_CONTAINS(out, "...");
	free(out);
}

static void test_empty_and_bad(void)
{
	/* Lua's cjson writes an empty table as {} */
	char *out = render("{\"now_ms\":1,\"acquisitions\":{},\"workers\":{}}", 80, 0, 0);
	struct sq_status_view v = {.width = 80, .title = "scanq-status  x", .error = "no redis"};
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	struct sq_err err = {0};

	T_CONTAINS(out, "no acquisitions");
	T_CONTAINS(out, "workers: none registered");
	free(out);
	out =
	    render("{\"now_ms\":1,\"acquisitions\":[{\"name\":\"x\",\"running\":{},\"dead\":{}}]}",
		   80, 0, 0);
	T_CONTAINS(out, "x  0 tasks in 0 groups  (no tasks)");
	T_CONTAINS(out, "running: none");
	free(out);
	T_EQ_INT(sq_status_render_json("{\"acquisitions\":[]}", &v, &sb, &err), -1);
	T_CONTAINS(err.msg, "not a snapshot");
	T_EQ_INT(sq_status_render_json("not json", &v, &sb, &err), -1);
	T_EQ_INT(sb.len, 0);
	/* no snapshot yet: title and error only */
	sq_status_render(NULL, &v, &sb);
	T_EQ_STR(sb.buf, "scanq-status  x\nno redis\n");
	sq_strbuf_release(&sb);
}

static void test_age_and_json(void)
{
	static const struct {
		long long ms;
		const char *want;
	} ages[] = {{-5000, "0s"},	{0, "0s"},	    {59999, "59s"},	 {192000, "3m12s"},
		    {3600000, "1h00m"}, {7500000, "2h05m"}, {273600000, "3d04h"}};
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	struct sq_err err = {0};
	char buf[32];
	cJSON *doc;

	for (size_t i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
		sq_status_fmt_age(ages[i].ms, buf, sizeof(buf));
		T_EQ_STR(buf, ages[i].want);
	}
	T_EQ_INT(sq_status_format_json(snap, 0, &sb, &err), 0);
	T_CHECK(sb.len == strlen(snap) + 1 && !strncmp(sb.buf, snap, strlen(snap)));
	sq_strbuf_reset(&sb);
	T_EQ_INT(sq_status_format_json(snap, 1, &sb, &err), 0);
	doc = cJSON_Parse(sb.buf);
	T_CHECK(doc && strchr(sb.buf, '\n') < sb.buf + sb.len - 1); /* several lines */
	cJSON_Delete(doc);
	T_EQ_INT(sq_status_format_json("{", 1, &sb, &err), -1);
	sq_strbuf_release(&sb);
}

/* ---- against Redis ---- */

static char *snapshot(struct sq_queue *q, const char *acq, struct sq_status *st)
{
	struct sq_err err = {0};
	char *json = sq_queue_snapshot(q, acq, 5, &err);

	if (!json)
		fprintf(stderr, "snapshot: %s\n", err.msg);
	T_CHECK(json != NULL);
	T_EQ_INT(sq_status_parse(st, json, &err), 0);
	return json;
}

/* Enqueues 4 tasks in 2 groups of acquisition "survey"; they are counted. */
static void live_enqueue(struct sq_queue *q)
{
	struct acq a;
	struct sq_status st;
	struct sq_err err = {0};
	char *json;

	acq_make(&a, "survey", 2, 2, 1, 100);
	sq_status_init(&st);
	T_EQ_INT(sq_queue_enqueue(q, a.tasks, a.n, &a.stitch, a.out, &err), 0);
	json = snapshot(q, NULL, &st);
	T_EQ_INT(st.nacqs, 1);
	if (st.nacqs == 1) {
		T_EQ_STR(st.acqs[0].name, "survey");
		T_EQ_INT(st.acqs[0].tasks, 4);
		T_EQ_INT(st.acqs[0].groups, 2);
		T_EQ_INT(st.acqs[0].stages[SQ_STAGE_EXTRACT].queued, 4);
		T_EQ_INT(st.acqs[0].nrunning, 0);
	}
	free(json);
	sq_status_release(&st);
	acq_free(&a);
}

/* A worker claims one job and reports progress: the view shows both. */
static void live_running(struct sq_queue *q, const struct sq_claim_opts *co, struct sq_job *job)
{
	struct sq_worker_info wi = {co->worker_id, "hostA", 1, "extract", NULL, NULL};
	struct sq_status st;
	struct sq_err err = {0};
	char *json, *out, *jobname;

	sq_status_init(&st);
	T_EQ_INT(sq_queue_claim(q, co, job, &err), 1);
	T_EQ_INT(sq_queue_heartbeat(q, job, co->worker_id, 12, 40, &err), 0);
	jobname = xasprintf("survey/%s/extract", job->jid ? job->jid : "?");
	wi.job = jobname;
	T_EQ_INT(sq_queue_worker_beat(q, &wi, &err), 0);
	json = snapshot(q, "survey", &st);
	out = render(json, 100, 0, 0);
	T_CONTAINS(
	    out, "survey  4 tasks in 2 groups  [..............................]   0%  0/11 steps");
	T_CONTAINS(out, "  extract            3        1         0/4");
	T_CONTAINS(out, "  running (1):");
	T_CONTAINS(out, job->jid ? job->jid : "?");
	T_CONTAINS(out, "[###.......] 12/40");
	T_CONTAINS(out, "workers (1):");
	T_CONTAINS(out, "hostA:1:x");
	T_CONTAINS(out, jobname);
	free(out);
	free(json);
	free(jobname);
	sq_status_release(&st);
}

/* One attempt allowed: the failure becomes a dead letter shown with its error. */
static void live_dead(struct sq_queue *q, const struct sq_claim_opts *co, struct sq_job *job)
{
	struct sq_status st;
	struct sq_err err = {0};
	char *json, *out;
	int dead = 0;

	sq_status_init(&st);
	T_EQ_INT(sq_queue_fail(q, job, co->worker_id, "cannot open 'x.mp4': no such file", 0, &dead,
			       &err),
		 0);
	T_EQ_INT(dead, 1);
	json = snapshot(q, "survey", &st);
	T_CHECK(st.nacqs == 1 && st.acqs[0].dead_total == 1 && st.acqs[0].ndead == 1);
	out = render(json, 120, 0, 0);
	T_CONTAINS(out, "  dead letters (1, newest first):");
	T_CONTAINS(out, "cannot open 'x.mp4': no such file");
	T_CONTAINS(out, "running: none");
	free(out);
	free(json);

	/* --acq of another acquisition does not show this one */
	json = snapshot(q, "other", &st);
	T_CHECK(st.nacqs <= 1 && (st.nacqs == 0 || st.acqs[0].tasks == 0));
	free(json);
	sq_status_release(&st);
}

static void test_live(struct sq_queue *q)
{
	enum sq_stage stages[] = {SQ_STAGE_EXTRACT};
	struct sq_claim_opts co = {.worker_id = "hostA:1:x",
				   .stages = stages,
				   .nstages = 1,
				   .free_vram_mib = -1,
				   .free_ram_mib = -1};
	struct sq_job job;

	sq_job_init(&job);
	live_enqueue(q);
	live_running(q, &co, &job);
	live_dead(q, &co, &job);
	sq_job_release(&job);
}

/* A paused acquisition with cancelled jobs and jobs done with warnings: PAUSED
 * by its name, the two extra columns, expected counts without the cancelled,
 * the warned section with the first warning of each. */
static void test_marks(void)
{
	static const char marks[] =
	    "{\"now_ms\":1700000000000,\"acquisitions\":[{\"name\":\"demo\",\"tasks\":6,"
	    "\"groups\":2,\"paused\":true,\"stages\":{"
	    "\"extract\":{\"queued\":0,\"running\":0,\"done\":5,\"failed\":0,\"retrying\":0,"
	    "\"cancelled\":1,\"warnings\":2},"
	    "\"reconstruct\":{\"queued\":0,\"running\":0,\"done\":4,\"failed\":0,"
	    "\"retrying\":0,\"cancelled\":1,\"warnings\":0},"
	    "\"stitch\":{\"queued\":0,\"running\":0,\"done\":3,\"failed\":0,\"retrying\":0,"
	    "\"cancelled\":0,\"warnings\":1}},\"running\":[],\"dead\":[],\"dead_total\":0,"
	    "\"warned\":[{\"jid\":\"@acq\",\"stage\":\"stitch\",\"status\":\"done with warnings\","
	    "\"time_ms\":1699999940000,\"warnings\":[\"left out 1 input: auv2\"]},"
	    "{\"jid\":\"auv1-seg01\",\"stage\":\"extract\",\"status\":\"done with warnings\","
	    "\"time_ms\":1699999700000,\"warnings\":[\"'a.mp4' is truncated\",\"x\"]}],"
	    "\"warned_total\":3}],\"workers\":[]}";
	char *out = render(marks, 100, 0, 0);

	T_CHECK(out != NULL);
	if (!out)
		return;
	T_CONTAINS(out, "demo  PAUSED  6 tasks in 2 groups  ");
	T_CONTAINS(out, "  stage         queued  running        done  failed  retrying cancelled "
			"warned\n");
	T_CONTAINS(
	    out,
	    "  extract            0        0         5/5       0         0         1      2\n");
	T_CONTAINS(
	    out,
	    "  reconstruct        0        0         4/4       0         0         1      0\n");
	T_CONTAINS(
	    out,
	    "  stitch             0        0         3/3       0         0         0      1\n");
	T_CONTAINS(out, "100%  12/12 steps");
	T_CONTAINS(out, "  done with warnings (3, newest first):\n");
	T_CONTAINS(out, "    @acq       stitch       1m00s ago  left out 1 input: auv2\n");
	T_CONTAINS(out, "    auv1-seg01 extract      5m00s ago  'a.mp4' is truncated (+1 more)\n");
	free(out);
}

int main(void)
{
	char prefix[64];
	struct sq_queue_opts o = {.url = getenv("SCANQ_REDIS"), .prefix = prefix};
	struct sq_err err = {0};
	struct sq_queue *q;

	test_layout();
	test_widths();
	test_height_and_ascii();
	test_empty_and_bad();
	test_age_and_json();
	test_marks();

	snprintf(prefix, sizeof(prefix), "tsnap%d:", (int)getpid());
	q = sq_queue_open(&o, &err);
	T_CHECK(q != NULL);
	if (q)
		test_live(q);
	else
		fprintf(stderr, "cannot open queue: %s\n", err.msg);
	sq_queue_free(q);
	return t_done();
}
