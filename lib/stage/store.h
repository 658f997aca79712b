/* store.h - where stage outputs live: the seam between the stages and the
 * storage they publish to.
 *
 * A store holds an acquisition's output tree (task/layout.h) under absolute
 * paths. The local store is this host's filesystem: a local disk, or a shared
 * filesystem (NFS, CephFS) mounted at the same path on every host. Other
 * stores (a storage host reached over SFTP) implement the same operations;
 * the stage transaction (txn.h) is their only writer, and records and inputs
 * are read through them, so nothing above this seam knows which it is.
 *
 * Every operation takes store paths (absolute, in the store's namespace) and
 * returns 0/-1 with err set, or a new value / NULL. A missing path is
 * SQ_ERR_IO with errno ENOENT's message unless said otherwise. */
#ifndef SQ_STORE_H
#define SQ_STORE_H

#include "base/err.h"

#include <stddef.h>

struct sq_store;

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
	/* Whole file, NUL-terminated, new; *len (may be NULL) its size. */
	char *(*read)(struct sq_store *st, const char *path, size_t *len, struct sq_err *err);
	/* Writes a file atomically (a reader sees the old file or all of the new). */
	int (*write)(struct sq_store *st, const char *path, const void *data, size_t len,
		     struct sq_err *err);
	/* Appends data to a file (created if missing): logs. */
	int (*append)(struct sq_store *st, const char *path, const void *data, size_t len,
		      struct sq_err *err);
	/* Moves the local file or folder src to dst in the store, replacing what
	 * is there: src is put beside dst under a temporary name first, the old
	 * dst moved aside ("<dst>.old.<id>"), the new one renamed into place, the
	 * old one removed. A reader sees the old dst or all of the new one. src is
	 * gone afterwards. */
	int (*publish)(struct sq_store *st, const char *src, const char *dst, struct sq_err *err);
	/* A local path holding the store's file or folder src: src itself when
	 * the store is local (*copied = 0), else a copy made under local_dir
	 * (*copied = 1). New string. */
	char *(*localize)(struct sq_store *st, const char *src, const char *local_dir, int *copied,
			  struct sq_err *err);
	/* Where a stage working on outdir builds its outputs: a new local
	 * folder path (not yet made) from which publish moves them cheaply. */
	char *(*workdir)(struct sq_store *st, const char *outdir, const char *stage);
	/* "local" or the store's URL root, for messages. */
	const char *(*describe)(const struct sq_store *st);
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
char *sq_store_read(struct sq_store *st, const char *path, size_t *len, struct sq_err *err);
int sq_store_write(struct sq_store *st, const char *path, const void *data, size_t len,
		   struct sq_err *err);
int sq_store_append(struct sq_store *st, const char *path, const void *data, size_t len,
		    struct sq_err *err);
int sq_store_publish(struct sq_store *st, const char *src, const char *dst, struct sq_err *err);
char *sq_store_localize(struct sq_store *st, const char *src, const char *local_dir, int *copied,
			struct sq_err *err);
char *sq_store_workdir(struct sq_store *st, const char *outdir, const char *stage);
const char *sq_store_describe(const struct sq_store *st);

/* Frees a list from sq_store_list. */
void sq_store_names_free(char **names, size_t n);

#endif
