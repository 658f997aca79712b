/* ctl_text.c - scanq-ctl's text: one renderer per verb over its JSON document.
 *
 * Records are printed generically (scalars as "key value", one level of nested
 * objects as a line each), so provenance and quality fields a stage adds later
 * show up without a change here. Text from the data is put on one line and its
 * control characters blanked: an error holding a backend's log cannot garble the
 * terminal. */
#include "ops/ctl_text.h"
#include "ops/status.h"
#include "base/xalloc.h"
#include "queue/job_state.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/banned.h"

#define ERROR_COL_MAX 70

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *sget(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static long long nget(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	if (cJSON_IsNumber(v))
		return (long long)v->valuedouble;
	return cJSON_IsString(v) ? strtoll(v->valuestring, NULL, 10) : 0;
}

/* Appends s on one line (line breaks as " | ", control characters blanked), cut
 * to max bytes with "..." (max 0: whole). */
static void add_clean(struct sq_strbuf *sb, const char *s, size_t max)
{
	size_t n = 0;

	for (; *s && (!max || n < max); s++, n++) {
		if (*s == '\n') {
			sq_strbuf_adds(sb, " | ");
			while (s[1] == '\n' || s[1] == ' ')
				s++;
		} else {
			sq_strbuf_addch(sb, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
		}
	}
	if (*s)
		sq_strbuf_adds(sb, "...");
}

/* "2024-05-01 12:00:03Z" (UTC) for ms since the epoch; "-" for 0. */
static void fmt_time(long long ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || !gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm))
		snprintf(buf, len, "-");
}

static void add_age(struct sq_strbuf *sb, long long now_ms, long long ms)
{
	char age[32];

	if (ms <= 0) {
		sq_strbuf_adds(sb, "-");
		return;
	}
	sq_status_fmt_age(now_ms - ms, age, sizeof(age));
	sq_strbuf_addf(sb, "%s ago", age);
}

/* ---- show: overview ---- */

static void show_overview(const cJSON *doc, struct sq_strbuf *out)
{
	const cJSON *jobs = get(doc, "jobs"), *j;
	long long now = nget(doc, "now_ms");

	sq_strbuf_addf(out, "%s%s%s: %d jobs, output %s", sget(doc, "acq"),
		       *sget(doc, "group") ? "/" : "", sget(doc, "group"), cJSON_GetArraySize(jobs),
		       sget(doc, "output_root"));
	if (cJSON_IsTrue(get(doc, "paused")))
		sq_strbuf_adds(out, ", PAUSED");
	if (nget(doc, "dead_total"))
		sq_strbuf_addf(out, ", %lld dead letter(s)", nget(doc, "dead_total"));
	sq_strbuf_addf(out, "\n%-28s %-12s %-19s %5s %-16s %-12s %s\n", "JOB", "STAGE", "STATUS",
		       "TRIES", "HOST", "UPDATED", "ERROR");
	cJSON_ArrayForEach(j, jobs)
	{
		sq_strbuf_addf(out, "%-28s %-12s %-19s %5lld %-16s ", sget(j, "jid"),
			       sget(j, "stage"), sget(j, "status"), nget(j, "attempts"),
			       sget(j, "host"));
		add_age(out, now, nget(j, "updated_ms"));
		sq_strbuf_adds(out, "  ");
		if (sq_job_state_parse(sget(j, "state")) != SQ_JOB_CANCELLED)
			add_clean(out, sget(j, "error"), ERROR_COL_MAX);
		sq_strbuf_addch(out, '\n');
	}
}

/* ---- show: one job ---- */

static void show_history(const cJSON *hist, struct sq_strbuf *out)
{
	const cJSON *h;

	if (!cJSON_GetArraySize(hist))
		return;
	sq_strbuf_adds(out, "history (oldest first):\n");
	cJSON_ArrayForEach(h, hist)
	{
		char when[32];
		long long start = nget(h, "start_ms"), end = nget(h, "end_ms");

		fmt_time(start ? start : end, when, sizeof(when));
		sq_strbuf_addf(out, "  %-12s #%-3lld %-16s %s %7.1fs  %s", sget(h, "stage"),
			       nget(h, "attempt"), sget(h, "host"), when,
			       start ? (double)(end - start) / 1000.0 : 0.0, sget(h, "outcome"));
		if (*sget(h, "error")) {
			sq_strbuf_adds(out, ": ");
			add_clean(out, sget(h, "error"), ERROR_COL_MAX * 2);
		}
		sq_strbuf_addch(out, '\n');
	}
}

/* A number as people read it: a time for an epoch in ms ("created_ms"), whole
 * numbers whole, others to 6 digits. */
static void add_number(struct sq_strbuf *out, const cJSON *e)
{
	double v = e->valuedouble;
	size_t klen = e->string ? strlen(e->string) : 0;
	char when[32];

	if (klen > 3 && strcmp(e->string + klen - 3, "_ms") == 0 && v > 1e12) {
		fmt_time((long long)v, when, sizeof(when));
		sq_strbuf_adds(out, when);
	} else if (v == (double)(long long)v && v < 1e15 && v > -1e15) {
		sq_strbuf_addf(out, "%lld", (long long)v);
	} else {
		sq_strbuf_addf(out, "%.6g", v);
	}
}

/* "key value" for each scalar of o; a string array joined. */
static void add_scalars(struct sq_strbuf *out, const cJSON *o)
{
	const cJSON *e;
	int first = 1;

	cJSON_ArrayForEach(e, o)
	{
		if (cJSON_IsObject(e) || (cJSON_IsArray(e) && !cJSON_IsString(e->child)))
			continue;
		sq_strbuf_adds(out, first ? "" : ", ");
		first = 0;
		sq_strbuf_addf(out, "%s ", e->string ? e->string : "");
		if (cJSON_IsString(e)) {
			add_clean(out, e->valuestring, ERROR_COL_MAX);
		} else if (cJSON_IsArray(e)) {
			for (const cJSON *s = e->child; s; s = s->next)
				if (cJSON_IsString(s))
					sq_strbuf_addf(out, "%s%s", s == e->child ? "" : " ",
						       s->valuestring);
		} else if (cJSON_IsNumber(e)) {
			add_number(out, e);
		} else {
			sq_strbuf_adds(out, cJSON_IsTrue(e)   ? "true"
					    : cJSON_IsNull(e) ? "null"
							      : "false");
		}
	}
}

static void show_record(const char *stage, const cJSON *rec, struct sq_strbuf *out)
{
	const cJSON *e;

	if (!cJSON_IsObject(rec)) {
		sq_strbuf_addf(out, "  %s: no record\n", stage);
		return;
	}
	sq_strbuf_addf(out, "  %s: ", stage);
	add_scalars(out, rec);
	sq_strbuf_addch(out, '\n');
	cJSON_ArrayForEach(e, rec)
	{
		if (!cJSON_IsObject(e))
			continue;
		sq_strbuf_addf(out, "    %s: ", e->string);
		add_scalars(out, e);
		sq_strbuf_addch(out, '\n');
	}
}

static void show_disk(const cJSON *disk, struct sq_strbuf *out)
{
	const cJSON *e, *w = get(disk, "warnings");

	if (cJSON_GetArraySize(w)) {
		sq_strbuf_adds(out, "warnings:\n");
		cJSON_ArrayForEach(e, w)
		{
			sq_strbuf_adds(out, "  - ");
			add_clean(out, cJSON_IsString(e) ? e->valuestring : "", 0);
			sq_strbuf_addch(out, '\n');
		}
	}
	if (!cJSON_IsTrue(get(disk, "local"))) {
		sq_strbuf_addf(out, "outputs: %s (not on this host's filesystem)\n",
			       sget(disk, "outdir"));
		return;
	}
	sq_strbuf_adds(out, "records (quality figures and provenance):\n");
	cJSON_ArrayForEach(e, get(disk, "records")) show_record(e->string, e, out);
	sq_strbuf_addf(out, "files: %s %s %s\n",
		       *sget(disk, "ply") ? sget(disk, "ply") : "(no cloud)",
		       sget(disk, "preview_png"), sget(disk, "preview_ply"));
	cJSON_ArrayForEach(e, get(disk, "logs"))
	{
		sq_strbuf_addf(out, "log tail (%s/%s.log):\n", sget(disk, "outdir"), e->string);
		for (const char *s = e->valuestring, *nl; s && *s;
		     s = nl ? nl + 1 : s + strlen(s)) {
			char *line;

			nl = strchr(s, '\n');
			line = nl ? xstrndup(s, (size_t)(nl - s)) : xstrdup(s);
			sq_strbuf_adds(out, "  | ");
			add_clean(out, line, 0);
			sq_strbuf_addch(out, '\n');
			free(line);
		}
	}
}

static void show_job(const cJSON *doc, struct sq_strbuf *out)
{
	const cJSON *job = get(doc, "job"), *d;
	long long now = nget(doc, "now_ms");
	char claimed[32];

	sq_strbuf_addf(out, "%s/%s: %s%s%s, %s at %s%s\n", sget(doc, "acq"), sget(job, "name"),
		       strcmp(sget(job, "kind"), "task") == 0 ? "task of group " : "stitch ",
		       sget(job, "group"), *sget(job, "group") ? "" : "of the acquisition",
		       sget(doc, "status"), sget(job, "stage"),
		       cJSON_IsTrue(get(doc, "paused")) ? " (acquisition PAUSED)" : "");
	sq_strbuf_addf(out, "  output    %s\n  version   %s\n", sget(job, "outdir"),
		       sget(job, "version"));
	sq_strbuf_addf(out, "  attempts  %lld of %lld (%lld errors, %lld crashes)\n",
		       nget(job, "attempts"), nget(job, "max_attempts"), nget(job, "errors"),
		       nget(job, "crashes"));
	fmt_time(nget(job, "claimed_ms"), claimed, sizeof(claimed));
	sq_strbuf_addf(out, "  host      %s  claimed %s  updated ",
		       *sget(job, "host") ? sget(job, "host") : "-", claimed);
	add_age(out, now, nget(job, "updated_ms"));
	sq_strbuf_addch(out, '\n');
	if (*sget(job, "error")) {
		sq_strbuf_adds(out, "  error     ");
		add_clean(out, sget(job, "error"), 0);
		sq_strbuf_addch(out, '\n');
	}
	show_history(get(doc, "history"), out);
	cJSON_ArrayForEach(d, get(doc, "dead"))
	{
		sq_strbuf_adds(out, "dead letter: ");
		add_clean(out, sget(d, "error"), 0);
		sq_strbuf_addch(out, '\n');
	}
	if (get(doc, "disk"))
		show_disk(get(doc, "disk"), out);
}

/* ---- the actions ---- */

static void show_cancel(const struct sq_ctl_req *r, const cJSON *doc, struct sq_strbuf *out)
{
	const cJSON *list = get(doc, "cancelled"), *e;
	int n = cJSON_GetArraySize(list), running = 0;

	sq_strbuf_addf(out, "cancelled %d job(s) of %s%s%s", n, r->acq, r->target ? "/" : "",
		       r->target ? r->target : "");
	cJSON_ArrayForEach(e, list)
	{
		int was_running = sq_job_state_parse(sget(e, "was")) == SQ_JOB_LEASED;

		running += was_running;
		sq_strbuf_addf(out, "%s%s (%s, was %s%s%s)", e == list->child ? ": " : ", ",
			       sget(e, "jid"), sget(e, "stage"),
			       was_running ? "running on " : sget(e, "was"),
			       was_running ? sget(e, "host") : "", "");
	}
	sq_strbuf_addch(out, '\n');
	if (running)
		sq_strbuf_addf(out,
			       "%d running job(s) fenced: their workers stop them within "
			       "seconds; their outputs so far are kept\n",
			       running);
	if (nget(doc, "unchanged"))
		sq_strbuf_addf(out, "left as they were: %lld (done or already cancelled)\n",
			       nget(doc, "unchanged"));
	cJSON_ArrayForEach(e, get(doc, "queued")) sq_strbuf_addf(
	    out, "re-planned: %s queued without the cancelled jobs\n", e->valuestring);
}

static void show_retry(const struct sq_ctl_req *r, const cJSON *doc, struct sq_strbuf *out)
{
	const cJSON *list = get(doc, "retried"), *e;

	sq_strbuf_addf(out, "sent %d job(s) of %s%s%s back to their queue",
		       cJSON_GetArraySize(list), r->acq, r->target ? "/" : "",
		       r->target ? r->target : "");
	cJSON_ArrayForEach(e, list)
	    sq_strbuf_addf(out, "%s%s (%s, was %s)", e == list->child ? ": " : ", ", sget(e, "jid"),
			   sget(e, "stage"), sget(e, "was"));
	sq_strbuf_addch(out, '\n');
}

static void show_workers(const cJSON *doc, struct sq_strbuf *out)
{
	const cJSON *w;
	long long now = nget(doc, "now_ms");

	if (!cJSON_GetArraySize(get(doc, "workers")))
		sq_strbuf_adds(out, "no worker registered\n");
	else
		sq_strbuf_addf(out, "%-36s %-16s %7s %-24s %-4s %-14s %s\n", "WORKER", "HOST",
			       "PID", "STAGES", "GPU", "HEARTBEAT", "JOB");
	cJSON_ArrayForEach(w, get(doc, "workers"))
	{
		sq_strbuf_addf(out, "%-36s %-16s %7lld %-24s %-4s ", sget(w, "id"), sget(w, "host"),
			       nget(w, "pid"), sget(w, "stages"),
			       *sget(w, "gpu") ? sget(w, "gpu") : "-");
		add_age(out, now, nget(w, "last_beat_ms"));
		sq_strbuf_addf(out, "%s  %s\n", cJSON_IsTrue(get(w, "alive")) ? "" : " DEAD",
			       *sget(w, "job") ? sget(w, "job") : "idle");
	}
	cJSON_ArrayForEach(w, get(doc, "forgotten"))
	    sq_strbuf_addf(out, "forgot dead worker %s\n", w->valuestring);
}

static void show_forget(const cJSON *doc, struct sq_strbuf *out)
{
	const cJSON *e;

	if (!cJSON_IsTrue(get(doc, "known"))) {
		sq_strbuf_addf(out, "%s is not known to Redis: nothing to forget\n",
			       sget(doc, "acq"));
		return;
	}
	sq_strbuf_addf(out, "forgot %s: %lld keys removed from Redis; outputs on disk untouched\n",
		       sget(doc, "acq"), nget(doc, "keys"));
	cJSON_ArrayForEach(e, get(doc, "fenced"))
	    sq_strbuf_addf(out, "stopped running job %s\n", e->valuestring);
}

static void render(const struct sq_ctl_req *r, const cJSON *doc, struct sq_strbuf *out)
{
	int changed = cJSON_IsTrue(get(doc, "changed"));

	switch (r->verb) {
	case SQ_CTL_SHOW:
		if (get(doc, "job"))
			show_job(doc, out);
		else
			show_overview(doc, out);
		break;
	case SQ_CTL_CANCEL:
		show_cancel(r, doc, out);
		break;
	case SQ_CTL_PAUSE:
		sq_strbuf_addf(out,
			       changed ? "paused %s: workers stop claiming its jobs; running "
					 "ones finish\n"
				       : "%s was already paused\n",
			       r->acq);
		break;
	case SQ_CTL_RESUME:
		sq_strbuf_addf(out, changed ? "resumed %s\n" : "%s was not paused\n", r->acq);
		break;
	case SQ_CTL_RETRY:
		show_retry(r, doc, out);
		break;
	case SQ_CTL_CLEAR:
		sq_strbuf_addf(out, "dropped %lld dead letter(s) of %s (the jobs stay failed)\n",
			       nget(doc, "cleared"), r->acq);
		break;
	case SQ_CTL_FORGET:
		show_forget(doc, out);
		break;
	default:
		show_workers(doc, out);
	}
}

int sq_ctl_text(const struct sq_ctl_req *r, const char *doc, struct sq_strbuf *out,
		struct sq_err *err)
{
	cJSON *d = cJSON_Parse(doc);

	if (!cJSON_IsObject(d)) {
		cJSON_Delete(d);
		return sq_error(err, SQ_ERR_REDIS, "%s returned no document",
				sq_ctl_verbs[r->verb].name);
	}
	render(r, d, out);
	cJSON_Delete(d);
	return 0;
}
