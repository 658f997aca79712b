/* test_taskfile_hostile.c - task directories written by an attacker or a tired
 * operator: names that leave or collide with an output root's files, roots that
 * belong to another acquisition or cannot be made, numbers that overflow,
 * values of the wrong shape, files too large or too deep, broken videos.
 *
 * Each case is a directory generated here (several are megabytes, some hold
 * links or cut videos), loaded with the real libav probe: it must give exactly
 * the diagnostics expected (paths relative to the case directory), or load when
 * none are expected, within a time limit, with no sanitizer report. */
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "media/media.h"
#include "task/taskfile.h"
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* no case may take longer, under ASan on a busy machine (the largest file
 * allowed takes about a second): a parse that grows with the square of its
 * input takes minutes here (200 KB of nested lists: 389 s before the limits) */
#define CASE_MS_MAX 10000

/* A file of a case: text, or "@link:TARGET" (a symbolic link), "@cut:N" (the
 * first N bytes of a real MP4 whose index comes last), "@dir" (a folder). */
struct file {
	const char *path;
	const char *text;
};

struct hcase {
	const char *name;
	struct file files[3];
	const char *expected; /* NULL: must load */
};

static char *mp4;  /* a real video, index last (ffmpeg's default) */
static int ncases; /* hostile inputs tried */

#define HEAD "acquisition: demo\noutput_root: out\n"
#define TASK HEAD "group: auv1\nvideos: [v.mp4]\n"
#define R_DOT "('.' and '..' are the folder itself and its parent)"
#define R_FILE "(a stage writes a file of that name beside it)"
#define R_TMP "(names holding '.tmp.' or '.old.' are a stage's temporaries, deleted when it runs)"
#define R_OWN "(names starting with '.scanq' are scanq's own)"
#define R_CHARS "(1 to 64 characters from A-Z a-z 0-9 . _ -)"
#define GROUP(id, val, reason)                                                                     \
	{                                                                                          \
		id, {{"task.yaml", HEAD "group: " val "\nvideos: [v.mp4]\n"}},                     \
		    "task.yaml:3:8: invalid group name '" val "' " reason                          \
	}
#define TASKNAME(id, val, reason)                                                                  \
	{                                                                                          \
		id, {{"task.yaml", TASK "name: " val "\n"}},                                       \
		    "task.yaml:5:7: invalid task name '" val "' " reason                           \
	}
#define STEM(id, stem, reason)                                                                     \
	{                                                                                          \
		id, {{stem ".yaml", TASK}},                                                        \
		    stem ".yaml:1:1: invalid task name '" stem "' from the file name " reason      \
			 "; set 'name'"                                                            \
	}
#define MARKER(acq, dir) "{\"acquisition\":\"" acq "\",\"task_dir\":\"" dir "\"}\n"
#define DURATION "must be a non-zero duration like 90s, 5m or 3h, got "
#define CMD "reconstruct:\n  backend: command\n  command: [x]\n"
#define FPS                                                                                        \
	"'fps' must be a positive number like 3 or 2.5 or a ratio like 30000/1001 (at most "       \
	"1000), got "

/* item 1: names that escape the output root or collide with a stage's files */
static const struct hcase names[] = {
    GROUP("group-dotdot", "..", R_DOT),
    {"group-dot",
     {{"task.yaml", HEAD "group: \".\"\nvideos: [v.mp4]\n"}},
     "task.yaml:3:8: invalid group name '.' " R_DOT},
    TASKNAME("task-dotdot", "..", R_DOT),
    TASKNAME("task-dot", ".", R_DOT),
    {"acquisition-dotdot",
     {{"task.yaml", "acquisition: ..\noutput_root: out\ngroup: auv1\nvideos: [v.mp4]\n"}},
     "task.yaml:1:14: invalid acquisition name '..' " R_DOT},
    GROUP("group-stitch-ply", "stitch.ply", R_FILE),
    GROUP("group-stitch-json", "stitch.json", R_FILE),
    GROUP("group-stitch-sift", "stitch.sift", R_FILE),
    GROUP("group-stitch-log", "stitch.log", R_FILE),
    GROUP("group-preview-png", "preview.png", R_FILE),
    GROUP("group-preview-ply", "preview.ply", R_FILE),
    GROUP("group-moved-aside", "frames.old.3", R_TMP),
    GROUP("group-marker", ".scanq-acquisition", R_OWN),
    GROUP("group-probe", ".scanq-check.AbC123", R_OWN),
    TASKNAME("task-stitch-ply", "stitch.ply", R_FILE),
    TASKNAME("task-stitch-old", "stitch.old.7", R_TMP),
    TASKNAME("task-stitch-tmp", "stitch.tmp.99", R_TMP),
    TASKNAME("task-tmp-inside", "a.tmp.b", R_TMP),
    TASKNAME("task-frames", "frames", R_FILE),
    TASKNAME("task-frames-json", "frames.json", R_FILE),
    TASKNAME("task-reconstruction-ply", "reconstruction.ply", R_FILE),
    TASKNAME("task-reconstruction-sift", "reconstruction.sift", R_FILE),
    TASKNAME("task-reconstruct-json", "reconstruct.json", R_FILE),
    TASKNAME("task-reconstruct-log", "reconstruct.log", R_FILE),
    TASKNAME("task-upper-case-stitch", "Stitch.PLY", R_FILE),
    TASKNAME("task-upper-case-tmp", "x.TMP.1", R_TMP),
    STEM("stem-stitch-json", "stitch.json", R_FILE),
    STEM("stem-frames", "frames", R_FILE),
    STEM("stem-old", "seg.old.12", R_TMP),
    {"stem-escape",
     {{"bad\033[2J.yaml", TASK}},
     "bad\\x1b[2J.yaml:1:1: invalid task name 'bad\\x1b[2J' from the file name " R_CHARS
     "; set 'name'"},
    {"group-terminal-escape",
     {{"task.yaml", HEAD "group: \"a\\e]0;owned\\a\"\nvideos: [v.mp4]\n"}},
     "task.yaml:3:8: invalid group name 'a\\x1b]0;owned\\x07' " R_CHARS},
    GROUP("group-slashes", "a/../../etc", R_CHARS),
    GROUP("group-65-chars", "a1234567890123456789012345678901234567890123456789012345678901234",
	  R_CHARS),
    {"groups-differ-in-case",
     {{"a.yaml", HEAD "group: AUV1\nvideos: [v.mp4]\n"},
      {"b.yaml", HEAD "group: auv1\nvideos: [v.mp4]\n"}},
     "b.yaml:3:8: group 'auv1' differs only in case from group 'AUV1' (in 'a.yaml'): on a "
     "case-insensitive filesystem they are one folder"},
    {"tasks-differ-in-case",
     {{"a.yaml", TASK "name: Seg1\n"}, {"b.yaml", TASK "name: seg1\n"}},
     "b.yaml:5:7: task name 'seg1' differs only in case from task 'Seg1' (in 'a.yaml') of the "
     "same group: on a case-insensitive filesystem they are one folder"},
    {"tasks-differ-in-case-other-groups",
     {{"a.yaml", HEAD "group: g1\nname: Seg1\nvideos: [v.mp4]\n"},
      {"b.yaml", HEAD "group: g2\nname: seg1\nvideos: [v.mp4]\n"}},
     NULL},
    {"three-dots-is-a-name", {{"task.yaml", TASK "name: ...\n"}}, NULL},
};

/* item 3: every integer key given a list, a map or nothing */
static const struct hcase shapes[] = {
    {"width-list",
     {{"task.yaml", TASK "extract:\n  width: [1]\n"}},
     "task.yaml:6:10: 'width' must be an integer between 16 and 16384, or -1, got a list"},
    {"height-empty-map",
     {{"task.yaml", TASK "extract:\n  height: {}\n"}},
     "task.yaml:6:11: 'height' must be an integer between 16 and 16384, or -1, got an empty "
     "map"},
    {"quality-null",
     {{"task.yaml", TASK "extract:\n  quality: ~\n"}},
     "task.yaml:6:12: 'quality' must be an integer between 2 and 31, got nothing"},
    {"quality-empty",
     {{"task.yaml", TASK "extract:\n  quality:\n"}},
     "task.yaml:6:11: 'quality' must be an integer between 2 and 31, got nothing"},
    {"max-attempts-map",
     {{"task.yaml", TASK "retry:\n  max_attempts: {a: 1}\n"}},
     "task.yaml:6:17: 'max_attempts' must be an integer between 1 and 100, got a map"},
    {"stride-empty-list",
     {{"task.yaml", TASK "reconstruct:\n  stride: []\n"}},
     "task.yaml:6:11: 'stride' must be an integer between 0 and 1000000, got an empty list"},
    {"threads-null",
     {{"task.yaml", TASK "reconstruct:\n  colmap:\n    threads: ~\n"}},
     "task.yaml:7:14: 'threads' must be an integer between 0 and 4096, got nothing"},
    {"min-vram-list",
     {{"task.yaml", TASK "reconstruct:\n  min_vram_mib: [20000]\n"}},
     "task.yaml:6:17: 'min_vram_mib' must be an integer >= 0, got a list"},
    {"quality-quoted",
     {{"task.yaml", TASK "extract:\n  quality: \"5\"\n"}},
     "task.yaml:6:12: 'quality' must be an integer between 2 and 31, got '5'"},
};

/* item 5: numbers and durations in every form strtod or strtoll would take */
static const struct hcase numbers[] = {
    {"timeout-hex",
     {{"task.yaml", TASK CMD "  timeout: 0x10s\n"}},
     "task.yaml:8:12: 'timeout' " DURATION "'0x10s'"},
    {"timeout-inf",
     {{"task.yaml", TASK CMD "  timeout: infs\n"}},
     "task.yaml:8:12: 'timeout' " DURATION "'infs'"},
    {"timeout-nan",
     {{"task.yaml", TASK CMD "  timeout: nanh\n"}},
     "task.yaml:8:12: 'timeout' " DURATION "'nanh'"},
    {"timeout-1e300",
     {{"task.yaml", TASK CMD "  timeout: 1e300s\n"}},
     "task.yaml:8:12: 'timeout' " DURATION "'1e300s'"},
    {"timeout-many-days",
     {{"task.yaml", TASK CMD "  timeout: 999999999999d\n"}},
     "task.yaml:8:12: 'timeout' " DURATION "'999999999999d'"},
    {"timeout-two-dots",
     {{"task.yaml", TASK CMD "  timeout: 1.5.5s\n"}},
     "task.yaml:8:12: 'timeout' " DURATION "'1.5.5s'"},
    {"backoff-exponent",
     {{"task.yaml", TASK "retry:\n  backoff: 1e3s\n"}},
     "task.yaml:6:12: 'backoff' must be a duration like 90s, 5m or 3h, got '1e3s'"},
    {"backoff-blank",
     {{"task.yaml", TASK "retry:\n  backoff: \" 5s\"\n"}},
     "task.yaml:6:12: 'backoff' must be a duration like 90s, 5m or 3h, got ' 5s'"},
    {"backoff-negative",
     {{"task.yaml", TASK "retry:\n  backoff: -5s\n"}},
     "task.yaml:6:12: 'backoff' must be a duration like 90s, 5m or 3h, got '-5s'"},
    {"until-hex",
     {{"task.yaml", HEAD "group: auv1\nvideos:\n  - {path: v.mp4, until: 0x10s}\n"}},
     "task.yaml:5:26: 'until' " DURATION "'0x10s'"},
    {"fps-past-long-long",
     {{"task.yaml", TASK "extract:\n  fps: 9223372036854775807.5\n"}},
     "task.yaml:6:8: " FPS "9223372036854775807.5"},
    {"fps-negative-half",
     {{"task.yaml", TASK "extract:\n  fps: -0.5\n"}},
     "task.yaml:6:8: " FPS "-0.5"},
    {"fps-huge-denominator",
     {{"task.yaml", TASK "extract:\n  fps: 1/9223372036854775807\n"}},
     "task.yaml:6:8: " FPS "'1/9223372036854775807'"},
    {"fps-hex", {{"task.yaml", TASK "extract:\n  fps: 0x10\n"}}, "task.yaml:6:8: " FPS "'0x10'"},
    {"width-hex",
     {{"task.yaml", TASK "extract:\n  width: 0x10\n"}},
     "task.yaml:6:10: 'width' must be an integer between 16 and 16384, or -1, got '0x10'"},
    {"width-past-long-long",
     {{"task.yaml", TASK "extract:\n  width: 99999999999999999999\n"}},
     "task.yaml:6:10: 'width' must be an integer between 16 and 16384, or -1, got "
     "99999999999999999999"},
    {"camera-params-hex-float",
     {{"task.yaml", TASK "reconstruct:\n  colmap:\n    camera_model: PINHOLE\n"
			 "    camera_params: [0x1p3, 500, 259, 147]\n"}},
     "task.yaml:8:21: each item of 'camera_params' must be a finite number, got '0x1p3'"},
    {"camera-params-overflow",
     {{"task.yaml", TASK "reconstruct:\n  colmap:\n    camera_model: PINHOLE\n"
			 "    camera_params: [1e999, 500, 259, 147]\n"}},
     "task.yaml:8:21: each item of 'camera_params' must be a finite number, got 1e999"},
    {"memory-budget-huge",
     {{"task.yaml", TASK "reconstruct:\n  memory_budget: 99999999999999G\n"}},
     "task.yaml:6:18: 'memory_budget' must be a size in bytes like 4096, 512k, 48M or 2G, got "
     "'99999999999999G'"},
    {"backoff-fraction-ok", {{"task.yaml", TASK "retry:\n  backoff: 1.5s\n"}}, NULL},
};

/* item 2 and 14: output roots that belong to another acquisition or cannot be made */
static const struct hcase roots[] = {
    {"root-of-other",
     {{"task.yaml", TASK}, {"out/.scanq-acquisition", MARKER("other", "/srv/o")}},
     "task.yaml:2:14: output root 'out' belongs to acquisition 'other' (enqueued from '/srv/o'); "
     "give each acquisition its own output_root"},
    {"root-of-other-case",
     {{"task.yaml", TASK}, {"out/.scanq-acquisition", MARKER("Demo", "/srv/D")}},
     "task.yaml:2:14: output root 'out' belongs to acquisition 'Demo' (enqueued from '/srv/D'); "
     "give each acquisition its own output_root"},
    {"root-of-self-elsewhere",
     {{"task.yaml", TASK}, {"out/.scanq-acquisition", MARKER("demo", "/old/tasks")}},
     NULL},
    {"root-inside-other",
     {{"task.yaml", "acquisition: demo\noutput_root: other/auv9\ngroup: auv1\nvideos: [v.mp4]\n"},
      {"other/.scanq-acquisition", MARKER("other", "/srv/o")}},
     "task.yaml:2:14: output root 'other/auv9' is inside 'other', the output root of "
     "acquisition 'other' (enqueued from '/srv/o')"},
    {"group-folder-is-root",
     {{"task.yaml", TASK}, {"out/auv1/.scanq-acquisition", MARKER("x", "/srv/x")}},
     "task.yaml:3:8: group 'auv1' would write into 'out/auv1', the output root of acquisition "
     "'x' (enqueued from '/srv/x')"},
    {"task-folder-is-root",
     {{"task.yaml", TASK}, {"out/auv1/task/.scanq-acquisition", MARKER("x", "/srv/x")}},
     "task.yaml:1:1: task 'task' would write into 'out/auv1/task', the output root of "
     "acquisition 'x' (enqueued from '/srv/x')"},
    {"marker-garbage",
     {{"task.yaml", TASK}, {"out/.scanq-acquisition", "hello\n"}},
     "task.yaml:2:14: 'out/.scanq-acquisition' is not a scanq ownership marker (not json); if no "
     "acquisition writes into this folder, remove it"},
    {"marker-folder",
     {{"task.yaml", TASK}, {"out/.scanq-acquisition", "@dir"}},
     "task.yaml:2:14: 'out/.scanq-acquisition' is not a scanq ownership marker (not a file); if "
     "no acquisition writes into this folder, remove it"},
    {"marker-relative-dir",
     {{"task.yaml", TASK},
      {"out/.scanq-acquisition", "{\"acquisition\":\"demo\",\"task_dir\":\"x\"}"}},
     "task.yaml:2:14: 'out/.scanq-acquisition' is not a scanq ownership marker (no absolute "
     "'task_dir'); if no acquisition writes into this folder, remove it"},
    {"marker-bad-name",
     {{"task.yaml", TASK}, {"out/.scanq-acquisition", MARKER("../x", "/srv/x")}},
     "task.yaml:2:14: 'out/.scanq-acquisition' is not a scanq ownership marker (no valid "
     "'acquisition'); if no acquisition writes into this folder, remove it"},
    {"root-dangling-link",
     {{"task.yaml", TASK}, {"out", "@link:nowhere/at/all"}},
     "task.yaml:2:14: cannot create output root 'out': 'out' is a symbolic link to nothing"},
    {"root-in-proc",
     {{"task.yaml",
       "acquisition: demo\noutput_root: /proc/scanq-out\ngroup: auv1\nvideos: [v.mp4]\n"}},
     "task.yaml:2:14: cannot create output root '/proc/scanq-out': cannot make a folder in "
     "'/proc' (no such file)"},
    {"root-under-dev-null",
     {{"task.yaml",
       "acquisition: demo\noutput_root: /dev/null/out\ngroup: auv1\nvideos: [v.mp4]\n"}},
     "task.yaml:2:14: cannot create output root '/dev/null/out': not a directory"},
    {"root-url",
     {{"task.yaml",
       "acquisition: demo\noutput_root: ftp://nas/out\ngroup: auv1\nvideos: [v.mp4]\n"}},
     "task.yaml:2:14: 'output_root' must be a local path or an sftp:// url (a url like "
     "'ftp://nas/out' is not supported)"},
    {"root-sftp-no-path",
     {{"task.yaml",
       "acquisition: demo\noutput_root: sftp://nas\ngroup: auv1\nvideos: [v.mp4]\n"}},
     "task.yaml:2:14: invalid sftp url 'sftp://nas' for 'output_root' (expected "
     "sftp://[user@]host[:port]/abs/path)"},
};

/* YAML a broken editor or a hand at a prompt produces, and broken videos */
static const struct hcase files[] = {
    {"self-alias",
     {{"task.yaml", HEAD "group: auv1\nvideos: &a [*a]\n"}},
     "task.yaml:4:9: each video must be a path, an sftp:// url or a map with 'path' and 'until', "
     "got a list"},
    {"section-alias-loop",
     {{"task.yaml", TASK "reconstruct: &r {colmap: *r}\n"}},
     "task.yaml:5:18: unknown key 'colmap' in 'colmap' (expected threads, max_image_size, "
     "max_features, overlap, min_registered_pct, camera_model, camera_params)"},
    {"invalid-utf8",
     {{"task.yaml", HEAD "group: \xff\xfe\nvideos: [v.mp4]\n"}},
     "task.yaml: invalid yaml: invalid leading UTF-8 octet"},
    {"tab-indent",
     {{"task.yaml", TASK "extract:\n\twidth: 32\n"}},
     "task.yaml:6:1: invalid yaml: found character that cannot start any token (while scanning "
     "for the next token at line 6)"},
    {"number-key",
     {{"task.yaml", TASK "1: x\n"}},
     "task.yaml:5:1: unknown key '1' (expected acquisition, output_root, group, name, videos, "
     "extract, reconstruct, stitch, retry)"},
    {"bom-crlf",
     {{"task.yaml", "\xef\xbb\xbf"
		    "acquisition: demo\r\noutput_root: out\r\ngroup: "
		    "auv1\r\nvideos: [v.mp4]\r\n"}},
     NULL},
    {"video-cut-before-index",
     {{"task.yaml", HEAD "group: auv1\nvideos: [cut.mp4]\n"}, {"cut.mp4", "@cut:3000"}},
     "task.yaml:4:10: cannot open 'cut.mp4': the recording was cut off before its index was "
     "written (an MP4 without its 'moov' box, as a camera leaves it when it loses power or its "
     "card is pulled while recording)"},
    {"video-only-ftyp",
     {{"task.yaml", HEAD "group: auv1\nvideos: [cut.mp4]\n"}, {"cut.mp4", "@cut:24"}},
     "task.yaml:4:10: cannot open 'cut.mp4': the recording was cut off before its index was "
     "written (an MP4 without its 'moov' box, as a camera leaves it when it loses power or its "
     "card is pulled while recording)"},
    {"video-renamed-text",
     {{"task.yaml", HEAD "group: auv1\nvideos: [fake.mp4]\n"}, {"fake.mp4", "not a video\n"}},
     "task.yaml:4:10: cannot open 'fake.mp4': not a video (no container format recognised)"},
    {"empty-directory", {{NULL, NULL}}, ".: no task files in '.' (expected *.yaml files)"},
};

static int probe_real(void *ctx, const char *video, struct sq_err *err)
{
	(void)ctx;
	return sq_media_probe(video, NULL, NULL, err);
}

static void make_mp4(void)
{
	char *cmd;

	mp4 = sq_path_join(t_tmpdir(), "src.mp4");
	cmd = xasprintf("ffmpeg -nostdin -v error -f lavfi -i testsrc=size=160x120:rate=10 -t 1 "
			"-pix_fmt yuv420p -y '%s'",
			mp4);
	T_EQ_INT(system(cmd), 0);
	free(cmd);
}

static void write_bytes(const char *path, const char *data, size_t len)
{
	struct sq_err err = {SQ_OK, ""};
	char *dir = sq_path_dirname(path);

	T_EQ_INT(sq_mkdir_p(dir, &err), 0);
	T_EQ_INT(sq_write_file_atomic(path, data, len, &err), 0);
	free(dir);
}

static void make_file(const char *d, const struct file *f)
{
	struct sq_err err = {SQ_OK, ""};
	char *path = sq_path_join(d, f->path), *dir = sq_path_dirname(path), *src;
	size_t len;

	T_EQ_INT(sq_mkdir_p(dir, &err), 0);
	if (!strncmp(f->text, "@link:", 6)) {
		T_EQ_INT(symlink(f->text + 6, path), 0);
	} else if (!strcmp(f->text, "@dir")) {
		T_EQ_INT(sq_mkdir_p(path, &err), 0);
	} else if (!strncmp(f->text, "@cut:", 5)) {
		src = sq_read_file(mp4, &len, &err);
		T_CHECK(src && len > 4000);
		if (src)
			write_bytes(path, src, (size_t)atol(f->text + 5));
		free(src);
	} else {
		write_bytes(path, f->text, strlen(f->text));
	}
	free(path);
	free(dir);
}

/* Returns new path of an empty case directory (with v.mp4 beside its files). */
static char *case_dir(const char *name)
{
	struct sq_err err = {SQ_OK, ""};
	char *d = xasprintf("%s/h-%s/d", t_tmpdir(), name), *v = sq_path_join(d, "v.mp4");

	T_EQ_INT(sq_mkdir_p(d, &err), 0);
	T_EQ_INT(link(mp4, v), 0);
	free(v);
	return d;
}

static void replace_all(struct sq_strbuf *sb, const char *from, const char *to)
{
	struct sq_strbuf out = SQ_STRBUF_INIT;
	const char *p = sb->buf, *hit;

	while ((hit = strstr(p, from))) {
		sq_strbuf_add(&out, p, (size_t)(hit - p));
		sq_strbuf_adds(&out, to);
		p = hit + strlen(from);
	}
	sq_strbuf_adds(&out, p);
	sq_strbuf_release(sb);
	*sb = out;
}

/* All diagnostics as lines, the case directory's absolute path left out. */
static char *diags_text(const struct sq_diags *diags, const char *d)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	char *slash = xasprintf("%s/", d);

	for (size_t i = 0; i < diags->n; i++) {
		char *line = sq_diag_format(&diags->v[i]);

		sq_strbuf_addf(&sb, "%s%s", i ? "\n" : "", line);
		free(line);
	}
	replace_all(&sb, slash, "");
	replace_all(&sb, d, ".");
	free(slash);
	return sq_strbuf_detach(&sb);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Loads d and checks the result against expected (NULL: must load); returns
 * how long it took, in ms. */
static long long check_load(const char *name, const char *d, const char *expected, int probe)
{
	struct sq_taskfile_opts opts = {.probe = probe ? probe_real : NULL};
	struct sq_diags diags = SQ_DIAGS_INIT;
	struct sq_acq acq;
	long long t0 = now_ms(), ms;
	int rc;
	char *got;

	sq_acq_init(&acq);
	rc = sq_taskfile_load_dir(d, &opts, &acq, &diags);
	ms = now_ms() - t0;
	got = diags_text(&diags, d);
	if (strcmp(got, expected ? expected : ""))
		fprintf(stderr, "%s: diagnostics differ\n--- got\n%s\n--- expected\n%s\n", name,
			got, expected ? expected : "(none: loads)");
	T_EQ_STR(got, expected ? expected : "");
	T_EQ_INT(rc, expected ? -1 : 0);
	if (ms > CASE_MS_MAX)
		fprintf(stderr, "%s: took %lld ms\n", name, ms);
	T_CHECK(ms <= CASE_MS_MAX);
	ncases++;
	free(got);
	sq_diags_release(&diags);
	sq_acq_release(&acq);
	return ms;
}

static void run_table(const struct hcase *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *d = case_dir(cases[i].name);

		for (size_t f = 0; f < 3 && cases[i].files[f].path; f++)
			make_file(d, &cases[i].files[f]);
		check_load(cases[i].name, d, cases[i].expected, 1);
		free(d);
	}
}

#define RUN(table) run_table(table, sizeof(table) / sizeof(table[0]))

/* A case whose task.yaml is text (len bytes, NUL allowed). */
static void run_text(const char *name, const char *text, size_t len, const char *expected,
		     int probe)
{
	char *d = case_dir(name), *path = sq_path_join(d, "task.yaml");

	write_bytes(path, text, len);
	printf("%s: %zu bytes, %lld ms\n", name, len, check_load(name, d, expected, probe));
	free(path);
	free(d);
}

/* item 4: size, nesting, anchors, list lengths, a flood of mistakes */
static void test_limits(void)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT, want = SQ_STRBUF_INIT;
	size_t nkeys;
	char *exp;

	sq_strbuf_adds(&sb, TASK);
	while (sb.len <= SQ_TASKFILE_MAX_BYTES)
		sq_strbuf_adds(&sb, "# a comment line, padding the file past its limit\n");
	exp = xasprintf("task.yaml: task file is %zu bytes, more than the %d a task file may have",
			sb.len, SQ_TASKFILE_MAX_BYTES);
	run_text("too-large", sb.buf, sb.len, exp, 1);
	free(exp);

	/* the 16 MB video list: refused before it is parsed */
	sq_strbuf_release(&sb);
	sq_strbuf_adds(&sb, HEAD "group: auv1\nvideos:\n");
	while (sb.len < 16 << 20)
		sq_strbuf_adds(&sb, "  - v.mp4\n");
	exp = xasprintf("task.yaml: task file is %zu bytes, more than the %d a task file may have",
			sb.len, SQ_TASKFILE_MAX_BYTES);
	run_text("video-list-16mb", sb.buf, sb.len, exp, 1);
	free(exp);

	/* the 200 KB of nested flow yaml (57 s before the limit) */
	sq_strbuf_release(&sb);
	sq_strbuf_adds(&sb, TASK "extract: ");
	for (int i = 0; i < 200000; i++)
		sq_strbuf_adds(&sb, "[");
	run_text("nested-flow-200kb", sb.buf, sb.len,
		 "task.yaml:5:41: lists and maps nested more than 32 deep", 1);

	sq_strbuf_release(&sb);
	sq_strbuf_adds(&sb, TASK "extract: ");
	for (int i = 0; i < 20000; i++)
		sq_strbuf_adds(&sb, "{a: ");
	run_text("nested-maps", sb.buf, sb.len,
		 "task.yaml:5:134: lists and maps nested more than 32 deep", 1);

	sq_strbuf_release(&sb);
	sq_strbuf_adds(&sb, TASK "reconstruct:\n");
	for (int i = 1; i <= 40; i++)
		sq_strbuf_addf(&sb, "%*sk:\n", 2 * i, "");
	run_text("nested-blocks", sb.buf, sb.len,
		 "task.yaml:37:65: lists and maps nested more than 32 deep", 1);

	/* libyaml looks anchors up one by one: many make it quadratic */
	sq_strbuf_release(&sb);
	sq_strbuf_adds(&sb, HEAD "group: auv1\nvideos:\n");
	for (int i = 1; i <= 50000; i++)
		sq_strbuf_addf(&sb, "  - &a%d v.mp4\n", i);
	run_text("anchors", sb.buf, sb.len,
		 "task.yaml:1005:5: more than 1000 yaml anchors and aliases", 1);

	sq_strbuf_release(&sb);
	sq_strbuf_adds(&sb, HEAD "group: auv1\nvideos:\n  - &v v.mp4\n");
	for (int i = 1; i <= 50000; i++)
		sq_strbuf_adds(&sb, "  - *v\n");
	run_text("aliases", sb.buf, sb.len,
		 "task.yaml:1005:5: more than 1000 yaml anchors and aliases", 1);

	sq_strbuf_release(&sb);
	sq_strbuf_adds(&sb, HEAD "group: auv1\nvideos: [v.mp4");
	for (int i = 1; i < SQ_TASKFILE_MAX_VIDEOS; i++)
		sq_strbuf_adds(&sb, ", v.mp4");
	sq_strbuf_adds(&sb, "]\n");
	run_text("videos-at-limit", sb.buf, sb.len, NULL, 0); /* not probed: 1000 probes */
	sb.len -= 2;
	sq_strbuf_adds(&sb, ", v.mp4]\n");
	run_text("videos-past-limit", sb.buf, sb.len,
		 "task.yaml:4:9: 'videos' lists 1001 videos, more than the 1000 a task file may "
		 "have",
		 1);

	sq_strbuf_release(&sb);
	sq_strbuf_adds(&sb, TASK "reconstruct:\n  backend: command\n  command: [x");
	for (int i = 0; i < SQ_TASKFILE_MAX_ARGS; i++)
		sq_strbuf_adds(&sb, ", \"{frames}\"");
	sq_strbuf_adds(&sb, "]\n");
	run_text("args-past-limit", sb.buf, sb.len,
		 "task.yaml:7:12: 'command' lists 1001 arguments, more than the 1000 a task file "
		 "may have",
		 1);

	/* one systematic mistake: the first problems, and how many more */
	sq_strbuf_release(&sb);
	sq_strbuf_adds(&sb, TASK "extract:\n");
	for (int i = 0; i < 200; i++)
		sq_strbuf_addf(&sb, "  widht%d: 3\n", i);
	for (int i = 0; i < SQ_TASKFILE_MAX_DIAGS; i++)
		sq_strbuf_addf(
		    &want,
		    "%stask.yaml:%d:3: unknown key 'widht%d' in 'extract' (expected fps, "
		    "width, height, quality)",
		    i ? "\n" : "", 6 + i, i);
	exp = xasprintf("task.yaml: 150 more problems in this file not shown\n%s", want.buf);
	run_text("mistake-flood", sb.buf, sb.len, exp, 1);
	free(exp);

	/* the largest file allowed, made of nothing but mistakes or list items */
	sq_strbuf_release(&sb);
	sq_strbuf_release(&want);
	sq_strbuf_adds(&sb, TASK);
	for (int i = 0; sb.len < SQ_TASKFILE_MAX_BYTES - 16; i++)
		sq_strbuf_addf(&sb, "k%d: 1\n", i);
	for (int i = 0; i < SQ_TASKFILE_MAX_DIAGS; i++)
		sq_strbuf_addf(
		    &want,
		    "\ntask.yaml:%d:1: unknown key 'k%d' (expected acquisition, output_root, "
		    "group, name, videos, extract, reconstruct, stitch, retry)",
		    5 + i, i);
	nkeys = 0;
	for (size_t i = strlen(TASK); i < sb.len; i++)
		nkeys += sb.buf[i] == '\n';
	exp = xasprintf("task.yaml: %zu more problems in this file not shown%s",
			nkeys - SQ_TASKFILE_MAX_DIAGS, want.buf);
	run_text("unknown-keys-1mb", sb.buf, sb.len, exp, 1);
	free(exp);
	sq_strbuf_release(&sb);
	sq_strbuf_adds(&sb, HEAD "group: auv1\nvideos: [v.mp4");
	while (sb.len < SQ_TASKFILE_MAX_BYTES - 16)
		sq_strbuf_adds(&sb, ",v.mp4");
	sq_strbuf_adds(&sb, "]\n");
	exp = xasprintf("task.yaml:4:9: 'videos' lists %zu videos, more than the 1000 a task file "
			"may have",
			(sb.len - strlen(HEAD "group: auv1\nvideos: [")) / 6);
	run_text("videos-1mb", sb.buf, sb.len, exp, 1);
	free(exp);

	run_text("nul-byte", TASK "name: a\0b\n", sizeof(TASK "name: a\0b\n") - 1,
		 "task.yaml: invalid yaml: control characters are not allowed", 1);
	sq_strbuf_release(&sb);
	sq_strbuf_release(&want);
}

int main(void)
{
	make_mp4();
	RUN(names);
	RUN(shapes);
	RUN(numbers);
	RUN(roots);
	RUN(files);
	test_limits();
	printf("hostile task directories: %d\n", ncases);
	free(mp4);
	return t_done();
}
