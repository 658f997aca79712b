/* test_task.c - the task model: canonical JSON, versions, names. */
#include "task/task.h"
#include "base/xalloc.h"
#include "t.h"

#include <math.h>
#include <string.h>

/* What a fixed task must serialise to, byte for byte: keys sorted, no blanks,
 * integers only, no source_file, no version. Its SHA-256 starts with GOLDEN_VERSION
 * (computed independently with sha256sum). */
#define GOLDEN                                                                                     \
	"{\"acquisition\":\"demo\",\"extract\":{\"fps\":{\"den\":2,\"num\":5},\"height\":-1,"      \
	"\"quality\":4,\"width\":518},\"group\":\"auv1\",\"name\":\"seg01\",\"outdir\":\"/out/"    \
	"demo/auv1/seg01\",\"output_root\":\"/out/demo\",\"reconstruct\":{\"argv\":[\"tool\","     \
	"\"--in\",\"{frames}\",\"--out\",\"{output}\"],\"backend\":\"command\","                   \
	"\"bytes_per_frame\":50331648,\"done_file\":null,\"done_log\":\"PLY saved:\","             \
	"\"memory_budget_bytes\":0,"                                                               \
	"\"min_ram_mib\":16000,\"min_vram_mib\":8000,\"stride\":0,\"timeout_ms\":3600000},"        \
	"\"retry\":{\"backoff_ms\":30000,\"max_attempts\":3},\"stitch\":"                          \
	"{\"backend\":\"builtin\",\"min_ram_mib\":0,\"min_vram_mib\":0},\"videos\":[\"/v/a.mp4\"," \
	"\"sftp://u@h:22/v/b.mp4\"]}"
#define GOLDEN_VERSION "a1647584eeecd922"

#define STITCH_GOLDEN                                                                              \
	"{\"acquisition\":\"demo\",\"backend\":{\"backend\":\"builtin\",\"min_ram_mib\":0,"        \
	"\"min_vram_mib\":0},\"group\":\"auv1\",\"outdir\":\"/out/demo/auv1\",\"retry\":{"         \
	"\"backoff_ms\":30000,\"max_attempts\":3}}"
#define STITCH_VERSION "0b001e7135a6a7ad"

static char **strv(const char *const *v, size_t n)
{
	char **out = xcalloc(n + 1, sizeof(*out));

	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

/* Builds the fixed task field by field (not from JSON). */
static void fixed_task(struct sq_task *t)
{
	static const char *const videos[] = {"/v/a.mp4", "sftp://u@h:22/v/b.mp4"};
	static const char *const argv[] = {"tool", "--in", "{frames}", "--out", "{output}"};

	sq_task_init(t);
	t->acquisition = xstrdup("demo");
	t->group = xstrdup("auv1");
	t->name = xstrdup("seg01");
	t->output_root = xstrdup("/out/demo");
	t->videos = strv(videos, 2);
	t->nvideos = 2;
	t->extract.fps_num = 5;
	t->extract.fps_den = 2;
	t->extract.width = 518;
	t->extract.quality = 4;
	t->reconstruct.kind = SQ_BACKEND_COMMAND;
	t->reconstruct.cmd.argv = strv(argv, 5);
	t->reconstruct.cmd.argc = 5;
	t->reconstruct.cmd.timeout_ms = 3600000;
	t->reconstruct.cmd.done_log = xstrdup("PLY saved:");
	t->reconstruct.min_vram_mib = 8000;
	t->reconstruct.min_ram_mib = 16000;
	t->reconstruct.stride.bytes_per_frame = 48 << 20;
	t->source_file = xstrdup("/tasks/demo/seg01.yaml");
	sq_task_finalize(t);
}

static void test_golden(void)
{
	struct sq_task t;
	char *json;

	fixed_task(&t);
	json = sq_task_to_json(&t);
	T_EQ_STR(json, GOLDEN);
	T_EQ_STR(t.version, GOLDEN_VERSION);
	T_EQ_STR(t.outdir, "/out/demo/auv1/seg01");
	T_EQ_INT(strlen(t.version), SQ_VERSION_LEN);
	free(json);
	sq_task_release(&t);
}

static void test_round_trip(void)
{
	struct sq_task t;
	struct sq_err err = {SQ_OK, ""};
	char *json;

	sq_task_init(&t);
	T_EQ_INT(sq_task_from_json(&t, GOLDEN, &err), 0);
	json = sq_task_to_json(&t);
	T_EQ_STR(json, GOLDEN);
	T_EQ_STR(t.version, GOLDEN_VERSION);
	T_EQ_STR(t.outdir, "/out/demo/auv1/seg01");
	T_EQ_INT(t.extract.fps_num, 5);
	T_EQ_INT(t.extract.fps_den, 2);
	T_EQ_INT(t.extract.height, -1);
	T_EQ_INT(t.reconstruct.kind, SQ_BACKEND_COMMAND);
	T_EQ_INT(t.reconstruct.cmd.argc, 5);
	T_EQ_STR(t.reconstruct.cmd.argv[2], "{frames}");
	T_CHECK(t.reconstruct.cmd.done_file == NULL);
	T_EQ_STR(t.videos[1], "sftp://u@h:22/v/b.mp4");
	T_CHECK(t.source_file == NULL);
	free(json);
	sq_task_release(&t);
}

/* Each mutation changes one field of the fixed task. */
static void m_acq(struct sq_task *t)
{
	free(t->acquisition);
	t->acquisition = xstrdup("demo2");
}
static void m_group(struct sq_task *t)
{
	free(t->group);
	t->group = xstrdup("auv2");
}
static void m_name(struct sq_task *t)
{
	free(t->name);
	t->name = xstrdup("seg02");
}
static void m_root(struct sq_task *t)
{
	free(t->output_root);
	t->output_root = xstrdup("/o");
}
static void m_video(struct sq_task *t)
{
	t->videos[0][1] = 'w';
}
static void m_nvideos(struct sq_task *t)
{
	t->nvideos = 1;
	free(t->videos[1]);
	t->videos[1] = NULL;
}
static void m_fps_num(struct sq_task *t)
{
	t->extract.fps_num = 3;
}
static void m_fps_den(struct sq_task *t)
{
	t->extract.fps_den = 1;
}
static void m_width(struct sq_task *t)
{
	t->extract.width = 512;
}
static void m_height(struct sq_task *t)
{
	t->extract.height = 294;
}
static void m_quality(struct sq_task *t)
{
	t->extract.quality = 5;
}
static void m_argv(struct sq_task *t)
{
	t->reconstruct.cmd.argv[0][0] = 'T';
}
static void m_timeout(struct sq_task *t)
{
	t->reconstruct.cmd.timeout_ms++;
}
static void m_done_log(struct sq_task *t)
{
	t->reconstruct.cmd.done_log[0] = 'p';
}
static void m_done_file(struct sq_task *t)
{
	t->reconstruct.cmd.done_file = xstrdup("{output}");
}
static void m_vram(struct sq_task *t)
{
	t->reconstruct.min_vram_mib = 0;
}
static void m_ram(struct sq_task *t)
{
	t->reconstruct.min_ram_mib = 1;
}
static void m_rc_kind(struct sq_task *t)
{
	sq_backend_spec_release(&t->reconstruct);
	t->reconstruct.kind = SQ_BACKEND_COLMAP;
}
static void m_st_kind(struct sq_task *t)
{
	t->stitch.kind = SQ_BACKEND_COMMAND;
	t->stitch.cmd.argv = strv((const char *const[]){"merge", "{inputs}"}, 2);
	t->stitch.cmd.argc = 2;
}
static void m_st_ram(struct sq_task *t)
{
	t->stitch.min_ram_mib = 100;
}
static void m_stride(struct sq_task *t)
{
	t->reconstruct.stride.stride = 2;
}
static void m_bytes_per_frame(struct sq_task *t)
{
	t->reconstruct.stride.bytes_per_frame = 1;
}
static void m_budget(struct sq_task *t)
{
	t->reconstruct.stride.memory_budget_bytes = 1LL << 30;
}
static void m_attempts(struct sq_task *t)
{
	t->retry.max_attempts = 4;
}
static void m_backoff(struct sq_task *t)
{
	t->retry.backoff_ms = 1000;
}
static void m_until(struct sq_task *t)
{
	t->video_until_ms = xcalloc(2, sizeof(*t->video_until_ms));
	t->video_until_ms[1] = 4000;
}

static void test_versions(void)
{
	static void (*const mutations[])(struct sq_task *) = {
	    m_acq,     m_group,	   m_name,	m_root,	   m_video,   m_nvideos,
	    m_fps_num, m_fps_den,  m_width,	m_height,  m_quality, m_argv,
	    m_timeout, m_done_log, m_done_file, m_vram,	   m_ram,     m_rc_kind,
	    m_st_kind, m_st_ram,   m_attempts,	m_backoff, m_stride,  m_bytes_per_frame,
	    m_budget,  m_until,
	};
	struct sq_task a, b;

	fixed_task(&a);
	fixed_task(&b);
	T_EQ_STR(a.version, b.version); /* same content, same version */
	free(b.source_file);
	b.source_file = xstrdup("/elsewhere/other-name.yaml");
	sq_task_finalize(&b);
	T_EQ_STR(a.version, b.version); /* where it was read from is not content */
	sq_task_release(&b);
	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		fixed_task(&b);
		mutations[i](&b);
		sq_task_finalize(&b);
		if (!strcmp(a.version, b.version))
			fprintf(stderr, "mutation %zu kept the version\n", i);
		T_CHECK(strcmp(a.version, b.version) != 0);
		sq_task_release(&b);
	}
	sq_task_release(&a);
}

static void expect_bad_json(const char *json, const char *needle);

/* Video identities are content: in the JSON (and the version) when set,
 * absent otherwise, so tasks without them keep the version they had. */
static void test_video_ids(void)
{
	struct sq_task a, b;
	struct sq_err err = {SQ_OK, ""};
	char *json;

	fixed_task(&a);
	fixed_task(&b);
	json = sq_task_to_json(&a);
	T_CHECK(!strstr(json, "video_ids"));
	free(json);
	T_EQ_STR(a.version, GOLDEN_VERSION);
	b.video_ids = xcalloc(b.nvideos, sizeof(*b.video_ids));
	for (size_t i = 0; i < b.nvideos; i++) {
		b.video_ids[i].size_bytes = 1000 + (long long)i;
		b.video_ids[i].mtime_s = 1700000000;
		memset(b.video_ids[i].head_sha256, 'a', 64);
		memset(b.video_ids[i].tail_sha256, 'b', 64);
	}
	sq_task_finalize(&b);
	T_CHECK(strcmp(a.version, b.version) != 0);
	json = sq_task_to_json(&b);
	T_CONTAINS(json, "\"video_ids\":[{\"head_sha256\":\"aaaa");
	sq_task_release(&a);
	sq_task_init(&a);
	T_EQ_INT(sq_task_from_json(&a, json, &err), 0);
	T_EQ_STR(a.version, b.version);
	T_EQ_INT(a.video_ids[0].size_bytes, 1000);
	{ /* read back checked: a negative size is refused, naming the key */
		char *bad = strstr(json, "\"size_bytes\":1000");

		T_CHECK(bad != NULL);
		if (bad)
			memcpy(bad, "\"size_bytes\":-100", 17);
		expect_bad_json(json, "video_ids");
	}
	free(json);
	/* a video replaced by another of the same size: its hashes differ */
	b.video_ids[0].tail_sha256[0] = 'c';
	sq_task_finalize(&b);
	T_CHECK(strcmp(a.version, b.version) != 0);
	sq_task_release(&a);
	sq_task_release(&b);
}

/* The fixed task with the colmap backend and every colmap setting changed. */
static void colmap_task(struct sq_task *t)
{
	fixed_task(t);
	sq_backend_spec_release(&t->reconstruct);
	t->reconstruct.kind = SQ_BACKEND_COLMAP;
	t->reconstruct.colmap.threads = 2;
	t->reconstruct.colmap.max_image_size = 518;
	t->reconstruct.colmap.max_features = 2048;
	t->reconstruct.colmap.overlap = 8;
	t->reconstruct.colmap.min_registered_pct = 90;
	snprintf(t->reconstruct.colmap.camera_model, SQ_COLMAP_MODEL_MAX, "OPENCV_FISHEYE");
	t->reconstruct.stride.stride = 3;
	sq_task_finalize(t);
}

#define COLMAP_JSON                                                                                \
	"\"reconstruct\":{\"backend\":\"colmap\",\"bytes_per_frame\":0,\"colmap\":{"               \
	"\"camera_model\":\"OPENCV_FISHEYE\",\"max_features\":2048,\"max_image_size\":518,"        \
	"\"min_registered_pct\":90,\"overlap\":8,\"threads\":2},\"memory_budget_bytes\":0,"        \
	"\"min_ram_mib\":0,\"min_vram_mib\":0,\"stride\":3}"
/* colmap_task's version, as it was before camera_params existed */
#define COLMAP_VERSION "535735f2d7b459af"

static void test_colmap_spec(void)
{
	struct sq_task t, r;
	struct sq_err err = {SQ_OK, ""};
	char *json, *again, *bad;

	colmap_task(&t);
	json = sq_task_to_json(&t);
	T_CONTAINS(json, COLMAP_JSON);
	T_EQ_STR(t.version, COLMAP_VERSION);
	T_CHECK(strstr(json, "camera_params") == NULL); /* 0: not in the JSON */
	sq_task_init(&r);
	T_EQ_INT(sq_task_from_json(&r, json, &err), 0);
	again = sq_task_to_json(&r);
	T_EQ_STR(again, json);
	T_EQ_STR(r.version, t.version);
	T_EQ_STR(r.reconstruct.colmap.camera_model, "OPENCV_FISHEYE");
	T_EQ_INT(r.reconstruct.colmap.overlap, 8);
	T_EQ_INT(r.reconstruct.stride.stride, 3);
	free(again);
	sq_task_release(&r);
	/* each setting is content: changing it makes a new version */
	sq_task_init(&r);
	colmap_task(&r);
	r.reconstruct.colmap.camera_model[0] = 'X';
	sq_task_finalize(&r);
	T_CHECK(strcmp(r.version, t.version) != 0);
	sq_task_release(&r);
	colmap_task(&r);
	r.reconstruct.colmap.max_features++;
	sq_task_finalize(&r);
	T_CHECK(strcmp(r.version, t.version) != 0);
	sq_task_release(&r);
	/* and is checked when read back */
	bad = xstrdup(json);
	memcpy(strstr(bad, "OPENCV_FISHEYE"), "OPENCV_FISHEYX", 14);
	expect_bad_json(bad, "bad camera_model 'OPENCV_FISHEYX'");
	free(bad);
	bad = xstrdup(json);
	memcpy(strstr(bad, "\"overlap\":8"), "\"overlap\":0", 11);
	expect_bad_json(bad, "'overlap' out of range");
	free(bad);
	free(json);
	sq_task_release(&t);
}

/* The colmap task with calibrated OPENCV intrinsics; the sixth needs all 17
 * digits to read back as itself. */
static void params_task(struct sq_task *t)
{
	const double p[] = {320, 320.5, 160, 120, -0.01, nextafter(0.1, 1), 0, -2.5e-4};

	colmap_task(t);
	snprintf(t->reconstruct.colmap.camera_model, SQ_COLMAP_MODEL_MAX, "OPENCV");
	memcpy(t->reconstruct.colmap.camera_params, p, sizeof(p));
	t->reconstruct.colmap.ncamera_params = 8;
	sq_task_finalize(t);
}

#define PARAMS_JSON                                                                                \
	"\"colmap\":{\"camera_model\":\"OPENCV\",\"camera_params\":[320,320.5,160,120,-0.01,"      \
	"0.10000000000000002,0,-0.00025],\"max_features\":2048,"

/* camera_params: in the JSON only when set, each number exactly what was set. */
static void test_camera_params(void)
{
	struct sq_task t, r;
	struct sq_err err = {SQ_OK, ""};
	char *json, *again;

	params_task(&t);
	json = sq_task_to_json(&t);
	T_CONTAINS(json, PARAMS_JSON);
	sq_task_init(&r);
	T_EQ_INT(sq_task_from_json(&r, json, &err), 0);
	T_EQ_INT(r.reconstruct.colmap.ncamera_params, 8);
	T_CHECK(!memcmp(r.reconstruct.colmap.camera_params, t.reconstruct.colmap.camera_params,
			8 * sizeof(double)));
	T_CHECK(r.reconstruct.colmap.camera_params[5] != 0.1);
	again = sq_task_to_json(&r);
	T_EQ_STR(again, json);
	T_EQ_STR(r.version, t.version);
	free(again);
	sq_task_release(&r);
	/* the parameters are content */
	colmap_task(&r);
	snprintf(r.reconstruct.colmap.camera_model, SQ_COLMAP_MODEL_MAX, "OPENCV");
	sq_task_finalize(&r);
	T_CHECK(strcmp(r.version, t.version) != 0);
	sq_task_release(&r);
	params_task(&r);
	r.reconstruct.colmap.camera_params[5] = 0.1;
	sq_task_finalize(&r);
	T_CHECK(strcmp(r.version, t.version) != 0);
	sq_task_release(&r);
	free(json);
	sq_task_release(&t);
}

/* camera_params read back: a list of as many numbers as the model takes, focal
 * lengths > 0. */
static void test_camera_params_bad_json(void)
{
	static const char *const bad[][2] = {
	    {"5", "'camera_params' must be a list of numbers"},
	    {"{}", "'camera_params' must be a list of numbers"},
	    {"[]", "'camera_params' has 0 numbers, camera_model OPENCV takes 8"},
	    {"[320,320,160,120]", "'camera_params' has 4 numbers, camera_model OPENCV takes 8"},
	    {"[320,320,160,120,0,0,0,\"0\"]", "'camera_params' item 8 out of range"},
	    {"[320,320,160,120,0,0,0,null]", "'camera_params' item 8 out of range"},
	    {"[320,320,160,120,0,0,0,1e999]", "'camera_params' item 8 out of range"},
	    {"[0,320,160,120,0,0,0,0]", "'camera_params' item 1 out of range"},
	    {"[320,-320,160,120,0,0,0,0]", "'camera_params' item 2 out of range"},
	};
	struct sq_task t;
	char *json;

	params_task(&t);
	json = sq_task_to_json(&t);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *from = strstr(json, "\"camera_params\":[") + 16;
		const char *to = strchr(from, ']') + 1;
		char *s = xasprintf("%.*s%s%s", (int)(from - json), json, bad[i][0], to);

		expect_bad_json(s, bad[i][1]);
		free(s);
	}
	free(json);
	sq_task_release(&t);
}

/* Every model scanq accepts has its parameter list, with COLMAP 3.8's counts. */
static void test_camera_models(void)
{
	static const struct {
		const char *model;
		int n;
	} counts[] = {
	    {"SIMPLE_PINHOLE", 3},
	    {"PINHOLE", 4},
	    {"SIMPLE_RADIAL", 4},
	    {"RADIAL", 5},
	    {"OPENCV", 8},
	    {"OPENCV_FISHEYE", 8},
	    {"FULL_OPENCV", 12},
	    {"FOV", 5},
	    {"SIMPLE_RADIAL_FISHEYE", 4},
	    {"RADIAL_FISHEYE", 5},
	    {"THIN_PRISM_FISHEYE", 12},
	};
	size_t n = 0;

	for (; sq_colmap_camera_models[n]; n++) {
		const struct sq_colmap_model_info *m =
		    sq_colmap_model_find(sq_colmap_camera_models[n]);
		int names = 1;

		T_CHECK(m != NULL);
		if (!m)
			continue;
		for (const char *p = m->params; *p; p++)
			names += *p == ',';
		T_EQ_INT(names, m->nparams);
		T_CHECK(m->nparams <= SQ_COLMAP_PARAMS_MAX && m->nfocal >= 1 && m->nfocal <= 2);
	}
	T_EQ_INT(n, sizeof(counts) / sizeof(counts[0]));
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		const struct sq_colmap_model_info *m = sq_colmap_model_find(counts[i].model);

		T_CHECK(m != NULL);
		T_EQ_INT(m ? m->nparams : -1, counts[i].n);
	}
	T_EQ_STR(sq_colmap_model_find("PINHOLE")->params, "fx, fy, cx, cy");
	T_CHECK(sq_colmap_model_find("FISHEYE") == NULL);
	T_CHECK(sq_colmap_model_find(NULL) == NULL);
}

static void test_stitch_spec(void)
{
	struct sq_stitch_spec s, r;
	struct sq_err err = {SQ_OK, ""};
	char *json, *again;

	sq_stitch_spec_init(&s);
	s.acquisition = xstrdup("demo");
	s.group = xstrdup("auv1");
	s.outdir = xstrdup("/out/demo/auv1");
	sq_stitch_spec_finalize(&s);
	json = sq_stitch_spec_to_json(&s);
	T_EQ_STR(json, STITCH_GOLDEN);
	T_EQ_STR(s.version, STITCH_VERSION);
	sq_stitch_spec_init(&r);
	T_EQ_INT(sq_stitch_spec_from_json(&r, json, &err), 0);
	again = sq_stitch_spec_to_json(&r);
	T_EQ_STR(again, STITCH_GOLDEN);
	T_EQ_STR(r.version, STITCH_VERSION);
	free(again);
	sq_stitch_spec_release(&r);
	/* the acquisition stitch has no group: null, and a different version */
	free(s.group);
	s.group = NULL;
	sq_stitch_spec_finalize(&s);
	T_CHECK(strcmp(s.version, STITCH_VERSION) != 0);
	free(json);
	json = sq_stitch_spec_to_json(&s);
	T_CONTAINS(json, "\"group\":null");
	sq_stitch_spec_init(&r);
	T_EQ_INT(sq_stitch_spec_from_json(&r, json, &err), 0);
	T_CHECK(r.group == NULL);
	T_EQ_STR(r.version, s.version);
	sq_stitch_spec_release(&r);
	sq_stitch_spec_release(&s);
	free(json);
}

static void expect_bad_json(const char *json, const char *needle)
{
	struct sq_task t;
	struct sq_err err = {SQ_OK, ""};

	sq_task_init(&t);
	T_EQ_INT(sq_task_from_json(&t, json, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_INVALID);
	T_CONTAINS(err.msg, needle);
	T_CHECK(t.acquisition == NULL); /* released on failure */
	sq_task_release(&t);
}

/* Replaces the first occurrence of from in GOLDEN by to. */
static char *golden_with(const char *from, const char *to)
{
	const char *at = strstr(GOLDEN, from);

	return xasprintf("%.*s%s%s", (int)(at - GOLDEN), GOLDEN, to, at + strlen(from));
}

static void test_bad_json(void)
{
	char *s;

	expect_bad_json("not json", "not a json object");
	expect_bad_json("[1]", "not a json object");
	expect_bad_json("{}", "'acquisition'");
	expect_bad_json(s = golden_with("\"auv1\"", "\"a b\""), "bad group name 'a b'"), free(s);
	expect_bad_json(s = golden_with("\"quality\":4", "\"quality\":40"), "'quality'"), free(s);
	expect_bad_json(s = golden_with("\"quality\":4", "\"quality\":4.5"), "'quality'"), free(s);
	expect_bad_json(s = golden_with("\"command\"", "\"shell\""), "bad reconstruct backend"),
	    free(s);
	expect_bad_json(s = golden_with("\"builtin\"", "\"colmap\""), "bad stitch backend"),
	    free(s);
	expect_bad_json(s = golden_with("[\"/v/a.mp4\",\"sftp://u@h:22/v/b.mp4\"]", "[]"),
			"no videos"),
	    free(s);
	expect_bad_json(s = golden_with("\"/v/a.mp4\"", "7"), "'videos'"), free(s);
	/* out of long long's range: refused before any cast (UBSan watches) */
	expect_bad_json(s = golden_with("\"timeout_ms\":3600000", "\"timeout_ms\":1e300"),
			"'timeout_ms' out of range"),
	    free(s);
	expect_bad_json(s = golden_with("\"timeout_ms\":3600000", "\"timeout_ms\":-1e300"),
			"'timeout_ms' out of range"),
	    free(s);
	expect_bad_json(s = golden_with("\"min_vram_mib\":8000", "\"min_vram_mib\":9.3e18"),
			"'min_vram_mib' out of range"),
	    free(s);
	expect_bad_json(s = golden_with("\"quality\":4", "\"quality\":1e19"), "'quality'"), free(s);
	expect_bad_json(s = golden_with("\"backoff_ms\":30000", "\"backoff_ms\":1e400"),
			"'backoff_ms'"),
	    free(s);
}

/* The golden task's JSON once video 2 is limited to its first 4 s. */
#define UNTIL_TAIL "\"video_until_ms\":[0,4000],\"videos\":["

/* Per-video limits: in the JSON only when one is set, so the version of every
 * task without one stays what it was; read back exactly. */
static void test_until(void)
{
	struct sq_task t, r;
	struct sq_err err = {SQ_OK, ""};
	char *want = golden_with("\"videos\":[", UNTIL_TAIL), *json, *s;

	fixed_task(&t);
	t.video_until_ms = xcalloc(2, sizeof(*t.video_until_ms)); /* all 0: no limit */
	sq_task_finalize(&t);
	json = sq_task_to_json(&t);
	T_EQ_STR(json, GOLDEN);
	T_EQ_STR(t.version, GOLDEN_VERSION);
	free(json);
	t.video_until_ms[1] = 4000;
	sq_task_finalize(&t);
	json = sq_task_to_json(&t);
	T_EQ_STR(json, want);
	T_CHECK(strcmp(t.version, GOLDEN_VERSION) != 0);
	sq_task_init(&r);
	T_EQ_INT(sq_task_from_json(&r, json, &err), 0);
	T_CHECK(r.video_until_ms && r.video_until_ms[0] == 0 && r.video_until_ms[1] == 4000);
	T_EQ_STR(r.version, t.version);
	free(json);
	json = sq_task_to_json(&r);
	T_EQ_STR(json, want);
	sq_task_release(&r);
	t.video_until_ms[1] = 4500; /* another limit, another version */
	sq_task_finalize(&t);
	T_CHECK(strcmp(t.version, r.version) != 0);
	/* an explicit list of zeros reads as no limit */
	sq_task_init(&r);
	s = golden_with("\"videos\":[", "\"video_until_ms\":[0,0],\"videos\":[");
	T_EQ_INT(sq_task_from_json(&r, s, &err), 0);
	T_CHECK(r.video_until_ms == NULL);
	T_EQ_STR(r.version, GOLDEN_VERSION);
	free(s);
	sq_task_release(&r);
	free(json);
	free(want);
	sq_task_release(&t);
}

static void test_until_bad_json(void)
{
	static const char *const bad[][2] = {
	    {"[4000]", "'video_until_ms' must be a list of 2 integers"},
	    {"[0,4000,1]", "'video_until_ms' must be a list of 2 integers"},
	    {"{}", "'video_until_ms' must be a list of 2 integers"},
	    {"[0,-1]", "'video_until_ms' out of range"},
	    {"[0,1.5]", "'video_until_ms' out of range"},
	    {"[0,\"4s\"]", "'video_until_ms' out of range"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *to = xasprintf("\"video_until_ms\":%s,\"videos\":[", bad[i][0]);
		char *s = golden_with("\"videos\":[", to);

		expect_bad_json(s, bad[i][1]);
		free(s);
		free(to);
	}
}

static void test_names(void)
{
	char long_name[SQ_NAME_MAX + 2];

	T_CHECK(sq_name_valid("a"));
	T_CHECK(sq_name_valid("AUV-1_seg.01"));
	memset(long_name, 'x', sizeof(long_name));
	long_name[SQ_NAME_MAX] = '\0';
	T_CHECK(sq_name_valid(long_name));
	long_name[SQ_NAME_MAX] = 'x';
	long_name[SQ_NAME_MAX + 1] = '\0';
	T_CHECK(!sq_name_valid(long_name));
	T_CHECK(!sq_name_valid(""));
	T_CHECK(!sq_name_valid(NULL));
	T_CHECK(!sq_name_valid("a b"));
	T_CHECK(!sq_name_valid("a/b"));
	T_CHECK(!sq_name_valid("a:b"));
	T_CHECK(!sq_name_valid("caf\xc3\xa9"));
}

static void test_stages_and_needs(void)
{
	struct sq_task t;

	T_EQ_STR(sq_stage_name(SQ_STAGE_EXTRACT), "extract");
	T_EQ_STR(sq_stage_name(SQ_STAGE_STITCH), "stitch");
	T_CHECK(sq_stage_name(SQ_STAGE_COUNT) == NULL);
	T_EQ_INT(sq_stage_parse("reconstruct"), SQ_STAGE_RECONSTRUCT);
	T_EQ_INT(sq_stage_parse("Extract"), -1);
	T_EQ_INT(sq_stage_parse(NULL), -1);
	T_EQ_STR(sq_backend_name(SQ_BACKEND_COLMAP), "colmap");
	T_EQ_STR(sq_backend_name(SQ_BACKEND_BUILTIN), "builtin");
	fixed_task(&t);
	t.stitch.min_ram_mib = 64;
	T_EQ_INT(sq_task_need_vram_mib(&t, SQ_STAGE_EXTRACT), 0);
	T_EQ_INT(sq_task_need_vram_mib(&t, SQ_STAGE_RECONSTRUCT), 8000);
	T_EQ_INT(sq_task_need_ram_mib(&t, SQ_STAGE_RECONSTRUCT), 16000);
	T_EQ_INT(sq_task_need_ram_mib(&t, SQ_STAGE_STITCH), 64);
	T_EQ_INT(sq_task_need_vram_mib(&t, SQ_STAGE_STITCH), 0);
	sq_task_release(&t);
}

int main(void)
{
	test_golden();
	test_round_trip();
	test_versions();
	test_video_ids();
	test_stitch_spec();
	test_colmap_spec();
	test_camera_params();
	test_camera_params_bad_json();
	test_camera_models();
	test_bad_json();
	test_until();
	test_until_bad_json();
	test_names();
	test_stages_and_needs();
	return t_done();
}
