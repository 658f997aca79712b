/* store_sftp.h - the SFTP store: stage outputs on a storage host, named by
 * sftp://[user@]host[:port]/abs/path URLs (an output_root given so), reached
 * with the same keys, agent and host-key rules as sftp:// videos.
 *
 * Stages work in this host's scratch folder (scratch.h) and the transaction
 * publishes each output by uploading it under a temporary name beside its
 * place ("<name>.tmp.<host>-<pid>-<n>"), moving the old one aside and renaming
 * the new one in; the record is written the same way, last. What a stage
 * published stays in the scratch's cache under the stamp of its record, so a
 * later stage on this host that reads the same version (reconstruct after
 * extract, a stitch after reconstruct) links it from there instead of
 * fetching it; any other version, or an output this host never had, is
 * fetched into the cache (room made first, under the cap).
 *
 * Plain paths are handed to the local store: one SFTP store serves a worker
 * whatever its acquisitions' output roots are. */
#ifndef SQ_STORE_SFTP_H
#define SQ_STORE_SFTP_H

#include "media/sftp.h"
#include "stage/scratch.h"
#include "stage/store.h"

struct sq_store_sftp_opts {
	/* how storage hosts are reached: stall timeout (and SSH options where the
	 * reader takes them); borrowed, NULL: the defaults */
	const struct sq_sftp_opts *sftp;
	/* where stages work and copies are kept; borrowed, must outlive the store;
	 * NULL: a store that only reads records and lists (scanq-repair) */
	struct sq_scratch *scratch;
};

/* A new SFTP store (free with sq_store_free). */
struct sq_store *sq_store_sftp_new(const struct sq_store_sftp_opts *o);

/* The SFTP options of st, an SFTP store (borrowed). */
const struct sq_sftp_opts *sq_store_sftp_opts(const struct sq_store *st);

/* task/owner.h's rules for an output root on a storage host (an sftp:// URL):
 * sq_owner_check's and sq_owner_claim's, with the same marker, read and
 * written over SFTP through st (an SFTP store). A marker is created under a
 * name of its own and renamed into place, which SFTP refuses when the name
 * exists, so that two enqueues claiming one root at once cannot both win. */
int sq_store_sftp_owner_check(struct sq_store *st, const char *root, const char *acquisition,
			      struct sq_err *err);
int sq_store_sftp_owner_claim(struct sq_store *st, const char *root, const char *acquisition,
			      const char *task_dir, struct sq_err *err);

#endif
