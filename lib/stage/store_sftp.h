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

#endif
