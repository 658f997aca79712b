/* stride.c - the frames a reconstruct backend is given and the RAM-aware stride
 * (see stride.h). */
#include "stage/stride.h"
#include "stage/record.h"
#include "task/layout.h"
#include "base/fsutil.h"
#include "base/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/banned.h"

long long sq_stride_host_memory(void)
{
	char *text = sq_read_file("/proc/meminfo", NULL, NULL);
	const char *line = text ? strstr(text, "MemAvailable:") : NULL;
	long long kib = 0, pages, page;

	if (line && sscanf(line, "MemAvailable: %lld kB", &kib) == 1 && kib > 0) {
		free(text);
		return kib * 1024;
	}
	free(text);
	/* kernels before 3.14 have no MemAvailable: free memory is the next best */
	pages = sysconf(_SC_AVPHYS_PAGES);
	page = sysconf(_SC_PAGESIZE);
	return pages > 0 && page > 0 ? pages * page : 0;
}

int sq_stride_pick(const struct sq_stride_spec *spec, long long default_bytes_per_frame,
		   size_t nframes, long long host_bytes, struct sq_stride *out, struct sq_err *err)
{
	long long budget = spec->memory_budget_bytes, allowed;

	memset(out, 0, sizeof(*out));
	out->k = 1;
	out->frames_total = nframes;
	out->bytes_per_frame =
	    spec->bytes_per_frame ? spec->bytes_per_frame : default_bytes_per_frame;
	if (host_bytes > 0 && (budget == 0 || budget > host_bytes))
		budget = host_bytes;
	if (spec->stride > 0) {
		out->k = spec->stride;
		out->fixed = 1;
	} else if (out->bytes_per_frame > 0 && budget > 0) {
		out->budget_bytes = budget;
		allowed = budget / out->bytes_per_frame;
		if (allowed < 2)
			return sq_error(err, SQ_ERR_INVALID,
					"memory budget of %lld MiB holds less than 2 frames of "
					"%lld MiB each: nothing to reconstruct with",
					budget >> 20, out->bytes_per_frame >> 20);
		if ((long long)nframes > allowed)
			out->k = (int)(((long long)nframes + allowed - 1) / allowed);
	}
	out->frames_used = nframes ? (nframes + (size_t)out->k - 1) / (size_t)out->k : 0;
	return 0;
}

int sq_stride_link_frames(const char *frames_dir, const struct sq_frames_record *fr, int k,
			  const char *dir, struct sq_err *err)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < fr->nframes; i += (size_t)(k > 0 ? k : 1)) {
		char name[SQ_LAYOUT_FRAME_NAME_MAX];

		sq_layout_frame_name(name, i + 1);
		char *from = sq_path_join(frames_dir, name);
		char *to = sq_path_join(dir, name);

		if (symlink(from, to) < 0)
			rc = sq_error_errno(err, errno, "cannot link frame '%s' into '%s'", from,
					    dir);
		free(from);
		free(to);
	}
	return rc;
}

int sq_stride_frames_dir(const struct sq_stride_spec *spec, long long default_bytes_per_frame,
			 const char *frames_dir, const struct sq_frames_record *fr,
			 const char *workdir, struct sq_stride *out, char **dir,
			 struct sq_err *err)
{
	char *sub = NULL;
	int rc = -1;

	*dir = NULL;
	if (sq_stride_pick(spec, default_bytes_per_frame, fr->nframes, sq_stride_host_memory(), out,
			   err) < 0)
		goto out;
	if (out->k == 1) {
		*dir = xstrdup(frames_dir);
		rc = 0;
		goto out;
	}
	sub = sq_path_join(workdir, "frames");
	if (sq_mkdir_p(sub, err) < 0 ||
	    sq_stride_link_frames(frames_dir, fr, out->k, sub, err) < 0)
		goto out;
	*dir = sub;
	sub = NULL;
	rc = 0;
out:
	free(sub);
	return rc;
}
