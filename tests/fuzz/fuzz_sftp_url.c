/* fuzz_sftp_url.c - the sftp:// URL parser (lib/media/sftp.c).
 *
 * Input: one URL (sftp:// is put in front when it is missing, so that the
 * fuzzer spends its time on what follows). Besides memory errors, checks that a
 * parsed URL has a host, a port in 1..65535 when given, and an absolute path;
 * and that every URL the task-file check accepts as a video (lib/task: what
 * `scanq-enqueue --check` passes) is one the reader can open: a URL accepted at
 * enqueue and refused by the worker fails every attempt of the task. */
#include "fuzz.h"

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "media/sftp_internal.h"
#include "task/taskfile.h"

#include <stdlib.h>
#include <string.h>

static void check_parsed(const char *url, const struct url *u)
{
	if (!u->name || !*u->name)
		fz_fail("'%s': no host", url);
	if (u->user && !*u->user)
		fz_fail("'%s': an empty user", url);
	if (u->port && (atoi(u->port) < 1 || atoi(u->port) > 65535))
		fz_fail("'%s': port '%s'", url, u->port);
	if (url[u->path_at] != '/' || !url[u->path_at + 1])
		fz_fail("'%s': path '%s' is not absolute", url, url + u->path_at);
}

/* 1 if a task file naming url as its video passes the loader's checks. Only
 * for printable ASCII urls: they are written as a YAML double-quoted scalar. */
static int task_check_accepts(const char *url)
{
	struct sq_taskfile_opts opts = {.skip_video_check = 1};
	struct sq_diags diags = SQ_DIAGS_INIT;
	struct sq_strbuf yaml = SQ_STRBUF_INIT;
	struct sq_task t;
	char *path;
	int ok;

	sq_strbuf_adds(&yaml, "acquisition: fz\noutput_root: out\ngroup: g\nvideos:\n  - \"");
	for (const char *p = url; *p; p++) {
		if (*p == '"' || *p == '\\')
			sq_strbuf_addch(&yaml, '\\');
		sq_strbuf_addch(&yaml, *p);
	}
	sq_strbuf_adds(&yaml, "\"\n");
	path = fz_write("t.yaml", yaml.buf, yaml.len);
	sq_task_init(&t);
	ok = sq_taskfile_load_one(path, &opts, &t, &diags) == 0;
	sq_task_release(&t);
	sq_diags_release(&diags);
	sq_strbuf_release(&yaml);
	free(path);
	return ok;
}

static int printable(const char *s)
{
	for (; *s; s++)
		if (*s < ' ' || *s > '~')
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *tail = fz_strndup(data, size);
	char *url = strncmp(tail, "sftp://", 7) == 0 ? xstrdup(tail) : xasprintf("sftp://%s", tail);
	struct sq_err err;
	struct url u;
	int parsed;

	parsed = sq_sftp_url_parse(url, &u, &err) == 0;
	if (parsed) {
		check_parsed(url, &u);
		sq_sftp_url_release(&u);
	}
	if (!parsed && printable(url) && task_check_accepts(url))
		fz_fail("'%s' passes the task-file check but the reader refuses it: %s", url,
			err.msg);
	free(url);
	free(tail);
	return 0;
}
