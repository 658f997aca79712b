/* fuzz.c - the harnesses' scratch folder and helpers (see fuzz.h). */
#include "fuzz.h"

#include "base/fsutil.h"
#include "base/xalloc.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile double fz_sink;

static char *scratch;

static void scratch_remove(void)
{
	sq_rm_rf(scratch, NULL);
	free(scratch);
	scratch = NULL;
}

const char *fz_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (scratch)
		return scratch;
	scratch = xasprintf("%s/scanq-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(scratch))
		fz_fail("cannot make a scratch folder '%s'", scratch);
	atexit(scratch_remove);
	return scratch;
}

char *fz_write(const char *name, const void *data, size_t size)
{
	char *path = sq_path_join(fz_dir(), name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		fz_fail("cannot create '%s'", path);
	for (size_t done = 0; done < size;) {
		ssize_t n = write(fd, (const char *)data + done, size - done);

		if (n <= 0)
			fz_fail("cannot write '%s'", path);
		done += (size_t)n;
	}
	close(fd);
	return path;
}

void fz_remove(const char *name)
{
	char *path = sq_path_join(fz_dir(), name);

	unlink(path);
	free(path);
}

char *fz_strndup(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

int fz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **a, size_t *alen,
	     const uint8_t **b, size_t *blen)
{
	const uint8_t *at = memmem(data, size, sep, strlen(sep));

	*a = data;
	if (!at) {
		*alen = size;
		*b = NULL;
		*blen = 0;
		return 0;
	}
	*alen = (size_t)(at - data);
	*b = at + strlen(sep);
	*blen = size - *alen - strlen(sep);
	return 1;
}

void fz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}
