/* store.h - where stage outputs live: the seam between the stages and the
 * storage they publish to.
 *
 * A store holds an acquisition's output tree (task/layout.h) under absolute
 * paths. The local store is this host's filesystem: a local disk, or a shared
 * filesystem (NFS, CephFS) mounted at the same path on every host. The SFTP
 * store (store_sftp.h) holds trees named by sftp:// URLs on a storage host,
 * and hands plain paths to the local store. The stage transaction (txn.h) is
 * their only writer, and records and inputs are read through them, so nothing
 * above this seam knows which it is.
 *
 * Every operation takes store paths (absolute paths or URLs, in the store's
 * namespace) and returns 0/-1 with err set, or a new value / NULL. A missing
 * path is SQ_ERR_IO with errno ENOENT's message unless said otherwise.
 *
 * Stamps. A remote store keeps local copies of outputs (scratch.h) so that a
 * stage does not fetch back what this host just published. A copy is only
 * good for the version of the output its record vouches for, so publish and
 * localize take a stamp: sq_store_stamp() of the text of that record (the one
 * about to be written when publishing, the one just read when localizing).
 * NULL: no copy is kept or used. */
#ifndef SQ_STORE_H
#define SQ_STORE_H

#include "base/err.h"

#include <stddef.h>

struct sq_store;

/* What sq_store_stat tells. */
struct sq_store_stat {
	int is_dir;
	long long size_bytes;
	long long mtime_ms; /* -1: unknown */
};

/* What a store moved since it was made (sq_store_counters). */
struct sq_store_counters {
	long long up_bytes, up_files;	  /* published and written to a remote host */
	long long down_bytes, down_files; /* fetched from it (localize) */
	long long read_bytes;		  /* read from it (records) */
	long long kept_bytes;		  /* localized from this host's copies instead */
	long long evicted_bytes;	  /* of this host's copies, to stay under the cap */
};

/* Longest stamp, with its NUL. */
#define SQ_STORE_STAMP_MAX 17

struct sq_store_ops {
	/* mkdir -p. */
	int (*mkdir_p)(struct sq_store *st, const char *dir, struct sq_err *err);
	/* rm -rf; a missing path is success. */
	int (*remove)(struct sq_store *st, const char *path, struct sq_err *err);
	/* The names in dir (not . and ..), new array of new strings; a missing dir
	 * is an empty list. */
	int (*list)(struct sq_store *st, const char *dir, char ***names, size_t *n,
		    struct sq_err *err);
	/* 1 if path exists, 0 if not, -1 if that cannot be told. */
	int (*exists)(struct sq_store *st, const char *path, struct sq_err *err);
	/* 1 and *out filled if path exists (links followed), 0 if not, -1. */
	int (*stat)(struct sq_store *st, const char *path, struct sq_store_stat *out,
		    struct sq_err *err);
	/* Whole file, NUL-terminated, new; *len (may be NULL) its size. */
	char *(*read)(struct sq_store *st, const char *path, size_t *len, struct sq_err *err);
	/* Writes a file atomically (a reader sees the old file or all of the new). */
	int (*write)(struct sq_store *st, const char *path, const void *data, size_t len,
		     struct sq_err *err);
	/* Appends data to a file (created if missing): logs. */
	int (*append)(struct sq_store *st, const char *path, const void *data, size_t len,
		      struct sq_err *err);
	/* Moves the local file or folder src to dst in the store, replacing what
	 * is there: src is put beside dst under a temporary name first
	 * ("<dst>.tmp.<id>"), the old dst moved aside ("<dst>.old.<id>"), the new
	 * one renamed into place, the old one removed. A reader sees all of the old
	 * dst or all of the new one, never a part. src is gone afterwards (a
	 * remote store may keep it as its copy of dst at stamp). */
	int (*publish)(struct sq_store *st, const char *src, const char *dst, const char *stamp,
		       struct sq_err *err);
	/* A local path holding the store's file or folder src, whose record has
	 * stamp: src itself when the store is local (*copied = 0), else this
	 * host's copy or one fetched, linked or made under local_dir with src's
	 * base name (*copied = 1). New string. */
	char *(*localize)(struct sq_store *st, const char *src, const char *stamp,
			  const char *local_dir, int *copied, struct sq_err *err);
	/* Where a stage working on outdir builds its outputs: a new local
	 * folder path (not yet made) from which publish moves them cheaply. */
	char *(*workdir)(struct sq_store *st, const char *outdir, const char *stage);
	/* "local" or "sftp", for messages. */
	const char *(*describe)(const struct sq_store *st);
	/* What it moved so far; NULL: nothing (the local store). */
	void (*counters)(const struct sq_store *st, struct sq_store_counters *out);
	void (*free)(struct sq_store *st);
};

struct sq_store {
	const struct sq_store_ops *ops;
};

/* The local filesystem. Static storage: never freed (sq_store_free ignores it). */
struct sq_store *sq_store_local(void);

void sq_store_free(struct sq_store *st);

/* The operations, through st's table (st NULL: the local store). */
int sq_store_mkdir_p(struct sq_store *st, const char *dir, struct sq_err *err);
int sq_store_remove(struct sq_store *st, const char *path, struct sq_err *err);
int sq_store_list(struct sq_store *st, const char *dir, char ***names, size_t *n,
		  struct sq_err *err);
int sq_store_exists(struct sq_store *st, const char *path, struct sq_err *err);
int sq_store_stat(struct sq_store *st, const char *path, struct sq_store_stat *out,
		  struct sq_err *err);
char *sq_store_read(struct sq_store *st, const char *path, size_t *len, struct sq_err *err);
int sq_store_write(struct sq_store *st, const char *path, const void *data, size_t len,
		   struct sq_err *err);
int sq_store_append(struct sq_store *st, const char *path, const void *data, size_t len,
		    struct sq_err *err);
int sq_store_publish(struct sq_store *st, const char *src, const char *dst, const char *stamp,
		     struct sq_err *err);
char *sq_store_localize(struct sq_store *st, const char *src, const char *stamp,
			const char *local_dir, int *copied, struct sq_err *err);
char *sq_store_workdir(struct sq_store *st, const char *outdir, const char *stage);
const char *sq_store_describe(const struct sq_store *st);
/* Zeros for a store that keeps no count. */
void sq_store_counters(const struct sq_store *st, struct sq_store_counters *out);

/* 1 if path names something on another host (an sftp:// URL: "scheme://"),
 * 0 if it is a path of this host's filesystem. */
int sq_store_path_is_remote(const char *path);

/* The stamp of a record's text (store.h's stamps): 16 hex digits of its
 * SHA-256, into buf. NULL text: "" (no stamp). Returns buf. */
const char *sq_store_stamp(const char *record_text, char buf[SQ_STORE_STAMP_MAX]);

enum sq_store_root {
	SQ_STORE_ROOT_CAN_CREATE, /* root, or the nearest folder above it, is writable */
	SQ_STORE_ROOT_CREATE,	  /* root is made (mkdir -p) and writable */
	SQ_STORE_ROOT_EXISTS,	  /* root is there already and writable (a worker's view) */
};

/* Checks an output root in st by doing what a stage will do there: a probe
 * file ".scanq-check.tmp.<host>-<pid>" written and removed (permission bits
 * say nothing to root, to a read-only mount or to a storage host's server).
 * 0, or -1 with err ("output root 'R' is not there", the store's own message
 * for what failed). */
int sq_store_check_root(struct sq_store *st, const char *root, enum sq_store_root how,
			struct sq_err *err);

/* Frees a list from sq_store_list. */
void sq_store_names_free(char **names, size_t n);

#endif
