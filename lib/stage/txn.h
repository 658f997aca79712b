/* txn.h - the stage transaction: the one way a stage's outputs reach its
 * output directory.
 *
 *   begin    checks the outdir stays under the output root, makes it, removes
 *            the stage's record (from here on the stage counts as not done),
 *            removes what killed attempts left (temporaries, moved-aside
 *            outputs) and makes a fresh work folder;
 *   (run)    the stage writes each output, by its layout name, at
 *            sq_txn_path(); the backend may use sq_txn_scratch() freely;
 *   commit   publishes every output the stage made (store.h: each replaces the
 *            old one atomically), checks the required ones were made, then
 *            writes the record: last, so it vouches only for complete outputs;
 *   end      removes the work folder; an attempt that did not commit leaves
 *            the stage not done (no record), whatever it had published.
 *
 * A crash or kill at any instant therefore leaves either no record or a record
 * matching the outputs, and the next attempt's begin cleans up. */
#ifndef SQ_TXN_H
#define SQ_TXN_H

#include "base/err.h"
#include "stage/store.h"
#include "task/task.h"

struct sq_txn;

struct sq_txn_opts {
	struct sq_store *store; /* NULL: the local store */
	const char *root;	/* the output root: outdir must stay under it */
	const char *outdir;	/* absolute: where the stage's outputs go */
	enum sq_stage stage;
};

/* Begins a stage on outdir. Returns a new transaction (end with sq_txn_end)
 * or NULL with err set (an outdir outside root is SQ_ERR_INVALID). */
struct sq_txn *sq_txn_begin(const struct sq_txn_opts *o, struct sq_err *err);

/* Where the stage writes its output `name` (a name of sq_layout_outputs for
 * this stage): a new path in the work folder. */
char *sq_txn_path(const struct sq_txn *x, const char *name);

/* The work folder itself, where outputs are made by name (borrowed): for
 * code that writes several outputs into one folder (previews). */
const char *sq_txn_workdir(const struct sq_txn *x);

/* An empty folder in the work folder for the backend's own files (COLMAP's
 * database, a command's working directory); removed at the end. Borrowed. */
const char *sq_txn_scratch(const struct sq_txn *x);

/* The local file the stage's log lines go to during this attempt (the
 * stage's log in the outdir for a local store; appended to the store's log at
 * the end otherwise); NULL for stages without a log. Borrowed. */
const char *sq_txn_log(const struct sq_txn *x);

/* The outdir (borrowed). */
const char *sq_txn_outdir(const struct sq_txn *x);

/* Publishes the outputs made and writes record (its JSON text) last. -1 when a
 * required output is missing or publishing fails: the stage is then not done. */
int sq_txn_commit(struct sq_txn *x, const char *record, struct sq_err *err);

/* Removes the work folder and frees x (NULL is ignored). */
void sq_txn_end(struct sq_txn *x);

/* 0 if path (absolute) lies under root once "." and ".." are resolved and no
 * symbolic link on the way leads out of it; else -1 (SQ_ERR_INVALID). Only
 * the local filesystem's links are followed. */
int sq_txn_check_confined(const char *root, const char *path, struct sq_err *err);

#endif
