/* sftp_download.c - copying a file or folder from an SFTP host to this host
 * (see sftp_fs.h): listed and stat'ed through sftp_fs.c's calls, each file read
 * through the reader (sftp.c), whose read-ahead keeps 16 requests in flight.
 * The reader takes the host's mutex itself, so this runs outside any op. */
#include "media/sftp_fs.h"
#include "base/fsutil.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/banned.h"

#define CHUNK 65536 /* bytes per read call: one of the reader's requests */

/* One file of size bytes, through the reader's read-ahead. */
static int download_file(const char *url, long long size, const char *local,
			 const struct sq_sftp_opts *o, struct sq_sftp_moved *moved,
			 struct sq_err *err)
{
	int fd = open(local, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), rc = 0;
	struct sq_sftp_file *f = NULL;
	char *buf = NULL;
	long n;

	if (fd < 0)
		return sq_error_errno(err, errno, "cannot create '%s'", local);
	if (size > 0) { /* the reader refuses empty files: nothing to read anyway */
		struct sq_sftp_opts ro = {.stall_ms = o ? o->stall_ms : 0};

		if (o) { /* the same options: the same host entry, the same session */
			ro.ssh = o->ssh;
			ro.hooks = o->hooks;
		}
		if (!(f = sq_sftp_open(url, &ro, err)))
			rc = -1;
		buf = xmalloc(CHUNK);
		while (rc == 0 && (n = sq_sftp_read(f, buf, CHUNK, err)) != 0) {
			if (n < 0)
				rc = -1;
			else if (sq_write_all(fd, buf, (size_t)n) < 0)
				rc = sq_error_errno(err, errno, "cannot write '%s'", local);
			else
				moved->bytes += n;
		}
	}
	sq_sftp_close(f);
	free(buf);
	if (close(fd) < 0 && rc == 0)
		rc = sq_error_errno(err, errno, "cannot write '%s'", local);
	if (rc == 0)
		moved->files++;
	return rc;
}

static int download_dir(const char *url, const char *local, const struct sq_sftp_opts *o,
			struct sq_sftp_moved *moved, struct sq_err *err)
{
	char **names = NULL;
	long long *sizes = NULL;
	int *dirs = NULL, rc;
	size_t n = 0;

	if (mkdir(local, 0777) < 0)
		return sq_error_errno(err, errno, "cannot create directory '%s'", local);
	if (sq_sftp_list(url, o, &names, &n, &sizes, &dirs, err) < 0)
		return -1;
	rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *from = sq_path_join(url, names[i]), *to = sq_path_join(local, names[i]);

		rc = dirs[i] ? download_dir(from, to, o, moved, err)
			     : download_file(from, sizes[i], to, o, moved, err);
		free(to);
		free(from);
	}
	sq_sftp_names_free(names, n);
	free(sizes);
	free(dirs);
	return rc;
}

int sq_sftp_download(const char *url, const char *local, const struct sq_sftp_opts *o,
		     struct sq_sftp_moved *moved, struct sq_err *err)
{
	struct sq_sftp_moved spare = {0, 0};
	struct sq_sftp_stat st;
	int rc = sq_sftp_stat(url, o, &st, err);

	if (!moved)
		moved = &spare;
	if (rc == 0)
		return sq_error(err, SQ_ERR_IO, "cannot read '%s': no such file", url);
	if (rc < 0)
		return -1;
	return st.is_dir ? download_dir(url, local, o, moved, err)
			 : download_file(url, st.size_bytes, local, o, moved, err);
}
