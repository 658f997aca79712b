/* store_sftp.c - the SFTP store (see store_sftp.h): store.h's operations over
 * media/sftp_fs.h, with this host's scratch for work folders and copies. */
#include "stage/store_sftp.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "media/sftp_fs.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

struct sftp_store {
	struct sq_store base; /* first: the store's pointer is this one's */
	struct sq_sftp_opts sftp;
	struct sq_scratch *scratch;
	/* room the running stage's own outputs will take (its estimate): kept
	 * free by every fetch until the stage publishes */
	long long reserve;
	struct sq_store_counters c;
};

static atomic_long counter; /* temporary names made by this process */

static struct sftp_store *of(struct sq_store *st)
{
	return (struct sftp_store *)st;
}

static int remote(const char *path)
{
	return sq_sftp_is_url(path);
}

/* "<path>.<what>.<host>-<pid>-<n>": a name the transaction knows to clean up
 * (txn.c's leftovers) and no other host or process picks. */
static char *temp_name(const char *path, const char *what)
{
	return xasprintf("%s.%s.%s-%ld-%ld", path, what, sq_hostname(), (long)getpid(),
			 (long)atomic_fetch_add(&counter, 1));
}

/* ---- plain operations ---- */

static int s_mkdir_p(struct sq_store *st, const char *dir, struct sq_err *err)
{
	if (!remote(dir))
		return sq_store_mkdir_p(sq_store_local(), dir, err);
	return sq_sftp_mkdir_p(dir, &of(st)->sftp, err);
}

static int s_remove(struct sq_store *st, const char *path, struct sq_err *err)
{
	if (!remote(path))
		return sq_store_remove(sq_store_local(), path, err);
	return sq_sftp_remove(path, &of(st)->sftp, err);
}

static int s_list(struct sq_store *st, const char *dir, char ***names, size_t *n,
		  struct sq_err *err)
{
	if (!remote(dir))
		return sq_store_list(sq_store_local(), dir, names, n, err);
	return sq_sftp_list(dir, &of(st)->sftp, names, n, NULL, NULL, err);
}

static int s_stat(struct sq_store *st, const char *path, struct sq_store_stat *out,
		  struct sq_err *err)
{
	struct sq_sftp_stat ss;
	int rc;

	if (!remote(path))
		return sq_store_stat(sq_store_local(), path, out, err);
	rc = sq_sftp_stat(path, &of(st)->sftp, &ss, err);
	if (rc == 1) {
		out->is_dir = ss.is_dir;
		out->size_bytes = ss.size_bytes;
		out->mtime_ms = ss.mtime_s >= 0 ? ss.mtime_s * 1000 : -1;
	}
	return rc;
}

static int s_exists(struct sq_store *st, const char *path, struct sq_err *err)
{
	struct sq_store_stat out;

	return s_stat(st, path, &out, err);
}

static char *s_read(struct sq_store *st, const char *path, size_t *len, struct sq_err *err)
{
	size_t n = 0;
	char *text;

	if (!remote(path))
		return sq_store_read(sq_store_local(), path, len, err);
	text = sq_sftp_get(path, &of(st)->sftp, &n, err);
	if (text)
		of(st)->c.read_bytes += (long long)n;
	if (len)
		*len = n;
	return text;
}

/* Puts the new file or folder tmp in dst's place: dst moved aside, tmp
 * renamed in, the old one removed. A reader sees the old dst or the new one
 * (or, for an instant, neither: SFTP version 3 has no replacing rename). */
static int replace(struct sftp_store *s, const char *tmp, const char *dst, struct sq_err *err)
{
	struct sq_sftp_stat ss;
	char *old = NULL;
	int rc, had = sq_sftp_stat(dst, &s->sftp, &ss, err);

	if (had < 0)
		return -1;
	if (had) {
		old = temp_name(dst, "old");
		if (sq_sftp_rename(dst, old, &s->sftp, err) < 0) {
			free(old);
			return -1;
		}
	}
	rc = sq_sftp_rename(tmp, dst, &s->sftp, err);
	if (rc == 0 && old)
		rc = sq_sftp_remove(old, &s->sftp, err);
	free(old);
	return rc;
}

static int s_write(struct sq_store *st, const char *path, const void *data, size_t len,
		   struct sq_err *err)
{
	struct sftp_store *s = of(st);
	char *tmp;
	int rc;

	if (!remote(path))
		return sq_store_write(sq_store_local(), path, data, len, err);
	tmp = temp_name(path, "tmp");
	rc = sq_sftp_put(tmp, data, len, &s->sftp, err);
	if (rc == 0)
		rc = replace(s, tmp, path, err);
	if (rc < 0)
		sq_sftp_remove(tmp, &s->sftp, NULL); /* best effort: begin cleans the rest */
	else {
		s->c.up_bytes += (long long)len;
		s->c.up_files++;
	}
	free(tmp);
	return rc;
}

static int s_append(struct sq_store *st, const char *path, const void *data, size_t len,
		    struct sq_err *err)
{
	if (!remote(path))
		return sq_store_append(sq_store_local(), path, data, len, err);
	if (sq_sftp_append(path, data, len, &of(st)->sftp, err) < 0)
		return -1;
	of(st)->c.up_bytes += (long long)len;
	return 0;
}

/* ---- publish and localize ---- */

/* src, published as dst at stamp, becomes this host's copy of dst, or goes. */
static void keep(struct sftp_store *s, const char *src, const char *dst, const char *stamp)
{
	char *key;

	if (s->scratch && stamp && *stamp) {
		key = sq_scratch_key(dst);
		sq_scratch_put(s->scratch, key, stamp, src, NULL);
		free(key);
	}
	sq_rm_rf(src, NULL); /* gone already if kept */
}

/* Notes the size of the work folder src lies in ("<stage>.<id>", see
 * scratch.h), for the next stage of its kind. */
static void note_work(struct sq_scratch *sc, const char *src)
{
	char *work = sq_path_dirname(src), *stage;
	const char *base = strrchr(work, '/') ? strrchr(work, '/') + 1 : work;

	stage = xstrndup(base, strcspn(base, "."));
	sq_scratch_note_output(sc, stage, work);
	free(stage);
	free(work);
}

static int s_publish(struct sq_store *st, const char *src, const char *dst, const char *stamp,
		     struct sq_err *err)
{
	struct sftp_store *s = of(st);
	struct sq_sftp_moved m = {0, 0};
	char *tmp;
	int rc;

	if (!remote(dst))
		return sq_store_publish(sq_store_local(), src, dst, stamp, err);
	if (s->scratch) /* the whole work folder: inputs, backend files, outputs */
		note_work(s->scratch, src);
	s->reserve = 0; /* the outputs are made */
	tmp = temp_name(dst, "tmp");
	rc = sq_sftp_upload(src, tmp, &s->sftp, &m, err);
	if (rc == 0)
		rc = replace(s, tmp, dst, err);
	if (rc < 0) {
		sq_sftp_remove(tmp, &s->sftp, NULL); /* best effort: begin cleans the rest */
		free(tmp);
		return -1;
	}
	s->c.up_bytes += m.bytes;
	s->c.up_files += m.files;
	keep(s, src, dst, stamp);
	free(tmp);
	return 0;
}

/* Disk bytes the file or folder url will take here (its files' sizes in
 * whole blocks, folders recursed). */
static int remote_size(struct sftp_store *s, const char *url, long long *bytes, struct sq_err *err)
{
	struct sq_sftp_stat ss;
	char **names = NULL;
	long long *sizes = NULL;
	int *dirs = NULL, rc = sq_sftp_stat(url, &s->sftp, &ss, err);
	size_t n = 0;

	if (rc == 0)
		return sq_error(err, SQ_ERR_IO, "cannot read '%s': no such file", url);
	if (rc < 0 || !ss.is_dir) {
		*bytes += rc < 0 ? 0 : (ss.size_bytes + 4095) / 4096 * 4096;
		return rc < 0 ? -1 : 0;
	}
	*bytes += 4096; /* the folder itself */
	if (sq_sftp_list(url, &s->sftp, &names, &n, &sizes, &dirs, err) < 0)
		return -1;
	rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (dirs[i]) {
			char *sub = sq_path_join(url, names[i]);

			rc = remote_size(s, sub, bytes, err);
			free(sub);
		} else { /* as the disk holds it: whole blocks (4 KiB is common) */
			*bytes += (sizes[i] + 4095) / 4096 * 4096;
		}
	}
	sq_sftp_names_free(names, n);
	free(sizes);
	free(dirs);
	return rc;
}

/* Fetches src to dst (through the cache when there is a scratch and a key). */
static int fetch(struct sftp_store *s, const char *src, const char *key, const char *stamp,
		 const char *dst, struct sq_err *err)
{
	struct sq_sftp_moved m = {0, 0};
	long long size = 0;
	char *tmp;
	int rc;

	/* the reserve is a guess: an input that fits without it is fetched */
	if (s->scratch && (remote_size(s, src, &size, err) < 0 ||
			   (sq_scratch_room(s->scratch, s->reserve + size, NULL) < 0 &&
			    sq_scratch_room(s->scratch, size, err) < 0)))
		return -1;
	tmp = s->scratch ? sq_scratch_tmp(s->scratch) : xstrdup(dst);
	rc = sq_sftp_download(src, tmp, &s->sftp, &m, err);
	s->c.down_bytes += m.bytes;
	s->c.down_files += m.files;
	if (rc == 0 && s->scratch && key &&
	    sq_scratch_put(s->scratch, key, stamp, tmp, NULL) == 1) {
		if (sq_scratch_get(s->scratch, key, stamp, dst, NULL, err) != 1)
			rc = sq_error(err, SQ_ERR_NOSPC,
				      "cannot use the copy of '%s' just fetched: evicted at once "
				      "(the scratch cap is too small)",
				      src);
		free(tmp);
		return rc;
	}
	if (rc == 0 && strcmp(tmp, dst) != 0 && rename(tmp, dst) < 0)
		rc = sq_error_errno(err, errno, "cannot move '%s' to '%s'", tmp, dst);
	if (rc < 0)
		sq_rm_rf(tmp, NULL);
	free(tmp);
	return rc;
}

static char *s_localize(struct sq_store *st, const char *src, const char *stamp,
			const char *local_dir, int *copied, struct sq_err *err)
{
	struct sftp_store *s = of(st);
	const char *base = strrchr(src, '/');
	char *dst, *key = NULL;
	long long bytes = 0;
	int got = 0;

	if (!remote(src))
		return sq_store_localize(sq_store_local(), src, stamp, local_dir, copied, err);
	*copied = 1;
	dst = sq_path_join(local_dir, base ? base + 1 : src);
	if (s->scratch && stamp && *stamp) {
		key = sq_scratch_key(src);
		got = sq_scratch_get(s->scratch, key, stamp, dst, &bytes, err);
	}
	if (got == 1)
		s->c.kept_bytes += bytes;
	else if (got < 0 || fetch(s, src, key, stamp, dst, err) < 0) {
		free(dst);
		dst = NULL;
	}
	free(key);
	return dst;
}

/* ---- the rest ---- */

static char *s_workdir(struct sq_store *st, const char *outdir, const char *stage)
{
	struct sftp_store *s = of(st);

	if (!remote(outdir))
		return sq_store_workdir(sq_store_local(), outdir, stage);
	if (!s->scratch) /* a store made for reading: nothing should stage through it */
		return xasprintf("/var/tmp/scanq/work/%s.%s-%ld", stage, sq_hostname(),
				 (long)getpid());
	/* room for what the stage is about to make (scratch.h), kept until it
	 * publishes; too little shows when an input is fetched, or as a full
	 * disk */
	s->reserve = sq_scratch_work_estimate(s->scratch, stage);
	sq_scratch_room(s->scratch, s->reserve, NULL);
	return sq_scratch_workdir(s->scratch, stage);
}

static const char *s_describe(const struct sq_store *st)
{
	(void)st;
	return "sftp";
}

static void s_counters(const struct sq_store *st, struct sq_store_counters *out)
{
	const struct sftp_store *s = (const struct sftp_store *)st;

	*out = s->c;
	out->evicted_bytes = s->scratch ? sq_scratch_evicted(s->scratch) : 0;
}

static void s_free(struct sq_store *st)
{
	free(of(st));
}

static const struct sq_store_ops sftp_ops = {
    .mkdir_p = s_mkdir_p,
    .remove = s_remove,
    .list = s_list,
    .exists = s_exists,
    .stat = s_stat,
    .read = s_read,
    .write = s_write,
    .append = s_append,
    .publish = s_publish,
    .localize = s_localize,
    .workdir = s_workdir,
    .describe = s_describe,
    .counters = s_counters,
    .free = s_free,
};

const struct sq_sftp_opts *sq_store_sftp_opts(const struct sq_store *st)
{
	return &((const struct sftp_store *)st)->sftp;
}

struct sq_store *sq_store_sftp_new(const struct sq_store_sftp_opts *o)
{
	struct sftp_store *s = xcalloc(1, sizeof(*s));

	s->base.ops = &sftp_ops;
	if (o && o->sftp)
		s->sftp = *o->sftp;
	s->scratch = o ? o->scratch : NULL;
	return &s->base;
}
