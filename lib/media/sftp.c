/* sftp.c - remote videos read over SFTP through libssh.
 *
 * Sessions. A process keeps one SSH connection (a "link") per host, shared by
 * every file and task reading from that host; sftp_session.c keeps them, and
 * this file reads files over them. The host's mutex serialises each use of its
 * links (a libssh session is not thread-safe). When a link drops the host gets
 * a new one, and a file opened on the old one moves over on its next read: it
 * reopens the remote file and resumes at its offset, once per failure.
 *
 * Read-ahead. One 64 KiB request at a time is bound by the round trip (about
 * 3 MB/s over 20 ms); up to 16 asynchronous requests in flight per file reach
 * about 23 MB/s (more gain nothing). After a far seek the window starts at 2
 * and doubles as data is used, so the demuxer's jumps (an MP4's index at the
 * end) waste little; a short forward seek (GoPro files interleave audio and
 * metadata that extraction skips) is served from the data in flight. Each
 * request is positioned explicitly (libssh assumes the previous one was read
 * in full), never reaches past the end of the file, and its reply is always
 * read back, wanted or not.
 *
 * Replies. Requests go out through libssh (sftp_async_read_begin), but their
 * replies are read off the channel here, straight into the request buffers:
 * sftp_async_read() waits inside a packet, where neither a cancel nor a stall
 * can be noticed, and reads one more packet before it looks among those it
 * already holds. libssh's own calls (open, stat, close) would swallow replies
 * meant for us, so one file at a time (the link's owner) has requests in
 * flight, and any other use of the link first collects them into the owner's
 * buffers.
 *
 * Stalls. A wait for replies polls the channel in slices, checking
 * cancellation and the stall timeout (counted afresh whenever data comes). A
 * blocking libssh call never gives up on a connection gone silent (with a
 * timeout set, its packet reader only loops), so while one runs a watchdog
 * thread (sftp_session.c) holds its deadline and shuts the socket down when it
 * passes, which makes libssh fail at once. A link that stalled is never used
 * again. */
#include "media/sftp_internal.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "base/xalloc.h"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

#define REQ_BYTES 65536 /* larger requests hung against OpenSSH's cap */
#define MAX_INFLIGHT 16
#define START_WINDOW 2
#define POLL_SLICE_MS 100 /* how often a wait looks at cancellation */
#define STALL_DEFAULT_MS 30000
#define DROPPED (-2) /* a call failed because its link is gone (err is set) */

enum { REQ_SENT = 1, REQ_DONE };

struct req {
	uint64_t off;
	uint32_t len, got;
	int id, state;
	int status; /* the server's refusal (SSH_FX_*), 0 if none */
	uint8_t *buf;
};

struct sq_sftp_file {
	char *url;
	const char *path; /* in url */
	struct host *host;
	struct link *link;
	sftp_file h;
	uint64_t size, pos;
	long long mtime_s; /* as the server gave it at open; -1 if it did not */
	uint64_t next_off; /* where the next request starts */
	struct req r[MAX_INFLIGHT];
	int head, n, window;
	uint32_t chunk; /* request size: REQ_BYTES, or the server's cap once seen */
	int opened;
	struct sq_sftp_opts o;
	uint8_t *mem;
	struct sq_err fail;
	int failed;
};

/* ---- messages ---- */

static int stalled(const struct sq_sftp_file *f, struct sq_err *err)
{
	return sq_sftp_fail(err, SQ_ERR_TIMEOUT, f->url, "no data for %lld ms (stalled)",
			    f->o.stall_ms);
}

/* The part of a message after "cannot read 'URL': ". */
static const char *reason(const struct sq_err *e)
{
	const char *p = strstr(e->msg, "': ");

	return p ? p + 3 : e->msg;
}

/* ---- URLs ---- */

int sq_sftp_is_url(const char *url)
{
	return url && strncmp(url, "sftp://", 7) == 0;
}

int sq_sftp_url_parse(const char *url, struct url *u, struct sq_err *err)
{
	const char *auth = url + 7, *slash = strchr(auth, '/'), *at, *colon, *name;
	char *end;
	long port;

	memset(u, 0, sizeof(*u));
	if (!slash || !slash[1])
		goto bad;
	for (const char *p = auth; p < slash; p++)
		if ((unsigned char)*p <= ' ')
			goto bad;
	at = memchr(auth, '@', (size_t)(slash - auth));
	name = at ? at + 1 : auth;
	colon = memchr(name, ':', (size_t)(slash - name));
	if (at == auth || (colon ? colon : slash) == name)
		goto bad;
	if (colon) {
		port = strtol(colon + 1, &end, 10);
		if (end != slash || colon + 1 == slash || port < 1 || port > 65535)
			goto bad;
		u->port = xstrndup(colon + 1, (size_t)(slash - colon - 1));
	}
	u->user = at ? xstrndup(auth, (size_t)(at - auth)) : NULL;
	u->name = xstrndup(name, (size_t)((colon ? colon : slash) - name));
	u->path_at = (size_t)(slash - url);
	return 0;
bad:
	return sq_error(err, SQ_ERR_INVALID,
			"invalid sftp url '%s' (expected sftp://[user@]host[:port]/abs/path)", url);
}

void sq_sftp_url_release(struct url *u)
{
	free(u->user);
	free(u->name);
	free(u->port);
	memset(u, 0, sizeof(*u));
}

static int refused(const struct sq_sftp_file *f, int status, struct sq_err *err);

/* 1 if l's connection is gone (rather than a request refused). */
static int link_broken(struct link *l)
{
	return l->dead || !ssh_is_connected(l->ssh) || ssh_get_error_code(l->ssh) == SSH_FATAL ||
	       ssh_channel_is_closed(l->chan) || ssh_channel_is_eof(l->chan);
}

/* After a libssh call on l failed: stalled (cut), DROPPED or the server's no. */
static int call_failed(const struct sq_sftp_file *f, struct link *l, int cut, struct sq_err *err)
{
	char buf[256];

	if (cut) {
		sq_sftp_mark_dead(l);
		return stalled(f, err);
	}
	if (link_broken(l)) {
		sq_sftp_fail(err, SQ_ERR_IO, f->url, "connection lost: %s",
			     sq_sftp_ssh_why(l->ssh, buf, sizeof(buf)));
		sq_sftp_mark_dead(l);
		return DROPPED;
	}
	if (sftp_get_error(l->sftp) == SSH_FX_NO_SUCH_FILE ||
	    sftp_get_error(l->sftp) == SSH_FX_PERMISSION_DENIED)
		return refused(f, sftp_get_error(l->sftp), err);
	return sq_sftp_fail(err, SQ_ERR_IO, f->url, "%s",
			    sq_sftp_ssh_why(l->ssh, buf, sizeof(buf)));
}

/* ---- requests ---- */

static struct req *req_at(struct sq_sftp_file *f, int k)
{
	return &f->r[(f->head + k) % MAX_INFLIGHT];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A reply's first 13 bytes are in: length, type, id, and a DATA's length or a
 * STATUS's code. Finds its request among owner's (NULL: thrown away). */
static int reply_head(struct link *l, struct sq_sftp_file *owner)
{
	uint32_t len = be32(l->rx), id = be32(l->rx + 5), v = be32(l->rx + 9);

	l->rx_req = NULL;
	for (int k = 0; owner && k < owner->n; k++)
		if (req_at(owner, k)->state == REQ_SENT && (uint32_t)req_at(owner, k)->id == id)
			l->rx_req = req_at(owner, k);
	if (l->rx[4] == SSH_FXP_DATA)
		return len == 9 + v && v <= (l->rx_req ? l->rx_req->len : REQ_BYTES) ? 0 : -1;
	return l->rx[4] == SSH_FXP_STATUS && len >= 9 && len <= 9 + 65536 ? 0 : -1;
}

static void reply_done(struct link *l)
{
	struct req *q = l->rx_req;
	uint32_t v = be32(l->rx + 9);

	l->rx_got = 0;
	l->rx_req = NULL;
	if (!q)
		return;
	q->state = REQ_DONE;
	q->got = l->rx[4] == SSH_FXP_DATA ? v : 0;
	q->status = l->rx[4] == SSH_FXP_STATUS && v != SSH_FX_EOF ? (int)v : 0;
}

/* Reads, without waiting, what the channel holds of the replies to owner's
 * requests, straight into their buffers. Returns the bytes taken (0: none
 * there), or -1 when the channel failed or the server sent nonsense. */
static long pump(struct link *l, struct sq_sftp_file *owner)
{
	uint8_t sink[4096];
	long took = 0;

	for (;;) {
		uint32_t total = l->rx_got >= 13 ? 4 + be32(l->rx) : 13, left = total - l->rx_got;
		uint8_t *dst = l->rx + l->rx_got;
		int n;

		if (l->rx_got >= 13) {
			dst = l->rx[4] == SSH_FXP_DATA && l->rx_req
				  ? l->rx_req->buf + (l->rx_got - 13)
				  : sink;
			left = dst == sink && left > sizeof(sink) ? sizeof(sink) : left;
		}
		n = ssh_channel_read_nonblocking(l->chan, dst, left, 0);
		if (n <= 0)
			return n < 0 ? -1 : took;
		l->rx_got += (uint32_t)n;
		took += n;
		if (l->rx_got == 13 && total == 13 && reply_head(l, owner) < 0)
			return -1;
		if (l->rx_got >= 13 && l->rx_got == 4 + be32(l->rx))
			reply_done(l);
	}
}

/* The server's refusal of a read, as a message. */
static int refused(const struct sq_sftp_file *f, int status, struct sq_err *err)
{
	if (status == SSH_FX_NO_SUCH_FILE)
		return sq_sftp_fail(err, SQ_ERR_IO, f->url, "no such file");
	if (status == SSH_FX_PERMISSION_DENIED)
		return sq_sftp_fail(err, SQ_ERR_IO, f->url, "permission denied");
	return sq_sftp_fail(err, SQ_ERR_IO, f->url, "the server refused a read (sftp status %d)",
			    status);
}

/* Waits for the reply to owner's request q (owner's link; f is the file
 * waiting, whose options apply), taking in whatever replies come first. The
 * replies are read here, not by sftp_async_read(), which waits inside a packet
 * where neither a cancel nor a stall can be noticed. */
static int receive(const struct sq_sftp_file *f, struct sq_sftp_file *owner, struct req *q,
		   struct sq_err *err)
{
	struct link *l = owner->link;
	long long deadline = sq_mono_ms() + f->o.stall_ms;
	char buf[256];

	while (q->state == REQ_SENT) {
		long took = pump(l, owner);

		if (took < 0) {
			sq_sftp_fail(err, SQ_ERR_IO, f->url, "connection lost: %s",
				     sq_sftp_ssh_why(l->ssh, buf, sizeof(buf)));
			sq_sftp_mark_dead(l);
			return DROPPED;
		}
		if (took > 0) {
			deadline = sq_mono_ms() + f->o.stall_ms;
			continue;
		}
		if (sq_hooks_cancelled(&f->o.hooks))
			return sq_error(err, SQ_ERR_CANCEL, "cannot read '%s': cancelled", f->url);
		if (sq_mono_ms() >= deadline) {
			sq_sftp_mark_dead(l);
			return stalled(f, err);
		}
		ssh_channel_poll_timeout(l->chan, POLL_SLICE_MS, 0); /* errors: pump says */
	}
	return q->status ? refused(f, q->status, err) : 0;
}

/* Makes owner (NULL: a plain call comes next) the one file with requests in
 * flight on l, collecting those of the current owner first. */
static int claim(const struct sq_sftp_file *f, struct link *l, struct sq_sftp_file *owner,
		 struct sq_err *err)
{
	struct sq_sftp_file *o = l->owner;

	if (o && o != owner)
		for (int k = 0; k < o->n; k++) {
			struct req *q = req_at(o, k);
			int rc;

			if (q->state == REQ_SENT && (rc = receive(f, o, q, err)) < 0)
				return rc;
		}
	l->owner = owner;
	return 0;
}

int sq_sftp_link_broken(struct link *l)
{
	return link_broken(l);
}

int sq_sftp_link_quiet(struct link *l, struct sq_err *err)
{
	struct sq_sftp_file *o = l->owner;

	if (!o)
		return 0;
	if (claim(o, l, NULL, err) < 0) {
		sq_sftp_mark_dead(l);
		return -1;
	}
	return 0;
}

/* Reads back what f has in flight for q, which is not wanted: a refusal is no
 * matter, a stall, a drop or a cancel is (-1 or DROPPED, q left in flight). */
static int discard(struct sq_sftp_file *f, struct req *q, struct sq_err *err)
{
	int rc;

	if (q->state != REQ_SENT || f->link->dead)
		return 0; /* a dead link owes nothing */
	rc = receive(f, f, q, err);
	return rc < 0 && (f->link->dead || err->code == SQ_ERR_CANCEL) ? rc : 0;
}

/* Drops f's requests after the first keep, reading back the replies still
 * due. On a failure nothing is dropped: the link dies or a later call
 * finishes the job. */
static int drain(struct sq_sftp_file *f, int keep, struct sq_err *err)
{
	int rc;

	for (int k = keep; k < f->n; k++)
		if ((rc = discard(f, req_at(f, k), err)) < 0)
			return rc;
	if (keep < f->n)
		f->n = keep;
	return 0;
}

/* Keeps up to window requests in flight ahead of the read position. */
static int top_up(struct sq_sftp_file *f, struct sq_err *err)
{
	struct link *l = f->link;
	int rc = 0;

	if (f->n >= f->window || f->next_off >= f->size)
		return 0;
	if ((rc = claim(f, l, f, err)) < 0)
		return rc;
	sq_sftp_arm(l, sq_mono_ms() + f->o.stall_ms); /* a full window to the server may block */
	while (f->n < f->window && f->next_off < f->size) {
		struct req *q = req_at(f, f->n);
		uint64_t left = f->size - f->next_off;
		uint32_t len = left < f->chunk ? (uint32_t)left : f->chunk;
		int id;

		sftp_seek64(f->h, f->next_off);
		id = sftp_async_read_begin(f->h, len);
		if (id < 0) {
			rc = -1;
			break;
		}
		q->off = f->next_off;
		q->len = len;
		q->got = 0;
		q->id = id;
		q->status = 0;
		q->state = REQ_SENT;
		f->n++;
		f->next_off += len;
	}
	if (sq_sftp_disarm(l))
		return call_failed(f, l, 1, err);
	return rc < 0 ? call_failed(f, l, 0, err) : 0;
}

/* Drops from the read-ahead what lies before the read position; all of it
 * when the position is outside (a far seek: the window starts small again). */
static int position(struct sq_sftp_file *f, struct sq_err *err)
{
	int rc;

	if (f->n > 0 && (f->pos < f->r[f->head].off || f->pos >= f->next_off)) {
		f->window = START_WINDOW;
		if ((rc = drain(f, 0, err)) < 0)
			return rc;
	}
	while (f->n > 0 && f->pos >= f->r[f->head].off + f->r[f->head].len) {
		if ((rc = discard(f, &f->r[f->head], err)) < 0)
			return rc;
		f->head = (f->head + 1) % MAX_INFLIGHT;
		f->n--;
	}
	if (f->n == 0)
		f->next_off = f->pos;
	return 0;
}

/* A reply shorter than asked: the server's cap (ask that much from now on),
 * or, empty, a file that shrank. The requests after it no longer follow on. */
static int cut_short(struct sq_sftp_file *f, struct req *q, struct sq_err *err)
{
	int rc = drain(f, 1, err);

	if (rc < 0)
		return rc;
	if (q->got == 0)
		f->size = q->off;
	else if (q->len == f->chunk)
		f->chunk = q->got;
	q->len = q->got;
	f->next_off = q->off + q->got;
	return 0;
}

static long read_locked(struct sq_sftp_file *f, void *buf, size_t len, struct sq_err *err)
{
	struct sq_err spare;
	struct req *q;
	size_t take;
	int rc;

	for (;;) {
		if (!f->link || f->link->dead || f->link != f->host->link) {
			sq_sftp_fail(err, SQ_ERR_IO, f->url,
				     "connection lost: the session dropped");
			return DROPPED;
		}
		if (f->pos >= f->size)
			return 0;
		if ((rc = position(f, err)) < 0 || (rc = top_up(f, err)) < 0)
			return rc;
		q = &f->r[f->head];
		if (q->state == REQ_SENT && (rc = receive(f, f, q, err)) < 0)
			return rc;
		if (q->status) /* received while another file waited */
			return refused(f, q->status, err);
		if (q->got < q->len && (rc = cut_short(f, q, err)) < 0)
			return rc;
		if (f->pos < q->off + q->got)
			break;
		f->head = (f->head + 1) % MAX_INFLIGHT; /* cut short before the position */
		f->n--;
	}
	take = (size_t)(q->off + q->got - f->pos);
	take = take < len ? take : len;
	memcpy(buf, q->buf + (f->pos - q->off), take);
	f->pos += take;
	if (f->pos >= q->off + q->got) {
		f->head = (f->head + 1) % MAX_INFLIGHT;
		f->n--;
		f->window = f->window * 2 < MAX_INFLIGHT ? f->window * 2 : MAX_INFLIGHT;
		top_up(f, &spare); /* a failure shows again on the next read */
	}
	return (long)take;
}

/* ---- files ---- */

static void close_handle(struct sq_sftp_file *f, struct link *l, sftp_file h)
{
	if (!h)
		return;
	if (!l->dead)
		sq_sftp_arm(l, sq_mono_ms() + f->o.stall_ms);
	sftp_close(h); /* frees h; on a dead link it fails at once */
	if (!l->dead && sq_sftp_disarm(l))
		sq_sftp_mark_dead(l);
}

static int check_attrs(struct sq_sftp_file *f, sftp_attributes a, struct sq_err *err)
{
	if (a->type == SSH_FILEXFER_TYPE_DIRECTORY)
		return sq_sftp_fail(err, SQ_ERR_IO, f->url, "is a directory");
	if (a->type != SSH_FILEXFER_TYPE_REGULAR || !(a->flags & SSH_FILEXFER_ATTR_SIZE))
		return sq_sftp_fail(err, SQ_ERR_IO, f->url, "not a regular file");
	if (!f->opened && a->size == 0)
		return sq_sftp_fail(err, SQ_ERR_IO, f->url, "empty file (0 bytes)");
	if (f->opened && a->size != f->size)
		return sq_sftp_fail(err, SQ_ERR_IO, f->url,
				    "changed on the server while being read (%llu bytes, was %llu)",
				    (unsigned long long)a->size, (unsigned long long)f->size);
	f->size = a->size;
	if (!f->opened)
		f->mtime_s = a->flags & SSH_FILEXFER_ATTR_ACMODTIME ? (long long)a->mtime : -1;
	return 0;
}

/* Opens f's file on l and checks it. */
static int open_remote(struct sq_sftp_file *f, struct link *l, struct sq_err *err)
{
	sftp_attributes a = NULL;
	sftp_file h = NULL;
	int rc, cut;

	if ((rc = claim(f, l, NULL, err)) < 0)
		return rc;
	sq_sftp_arm(l, sq_mono_ms() + f->o.stall_ms);
	h = sftp_open(l->sftp, f->path, O_RDONLY, 0);
	a = h ? sftp_fstat(h) : NULL;
	cut = sq_sftp_disarm(l);
	rc = a ? check_attrs(f, a, err) : call_failed(f, l, cut, err);
	sftp_attributes_free(a);
	if (rc == 0) {
		f->h = h;
		f->link = l;
		f->opened = 1;
		l->refs++;
	} else {
		close_handle(f, l, h);
	}
	return rc;
}

/* Opens f's file on its host's link, connecting when there is none or it is
 * dead; a kept link found dropped is replaced, once. */
static int attach(struct sq_sftp_file *f, struct sq_err *err)
{
	struct host *h = f->host;

	for (int tries = 0;; tries++) {
		int fresh = !h->link || h->link->dead, rc;

		if (fresh && sq_sftp_link_open(h, f->url, &f->o, err) < 0)
			return -1;
		rc = open_remote(f, h->link, err);
		if (rc != DROPPED)
			return rc;
		if (fresh || tries > 0)
			return -1;
	}
}

/* Moves f, whose link dropped, to a new one: what was received is kept, the
 * requests in flight died with the link, the read resumes at its offset. */
static int reattach(struct sq_sftp_file *f, struct sq_err *err)
{
	struct link *old = f->link;
	int k = 0;

	while (k < f->n && req_at(f, k)->state == REQ_DONE)
		k++;
	f->n = k;
	f->next_off = k ? req_at(f, k - 1)->off + req_at(f, k - 1)->len : f->pos;
	if (old) { /* NULL when an earlier move was cancelled */
		close_handle(f, old, f->h);
		if (old->owner == f)
			old->owner = NULL;
		sq_sftp_link_unref(old);
	}
	f->h = NULL;
	f->link = NULL;
	return attach(f, err);
}

struct sq_sftp_file *sq_sftp_open(const char *url, const struct sq_sftp_opts *opts,
				  struct sq_err *err)
{
	struct sq_sftp_file *f;
	struct url u;
	int rc;

	sq_sftp_session_init();
	if (!sq_sftp_is_url(url) || sq_sftp_url_parse(url, &u, err) < 0)
		return NULL;
	f = xcalloc(1, sizeof(*f));
	f->url = xstrdup(url);
	f->path = f->url + u.path_at;
	f->o = *opts;
	if (f->o.stall_ms <= 0)
		f->o.stall_ms = STALL_DEFAULT_MS;
	f->chunk = REQ_BYTES;
	f->window = START_WINDOW;
	f->host = sq_sftp_host_get(&u, opts->ssh);
	f->o.ssh = NULL; /* borrowed for the open only; the host keeps copies */
	sq_sftp_url_release(&u);
	pthread_mutex_lock(&f->host->mu);
	rc = attach(f, err);
	pthread_mutex_unlock(&f->host->mu);
	if (rc < 0) {
		free(f->url);
		free(f);
		return NULL;
	}
	f->mem = xmalloc((size_t)MAX_INFLIGHT * REQ_BYTES);
	for (int i = 0; i < MAX_INFLIGHT; i++)
		f->r[i].buf = f->mem + (size_t)i * REQ_BYTES;
	return f;
}

long long sq_sftp_size(const struct sq_sftp_file *f)
{
	return (long long)f->size;
}

long long sq_sftp_mtime(const struct sq_sftp_file *f)
{
	return f->mtime_s;
}

long long sq_sftp_tell(const struct sq_sftp_file *f)
{
	return (long long)f->pos;
}

void sq_sftp_seek(struct sq_sftp_file *f, long long pos)
{
	f->pos = pos > 0 ? (uint64_t)pos : 0;
}

long sq_sftp_read(struct sq_sftp_file *f, void *buf, size_t len, struct sq_err *err)
{
	struct sq_err e = {SQ_OK, ""};
	long n;

	if (f->failed)
		return sq_error(err, f->fail.code, "%s", f->fail.msg);
	if (len == 0)
		return 0;
	pthread_mutex_lock(&f->host->mu);
	n = read_locked(f, buf, len, &e);
	if (n == DROPPED) {
		/* the connection dropped: a new one, once, and on from the same offset */
		struct sq_err r = {SQ_OK, ""};

		n = reattach(f, &r) < 0 ? -1 : read_locked(f, buf, len, &r);
		if (n < 0) {
			const char *why = reason(&e);

			if (strncmp(why, "connection lost: ", 17) == 0)
				why += 17;
			sq_sftp_fail(&e, r.code, f->url,
				     "connection lost at byte %llu (%s); reconnecting: %s",
				     (unsigned long long)f->pos, why, reason(&r));
		}
	}
	pthread_mutex_unlock(&f->host->mu);
	if (n >= 0)
		return n;
	if (e.code != SQ_ERR_CANCEL) {
		f->fail = e;
		f->failed = 1;
	}
	return sq_error(err, e.code, "%s", e.msg);
}

int sq_sftp_failed(const struct sq_sftp_file *f, struct sq_err *err)
{
	return f->failed ? sq_error(err, f->fail.code, "%s", f->fail.msg) : 0;
}

void sq_sftp_close(struct sq_sftp_file *f)
{
	struct sq_err spare;
	struct link *l;

	if (!f)
		return;
	pthread_mutex_lock(&f->host->mu);
	l = f->link;
	/* What is in flight is read back and the handle closed; after a cancel,
	 * or when that fails, the link is given up instead: it is not worth a
	 * wait, and replies left on the channel would confuse libssh. */
	if (l && !l->dead &&
	    ((sq_hooks_cancelled(&f->o.hooks)) || drain(f, 0, &spare) < 0 ||
	     claim(f, l, NULL, &spare) < 0))
		sq_sftp_mark_dead(l);
	if (l) {
		if (l->owner == f)
			l->owner = NULL;
		close_handle(f, l, f->h);
		sq_sftp_link_unref(l);
	}
	pthread_mutex_unlock(&f->host->mu);
	free(f->mem);
	free(f->url);
	free(f);
}
