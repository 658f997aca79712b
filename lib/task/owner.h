/* owner.h - which acquisition an output root belongs to.
 *
 * Two acquisitions writing into one output root overwrite each other's outputs
 * (and repairing one would redo the other's). So the first enqueue of an
 * acquisition leaves a small JSON marker in its root (layout.h's
 * SQ_LAYOUT_OWNER_MARKER: the acquisition's name and task directory), and a root
 * whose marker names another acquisition is refused. A root without a marker
 * (new, or made before markers existed) is taken by the first acquisition that
 * is enqueued into it. */
#ifndef SQ_OWNER_H
#define SQ_OWNER_H

#include "base/err.h"

#include <stddef.h>

struct sq_owner {
	char *acquisition; /* the acquisition the root belongs to */
	char *task_dir;	   /* the task directory it was enqueued from (absolute) */
};

void sq_owner_release(struct sq_owner *o);

/* Reads the marker of dir into o (released first): 1 if dir has one, 0 if it has
 * none (or dir does not exist), -1 with err if there is one that cannot be read
 * or is not a marker scanq wrote. */
int sq_owner_read(const char *dir, struct sq_owner *o, struct sq_err *err);

/* Whether acquisition may write into root, without changing anything: 0 if root
 * holds no marker or acquisition's own, and no folder above root is another
 * output root (a root inside a root is one acquisition's group folder); -1 with
 * err naming the acquisition that owns it otherwise. */
int sq_owner_check(const char *root, const char *acquisition, struct sq_err *err);

/* Makes acquisition (enqueued from task_dir) the owner of root, an existing
 * directory: writes the marker if there is none, updates its task_dir if it is
 * acquisition's own; -1 with err if another acquisition owns root (also when one
 * claims it at the same moment) or on I/O errors. */
int sq_owner_claim(const char *root, const char *acquisition, const char *task_dir,
		   struct sq_err *err);

/* The marker's format, for roots reached otherwise than through this host's
 * filesystem (stage/store_sftp.h): parses text (the marker at path, for
 * messages) into o, or -1 with err if it is not a marker scanq wrote; and
 * returns the new text of acquisition's marker. */
int sq_owner_parse(const char *path, const char *text, struct sq_owner *o, struct sq_err *err);
char *sq_owner_json(const char *acquisition, const char *task_dir);

/* Where the markers are, for the same rules on another filesystem
 * (stage/store_sftp.h): */
struct sq_owner_io {
	/* dir's marker into o (released first): 1, 0 when it has none, -1 */
	int (*read)(void *ctx, const char *dir, struct sq_owner *o, struct sq_err *err);
	/* the file marker with text json, where none is: 0 made, 1 one is there
	 * already (another claim won), -1 */
	int (*create)(void *ctx, const char *marker, const char *json, struct sq_err *err);
	/* marker's text replaced by json, atomically */
	int (*replace)(void *ctx, const char *marker, const char *json, struct sq_err *err);
	size_t top; /* the length of the namespace's "/" in a root ("/": 1): the
		       folders above a root are looked at up to that one */
	void *ctx;
};

/* sq_owner_check and sq_owner_claim with the markers read and written by io. */
int sq_owner_check_io(const struct sq_owner_io *io, const char *root, const char *acquisition,
		      struct sq_err *err);
int sq_owner_claim_io(const struct sq_owner_io *io, const char *root, const char *acquisition,
		      const char *task_dir, struct sq_err *err);

/* Markers larger than this are not scanq's. */
#define SQ_OWNER_MARKER_MAX 65536

#endif
