/* scratch.c - a worker host's scratch folder: work folders and the cache of
 * remote outputs under a cap (see scratch.h). */
#include "stage/scratch.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "base/hash.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/banned.h"

#define KEY_HEX 32 /* of the SHA-256 of a store path: collisions need 2^64 paths */

struct sq_scratch {
	char *dir, *work, *cache;
	long long max_bytes;
	long long evicted_bytes; /* by this handle, so far */
};

/* Names made in this process: the pid and a counter keep them apart. */
static atomic_long counter;

/* ---- sizes ---- */

/* Disk blocks under path (itself included; links not followed), in bytes;
 * *files_bytes (may be NULL) gets the files' own sizes added. */
static long long du2(const char *path, long long *files_bytes)
{
	struct stat st;
	long long total;
	DIR *d;
	struct dirent *e;

	if (lstat(path, &st) < 0)
		return 0;
	total = (long long)st.st_blocks * 512;
	if (!S_ISDIR(st.st_mode) || !(d = opendir(path))) {
		if (files_bytes && S_ISREG(st.st_mode))
			*files_bytes += (long long)st.st_size;
		return total;
	}
	while ((e = readdir(d))) {
		char *child;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		child = sq_path_join(path, e->d_name);
		total += du2(child, files_bytes);
		free(child);
	}
	closedir(d);
	return total;
}

static long long du(const char *path)
{
	return du2(path, NULL);
}

/* A cache entry's recorded size: disk blocks (which the cap counts), or
 * (bytes) its files' sizes. 0 if unreadable: nothing is lost by that. */
static long long entry_size_of(const char *entry, int bytes)
{
	char *p = sq_path_join(entry, "size"), *text = sq_read_file(p, NULL, NULL);
	long long n[2] = {0, 0};

	if (text && sscanf(text, "%lld %lld", &n[0], &n[1]) < 1)
		n[0] = 0;
	free(text);
	free(p);
	return n[bytes] > 0 ? n[bytes] : 0;
}

/* Blocks of path itself (a folder's own, not its contents). */
static long long blocks(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? (long long)st.st_blocks * 512 : 0;
}

/* What an entry holds on disk: its data as recorded, its folder and the size
 * file itself. */
static long long entry_size(const char *entry)
{
	char *sz = sq_path_join(entry, "size");
	long long n = entry_size_of(entry, 0) + blocks(entry) + blocks(sz);

	free(sz);
	return n;
}

/* ---- names of this host's processes ---- */

/* For "<anything>.<host>-<pid>-<n>": 1 if host is this host and pid is gone. */
static int left_by_dead(const char *name)
{
	const char *last = strrchr(name, '-'), *dot = strchr(name, '.');
	const char *p, *host = sq_hostname();
	size_t hl = strlen(host);
	long pid;

	if (!last || !dot)
		return 0;
	for (p = last - 1; p > name && *p != '-'; p--)
		;
	if (p <= dot)
		return 0;
	/* the host part may itself hold dots: match it at the end of what precedes */
	if ((size_t)(p - name) < hl + 1 || strncmp(p - hl, host, hl) != 0 ||
	    p[-(long)hl - 1] != '.')
		return 0;
	pid = strtol(p + 1, NULL, 10);
	return pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static int is_cache_temp(const char *name)
{
	return !strncmp(name, ".tmp.", 5) || !strncmp(name, ".evict.", 7);
}

/* Removes what gone processes of this host left in dir (work folders, or the
 * cache's temporaries). */
static void clean_dead(const char *dir, int cache)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *p;

		if (e->d_name[0] == '.' && !is_cache_temp(e->d_name))
			continue;
		if ((cache && !is_cache_temp(e->d_name)) || !left_by_dead(e->d_name))
			continue;
		p = sq_path_join(dir, e->d_name);
		sq_rm_rf(p, NULL);
		free(p);
	}
	closedir(d);
}

/* ---- open ---- */

struct sq_scratch *sq_scratch_open(const struct sq_scratch_opts *o, struct sq_err *err)
{
	struct sq_scratch *s;

	if (!o->dir || o->dir[0] != '/') {
		sq_error(err, SQ_ERR_INVALID, "scratch folder '%s' must be an absolute path",
			 o->dir ? o->dir : "");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->dir = xstrdup(o->dir);
	s->work = sq_path_join(o->dir, "work");
	s->cache = sq_path_join(o->dir, "cache");
	s->max_bytes = o->max_bytes > 0 ? o->max_bytes : SQ_SCRATCH_DEFAULT_MAX;
	if (sq_mkdir_p(s->work, err) < 0 || sq_mkdir_p(s->cache, err) < 0) {
		sq_scratch_free(s);
		return NULL;
	}
	if (access(s->work, W_OK) < 0 || access(s->cache, W_OK) < 0) {
		sq_error_errno(err, errno, "cannot write in scratch folder '%s'", s->dir);
		sq_scratch_free(s);
		return NULL;
	}
	clean_dead(s->work, 0);
	clean_dead(s->cache, 1);
	return s;
}

void sq_scratch_free(struct sq_scratch *s)
{
	if (!s)
		return;
	free(s->dir);
	free(s->work);
	free(s->cache);
	free(s);
}

const char *sq_scratch_dir(const struct sq_scratch *s)
{
	return s->dir;
}

long long sq_scratch_max(const struct sq_scratch *s)
{
	return s->max_bytes;
}

static char *unique(const char *dir, const char *stem)
{
	return xasprintf("%s/%s.%s-%ld-%ld", dir, stem, sq_hostname(), (long)getpid(),
			 (long)atomic_fetch_add(&counter, 1));
}

char *sq_scratch_workdir(struct sq_scratch *s, const char *stage)
{
	return unique(s->work, stage);
}

char *sq_scratch_tmp(struct sq_scratch *s)
{
	return unique(s->cache, ".tmp");
}

/* ---- the cache's entries ---- */

struct entry {
	char *path;
	long long size_bytes, used_ns;
};

static int by_use(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return (x->used_ns > y->used_ns) - (x->used_ns < y->used_ns);
}

/* The cache's entries, least recently used first; *cached their total. */
static struct entry *entries(struct sq_scratch *s, size_t *n, long long *cached)
{
	DIR *d = opendir(s->cache);
	struct dirent *e;
	struct entry *v = NULL;
	size_t alloc = 0;

	*n = 0;
	*cached = 0;
	while (d && (e = readdir(d))) {
		struct stat st;
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = sq_path_join(s->cache, e->d_name);
		if (stat(p, &st) < 0) {
			free(p);
			continue;
		}
		xgrow((void **)&v, &alloc, *n + 1, sizeof(*v));
		v[*n] = (struct entry){.path = p,
				       .size_bytes = entry_size(p),
				       .used_ns = (long long)st.st_mtim.tv_sec * 1000000000LL +
						  st.st_mtim.tv_nsec};
		*cached += v[*n].size_bytes;
		(*n)++;
	}
	if (d)
		closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), by_use);
	return v;
}

static void entries_free(struct entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* Takes an entry out of the cache in one rename, then removes it. */
static void evict(struct sq_scratch *s, const char *entry)
{
	char *gone = unique(s->cache, ".evict");

	if (rename(entry, gone) == 0)
		sq_rm_rf(gone, NULL);
	free(gone);
}

/* Bytes outside the cache's entries: work folders, temporaries, the folders
 * themselves and the work.*.max files. */
static long long uncached(struct sq_scratch *s)
{
	DIR *d = opendir(s->dir);
	struct dirent *e;
	long long total = du(s->work) + blocks(s->dir) + blocks(s->cache);

	while (d && (e = readdir(d))) {
		char *p;

		if (strncmp(e->d_name, "work.", 5) != 0)
			continue;
		p = sq_path_join(s->dir, e->d_name);
		total += blocks(p);
		free(p);
	}
	if (d)
		closedir(d);
	d = opendir(s->cache);
	while (d && (e = readdir(d))) {
		char *p;

		if (!is_cache_temp(e->d_name))
			continue;
		p = sq_path_join(s->cache, e->d_name);
		total += du(p);
		free(p);
	}
	if (d)
		closedir(d);
	return total;
}

long long sq_scratch_used(struct sq_scratch *s)
{
	size_t n;
	long long cached;
	struct entry *v = entries(s, &n, &cached);

	entries_free(v, n);
	return cached + uncached(s);
}

int sq_scratch_room(struct sq_scratch *s, long long need, struct sq_err *err)
{
	size_t n, i = 0;
	long long cached, other, used;
	struct entry *v;
	int rc = 0;

	clean_dead(s->work, 0);
	clean_dead(s->cache, 1);
	v = entries(s, &n, &cached);
	other = uncached(s);
	used = cached + other;
	for (; used + need > s->max_bytes && i < n; i++) {
		evict(s, v[i].path);
		used -= v[i].size_bytes;
		s->evicted_bytes += v[i].size_bytes;
	}
	if (used + need > s->max_bytes)
		rc = sq_error(err, SQ_ERR_NOSPC,
			      "scratch folder '%s' is full: %lld bytes wanted, %lld of its cap of "
			      "%lld held by running stages (raise --scratch-max, or free the disk)",
			      s->dir, need, other, s->max_bytes);
	entries_free(v, n);
	return rc;
}

/* ---- get and put ---- */

static int stamp_ok(const char *stamp)
{
	size_t n = strlen(stamp);

	return n > 0 && n <= SQ_HASH_HEX_LEN && strspn(stamp, "0123456789abcdef") == n;
}

static char *entry_path(struct sq_scratch *s, const char *key, const char *stamp)
{
	return xasprintf("%s/%s.%s", s->cache, key, stamp);
}

/* Hard-links the tree at from to to. -1 with errno set on failure. */
static int link_tree(const char *from, const char *to)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (lstat(from, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return link(from, to);
	if (mkdir(to, 0777) < 0 || !(d = opendir(from)))
		return -1;
	while (rc == 0 && (e = readdir(d))) {
		char *a, *b;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		a = sq_path_join(from, e->d_name);
		b = sq_path_join(to, e->d_name);
		rc = link_tree(a, b);
		free(b);
		free(a);
	}
	closedir(d);
	return rc;
}

int sq_scratch_get(struct sq_scratch *s, const char *key, const char *stamp, const char *dst,
		   long long *bytes, struct sq_err *err)
{
	char *entry, *data;
	int rc = 0;

	if (!stamp_ok(stamp))
		return 0;
	entry = entry_path(s, key, stamp);
	data = sq_path_join(entry, "data");
	if (link_tree(data, dst) == 0) {
		utimensat(AT_FDCWD, entry, NULL, 0); /* used now: evicted last */
		if (bytes)
			*bytes = entry_size_of(entry, 1);
		rc = 1;
	} else if (errno != ENOENT) { /* ENOENT: none, or evicted meanwhile */
		rc = sq_error_errno(err, errno, "cannot link '%s' to '%s'", data, dst);
	}
	if (rc != 1)
		sq_rm_rf(dst, NULL);
	free(data);
	free(entry);
	return rc;
}

/* Removes the entries of key at other stamps. */
static void drop_others(struct sq_scratch *s, const char *key, const char *stamp)
{
	DIR *d = opendir(s->cache);
	struct dirent *e;
	size_t kl = strlen(key);

	while (d && (e = readdir(d))) {
		char *p;

		if (strncmp(e->d_name, key, kl) != 0 || e->d_name[kl] != '.' ||
		    !strcmp(e->d_name + kl + 1, stamp))
			continue;
		p = sq_path_join(s->cache, e->d_name);
		evict(s, p);
		free(p);
	}
	if (d)
		closedir(d);
}

/* Makes the entry at tmp (data moved in, size written) the copy of key at
 * stamp. */
static int settle(struct sq_scratch *s, const char *tmp, const char *key, const char *stamp,
		  struct sq_err *err)
{
	char *entry = entry_path(s, key, stamp);
	int rc = 0;

	drop_others(s, key, stamp);
	if (rename(tmp, entry) < 0) {
		/* another process kept the same version meanwhile: one copy is enough */
		if (errno != EEXIST && errno != ENOTEMPTY)
			rc = sq_error_errno(err, errno, "cannot move '%s' into the cache", tmp);
		sq_rm_rf(tmp, NULL);
	}
	free(entry);
	return rc;
}

int sq_scratch_put(struct sq_scratch *s, const char *key, const char *stamp, const char *src,
		   struct sq_err *err)
{
	long long files = 0, size = du2(src, &files);
	char *tmp = NULL, *data = NULL, *sz = NULL, *text = NULL;
	int rc = 0;

	/* src already counts among the work: room for nothing more */
	if (!stamp_ok(stamp) || sq_scratch_room(s, 0, NULL) < 0)
		return 0;
	tmp = sq_scratch_tmp(s);
	data = sq_path_join(tmp, "data");
	sz = sq_path_join(tmp, "size");
	text = xasprintf("%lld %lld\n", size, files);
	if (mkdir(tmp, 0777) < 0) {
		rc = sq_error_errno(err, errno, "cannot create '%s'", tmp);
		goto out;
	}
	if (rename(src, data) < 0) {
		rc = sq_error_errno(err, errno, "cannot move '%s' into the cache", src);
		sq_rm_rf(tmp, NULL);
		goto out;
	}
	if (sq_write_file_atomic(sz, text, strlen(text), NULL) < 0 ||
	    settle(s, tmp, key, stamp, err) < 0) {
		sq_rm_rf(tmp, NULL);
		rc = -1;
		goto out;
	}
	rc = 1;
out:
	free(text);
	free(sz);
	free(data);
	free(tmp);
	return rc;
}

/* The largest work folder a stage filled so far, shared by the processes of
 * this host: "<dir>/work.<stage>.max", rewritten (by rename) when a larger
 * one comes. */
static char *work_max_path(const struct sq_scratch *s, const char *stage)
{
	return xasprintf("%s/work.%s.max", s->dir, stage);
}

static long long read_number(const char *path)
{
	char *text = sq_read_file(path, NULL, NULL);
	long long n = text ? strtoll(text, NULL, 10) : 0;

	free(text);
	return n > 0 ? n : 0;
}

/* The largest of every stage's, or 0. */
static long long any_work_max(const struct sq_scratch *s)
{
	DIR *d = opendir(s->dir);
	struct dirent *e;
	long long most = 0;

	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char *p;

		if (strncmp(e->d_name, "work.", 5) != 0 || n < 9 ||
		    strcmp(e->d_name + n - 4, ".max"))
			continue;
		p = sq_path_join(s->dir, e->d_name);
		if (read_number(p) > most)
			most = read_number(p);
		free(p);
	}
	if (d)
		closedir(d);
	return most;
}

long long sq_scratch_work_estimate(struct sq_scratch *s, const char *stage)
{
	char *p = work_max_path(s, stage);
	long long n = read_number(p);

	free(p);
	/* a stage not run here yet may hold its inputs and its outputs at once */
	return n > 0 ? n : 2 * any_work_max(s);
}

void sq_scratch_note_output(struct sq_scratch *s, const char *stage, const char *path)
{
	long long size = du(path);
	char *p = work_max_path(s, stage), *text;

	if (size > read_number(p)) {
		text = xasprintf("%lld\n", size);
		sq_write_file_atomic(p, text, strlen(text), NULL);
		free(text);
	}
	free(p);
}

long long sq_scratch_evicted(const struct sq_scratch *s)
{
	return s->evicted_bytes;
}

char *sq_scratch_key(const char *path)
{
	char hex[SQ_HASH_HEX_LEN + 1];

	sq_hash_sha256_hex(path, strlen(path), hex);
	hex[KEY_HEX] = '\0';
	return xstrdup(hex);
}
