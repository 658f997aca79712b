/* console.h - the web console behind scanq-status --http: its pages (embedded
 * from lib/ops/web/ at build time), three.js from Debian's libjs-three, and a
 * small JSON API over the queue:
 *
 *   GET  /api/config     {"actions":bool,"refresh_ms","acq":name|null,"verbs":[...]}
 *   GET  /api/snapshot   the status snapshot (queue.h), as scanq-status --json
 *   GET  /api/show?acq=A[&target=T]   scanq-ctl show's document (one job: with
 *                        its disk, detail.h)
 *   GET  /api/file?acq=A&jid=J&path=P  a file of the job's output directory:
 *                        frames/frame_NNNNNN.jpg, preview.png, preview.ply, *.json, *.log;
 *                        never a path that leaves that directory
 *   POST /api/action?verb=V&acq=A[&target=T][&cancelled=1]  cancel, pause,
 *                        resume, retry or clear, only with the operator token
 *                        in the X-Scanq-Token header (compared in constant
 *                        time); refused (403) when no token is configured
 *
 * Each API call is one Redis round trip (a file, one per job per 10 s: its
 * output directory is remembered), and snapshots are shared between browsers
 * for half a refresh period, so a refresh costs what the terminal view's does. */
#ifndef SQ_CONSOLE_H
#define SQ_CONSOLE_H

#include "base/err.h"
#include "ops/http.h"
#include "queue/queue.h"

#define SQ_CONSOLE_THREE_DIR "/usr/share/javascript/three" /* Debian libjs-three */

struct sq_store; /* stage/store.h */

struct sq_console_opts {
	struct sq_queue_opts queue; /* its own connection (strings borrowed for the call) */
	const char *acq;	    /* only this acquisition; NULL: all */
	const char *token;	    /* operator token; NULL or "": actions disabled */
	const char *three_dir;	    /* NULL: SQ_CONSOLE_THREE_DIR */
	long long refresh_ms;	    /* the pages' polling period; 0: 2000 */
	int max_dead;		    /* dead letters per acquisition in the snapshot; 0: 10 */
	/* reads outputs on a storage host (sftp:// roots; stage/store_sftp.h),
	 * borrowed; NULL: only local outputs are shown */
	struct sq_store *store;
};

struct sq_console;

/* Returns new console (free with sq_console_free); Redis is reached lazily, so a
 * console starts while Redis is down and says so on its pages. */
struct sq_console *sq_console_new(const struct sq_console_opts *o);
void sq_console_free(struct sq_console *c);

/* The sq_http handler: ctx is the console. */
void sq_console_handle(void *ctx, const struct sq_http_req *req, struct sq_http_resp *resp);

/* 1 if rel is a path the console serves from an output directory: relative,
 * components of [A-Za-z0-9._-] (not "." or ".."), at most 2 deep, of a type it
 * knows (.jpg .png .ply .json .log). Pure: for tests. */
int sq_console_path_ok(const char *rel);

/* Compares a and b in time independent of where they differ; 1 if equal. */
int sq_console_token_eq(const char *a, const char *b);

#endif
