/* sftp_fs.h - files and folders on an SFTP host: what a store of stage outputs
 * needs (stat, list, mkdir -p, rm -rf, upload, download, rename, whole-file
 * reads and writes).
 *
 * Every call names its file by URL, sftp://[user@]host[:port]/abs/path, and
 * goes through the same per-process, per-host SSH session as the video reader
 * (sftp.h): the same keys, agent, ~/.ssh/config and host-key rules, the same
 * stall timeout (a call that gets no answer for stall_ms fails, never hangs).
 * A session found dropped when a call starts (the storage host restarted
 * sshd between two calls) is replaced and the call made again, once; a
 * connection lost during a call fails the call (SQ_ERR_IO), and what it left
 * half done is the caller's to clean (uploads go to temporary names for that
 * reason, see store_sftp.c).
 *
 * Messages read "cannot <verb> 'URL': why" ("cannot write
 * 'sftp://store/out/a/frames.json.tmp.x': permission denied"). A missing file
 * is SQ_ERR_IO with the text "no such file" unless a call says otherwise. */
#ifndef SQ_SFTP_FS_H
#define SQ_SFTP_FS_H

#include "base/err.h"
#include "media/sftp.h"

#include <stddef.h>

struct sq_sftp_stat {
	int is_dir;
	long long size_bytes;
	long long mtime_s; /* -1: the server gave none */
};

/* Bytes moved by one call (may be NULL where a call takes one). */
struct sq_sftp_moved {
	long long bytes;
	long long files;
};

/* 1 and *st filled if url exists (a link is followed), 0 if it does not, -1
 * with err. */
int sq_sftp_stat(const char *url, const struct sq_sftp_opts *o, struct sq_sftp_stat *st,
		 struct sq_err *err);

/* mkdir -p: every missing folder of url's path is made (0777 less the
 * server's umask). */
int sq_sftp_mkdir_p(const char *url, const struct sq_sftp_opts *o, struct sq_err *err);

/* rm -rf: the file or the folder and everything in it; a missing url is
 * success. Links are removed, never followed. */
int sq_sftp_remove(const char *url, const struct sq_sftp_opts *o, struct sq_err *err);

/* The names in folder url (not . and ..): a new array of new strings (free
 * with sq_sftp_names_free); a missing folder is an empty list. sizes (may be
 * NULL) gets a new array of each entry's size in bytes (0 for a folder),
 * dirs (may be NULL) one of 1 for each folder. */
int sq_sftp_list(const char *url, const struct sq_sftp_opts *o, char ***names, size_t *n,
		 long long **sizes, int **dirs, struct sq_err *err);
void sq_sftp_names_free(char **names, size_t n);

/* The whole file url, NUL-terminated (new; *len, may be NULL, its size).
 * NULL with err when it cannot be read (missing: "no such file"). */
char *sq_sftp_get(const char *url, const struct sq_sftp_opts *o, size_t *len, struct sq_err *err);

/* Writes data as the whole file url (made or truncated; not atomic: write to
 * a temporary name and rename for that). */
int sq_sftp_put(const char *url, const void *data, size_t len, const struct sq_sftp_opts *o,
		struct sq_err *err);

/* Appends data to file url (made if missing). */
int sq_sftp_append(const char *url, const void *data, size_t len, const struct sq_sftp_opts *o,
		   struct sq_err *err);

/* Copies the local file or folder local (recursively; links are refused) to
 * url (made, or replaced file by file). A file uploaded alone is synced to the
 * server's disk where the server can (fsync@openssh.com); a folder's files
 * are not, one by one, as the local store does not sync extract's frames
 * either (a sync per frame cost 5 ms on ext4, more than the upload). Adds what
 * it sent to moved. */
int sq_sftp_upload(const char *local, const char *url, const struct sq_sftp_opts *o,
		   struct sq_sftp_moved *moved, struct sq_err *err);

/* Copies the file or folder url (recursively) to the local path local, which
 * must not exist yet; on failure local may hold part of it (the caller
 * removes it). Adds what it received to moved. */
int sq_sftp_download(const char *url, const char *local, const struct sq_sftp_opts *o,
		     struct sq_sftp_moved *moved, struct sq_err *err);

/* Renames from to to on the same host (to's path is taken from its URL); to
 * must not exist (SFTP version 3, which OpenSSH speaks, never replaces: a
 * caller that replaces moves the old one aside first). */
int sq_sftp_rename(const char *from, const char *to, const struct sq_sftp_opts *o,
		   struct sq_err *err);

#endif
