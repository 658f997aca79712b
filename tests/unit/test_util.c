/* test_util.c - paths, durations, atomic writes, errors, string buffers. */
#include "base/err.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "t.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void check_resolve(const char *base, const char *rel, const char *want)
{
	char *got = sq_path_resolve(base, rel);

	T_EQ_STR(got, want);
	free(got);
}

static void test_paths(void)
{
	char *s;

	check_resolve("/a/b", "../c/./d.mp4", "/a/c/d.mp4");
	check_resolve("/a/b", "/abs/x", "/abs/x");
	check_resolve("/a/b/", "x//y", "/a/b/x/y");
	check_resolve("/", "../..", "/");
	check_resolve("rel/dir", "../../../up", "../up");
	check_resolve(".", ".", ".");
	s = sq_path_dirname("/x/y/z.yaml");
	T_EQ_STR(s, "/x/y");
	free(s);
	s = sq_path_dirname("z.yaml");
	T_EQ_STR(s, ".");
	free(s);
	s = sq_path_stem("/x/auv1-seg01.yaml");
	T_EQ_STR(s, "auv1-seg01");
	free(s);
	s = sq_path_stem(".hidden");
	T_EQ_STR(s, ".hidden");
	free(s);
}

static void test_durations(void)
{
	static const struct {
		const char *text;
		long long ms;
	} ok[] = {{"90", 90000},    {"500ms", 500},   {"30s", 30000}, {"5m", 300000},
		  {"3h", 10800000}, {"1d", 86400000}, {"1.5s", 1500}};
	static const char *const bad[] = {"",	  "h",	 "-1s",	  "3 h",
					  "3x",	  "s3",	 "0x10s", "1e3s",
					  "infs", " 5s", "1.s",	  "99999999999999999999s"};
	long long ms;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		T_EQ_INT(sq_parse_duration_ms(ok[i].text, &ms), 0);
		T_EQ_INT(ms, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EQ_INT(sq_parse_duration_ms(bad[i], &ms), -1);
}

static void test_atomic_write(void)
{
	char *dir = xasprintf("%s/aw/sub", t_tmpdir()), *path = sq_path_join(dir, "r.json");
	struct sq_err err = {0};
	struct dirent *e;
	char *data;
	size_t len, entries = 0;
	DIR *d;

	T_EQ_INT(sq_mkdir_p(dir, &err), 0);
	T_EQ_INT(sq_mkdir_p(dir, &err), 0); /* idempotent */
	T_EQ_INT(sq_write_file_atomic(path, "one", 3, &err), 0);
	T_EQ_INT(sq_write_file_atomic(path, "second", 6, &err), 0);
	data = sq_read_file(path, &len, &err);
	T_EQ_STR(data, "second");
	T_EQ_INT(len, 6);
	free(data);
	d = opendir(dir);
	while (d && (e = readdir(d)))
		entries += e->d_name[0] != '.';
	if (d)
		closedir(d);
	T_EQ_INT(entries, 1); /* no temporary left behind */
	T_EQ_INT(sq_write_file_atomic("/nonexistent/dir/x", "a", 1, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_IO);
	T_CONTAINS(err.msg, "/nonexistent/dir/x");
	T_CHECK(sq_read_file("/nonexistent", NULL, &err) == NULL);
	T_CONTAINS(err.msg, "cannot open '/nonexistent'");
	free(path);
	path = xasprintf("%s/aw", t_tmpdir());
	T_EQ_INT(sq_rm_rf(path, &err), 0);
	T_CHECK(!sq_path_exists(path));
	T_EQ_INT(sq_rm_rf(path, &err), 0); /* missing is fine */
	free(path);
	free(dir);
}

static void test_errors_and_strbuf(void)
{
	struct sq_err err = {0};
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	char *s;

	T_EQ_INT(sq_error(&err, SQ_ERR_MEDIA, "cannot open '%s'", "x.mp4"), -1);
	sq_err_prefix(&err, "task %s", "t1");
	T_EQ_STR(err.msg, "task t1: cannot open 'x.mp4'");
	T_EQ_INT(sq_error_errno(&err, ENOSPC, "cannot write '%s'", "f"), -1);
	T_EQ_INT(err.code, SQ_ERR_NOSPC);
	T_EQ_STR(sq_err_code_name(SQ_ERR_STALE), "stale");
	T_EQ_INT(sq_error(NULL, SQ_ERR_IO, "ignored"), -1);
	T_EQ_STR(sb.buf, "");
	for (int i = 0; i < 1000; i++)
		sq_strbuf_addf(&sb, "%d,", i % 10);
	T_EQ_INT(sb.len, 2000);
	s = sq_strbuf_detach(&sb);
	T_CHECK(strncmp(s, "0,1,2,", 6) == 0);
	T_EQ_INT(sb.len, 0);
	free(s);
}

int main(void)
{
	test_paths();
	test_durations();
	test_atomic_write();
	test_errors_and_strbuf();
	return t_done();
}
