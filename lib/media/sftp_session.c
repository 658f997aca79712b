/* sftp_session.c - the SSH sessions under sftp.c: host cache, links, watchdog.
 *
 * Sessions. A process keeps one SSH connection (a "link") per host, found in a
 * short list keyed by user@host:port and the key and known_hosts files in
 * force, so that every file and task reading from that host shares it. The
 * host's mutex serialises each use of its links (a libssh session is not
 * thread-safe). When a link drops the host gets a new one, and a file opened
 * on the old one moves over on its next read: it reopens the remote file and
 * resumes at its offset, once per failure.
 *
 * Links. A link is made here: ~/.ssh/config (the options' home's) then the URL's and
 * scanq's options, a host key that must be in known_hosts (nothing is ever
 * added), public-key authentication only, and an sftp channel; sftp.c does the
 * reading over it.
 *
 * Watchdog. A blocking libssh call never gives up on a connection gone silent
 * (with a timeout set, its packet reader only loops), so while one runs a
 * watchdog thread holds its deadline (sq_sftp_arm) and shuts the socket down
 * when it passes, which makes libssh fail at once. */
#include "media/sftp_internal.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/banned.h"

/* The process's hosts and the watchdog. One session per host per process is
 * the point, so this state is global by design; a forked child starts afresh. */
static struct {
	pthread_mutex_t mu; /* hosts */
	struct host *hosts, *abandoned;
	pthread_mutex_t wmu;
	pthread_cond_t wcv;
	struct link *watched;
	int watching;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .wmu = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct ssh_callbacks_struct callbacks;

/* ---- messages ---- */

int sq_sftp_fail(struct sq_err *err, enum sq_err_code code, const char *url, const char *fmt, ...)
{
	char why[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return sq_error(err, code, "cannot read '%s': %s", url, why);
}

/* libssh's last error, first letter lowered as scanq writes messages. */
const char *sq_sftp_ssh_why(ssh_session s, char *buf, size_t len)
{
	const char *m = ssh_get_error(s);

	snprintf(buf, len, "%s", m && *m ? m : "unknown error");
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* ---- the watchdog ---- */

static void *watch_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g.wmu);
	for (;;) {
		long long now = sq_mono_ms(), next = 0;

		for (struct link *l = g.watched; l; l = l->wnext) {
			if (!l->deadline_ms || l->cut)
				continue;
			if (now >= l->deadline_ms) {
				/* libssh, wherever it waits, then fails at once */
				shutdown(l->wfd, SHUT_RDWR);
				l->cut = 1;
			} else if (!next || l->deadline_ms < next) {
				next = l->deadline_ms;
			}
		}
		if (next) {
			struct timespec ts = {.tv_sec = next / 1000,
					      .tv_nsec = (next % 1000) * 1000000};

			pthread_cond_timedwait(&g.wcv, &g.wmu, &ts);
		} else {
			pthread_cond_wait(&g.wcv, &g.wmu);
		}
	}
	return NULL;
}

/* Starts the watchdog with every signal blocked: they are the program's. */
static void start_watchdog(void)
{
	sigset_t all, old;
	pthread_t t;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, NULL, watch_main, NULL) == 0) {
		pthread_detach(t);
		g.watching = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Gives l's next libssh calls until deadline_ms. */
void sq_sftp_arm(struct link *l, long long deadline_ms)
{
	pthread_mutex_lock(&g.wmu);
	if (!g.watching)
		start_watchdog();
	l->deadline_ms = deadline_ms;
	pthread_cond_signal(&g.wcv);
	pthread_mutex_unlock(&g.wmu);
}

void sq_sftp_mark_dead(struct link *l)
{
	pthread_mutex_lock(&g.wmu);
	l->dead = 1;
	shutdown(l->wfd, SHUT_RDWR); /* nothing may block on it any more */
	pthread_mutex_unlock(&g.wmu);
}

/* Ends l's deadline; returns 1 if the watchdog cut it (l is then dead). */
int sq_sftp_disarm(struct link *l)
{
	int cut;

	pthread_mutex_lock(&g.wmu);
	l->deadline_ms = 0;
	cut = l->cut;
	pthread_mutex_unlock(&g.wmu);
	if (cut)
		l->dead = 1;
	return cut;
}

static void watch_add(struct link *l)
{
	pthread_mutex_lock(&g.wmu);
	l->wnext = g.watched;
	g.watched = l;
	pthread_mutex_unlock(&g.wmu);
}

static void watch_remove(struct link *l)
{
	pthread_mutex_lock(&g.wmu);
	for (struct link **p = &g.watched; *p; p = &(*p)->wnext)
		if (*p == l) {
			*p = l->wnext;
			break;
		}
	pthread_mutex_unlock(&g.wmu);
}

/* ---- process-wide setup ---- */

static void before_fork(void)
{
	pthread_mutex_lock(&g.mu);
	pthread_mutex_lock(&g.wmu);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&g.wmu);
	pthread_mutex_unlock(&g.mu);
}

/* The child shares the parent's sockets but not its watchdog: it forgets the
 * parent's sessions (still reachable, not freed) and closes its copies. */
static void after_fork_child(void)
{
	pthread_condattr_t ca;
	struct host **tail = &g.abandoned;

	for (struct host *h = g.hosts; h; h = h->next)
		if (h->link) {
			close(h->link->wfd);
			close(ssh_get_fd(h->link->ssh));
		}
	while (*tail)
		tail = &(*tail)->next;
	*tail = g.hosts;
	g.hosts = NULL;
	g.watched = NULL;
	g.watching = 0;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g.wcv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_unlock(&g.wmu);
	pthread_mutex_unlock(&g.mu);
}

/* A worker runs unattended: an encrypted key is never asked about. */
static int no_prompt(const char *prompt, char *buf, size_t len, int echo, int verify,
		     void *userdata)
{
	(void)prompt, (void)buf, (void)len, (void)echo, (void)verify, (void)userdata;
	return -1;
}

static void init_once(void)
{
	pthread_condattr_t ca;

	ssh_init();
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g.wcv, &ca);
	pthread_condattr_destroy(&ca);
	callbacks.auth_function = no_prompt;
	ssh_callbacks_init(&callbacks);
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

void sq_sftp_session_init(void)
{
	pthread_once(&once, init_once);
}

/* ---- hosts ---- */

/* An option's value, NULL for an empty one. */
static const char *given(const char *v)
{
	return v && *v ? v : NULL;
}

/* The host for u's user, name and port under the SSH options ssh (new on
 * first use; hosts live as long as the process). */
struct host *sq_sftp_host_get(const struct url *u, const struct sq_ssh_opts *ssh)
{
	const struct sq_ssh_opts none = {0}, *o = ssh ? ssh : &none;
	const char *kh = given(o->known_hosts), *key = given(o->key_file), *home = given(o->home);
	char *k = xasprintf("%s@%s:%s|%s|%s|%s", u->user ? u->user : "", u->name,
			    u->port ? u->port : "", key ? key : "", kh ? kh : "", home ? home : "");
	struct host *h;

	pthread_mutex_lock(&g.mu);
	for (h = g.hosts; h && strcmp(h->key, k) != 0; h = h->next)
		;
	if (!h) {
		h = xcalloc(1, sizeof(*h));
		h->key = k;
		k = NULL;
		h->user = u->user ? xstrdup(u->user) : NULL;
		h->name = xstrdup(u->name);
		h->port = u->port ? xstrdup(u->port) : NULL;
		h->key_file = key ? xstrdup(key) : NULL;
		h->known_hosts = kh ? xstrdup(kh) : NULL;
		h->home = home ? xstrdup(home) : NULL;
		pthread_mutex_init(&h->mu, NULL);
		h->next = g.hosts;
		g.hosts = h;
	}
	pthread_mutex_unlock(&g.mu);
	free(k);
	return h;
}

/* ---- links: connecting, host keys, authentication ---- */

/* ~/.ssh/config first (the options' home's), then what the URL and scanq's
 * options say. */
static int set_options(ssh_session s, const struct host *h, long long stall_ms, const char *url,
		       struct sq_err *err)
{
	const char *kh = h->known_hosts;
	char *dir = h->home ? xasprintf("%s/.ssh", h->home) : NULL, buf[256];
	long sec = (long)(stall_ms / 1000), usec = (long)(stall_ms % 1000) * 1000;
	int yes = 1, rc = 0;

	rc |= ssh_options_set(s, SSH_OPTIONS_HOST, h->name);
	if (dir)
		rc |= ssh_options_set(s, SSH_OPTIONS_SSH_DIR, dir);
	if (rc == 0 && ssh_options_parse_config(s, NULL) < 0) {
		rc = sq_sftp_fail(err, SQ_ERR_INVALID, url, "cannot use the ssh config files: %s",
				  sq_sftp_ssh_why(s, buf, sizeof(buf)));
		goto out;
	}
	if (h->user)
		rc |= ssh_options_set(s, SSH_OPTIONS_USER, h->user);
	if (h->port)
		rc |= ssh_options_set(s, SSH_OPTIONS_PORT_STR, h->port);
	if (kh) { /* only the file given */
		rc |= ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, kh);
		rc |= ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, kh);
	}
	/* off, libssh takes an unknown host for a known one: no config may do that */
	rc |= ssh_options_set(s, SSH_OPTIONS_STRICTHOSTKEYCHECK, &yes);
	/* each write waits for its reply: with Nagle's algorithm the tail of a
	 * request waits for the server's delayed ACK, 40 ms a request */
	rc |= ssh_options_set(s, SSH_OPTIONS_NODELAY, &yes);
	rc |= ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &sec);
	rc |= ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usec);
	if (rc != 0)
		rc = sq_sftp_fail(err, SQ_ERR_INVALID, url, "bad ssh options: %s",
				  sq_sftp_ssh_why(s, buf, sizeof(buf)));
	ssh_set_callbacks(s, &callbacks);
out:
	free(dir);
	return rc ? -1 : 0;
}

/* "host", or "[host]:port" off port 22, as known_hosts names it. */
static char *host_label(ssh_session s)
{
	char *name = NULL, *label;
	unsigned port = 22;

	ssh_options_get(s, SSH_OPTIONS_HOST, &name);
	ssh_options_get_port(s, &port);
	label =
	    port == 22 ? xstrdup(name ? name : "?") : xasprintf("[%s]:%u", name ? name : "?", port);
	ssh_string_free_char(name);
	return label;
}

/* Only a key found in known_hosts is accepted; nothing is ever added. */
static int check_host_key(ssh_session s, const char *url, struct sq_err *err)
{
	enum ssh_known_hosts_e k = ssh_session_is_known_server(s);
	char *who, *file = NULL, buf[256];
	const char *kf;
	int rc;

	if (k == SSH_KNOWN_HOSTS_OK)
		return 0;
	who = host_label(s);
	ssh_options_get(s, SSH_OPTIONS_KNOWNHOSTS, &file);
	kf = file ? file : "~/.ssh/known_hosts";
	if (k == SSH_KNOWN_HOSTS_CHANGED || k == SSH_KNOWN_HOSTS_OTHER)
		rc = sq_sftp_fail(
		    err, SQ_ERR_IO, url,
		    "host key changed for '%s': not the key in known_hosts '%s' (an attack, "
		    "or a reinstalled host: check before changing the entry)",
		    who, kf);
	else if (k == SSH_KNOWN_HOSTS_UNKNOWN || k == SSH_KNOWN_HOSTS_NOT_FOUND)
		rc = sq_sftp_fail(err, SQ_ERR_IO, url,
				  "host key for '%s' is not in known_hosts '%s'%s", who, kf,
				  k == SSH_KNOWN_HOSTS_NOT_FOUND ? " (no such file)" : "");
	else
		rc = sq_sftp_fail(err, SQ_ERR_IO, url, "cannot check the host key of '%s': %s", who,
				  sq_sftp_ssh_why(s, buf, sizeof(buf)));
	free(who);
	ssh_string_free_char(file);
	return rc;
}

/* Public keys only: the options' key file alone when given, else ssh-agent and
 * the user's keys (~/.ssh/id_*, IdentityFile). */
static int authenticate(ssh_session s, const struct host *h, const char *url, struct sq_err *err)
{
	const char *keyfile = h->key_file;
	char *user = NULL, buf[256];
	ssh_key key = NULL;
	int rc;

	if (keyfile && access(keyfile, R_OK) < 0)
		return sq_sftp_fail(err, SQ_ERR_IO, url, "cannot load ssh key '%s': %s", keyfile,
				    errno == ENOENT ? "no such file" : "not readable");
	if (keyfile && ssh_pki_import_privkey_file(keyfile, NULL, no_prompt, NULL, &key) != 0)
		return sq_sftp_fail(
		    err, SQ_ERR_IO, url,
		    "cannot load ssh key '%s': not a private key, or protected by a "
		    "passphrase (serve those through ssh-agent)",
		    keyfile);
	rc =
	    key ? ssh_userauth_publickey(s, NULL, key) : ssh_userauth_publickey_auto(s, NULL, NULL);
	ssh_key_free(key);
	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	if (rc == SSH_AUTH_ERROR)
		return sq_sftp_fail(err, SQ_ERR_IO, url, "authentication failed (publickey): %s",
				    sq_sftp_ssh_why(s, buf, sizeof(buf)));
	ssh_options_get(s, SSH_OPTIONS_USER, &user);
	rc = sq_sftp_fail(err, SQ_ERR_IO, url, "authentication failed (publickey) as '%s'%s%s%s",
			  user ? user : "?", keyfile ? " with key '" : "", keyfile ? keyfile : "",
			  keyfile ? "'" : "");
	ssh_string_free_char(user);
	return rc;
}

static int start_sftp(struct link *l, const char *url, struct sq_err *err)
{
	char buf[256];

	l->chan = ssh_channel_new(l->ssh);
	if (!l->chan || ssh_channel_open_session(l->chan) != SSH_OK ||
	    ssh_channel_request_sftp(l->chan) != SSH_OK ||
	    !(l->sftp = sftp_new_channel(l->ssh, l->chan)) || sftp_init(l->sftp) != 0)
		return sq_sftp_fail(err, SQ_ERR_IO, url, "cannot start sftp on the server: %s",
				    sq_sftp_ssh_why(l->ssh, buf, sizeof(buf)));
	return 0;
}

void sq_sftp_link_unref(struct link *l)
{
	if (!l || --l->refs > 0)
		return;
	watch_remove(l);
	if (l->dead)
		shutdown(l->wfd, SHUT_RDWR);
	if (l->sftp)
		sftp_free(l->sftp); /* frees the channel too */
	else if (l->chan)
		ssh_channel_free(l->chan);
	ssh_disconnect(l->ssh);
	ssh_free(l->ssh);
	close(l->wfd);
	free(l);
}

static void set_link(struct host *h, struct link *l)
{
	struct link *old = h->link;

	h->link = l;
	sq_sftp_link_unref(old);
}

/* Connects, checks the host key, authenticates and starts sftp: h's new link. */
int sq_sftp_link_open(struct host *h, const char *url, const struct sq_sftp_opts *o,
		      struct sq_err *err)
{
	ssh_session s = ssh_new();
	struct link *l;
	char buf[256];
	int rc;

	if (!s)
		return sq_sftp_fail(err, SQ_ERR_IO, url, "cannot create an ssh session");
	rc = set_options(s, h, o->stall_ms, url, err);
	if (rc == 0 && ssh_connect(s) != SSH_OK)
		rc = sq_sftp_fail(err, SQ_ERR_IO, url, "cannot connect: %s",
				  sq_sftp_ssh_why(s, buf, sizeof(buf)));
	if (rc < 0) {
		ssh_free(s);
		return -1;
	}
	l = xcalloc(1, sizeof(*l));
	l->ssh = s;
	l->refs = 1;
	/* a command a worker runs must not hold the connection open */
	fcntl(ssh_get_fd(s), F_SETFD, FD_CLOEXEC);
	l->wfd = fcntl(ssh_get_fd(s), F_DUPFD_CLOEXEC, 0);
	watch_add(l);
	sq_sftp_arm(l, sq_mono_ms() + o->stall_ms);
	rc = check_host_key(s, url, err) < 0 || authenticate(s, h, url, err) < 0 ||
		     start_sftp(l, url, err) < 0
		 ? -1
		 : 0;
	if (sq_sftp_disarm(l))
		rc = sq_sftp_fail(err, SQ_ERR_TIMEOUT, url, "no data for %lld ms (stalled)",
				  o->stall_ms);
	if (rc < 0) {
		sq_sftp_mark_dead(l);
		sq_sftp_link_unref(l);
		return -1;
	}
	set_link(h, l);
	return 0;
}
