/* scratch.h - a worker host's local scratch folder: where stages whose
 * outputs live on a remote store work, and where copies of remote outputs are
 * cached, under a size cap.
 *
 *   <dir>/work/<stage>.<host>-<pid>-<n>/   a stage transaction's work folder
 *   <dir>/work.<stage>.max                 the largest of those so far (bytes)
 *   <dir>/cache/<key>.<stamp>/data         a cached copy of one store output
 *   <dir>/cache/<key>.<stamp>/size         its size: disk blocks and file bytes
 *   <dir>/cache/.tmp.<host>-<pid>-<n>      a download or a copy on its way in
 *
 * A cached copy is named by its key (a hash of its store path) and its stamp
 * (a hash of the record that vouches for it, store.h): a copy is used only for
 * the very version of the output the reader's record names, so an output
 * redone on another host is fetched anew, never taken stale from here.
 *
 * The cap counts everything under dir. Before a stage starts, room is made
 * for the largest work folder that stage filled here so far (what it is about
 * to write, a size only known afterwards; twice the largest of any stage for
 * one not run here yet); before it fetches an input,
 * for that input; before it keeps its outputs, for nothing more. Making room
 * evicts the least recently used copies; an input that cannot fit fails the
 * attempt (SQ_ERR_NOSPC), outputs that cannot are not kept. A stage that
 * writes more than any before it may pass the cap while it runs, and the disk
 * itself filling fails the attempt cleanly (its work folder goes).
 *
 * Copies leave the cache as hard links (a folder's files one by one), so an
 * eviction while a stage reads them frees nothing under the stage's feet and
 * needs no lock between the worker processes sharing dir; backends must
 * therefore not change their input files in place (none does). Every change
 * to the cache is a rename, so processes sharing dir never see half an
 * entry. */
#ifndef SQ_SCRATCH_H
#define SQ_SCRATCH_H

#include "base/err.h"

struct sq_scratch;

/* The default cap, when none is given: 10 GiB. */
#define SQ_SCRATCH_DEFAULT_MAX (10LL << 30)

struct sq_scratch_opts {
	const char *dir;     /* absolute; made if missing */
	long long max_bytes; /* the cap; 0: SQ_SCRATCH_DEFAULT_MAX */
};

/* Opens (and makes) the scratch folder, removing what processes of this host
 * that are gone left there. New (free with sq_scratch_free), or NULL with
 * err. */
struct sq_scratch *sq_scratch_open(const struct sq_scratch_opts *o, struct sq_err *err);

void sq_scratch_free(struct sq_scratch *s);

/* The folder (borrowed). */
const char *sq_scratch_dir(const struct sq_scratch *s);

/* The cap in bytes. */
long long sq_scratch_max(const struct sq_scratch *s);

/* A new, unused work folder path for a stage (not made). */
char *sq_scratch_workdir(struct sq_scratch *s, const char *stage);

/* A new, unused path in the cache folder for a file or folder on its way in
 * (not made); give it to sq_scratch_put, or remove it. */
char *sq_scratch_tmp(struct sq_scratch *s);

/* Bytes under the folder now (disk blocks; a hard link shared by a work
 * folder and the cache may be counted twice, which only errs on the safe
 * side). */
long long sq_scratch_used(struct sq_scratch *s);

/* Evicts cached copies, least recently used first, until need more bytes fit
 * under the cap. 0, or -1 with SQ_ERR_NOSPC when even an empty cache leaves
 * too little (the rest is running stages' work). */
int sq_scratch_room(struct sq_scratch *s, long long need, struct sq_err *err);

/* Links the cached copy of key at stamp (a file or a folder) to dst, which must
 * not exist, and marks it used. 1 if it did (*bytes, may be NULL: its files'
 * size),
 * 0 if there is no such copy, -1 with err. */
int sq_scratch_get(struct sq_scratch *s, const char *key, const char *stamp, const char *dst,
		   long long *bytes, struct sq_err *err);

/* Keeps the local file or folder src (on the scratch's filesystem) as the copy
 * of key at stamp: moved in when it fits under the cap once older copies are
 * evicted, and then the other stamps of key are dropped. 1 if kept (src is
 * gone), 0 if not (src is left as it was), -1 with err. */
int sq_scratch_put(struct sq_scratch *s, const char *key, const char *stamp, const char *src,
		   struct sq_err *err);

/* Room a stage about to start should have: the disk size of the largest work
 * folder that stage filled here so far; for a stage not run here yet, twice
 * the largest of any stage (0 on a new scratch folder). */
long long sq_scratch_work_estimate(struct sq_scratch *s, const char *stage);

/* Notes the size of stage's work folder (path), full with its outputs, for
 * sq_scratch_work_estimate. */
void sq_scratch_note_output(struct sq_scratch *s, const char *stage, const char *path);

/* Disk bytes of copies this handle evicted so far. */
long long sq_scratch_evicted(const struct sq_scratch *s);

/* The cache key of a store path: new hex string. */
char *sq_scratch_key(const char *path);

#endif
