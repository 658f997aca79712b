/* sftp.h - reading remote videos over SFTP (libssh is wrapped here, once).
 *
 * A video may be named sftp://[user@]host[:port]/abs/path. It is read where it
 * lies, streamed through a bounded read-ahead; nothing of it is written to
 * local disk. Each process keeps one SSH session per host (and per key and
 * known_hosts file), shared by every file it reads from that host and reused
 * across tasks; a dropped session is re-opened once per failure and the read
 * resumes at its offset.
 *
 * Security: public-key authentication only (ssh-agent and the user's keys, or
 * only the key file the options name); host keys are checked against the
 * options' known_hosts file, else ~/.ssh/known_hosts (and the system's), and
 * an unknown or changed key is an error, never accepted. ~/.ssh/config applies
 * (the options' home's, so that tests and services can point it elsewhere).
 * The programs fill struct sq_ssh_opts from their flags and SCANQ_SSH_*
 * variables (base/options.h); nothing here reads the environment. */
#ifndef SQ_SFTP_H
#define SQ_SFTP_H

#include "base/err.h"
#include "base/hooks.h"

#include <stddef.h>

struct sq_sftp_file;

/* Whose SSH identity and which host keys every sftp:// read uses (borrowed
 * strings; NULL: the default). */
struct sq_ssh_opts {
	const char *key_file;	 /* the only key tried; NULL: ssh-agent and ~/.ssh's keys */
	const char *known_hosts; /* the only host keys trusted; NULL: ~/.ssh/known_hosts */
	const char *home;	 /* ~ for ~/.ssh (config, keys, known_hosts); NULL: the
				    user's home as the password database gives it */
};

struct sq_sftp_opts {
	const struct sq_ssh_opts *ssh; /* NULL: all defaults; read only by sq_sftp_open */
	long long stall_ms;	       /* a wait longer than this without data fails; > 0 */
	struct sq_hooks hooks;	       /* cancelled polled while waiting */
};

/* 1 if url names an SFTP file (starts with "sftp://"), else 0. */
int sq_sftp_is_url(const char *url);

/* Opens url for reading: connects and authenticates on the host's first use
 * under these SSH options (a host reached with other options gets a session of
 * its own),
 * checks that the file exists, is readable, regular and not empty. Returns a
 * new handle (close with sq_sftp_close), or NULL with err set; every message
 * reads "cannot read 'URL': why" (host key not in known_hosts, host key
 * changed, authentication failed (publickey), no such file, ...). */
struct sq_sftp_file *sq_sftp_open(const char *url, const struct sq_sftp_opts *opts,
				  struct sq_err *err);

/* The file's size in bytes, as the server gave it at open. */
long long sq_sftp_size(const struct sq_sftp_file *f);

/* The file's modification time (s since the epoch) as the server gave it at
 * open, or -1 if it gave none. */
long long sq_sftp_mtime(const struct sq_sftp_file *f);

/* The read position. */
long long sq_sftp_tell(const struct sq_sftp_file *f);

/* Moves the read position to pos (>= 0; past the end, reads give 0). Costs
 * nothing until the next read. */
void sq_sftp_seek(struct sq_sftp_file *f, long long pos);

/* Reads up to len bytes at the read position into buf. Returns the number
 * read (> 0), 0 at the end of the file, or -1 with err set: SQ_ERR_TIMEOUT
 * when no data came for stall_ms ("no data for N ms (stalled)"),
 * SQ_ERR_CANCEL when opts' cancelled said so, SQ_ERR_IO otherwise. Failures
 * other than a cancel are final: later reads fail alike. */
long sq_sftp_read(struct sq_sftp_file *f, void *buf, size_t len, struct sq_err *err);

/* -1 with the final failure of f's reads copied into err, or 0 if none. */
int sq_sftp_failed(const struct sq_sftp_file *f, struct sq_err *err);

/* Closes f (NULL is ignored). The host's session stays open for later files. */
void sq_sftp_close(struct sq_sftp_file *f);

#endif
