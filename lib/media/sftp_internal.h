/* sftp_internal.h - the seam between the SFTP reader's own files (not a
 * contract for other modules; only lib/media/sftp*.c and the fuzz harness
 * tests/fuzz/fuzz_sftp_url.c include it, and lib/media/sftp.h stays the public
 * API).
 *
 * sftp_session.c keeps the process's SSH sessions: the host cache, the links
 * (connect, ~/.ssh/config and scanq's options, host-key check, public-key
 * authentication, the sftp channel) and the watchdog thread that cuts a link
 * whose libssh call outlives its deadline. sftp.c reads files over those
 * links: the read-ahead, the replies read off the channel, reconnecting a
 * file whose link dropped, and the sq_sftp_* calls of sftp.h. The watchdog's
 * state and the host list (sftp_session.c's g) are private to sftp_session.c;
 * a host's mutex, held by sftp.c, serialises each use of its links. */
#ifndef SQ_SFTP_INTERNAL_H
#define SQ_SFTP_INTERNAL_H

#include "base/err.h"
#include "media/sftp.h"

#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct req; /* one read request in flight (sftp.c) */

struct link {
	ssh_session ssh;
	ssh_channel chan;
	sftp_session sftp;
	int refs;		    /* the host's while current, and one per file on it */
	int dead;		    /* dropped or stalled: nothing more goes through it */
	struct sq_sftp_file *owner; /* the file whose requests are in flight */
	/* the watchdog's, under g.wmu (sftp_session.c) */
	int wfd;	       /* our duplicate of the socket: never reused while we hold it */
	long long deadline_ms; /* 0: no call inside libssh */
	int cut;
	struct link *wnext;
	/* the reply being read: length, type, id, DATA length or STATUS code */
	uint8_t rx[13];
	uint32_t rx_got;    /* its bytes read so far */
	struct req *rx_req; /* its request; NULL: unknown, thrown away */
};

struct host {
	char *key;
	char *user, *name, *port; /* as in the URL; user and port may be NULL */
	char *key_file, *known_hosts, *home; /* the SSH options it was made for, or NULL */
	pthread_mutex_t mu;
	struct link *link; /* current, or NULL */
	struct host *next;
};

struct url {
	char *user, *name, *port;
	size_t path_at; /* offset of the absolute path in the URL */
};

/* ---- URLs (sftp.c) ---- */

/* Parses url (which starts with "sftp://") into *u: new user (NULL when the URL
 * names none), name and port (NULL: the default); release with
 * sq_sftp_url_release. -1 with SQ_ERR_INVALID naming the URL otherwise (*u then
 * holds nothing). Does no I/O (tests/fuzz/fuzz_sftp_url.c fuzzes it). */
int sq_sftp_url_parse(const char *url, struct url *u, struct sq_err *err);
void sq_sftp_url_release(struct url *u);

/* ---- links shared with sftp_fs.c (sftp.c) ---- */

/* 1 if l's connection is gone (dropped, closed, failed fatally). */
int sq_sftp_link_broken(struct link *l);

/* Reads back the replies still due to the file whose requests are in flight
 * on l (its read-ahead), so that a plain libssh call can use l next. Call with
 * the host's mutex held. 0, or -1 with err (l is then dead). */
int sq_sftp_link_quiet(struct link *l, struct sq_err *err);

/* ---- messages (sftp_session.c) ---- */

/* Sets err to code and "cannot read 'URL': " followed by fmt's text. Returns
 * -1. */
int sq_sftp_fail(struct sq_err *err, enum sq_err_code code, const char *url, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* s's last error written into buf (len bytes), first letter lowered as scanq
 * writes messages. Returns buf. */
const char *sq_sftp_ssh_why(ssh_session s, char *buf, size_t len);

/* ---- sessions (sftp_session.c) ---- */

/* Sets up libssh and the fork handlers, once per process; call it before any
 * other function here. */
void sq_sftp_session_init(void);

/* The host for u's user, name and port under the SSH options ssh (NULL: the
 * defaults): found, or new on first use. Hosts live as long as the process and
 * keep copies of the options; u and ssh are only read. */
struct host *sq_sftp_host_get(const struct url *u, const struct sq_ssh_opts *ssh);

/* Connects, checks the host key, authenticates and starts sftp, none of it
 * allowed to sit silent past o's stall_ms; the new link replaces h's current
 * one (whose reference is dropped). Call with h's mutex held. Returns 0, or -1 with err set
 * ("cannot read 'url': why"). */
int sq_sftp_link_open(struct host *h, const char *url, const struct sq_sftp_opts *o,
		      struct sq_err *err);

/* Drops a reference to l (NULL is ignored); the last one closes and frees it. */
void sq_sftp_link_unref(struct link *l);

/* ---- the watchdog (sftp_session.c) ---- */

/* Gives l's next libssh calls until deadline_ms (sq_mono_ms's clock), after
 * which the watchdog shuts l's socket down; starts the watchdog on first use. */
void sq_sftp_arm(struct link *l, long long deadline_ms);

/* Ends l's deadline. Returns 1 if the watchdog cut l (l is then dead), else 0. */
int sq_sftp_disarm(struct link *l);

/* Marks l dead and shuts its socket down: nothing more goes through it, and
 * nothing may block on it. */
void sq_sftp_mark_dead(struct link *l);

#endif
