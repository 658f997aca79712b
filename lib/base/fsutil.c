/* fsutil.c - crash-safe file writing, paths, clocks. */
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "base/banned.h"

int sq_mkdir_p(const char *dir, struct sq_err *err)
{
	char *p = xstrdup(dir);
	int rc = 0;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST) {
			rc = sq_error_errno(err, errno, "cannot create directory '%s'", p);
			goto out;
		}
		*s = '/';
	}
	if (mkdir(p, 0777) < 0 && errno != EEXIST)
		rc = sq_error_errno(err, errno, "cannot create directory '%s'", p);
out:
	free(p);
	return rc;
}

int sq_rm_rf(const char *path, struct sq_err *err)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : sq_error_errno(err, errno, "cannot stat '%s'", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return sq_error_errno(err, errno, "cannot remove '%s'", path);
		return 0;
	}
	d = opendir(path);
	if (!d)
		return sq_error_errno(err, errno, "cannot open directory '%s'", path);
	while (rc == 0 && (e = readdir(d))) {
		char *child;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		child = sq_path_join(path, e->d_name);
		rc = sq_rm_rf(child, err);
		free(child);
	}
	closedir(d);
	if (rc == 0 && rmdir(path) < 0 && errno != ENOENT)
		rc = sq_error_errno(err, errno, "cannot remove directory '%s'", path);
	return rc;
}

int sq_fsync_dir(const char *dir, struct sq_err *err)
{
	struct stat st;
	char *d = NULL;
	int fd, rc = 0;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		d = sq_path_dirname(dir);
	fd = open(d ? d : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = sq_error_errno(err, errno, "cannot open directory '%s'", d ? d : dir);
		goto out;
	}
	if (fsync(fd) < 0 && errno != EINVAL)
		rc = sq_error_errno(err, errno, "cannot sync directory '%s'", d ? d : dir);
	close(fd);
out:
	free(d);
	return rc;
}

int sq_rename_durable(const char *from, const char *to, struct sq_err *err)
{
	if (rename(from, to) < 0)
		return sq_error_errno(err, errno, "cannot rename '%s' to '%s'", from, to);
	return sq_fsync_dir(to, err);
}

int sq_write_all(int fd, const void *buf, size_t len)
{
	const char *data = buf;

	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int sq_write_file_atomic(const char *path, const void *data, size_t len, struct sq_err *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, rc = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		rc = sq_error_errno(err, errno, "cannot create '%s'", tmp);
		goto out;
	}
	if (sq_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		rc = sq_error_errno(err, errno, "cannot write '%s'", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0) {
		rc = sq_error_errno(err, errno, "cannot write '%s'", tmp);
		unlink(tmp);
		goto out;
	}
	rc = sq_rename_durable(tmp, path, err);
	if (rc < 0)
		unlink(tmp);
out:
	free(tmp);
	return rc;
}

char *sq_read_file(const char *path, size_t *len_out, struct sq_err *err)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		sq_error_errno(err, errno, "cannot open '%s'", path);
		return NULL;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sq_error_errno(err, errno, "cannot read '%s'", path);
			close(fd);
			sq_strbuf_release(&sb);
			return NULL;
		}
		if (n == 0)
			break;
		sq_strbuf_add(&sb, chunk, (size_t)n);
	}
	close(fd);
	if (len_out)
		*len_out = sb.len;
	return sq_strbuf_detach(&sb);
}

static void normalise(struct sq_strbuf *out, const char *path)
{
	char *copy = xstrdup(path), *save = NULL, *tok;
	size_t *marks = NULL, nmarks = 0, amarks = 0;
	int absolute = path[0] == '/';

	sq_strbuf_reset(out);
	for (tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..") && nmarks > 0) {
			out->len = marks[--nmarks];
			out->buf[out->len] = '\0';
			continue;
		}
		if (!strcmp(tok, "..") && absolute)
			continue;
		xgrow((void **)&marks, &amarks, nmarks + 1, sizeof(*marks));
		marks[nmarks++] = out->len;
		if (out->len > 0 || absolute)
			sq_strbuf_addch(out, '/');
		sq_strbuf_adds(out, tok);
		if (!strcmp(tok, ".."))
			nmarks--; /* a leading ".." of a relative path stays */
	}
	if (out->len == 0)
		sq_strbuf_adds(out, absolute ? "/" : ".");
	free(marks);
	free(copy);
}

char *sq_path_resolve(const char *base_dir, const char *rel)
{
	struct sq_strbuf out = SQ_STRBUF_INIT;
	char *joined = rel[0] == '/' ? xstrdup(rel) : sq_path_join(base_dir, rel);

	normalise(&out, joined);
	free(joined);
	return sq_strbuf_detach(&out);
}

char *sq_path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

char *sq_path_stem(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	return dot && dot != base ? xstrndup(base, (size_t)(dot - base)) : xstrdup(base);
}

char *sq_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	if (la > 0 && a[la - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

int sq_path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

long long sq_path_mtime_ms(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	return (long long)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

int sq_parse_size_bytes(const char *s, long long *bytes_out)
{
	static const char units[] = "kmgt";
	const char *u;
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	if (*end) {
		u = strchr(units, end[0] | 0x20);
		if (!u || (end[1] && !((end[1] | 0x20) == 'b' && !end[2])))
			return -1;
		for (const char *k = units; k <= u; k++)
			v *= 1024.0;
	}
	if (v >= 9.2e18)
		return -1;
	*bytes_out = (long long)(v + 0.5);
	return 0;
}
