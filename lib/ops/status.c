/* status.c - scanq-status's model and renderer: snapshot JSON to console text.
 *
 * Parsing is lenient on purpose: the snapshot is produced by a Lua script that
 * may gain fields, empty arrays come back as {} from Lua's cjson, and numbers
 * read from Redis hashes may arrive as strings. A field that is missing reads
 * as 0 or "". Rendering builds each line apart, then blanks control characters
 * and cuts it to the terminal width, so a long error or an escape sequence in
 * the data can never wrap or garble the live view. */
#include "ops/status.h"
#include "base/xalloc.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

#define MIN_WIDTH 20
#define JID_COL_MAX 28
#define HOST_COL_MAX 20
#define ID_COL_MAX 36

/* ---- parsing ---- */

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static long long num(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	if (cJSON_IsNumber(v))
		return (long long)v->valuedouble;
	if (cJSON_IsString(v) && v->valuestring)
		return strtoll(v->valuestring, NULL, 10);
	return 0;
}

/* Returns new string: the field as text, "" when absent or null. */
static char *str(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	if (cJSON_IsString(v) && v->valuestring)
		return xstrdup(v->valuestring);
	if (cJSON_IsNumber(v))
		return xasprintf("%lld", (long long)v->valuedouble);
	return xstrdup("");
}

/* Like str() but NULL for absent, null or "". */
static char *str_or_null(const cJSON *o, const char *key)
{
	char *s = str(o, key);

	if (!*s) {
		free(s);
		return NULL;
	}
	return s;
}

/* Number of entries of a list that may be an array or, when empty, {}. */
static size_t list_len(const cJSON *a)
{
	return cJSON_IsArray(a) || cJSON_IsObject(a) ? (size_t)cJSON_GetArraySize(a) : 0;
}

/* First entry of such a list (then ->next), NULL if none. */
static const cJSON *first(const cJSON *a)
{
	return list_len(a) ? a->child : NULL;
}

static void parse_running(struct sq_status_running *r, const cJSON *o)
{
	r->jid = str(o, "jid");
	r->kind = str(o, "kind");
	r->stage = str(o, "stage");
	r->owner = str(o, "owner");
	r->host = str(o, "host");
	r->claimed_ms = num(o, "claimed_ms");
	r->lease_until_ms = num(o, "lease_until_ms");
	r->progress_done = num(o, "progress_done");
	r->progress_total = num(o, "progress_total");
	r->attempt = num(o, "attempt");
}

static void parse_dead(struct sq_status_dead *d, const cJSON *o)
{
	d->jid = str(o, "jid");
	d->stage = str(o, "stage");
	d->error = str(o, "error");
	d->host = str(o, "host");
	d->attempts = num(o, "attempts");
	d->time_ms = num(o, "time_ms");
}

static void parse_warned(struct sq_status_warned *w, const cJSON *o)
{
	const cJSON *list = get(o, "warnings");
	const cJSON *first = list_len(list) ? list->child : NULL;

	w->jid = str(o, "jid");
	w->stage = str(o, "stage");
	w->warning = xstrdup(cJSON_IsString(first) ? first->valuestring : "");
	w->nwarnings = (long long)list_len(list);
	w->time_ms = num(o, "time_ms");
}

static void parse_warned_list(struct sq_status_acq *a, const cJSON *o)
{
	const cJSON *list = get(o, "warned"), *e;
	size_t i = 0;

	a->warned = xcalloc(list_len(list), sizeof(*a->warned));
	for (e = first(list); e; e = e->next)
		parse_warned(&a->warned[i++], e);
	a->nwarned = i;
	a->warned_total = num(o, "warned_total");
	a->paused = cJSON_IsTrue(get(o, "paused"));
}

static void parse_blocked(struct sq_status_blocked *b, const cJSON *o)
{
	b->jid = str(o, "jid");
	b->stage = str(o, "stage");
	b->reason = str(o, "reason");
}

/* A list of strings (other entries skipped); *n receives how many. */
static char **parse_strings(const cJSON *a, size_t *n)
{
	char **v = xcalloc(list_len(a) + 1, sizeof(*v));
	const cJSON *e;

	*n = 0;
	for (e = first(a); e; e = e->next)
		if (cJSON_IsString(e) && e->valuestring)
			v[(*n)++] = xstrdup(e->valuestring);
	return v;
}

static void parse_acq(struct sq_status_acq *a, const cJSON *o)
{
	const cJSON *stages = get(o, "stages"), *e;
	const cJSON *run = get(o, "running"), *dead = get(o, "dead");
	size_t i;

	a->name = str(o, "name");
	a->tasks = num(o, "tasks");
	a->groups = num(o, "groups");
	for (i = 0; i < SQ_STAGE_COUNT; i++) {
		const cJSON *c = get(stages, sq_stage_name((enum sq_stage)i));

		a->stages[i] = (struct sq_status_counts){
		    num(c, "queued"),	num(c, "running"),   num(c, "done"),	num(c, "failed"),
		    num(c, "retrying"), num(c, "cancelled"), num(c, "warnings")};
	}
	a->running = xcalloc(list_len(run), sizeof(*a->running));
	i = 0;
	for (e = first(run); e; e = e->next)
		parse_running(&a->running[i++], e);
	a->nrunning = i;
	a->dead = xcalloc(list_len(dead), sizeof(*a->dead));
	i = 0;
	for (e = first(dead); e; e = e->next)
		parse_dead(&a->dead[i++], e);
	a->ndead = i;
	a->dead_total = num(o, "dead_total");
	if (a->dead_total < (long long)a->ndead)
		a->dead_total = (long long)a->ndead;
	parse_warned_list(a, o);
	run = get(o, "blocked");
	a->blocked = xcalloc(list_len(run), sizeof(*a->blocked));
	i = 0;
	for (e = first(run); e; e = e->next)
		parse_blocked(&a->blocked[i++], e);
	a->nblocked = i;
	a->problems = parse_strings(get(o, "problems"), &a->nproblems);
}

static void parse_worker(struct sq_status_worker *w, const cJSON *o)
{
	w->id = str(o, "id");
	w->host = str(o, "host");
	w->stages = str(o, "stages");
	w->gpu = str_or_null(o, "gpu");
	w->job = str_or_null(o, "job");
	w->pid = num(o, "pid");
	w->last_beat_ms = num(o, "last_beat_ms");
	w->started_ms = num(o, "started_ms");
}

void sq_status_init(struct sq_status *st)
{
	memset(st, 0, sizeof(*st));
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void sq_status_release(struct sq_status *st)
{
	for (size_t i = 0; i < st->nacqs; i++) {
		struct sq_status_acq *a = &st->acqs[i];

		for (size_t k = 0; k < a->nblocked; k++)
			free(a->blocked[k].jid), free(a->blocked[k].stage),
			    free(a->blocked[k].reason);
		free(a->blocked);
		free_strings(a->problems, a->nproblems);
		for (size_t k = 0; k < a->nrunning; k++) {
			struct sq_status_running *r = &a->running[k];

			free(r->jid), free(r->kind), free(r->stage), free(r->owner), free(r->host);
		}
		for (size_t k = 0; k < a->ndead; k++) {
			struct sq_status_dead *d = &a->dead[k];

			free(d->jid), free(d->stage), free(d->error), free(d->host);
		}
		for (size_t k = 0; k < a->nwarned; k++) {
			struct sq_status_warned *w = &a->warned[k];

			free(w->jid), free(w->stage), free(w->warning);
		}
		free(a->warned);
		free(a->running);
		free(a->dead);
		free(a->name);
	}
	for (size_t i = 0; i < st->nworkers; i++) {
		struct sq_status_worker *w = &st->workers[i];

		free(w->id), free(w->host), free(w->stages), free(w->gpu), free(w->job);
	}
	free(st->acqs);
	free(st->workers);
	free_strings(st->problems, st->nproblems);
	sq_status_init(st);
}

int sq_status_parse(struct sq_status *st, const char *json, struct sq_err *err)
{
	cJSON *doc = json ? cJSON_Parse(json) : NULL;
	const cJSON *acqs, *workers, *e;
	size_t i;

	sq_status_release(st);
	if (!cJSON_IsObject(doc) || !cJSON_IsNumber(get(doc, "now_ms"))) {
		cJSON_Delete(doc);
		return sq_error(err, SQ_ERR_REDIS, "status snapshot is not a snapshot document");
	}
	st->now_ms = num(doc, "now_ms");
	acqs = get(doc, "acquisitions");
	st->acqs = xcalloc(list_len(acqs), sizeof(*st->acqs));
	i = 0;
	for (e = first(acqs); e; e = e->next)
		parse_acq(&st->acqs[i++], e);
	st->nacqs = i;
	workers = get(doc, "workers");
	st->workers = xcalloc(list_len(workers), sizeof(*st->workers));
	i = 0;
	for (e = first(workers); e; e = e->next)
		parse_worker(&st->workers[i++], e);
	st->nworkers = i;
	st->problems = parse_strings(get(doc, "problems"), &st->nproblems);
	cJSON_Delete(doc);
	return 0;
}

/* ---- lines that fit ---- */

struct out {
	struct sq_strbuf *sb;
	struct sq_strbuf line; /* the line being built */
	int width;
	int ascii;
	size_t nlines;
};

static size_t utf8_cols(const char *s, size_t len)
{
	size_t cols = 0;

	for (size_t i = 0; i < len; i++)
		cols += ((unsigned char)s[i] & 0xc0) != 0x80;
	return cols;
}

/* Byte length of the first `cols` characters of s. */
static size_t utf8_prefix(const char *s, size_t len, size_t cols)
{
	size_t i = 0;

	for (size_t c = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && c++ == cols)
			break;
	}
	return i;
}

/* Ends the line being built: blanks control characters, cuts it to the width
 * with an ellipsis, drops trailing blanks. */
static void emit(struct out *o)
{
	char *s = o->line.buf;
	size_t len = o->line.len, cols;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = ' ';
	cols = utf8_cols(s, len);
	if (cols > (size_t)o->width) {
		size_t keep = (size_t)o->width - (o->ascii ? 3 : 1);

		len = utf8_prefix(s, len, keep);
		while (len && s[len - 1] == ' ')
			len--;
		sq_strbuf_add(o->sb, s, len);
		sq_strbuf_adds(o->sb, o->ascii ? "..." : "\u2026");
	} else {
		while (len && s[len - 1] == ' ')
			len--;
		sq_strbuf_add(o->sb, s, len);
	}
	sq_strbuf_addch(o->sb, '\n');
	sq_strbuf_reset(&o->line);
	o->nlines++;
}

/* Returns new string: s on one line, each line break (and the indent after it)
 * shown as " | " - a backend's log tail inside an error stays readable. */
static char *one_line(const char *s)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;

	while (*s) {
		if (*s == '\n' || *s == '\r') {
			while (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t')
				s++;
			if (*s)
				sq_strbuf_adds(&sb, " | ");
			continue;
		}
		sq_strbuf_addch(&sb, *s++);
	}
	return sq_strbuf_detach(&sb);
}

/* ---- pieces ---- */

void sq_status_fmt_age(long long ms, char *buf, size_t size)
{
	long long s = ms > 0 ? ms / 1000 : 0;

	if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

/* Appends "[#####.....]": cells cells, done/total of them filled. */
static void add_bar(struct sq_strbuf *sb, long long done, long long total, int cells)
{
	long long fill = total > 0 ? done * cells / total : 0;

	if (fill < 0)
		fill = 0;
	if (fill > cells)
		fill = cells;
	sq_strbuf_addch(sb, '[');
	for (int i = 0; i < cells; i++)
		sq_strbuf_addch(sb, i < fill ? '#' : '.');
	sq_strbuf_addch(sb, ']');
}

/* How many runs of stage s finishing the acquisition takes: a job cancelled at
 * a stage runs neither it nor the stages after it. */
static long long stage_expected(const struct sq_status_acq *a, enum sq_stage s)
{
	long long n;

	if (s == SQ_STAGE_STITCH) /* one per group, plus the final one when >= 2 */
		return a->groups + (a->groups >= 2) - a->stages[SQ_STAGE_STITCH].cancelled;
	n = a->tasks - a->stages[SQ_STAGE_EXTRACT].cancelled;
	if (s == SQ_STAGE_RECONSTRUCT)
		n -= a->stages[SQ_STAGE_RECONSTRUCT].cancelled;
	return n;
}

/* 1 when the stage table needs its cancelled and warned columns. */
static int has_marks(const struct sq_status_acq *a)
{
	for (int s = 0; s < SQ_STAGE_COUNT; s++)
		if (a->stages[s].cancelled || a->stages[s].warnings)
			return 1;
	return 0;
}

static int clamp_col(size_t len, int max)
{
	return len > (size_t)max ? max : (int)len;
}

/* ---- sections ---- */

static void render_acq_head(struct out *o, const struct sq_status_acq *a)
{
	long long done = 0, total = 0;
	struct sq_strbuf *l = &o->line;

	for (int s = 0; s < SQ_STAGE_COUNT; s++) {
		long long want = stage_expected(a, (enum sq_stage)s);

		total += want;
		done += a->stages[s].done < want ? a->stages[s].done : want;
	}
	sq_strbuf_addf(l, "%s  %s%lld task%s in %lld group%s  ", a->name,
		       a->paused ? "PAUSED  " : "", a->tasks, a->tasks == 1 ? "" : "s", a->groups,
		       a->groups == 1 ? "" : "s");
	if (total > 0) {
		add_bar(l, done, total, o->width >= 90 ? 30 : o->width >= 70 ? 20 : 10);
		sq_strbuf_addf(l, " %3lld%%  %lld/%lld steps", done * 100 / total, done, total);
	} else {
		sq_strbuf_adds(l, "(no tasks)");
	}
	if (a->dead_total)
		sq_strbuf_addf(l, "  %lld dead", a->dead_total);
	emit(o);
}

static void render_stages(struct out *o, const struct sq_status_acq *a)
{
	int marks = has_marks(a);

	sq_strbuf_addf(&o->line, "  %-12s %7s %8s %11s %7s %9s", "stage", "queued", "running",
		       "done", "failed", "retrying");
	if (marks)
		sq_strbuf_addf(&o->line, " %9s %6s", "cancelled", "warned");
	emit(o);
	for (int s = 0; s < SQ_STAGE_COUNT; s++) {
		const struct sq_status_counts *c = &a->stages[s];
		char done[48];

		snprintf(done, sizeof(done), "%lld/%lld", c->done,
			 stage_expected(a, (enum sq_stage)s));
		sq_strbuf_addf(&o->line, "  %-12s %7lld %8lld %11s %7lld %9lld",
			       sq_stage_name((enum sq_stage)s), c->queued, c->running, done,
			       c->failed, c->retrying);
		if (marks)
			sq_strbuf_addf(&o->line, " %9lld %6lld", c->cancelled, c->warnings);
		emit(o);
	}
}

static void add_progress(struct out *o, const struct sq_status_running *r)
{
	if (r->progress_total > 0) {
		add_bar(&o->line, r->progress_done, r->progress_total, 10);
		sq_strbuf_addf(&o->line, " %lld/%lld", r->progress_done, r->progress_total);
	} else {
		sq_strbuf_adds(&o->line, o->ascii ? "-" : "\u2014");
	}
}

static void render_running(struct out *o, const struct sq_status_acq *a, long long now_ms)
{
	size_t jw = 0, hw = 0;

	if (!a->nrunning) {
		sq_strbuf_adds(&o->line, "  running: none");
		emit(o);
		return;
	}
	for (size_t i = 0; i < a->nrunning; i++) {
		const struct sq_status_running *r = &a->running[i];
		size_t hl = strlen(*r->host ? r->host : r->owner), jl = strlen(r->jid);

		jw = jl > jw ? jl : jw;
		hw = hl > hw ? hl : hw;
	}
	sq_strbuf_addf(&o->line, "  running (%zu):", a->nrunning);
	emit(o);
	for (size_t i = 0; i < a->nrunning; i++) {
		const struct sq_status_running *r = &a->running[i];
		char age[32] = "?";

		if (r->claimed_ms > 0)
			sq_status_fmt_age(now_ms - r->claimed_ms, age, sizeof(age));
		sq_strbuf_addf(&o->line, "    %-*s %-11s %-*s %6s  ", clamp_col(jw, JID_COL_MAX),
			       r->jid, r->stage, clamp_col(hw, HOST_COL_MAX),
			       *r->host ? r->host : r->owner, age);
		add_progress(o, r);
		if (r->attempt > 1)
			sq_strbuf_addf(&o->line, "  try %lld", r->attempt);
		if (r->lease_until_ms > 0 && r->lease_until_ms < now_ms)
			sq_strbuf_adds(&o->line, "  lease expired");
		emit(o);
	}
}

static void render_dead(struct out *o, const struct sq_status_acq *a, long long now_ms)
{
	size_t jw = 0, hw = 0;

	if (!a->dead_total)
		return;
	for (size_t i = 0; i < a->ndead; i++) {
		size_t jl = strlen(a->dead[i].jid), hl = strlen(a->dead[i].host);

		jw = jl > jw ? jl : jw;
		hw = hl > hw ? hl : hw;
	}
	sq_strbuf_addf(&o->line, "  dead letters (%lld, newest first):", a->dead_total);
	emit(o);
	for (size_t i = 0; i < a->ndead; i++) {
		const struct sq_status_dead *d = &a->dead[i];
		char *err = one_line(d->error);
		char age[32] = "?";

		if (d->time_ms > 0)
			sq_status_fmt_age(now_ms - d->time_ms, age, sizeof(age));
		sq_strbuf_addf(&o->line, "    %-*s %-11s %-*s %2lld tr%s %6s ago  %s",
			       clamp_col(jw, JID_COL_MAX), d->jid, d->stage,
			       clamp_col(hw, HOST_COL_MAX), d->host, d->attempts,
			       d->attempts == 1 ? "y  " : "ies", age, err);
		emit(o);
		free(err);
	}
	if ((long long)a->ndead < a->dead_total) {
		sq_strbuf_addf(&o->line, "    %s and %lld more", o->ascii ? "..." : "\u2026",
			       a->dead_total - (long long)a->ndead);
		emit(o);
	}
}

static void render_warned(struct out *o, const struct sq_status_acq *a, long long now_ms)
{
	size_t jw = 0;

	if (!a->warned_total)
		return;
	for (size_t i = 0; i < a->nwarned; i++)
		jw = strlen(a->warned[i].jid) > jw ? strlen(a->warned[i].jid) : jw;
	sq_strbuf_addf(&o->line, "  done with warnings (%lld, newest first):", a->warned_total);
	emit(o);
	for (size_t i = 0; i < a->nwarned; i++) {
		const struct sq_status_warned *w = &a->warned[i];
		char *text = one_line(w->warning);
		char age[32] = "?";

		if (w->time_ms > 0)
			sq_status_fmt_age(now_ms - w->time_ms, age, sizeof(age));
		sq_strbuf_addf(&o->line, "    %-*s %-11s %6s ago  %s", clamp_col(jw, JID_COL_MAX),
			       w->jid, w->stage, age, text);
		if (w->nwarnings > 1)
			sq_strbuf_addf(&o->line, " (+%lld more)", w->nwarnings - 1);
		emit(o);
		free(text);
	}
}

#define BLOCKED_SHOWN 5

/* Queued jobs no live worker can take, with why: a job that waits forever
 * must say so. */
static void render_blocked(struct out *o, const struct sq_status_acq *a)
{
	for (size_t i = 0; i < a->nblocked && i < BLOCKED_SHOWN; i++) {
		sq_strbuf_addf(&o->line, "  waiting: %s (%s) %s", a->blocked[i].jid,
			       a->blocked[i].stage, a->blocked[i].reason);
		emit(o);
	}
	if (a->nblocked > BLOCKED_SHOWN) {
		sq_strbuf_addf(&o->line, "  %s and %zu more waiting for such a worker",
			       o->ascii ? "..." : "\u2026", a->nblocked - BLOCKED_SHOWN);
		emit(o);
	}
}

/* What is wrong in Redis, one "warning:" line each. */
static void render_problems(struct out *o, const char *indent, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sq_strbuf_addf(&o->line, "%swarning: %s", indent, v[i]);
		emit(o);
	}
}

static void render_workers(struct out *o, const struct sq_status *st, long long now_ms,
			   long long beat_ms)
{
	size_t iw = 0, sw = 0, stale = 0;

	for (size_t i = 0; i < st->nworkers; i++) {
		const struct sq_status_worker *w = &st->workers[i];

		iw = strlen(w->id) > iw ? strlen(w->id) : iw;
		sw = strlen(w->stages) > sw ? strlen(w->stages) : sw;
		stale += now_ms - w->last_beat_ms > 3 * beat_ms;
	}
	if (!st->nworkers) {
		sq_strbuf_adds(&o->line, "workers: none registered");
		emit(o);
		return;
	}
	sq_strbuf_addf(&o->line, "workers (%zu", st->nworkers);
	if (stale)
		sq_strbuf_addf(&o->line, ", %zu stale", stale);
	sq_strbuf_adds(&o->line, "):");
	emit(o);
	for (size_t i = 0; i < st->nworkers; i++) {
		const struct sq_status_worker *w = &st->workers[i];
		char age[32], gpu[32] = "cpu";

		sq_status_fmt_age(now_ms - w->last_beat_ms, age, sizeof(age));
		if (w->gpu)
			snprintf(gpu, sizeof(gpu), "gpu %s", w->gpu);
		sq_strbuf_addf(&o->line, "  %-*s %-*s %-7s beat %6s %-5s  %s",
			       clamp_col(iw, ID_COL_MAX), w->id, clamp_col(sw, 28), w->stages, gpu,
			       age, now_ms - w->last_beat_ms > 3 * beat_ms ? "STALE" : "",
			       w->job ? w->job : "idle");
		emit(o);
	}
}

/* Emits text wrapped at spaces to the width (at most 4 lines): an error must be
 * readable in full, not cut off at the first column limit. */
static void emit_wrapped(struct out *o, const char *text)
{
	char *s = one_line(text);
	size_t len = strlen(s), off = 0;

	for (int n = 0; off < len && n < 4; n++) {
		size_t take = utf8_prefix(s + off, len - off, (size_t)o->width);

		if (off + take < len && s[off + take] != ' ') {
			size_t sp = take;

			while (sp > 0 && s[off + sp - 1] != ' ')
				sp--;
			if (sp > 0) /* else one word wider than the screen: cut it */
				take = sp;
		}
		sq_strbuf_add(&o->line, s + off, take);
		off += take;
		while (s[off] == ' ')
			off++;
		emit(o);
	}
	free(s);
}

/* Keeps the first height-1 lines written since byte base and says what was cut. */
static void cut_to_height(struct out *o, size_t base, int height)
{
	size_t keep = base, more;

	if (height <= 0 || o->nlines <= (size_t)height)
		return;
	for (int n = 0; n < height - 1; n++)
		keep = (size_t)(strchr(o->sb->buf + keep, '\n') - o->sb->buf) + 1;
	more = o->nlines - (size_t)(height - 1);
	o->sb->len = keep;
	o->sb->buf[keep] = '\0';
	sq_strbuf_addf(&o->line, "%s %zu more lines (enlarge the terminal or use --acq)",
		       o->ascii ? "..." : "\u2026", more);
	emit(o);
}

void sq_status_render(const struct sq_status *st, const struct sq_status_view *v,
		      struct sq_strbuf *out)
{
	struct out o = {.sb = out, .line = SQ_STRBUF_INIT, .ascii = v->ascii};
	long long now_ms = v->now_ms > 0 ? v->now_ms : st ? st->now_ms : 0;
	long long beat_ms = v->beat_ms > 0 ? v->beat_ms : SQ_STATUS_BEAT_MS;
	size_t base = out->len;

	o.width = v->width <= 0 ? 80 : v->width < MIN_WIDTH ? MIN_WIDTH : v->width;
	if (v->title) {
		sq_strbuf_adds(&o.line, v->title);
		emit(&o);
	}
	if (v->error)
		emit_wrapped(&o, v->error);
	if (!st)
		goto out;
	emit(&o);
	if (!st->nacqs) {
		sq_strbuf_adds(&o.line, "no acquisitions (scanq-enqueue DIR adds one)");
		emit(&o);
		emit(&o);
	}
	for (size_t i = 0; i < st->nacqs; i++) {
		render_acq_head(&o, &st->acqs[i]);
		render_stages(&o, &st->acqs[i]);
		render_running(&o, &st->acqs[i], now_ms);
		render_dead(&o, &st->acqs[i], now_ms);
		render_warned(&o, &st->acqs[i], now_ms);
		render_blocked(&o, &st->acqs[i]);
		render_problems(&o, "  ", st->acqs[i].problems, st->acqs[i].nproblems);
		emit(&o);
	}
	render_workers(&o, st, now_ms, beat_ms);
	render_problems(&o, "", st->problems, st->nproblems);
out:
	cut_to_height(&o, base, v->height);
	sq_strbuf_release(&o.line);
}

int sq_status_render_json(const char *json, const struct sq_status_view *v, struct sq_strbuf *out,
			  struct sq_err *err)
{
	struct sq_status st;

	sq_status_init(&st);
	if (sq_status_parse(&st, json, err) < 0)
		return -1;
	sq_status_render(&st, v, out);
	sq_status_release(&st);
	return 0;
}

int sq_status_format_json(const char *json, int pretty, struct sq_strbuf *out, struct sq_err *err)
{
	cJSON *doc = json ? cJSON_Parse(json) : NULL;
	char *text;

	if (!doc)
		return sq_error(err, SQ_ERR_REDIS, "status snapshot is not valid JSON");
	if (pretty) {
		text = cJSON_Print(doc);
		sq_strbuf_adds(out, text);
		cJSON_free(text);
	} else {
		sq_strbuf_adds(out, json);
	}
	sq_strbuf_addch(out, '\n');
	cJSON_Delete(doc);
	return 0;
}
