/* console.c - the web console's routes (see console.h).
 *
 * Requests are answered one at a time (http.h), so the console's state - its
 * Redis connection, the shared snapshot, the remembered output directories -
 * needs no lock. Everything sent as JSON is a document the queue or detail.c
 * wrote; errors are {"error": "..."} with a status that says whose fault. */
#include "ops/console.h"
#include "base/clock.h"
#include "ops/ctl.h"
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "stage/store.h"
#include "task/task.h"
#include "web_assets.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/banned.h"

#define OUTDIRS 64		/* output directories remembered */
#define OUTDIR_TTL_MS 10000	/* how long one is trusted */
#define REDIS_RETRY_FOR_MS 1000 /* a page says Redis is down rather than hang */
#define JSON "application/json; charset=utf-8"

struct outdir {
	char *acq, *jid, *dir;
	long long at_ms;
};

struct sq_console {
	struct sq_queue_opts qo;
	char *url, *prefix, *acq, *token, *three_dir;
	long long refresh_ms;
	int max_dead;
	struct sq_queue *q;
	struct sq_store *store; /* borrowed; NULL: local outputs only */
	char *snap;
	long long snap_ms;
	struct outdir outdirs[OUTDIRS];
	size_t next_outdir;
};

static const struct {
	const char *url, *file;
} three_files[] = {
    {"/three/three.min.js", "build/three.min.js"},
    {"/three/OrbitControls.js", "examples/js/controls/OrbitControls.js"},
    {"/three/PLYLoader.js", "examples/js/loaders/PLYLoader.js"},
};

static const struct {
	const char *ext, *type;
} file_types[] = {
    {".jpg", "image/jpeg"},
    {".png", "image/png"},
    {".ply", "application/octet-stream"},
    {".json", JSON},
    {".log", "text/plain; charset=utf-8"},
};

struct sq_console *sq_console_new(const struct sq_console_opts *o)
{
	struct sq_console *c = xcalloc(1, sizeof(*c));

	c->url = o->queue.url ? xstrdup(o->queue.url) : NULL;
	c->prefix = o->queue.prefix ? xstrdup(o->queue.prefix) : NULL;
	c->qo = o->queue;
	c->qo.url = c->url;
	c->qo.prefix = c->prefix;
	c->qo.retry_for_ms = REDIS_RETRY_FOR_MS;
	c->acq = o->acq ? xstrdup(o->acq) : NULL;
	c->token = o->token && *o->token ? xstrdup(o->token) : NULL;
	c->three_dir = xstrdup(o->three_dir ? o->three_dir : SQ_CONSOLE_THREE_DIR);
	c->refresh_ms = o->refresh_ms > 0 ? o->refresh_ms : 2000;
	c->max_dead = o->max_dead > 0 ? o->max_dead : 10;
	c->store = o->store;
	return c;
}

void sq_console_free(struct sq_console *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < OUTDIRS; i++)
		free(c->outdirs[i].acq), free(c->outdirs[i].jid), free(c->outdirs[i].dir);
	sq_queue_free(c->q);
	free(c->snap);
	free(c->url);
	free(c->prefix);
	free(c->acq);
	free(c->token);
	free(c->three_dir);
	free(c);
}

/* ---- answers ---- */

static void reply_json(struct sq_http_resp *r, int status, char *doc)
{
	r->status = status;
	r->type = JSON;
	r->body = doc;
	r->len = strlen(doc);
}

static void fail(struct sq_http_resp *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct sq_http_resp *r, int status, const char *fmt, ...)
{
	char msg[SQ_ERR_MSG_MAX];
	cJSON *doc = cJSON_CreateObject();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(doc, "error", msg);
	reply_json(r, status, cJSON_PrintUnformatted(doc));
	cJSON_Delete(doc);
}

/* An action's or a query's failure: the operator's (400) or Redis's (502). */
static void fail_err(struct sq_http_resp *r, const struct sq_err *err)
{
	fail(r, err->code == SQ_ERR_INVALID ? 400 : 502, "%s", err->msg);
}

static struct sq_queue *queue(struct sq_console *c, struct sq_err *err)
{
	if (!c->q)
		c->q = sq_queue_open(&c->qo, err);
	return c->q;
}

/* A call failed on the connection: the next request starts afresh. */
static void drop_queue(struct sq_console *c, const struct sq_err *err)
{
	if (err->code == SQ_ERR_REDIS) {
		sq_queue_free(c->q);
		c->q = NULL;
	}
}

/* ---- GET /api/... ---- */

static void api_config(struct sq_console *c, struct sq_http_resp *r)
{
	cJSON *doc = cJSON_CreateObject(), *verbs = cJSON_AddArrayToObject(doc, "verbs");

	cJSON_AddBoolToObject(doc, "actions", c->token != NULL);
	cJSON_AddNumberToObject(doc, "refresh_ms", (double)c->refresh_ms);
	if (c->acq)
		cJSON_AddStringToObject(doc, "acq", c->acq);
	else
		cJSON_AddNullToObject(doc, "acq");
	for (int i = 0; i < SQ_CTL_VERB_COUNT; i++)
		if (sq_ctl_verbs[i].web)
			cJSON_AddItemToArray(verbs, cJSON_CreateString(sq_ctl_verbs[i].name));
	reply_json(r, 200, cJSON_PrintUnformatted(doc));
	cJSON_Delete(doc);
}

/* One snapshot per half refresh period, whoever asks. */
static void api_snapshot(struct sq_console *c, struct sq_http_resp *r)
{
	struct sq_err err;
	struct sq_queue *q;
	char *doc;

	if (!c->snap || sq_mono_ms() - c->snap_ms >= c->refresh_ms / 2) {
		if (!(q = queue(c, &err)) ||
		    !(doc = sq_queue_snapshot(q, c->acq, c->max_dead, &err))) {
			drop_queue(c, &err);
			fail(r, 502, "%s", err.msg);
			return;
		}
		free(c->snap);
		c->snap = doc;
		c->snap_ms = sq_mono_ms();
	}
	reply_json(r, 200, xstrdup(c->snap));
}

/* The acquisition an API call names, NULL (with a 400/404 sent) if none. */
static const char *arg_acq(struct sq_console *c, const struct sq_http_req *req,
			   struct sq_http_resp *r)
{
	const char *acq = sq_http_arg(req, "acq");

	if (!acq || !sq_name_valid(acq)) {
		fail(r, 400, "bad or missing acquisition name");
		return NULL;
	}
	if (c->acq && strcmp(acq, c->acq) != 0) {
		fail(r, 404, "this console shows only '%s'", c->acq);
		return NULL;
	}
	return acq;
}

/* Builds a scanq-ctl request for verb on acq[/target]; -1 with a 400 sent. */
static int make_req(struct sq_ctl_req *cr, enum sq_ctl_verb verb, const char *acq,
		    const char *target, struct sq_http_resp *r)
{
	char *operand = target && *target ? xasprintf("%s/%s", acq, target) : xstrdup(acq);
	struct sq_err err;
	int rc;

	sq_ctl_req_init(cr);
	cr->verb = verb;
	rc = sq_ctl_parse_operand(cr, operand, &err);
	free(operand);
	if (rc < 0)
		fail(r, 400, "%s", err.msg);
	return rc;
}

static void run_ctl(struct sq_console *c, struct sq_ctl_req *cr, struct sq_http_resp *r)
{
	struct sq_err err;
	struct sq_queue *q = queue(c, &err);
	char *doc = q ? sq_ctl_doc(q, cr, &err) : NULL;

	if (!doc) {
		drop_queue(c, &err);
		fail_err(r, &err);
		return;
	}
	reply_json(r, 200, doc);
}

static void api_show(struct sq_console *c, const struct sq_http_req *req, struct sq_http_resp *r)
{
	const char *acq = arg_acq(c, req, r);
	struct sq_ctl_req cr;

	if (!acq || make_req(&cr, SQ_CTL_SHOW, acq, sq_http_arg(req, "target"), r) < 0)
		return;
	cr.store = c->store;
	run_ctl(c, &cr, r);
	sq_ctl_req_release(&cr);
}

/* ---- GET /api/file ---- */

int sq_console_path_ok(const char *rel)
{
	const char *dot = strrchr(rel, '.');
	size_t depth = 0, comp = 0, known = 0;

	if (!*rel || strlen(rel) > 255 || *rel == '/' || !dot)
		return 0;
	for (const char *p = rel;; p++) {
		if (*p == '/' || !*p) {
			if (comp == 0 || (comp == 1 && p[-1] == '.') ||
			    (comp == 2 && p[-1] == '.' && p[-2] == '.'))
				return 0;
			if (!*p)
				break;
			depth++;
			comp = 0;
			continue;
		}
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '.' && *p != '_' && *p != '-')
			return 0;
		comp++;
	}
	for (size_t i = 0; i < sizeof(file_types) / sizeof(file_types[0]); i++)
		known |= strcmp(dot, file_types[i].ext) == 0;
	return depth <= 1 && known;
}

/* The job's output directory (new string), remembered for OUTDIR_TTL_MS. */
static char *outdir_of(struct sq_console *c, const char *acq, const char *jid, struct sq_err *err)
{
	struct outdir *o;
	struct sq_queue *q;
	cJSON *doc;
	char *json, *dir = NULL;
	const cJSON *v;

	for (size_t i = 0; i < OUTDIRS; i++) {
		o = &c->outdirs[i];
		if (o->acq && strcmp(o->acq, acq) == 0 && strcmp(o->jid, jid) == 0 &&
		    sq_mono_ms() - o->at_ms < OUTDIR_TTL_MS)
			return xstrdup(o->dir);
	}
	if (!(q = queue(c, err)) || !(json = sq_queue_show(q, acq, jid, err)))
		return NULL;
	doc = cJSON_Parse(json);
	free(json);
	v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "job"),
					     "outdir");
	if (cJSON_IsString(v) &&
	    (v->valuestring[0] == '/' || (c->store && sq_store_path_is_remote(v->valuestring))))
		dir = xstrdup(v->valuestring);
	else
		sq_error(err, SQ_ERR_INVALID, "'%s/%s' has no output directory readable here", acq,
			 jid);
	cJSON_Delete(doc);
	if (dir) {
		o = &c->outdirs[c->next_outdir++ % OUTDIRS];
		free(o->acq), free(o->jid), free(o->dir);
		*o = (struct outdir){xstrdup(acq), xstrdup(jid), xstrdup(dir), sq_mono_ms()};
	}
	return dir;
}

/* Opens dir/rel for reading if, symlinks resolved, it is a regular file inside
 * dir. Returns the fd (size in *len) or -1. */
static int open_inside(const char *dir, const char *rel, long long *len)
{
	char real_dir[PATH_MAX], real[PATH_MAX], *full = sq_path_join(dir, rel);
	size_t n;
	struct stat st;
	int fd = -1;

	if (realpath(dir, real_dir) && realpath(full, real) && (n = strlen(real_dir)) &&
	    strncmp(real, real_dir, n) == 0 && real[n] == '/')
		fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(full);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0)
		*len = (long long)st.st_size;
	return fd;
}

/* Reads dir/rel through the store into r's body (a storage host's outputs:
 * rel is checked by sq_console_path_ok, and names are all the store follows). */
static void read_remote(struct sq_console *c, const char *dir, const char *rel,
			struct sq_http_resp *r)
{
	char *full = sq_path_join(dir, rel);
	size_t len = 0;

	r->body = sq_store_read(c->store, full, &len, NULL);
	r->len = len;
	free(full);
}

static const char *type_of(const char *rel)
{
	const char *dot = strrchr(rel, '.');

	for (size_t i = 0; dot && i < sizeof(file_types) / sizeof(file_types[0]); i++)
		if (strcmp(dot, file_types[i].ext) == 0)
			return file_types[i].type;
	return "application/octet-stream";
}

static void api_file(struct sq_console *c, const struct sq_http_req *req, struct sq_http_resp *r)
{
	const char *acq = arg_acq(c, req, r), *jid = sq_http_arg(req, "jid");
	const char *rel = sq_http_arg(req, "path");
	struct sq_err err;
	char *dir;

	if (!acq)
		return;
	if (!jid || !*jid || strchr(jid, '/') || !rel || !sq_console_path_ok(rel)) {
		fail(r, 400, "bad job or path");
		return;
	}
	if (!(dir = outdir_of(c, acq, jid, &err))) {
		drop_queue(c, &err);
		fail(r, err.code == SQ_ERR_INVALID ? 404 : 502, "%s", err.msg);
		return;
	}
	if (sq_store_path_is_remote(dir))
		read_remote(c, dir, rel, r);
	else
		r->fd = open_inside(dir, rel, &r->fd_len);
	free(dir);
	if (r->fd < 0 && !r->body) {
		fail(r, 404, "no file '%s' in the outputs of '%s/%s'", rel, acq, jid);
		return;
	}
	r->type = type_of(rel);
	r->cache = "no-cache";
}

/* ---- POST /api/action ---- */

int sq_console_token_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = la > lb ? la : lb;
	unsigned char diff = la != lb;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(i < la ? a[i] : 0) ^ (unsigned char)(i < lb ? b[i] : 0);
	return diff == 0;
}

static void api_action(struct sq_console *c, const struct sq_http_req *req, struct sq_http_resp *r)
{
	const char *token = sq_http_header(req, "X-Scanq-Token"), *acq;
	int verb = sq_ctl_verb_find(sq_http_arg(req, "verb"));
	struct sq_ctl_req cr;

	if (!c->token) {
		fail(r, 403, "actions are disabled: start scanq-status with --operator-token-file");
		return;
	}
	if (!token || !sq_console_token_eq(token, c->token)) {
		fail(r, 401, "operator token missing or wrong (header X-Scanq-Token)");
		return;
	}
	if (verb < 0 || !sq_ctl_verbs[verb].web) {
		fail(r, 400, "no such action (cancel, pause, resume, retry, clear)");
		return;
	}
	if (!(acq = arg_acq(c, req, r)) ||
	    make_req(&cr, (enum sq_ctl_verb)verb, acq, sq_http_arg(req, "target"), r) < 0)
		return;
	cr.cancelled = sq_http_arg(req, "cancelled") != NULL;
	run_ctl(c, &cr, r);
	sq_ctl_req_release(&cr);
	free(c->snap); /* the next refresh shows what the action did */
	c->snap = NULL;
}

/* ---- static files ---- */

static void serve_three(struct sq_console *c, const char *path, struct sq_http_resp *r)
{
	for (size_t i = 0; i < sizeof(three_files) / sizeof(three_files[0]); i++) {
		if (strcmp(path, three_files[i].url) != 0)
			continue;
		r->fd = open_inside(c->three_dir, three_files[i].file, &r->fd_len);
		if (r->fd < 0) {
			fail(r, 404, "no '%s' in %s: install Debian's libjs-three",
			     three_files[i].file, c->three_dir);
			return;
		}
		r->type = "application/javascript; charset=utf-8";
		r->cache = "max-age=3600";
		return;
	}
	fail(r, 404, "no such file");
}

static void serve_asset(const char *path, struct sq_http_resp *r)
{
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	for (size_t i = 0; i < sq_web_nassets; i++)
		if (strcmp(path, sq_web_assets[i].path) == 0) {
			r->type = sq_web_assets[i].type;
			r->data = sq_web_assets[i].data;
			r->len = sq_web_assets[i].len;
			r->cache = "no-cache";
			return;
		}
	fail(r, 404, "no such page");
}

void sq_console_handle(void *ctx, const struct sq_http_req *req, struct sq_http_resp *r)
{
	struct sq_console *c = ctx;
	const char *path = sq_http_path(req);
	int post = strcmp(sq_http_method(req), "POST") == 0;

	if (post != (strcmp(path, "/api/action") == 0))
		fail(r, 405, post ? "only /api/action takes POST" : "/api/action takes POST");
	else if (post)
		api_action(c, req, r);
	else if (strcmp(path, "/api/config") == 0)
		api_config(c, r);
	else if (strcmp(path, "/api/snapshot") == 0)
		api_snapshot(c, r);
	else if (strcmp(path, "/api/show") == 0)
		api_show(c, req, r);
	else if (strcmp(path, "/api/file") == 0)
		api_file(c, req, r);
	else if (strncmp(path, "/three/", 7) == 0)
		serve_three(c, path, r);
	else
		serve_asset(path, r);
}
