/* fsutil.h - filesystem helpers that keep outputs crash-safe.
 *
 * The rule every stage follows: write into a temporary sibling, fsync, rename
 * into place, fsync the directory. A reader therefore sees the old file or the
 * whole new one, never a prefix. */
#ifndef SQ_FSUTIL_H
#define SQ_FSUTIL_H

#include "base/err.h"

#include <stddef.h>

/* Creates dir and its missing parents (mode 0777 & ~umask). */
int sq_mkdir_p(const char *dir, struct sq_err *err);

/* Removes path recursively; a missing path is success. */
int sq_rm_rf(const char *path, struct sq_err *err);

/* Writes all of buf to fd, going on after EINTR and short writes: 0, or -1
 * with errno set. */
int sq_write_all(int fd, const void *buf, size_t len);

/* Writes data to path atomically: path.tmp.<pid> is written, fsynced and renamed
 * over path, then the directory is fsynced. On failure nothing is left behind. */
int sq_write_file_atomic(const char *path, const void *data, size_t len, struct sq_err *err);

/* Reads a whole file; returns new NUL-terminated buffer (free with free()) and its
 * length in *len_out (may be NULL), or NULL. */
char *sq_read_file(const char *path, size_t *len_out, struct sq_err *err);

/* Renames from over to and fsyncs the target's directory. */
int sq_rename_durable(const char *from, const char *to, struct sq_err *err);

/* fsyncs the directory holding path (path itself if it is a directory). */
int sq_fsync_dir(const char *dir, struct sq_err *err);

/* Returns new string: rel if absolute, else base_dir/rel, lexically normalised
 * ("a/./b/../c" -> "a/c"). Never touches the filesystem. */
char *sq_path_resolve(const char *base_dir, const char *rel);

/* Returns new string: directory part of path ("." if none). */
char *sq_path_dirname(const char *path);

/* Returns new string: last component without the extension ("a/b.yaml" -> "b"). */
char *sq_path_stem(const char *path);

/* Returns new string a/b. */
char *sq_path_join(const char *a, const char *b);

/* 1 if path exists (any type), 0 if not. */
int sq_path_exists(const char *path);

/* Modification time of path in ms since the epoch, or -1 if it does not exist. */
long long sq_path_mtime_ms(const char *path);

/* Parses a size: "4096" (bytes), "512k", "48M", "50G", "1.5T" (binary units;
 * "50GB" and "50g" too); returns 0 and sets *bytes_out, or -1 on bad syntax. */
int sq_parse_size_bytes(const char *s, long long *bytes_out);

#endif
