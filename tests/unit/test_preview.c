/* test_preview.c - preview.png and preview.ply (stage/preview.h), and the
 * warnings read from stage records and summaries (stage/quality.h).
 *
 * The PNG is decoded back with libavcodec and its pixels checked: the cloud's
 * two colours where the geometry puts them, the camera path drawn over it. The
 * clouds are tilted planes, so "top-down" has to come from the cloud itself. */
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "cloud/ply.h"
#include "stage/preview.h"
#include "task/layout.h"
#include "stage/quality.h"
#include "stage/stage.h"
#include "t.h"

#include <libavcodec/avcodec.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[512];

/* A plane tilted 30 degrees about x, n x m points spaced 0.01; the half with
 * x < 0 red, the other blue (with_rgb), or no colour. */
static void write_plane(const char *path, size_t n, size_t m, int with_rgb)
{
	struct sq_err err = {0};
	struct sq_ply_writer *w = sq_ply_writer_open(path, with_rgb, 0, &err);
	double c = cos(M_PI / 6), s = sin(M_PI / 6);

	for (size_t i = 0; i < n; i++) {
		double xyz[3 * 1024];
		unsigned char rgb[3 * 1024];

		for (size_t j = 0; j < m; j++) {
			double x = ((double)i - (double)n / 2) * 0.01, y = (double)j * 0.01;

			xyz[3 * j] = x;
			xyz[3 * j + 1] = y * c;
			xyz[3 * j + 2] = y * s + 5;
			rgb[3 * j] = x < 0 ? 220 : 20;
			rgb[3 * j + 1] = 20;
			rgb[3 * j + 2] = x < 0 ? 20 : 220;
		}
		struct sq_ply_chunk ch = {.n = m, .xyz = xyz, .rgb = with_rgb ? rgb : NULL};
		sq_ply_writer_add(w, &ch, &err);
	}
	T_EQ_INT(sq_ply_writer_close(w, &err), 0);
}

struct picture {
	int w, h;
	unsigned char *rgb; /* w * h * 3 */
};

/* Decodes a PNG file into RGB24 with libavcodec. */
static int read_png(const char *path, struct picture *pic)
{
	size_t len;
	char *data = sq_read_file(path, &len, NULL);
	const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_PNG);
	AVCodecContext *c = avcodec_alloc_context3(codec);
	AVPacket *pkt = av_packet_alloc();
	AVFrame *f = av_frame_alloc();
	int rc = -1;

	if (!data || avcodec_open2(c, codec, NULL) < 0)
		goto out;
	pkt->data = (uint8_t *)data;
	pkt->size = (int)len;
	if (avcodec_send_packet(c, pkt) < 0 || avcodec_receive_frame(c, f) < 0 ||
	    f->format != AV_PIX_FMT_RGB24)
		goto out;
	pic->w = f->width;
	pic->h = f->height;
	pic->rgb = xmalloc((size_t)f->width * (size_t)f->height * 3);
	for (int y = 0; y < f->height; y++)
		memcpy(pic->rgb + (size_t)y * (size_t)f->width * 3,
		       f->data[0] + (size_t)y * (size_t)f->linesize[0], (size_t)f->width * 3);
	rc = 0;
out:
	pkt->data = NULL;
	av_packet_free(&pkt);
	av_frame_free(&f);
	avcodec_free_context(&c);
	free(data);
	return rc;
}

/* Pixels close to (r, g, b), and their mean column. */
static size_t count_colour(const struct picture *p, int r, int g, int b, double *mean_x)
{
	size_t n = 0;
	double sx = 0;

	for (int y = 0; y < p->h; y++)
		for (int x = 0; x < p->w; x++) {
			const unsigned char *px =
			    p->rgb + 3 * ((size_t)y * (size_t)p->w + (size_t)x);

			if (abs(px[0] - r) < 12 && abs(px[1] - g) < 12 && abs(px[2] - b) < 12) {
				n++;
				sx += x;
			}
		}
	if (mean_x)
		*mean_x = n ? sx / (double)n : -1;
	return n;
}

static void test_render(void)
{
	char *ply = sq_path_join(dir, "plane.ply"), *out = sq_path_join(dir, "a");
	char *png = sq_path_join(out, SQ_LAYOUT_PREVIEW_PNG), *pply = sq_path_join(out, SQ_LAYOUT_PREVIEW_PLY);
	/* cameras above the plane (on its normal's side), walking along +x */
	const char *cams = "{\"frames\":[{\"file\":\"f1\",\"centre\":[-0.8,0.5,6.5]},"
			   "{\"file\":\"f2\",\"registered\":false},"
			   "{\"file\":\"f3\",\"centre\":[0.0,0.5,6.5]},"
			   "{\"file\":\"f4\",\"centre\":[0.8,0.5,6.5]}]}";
	struct sq_preview_opts o = {
	    .ply = ply, .cameras_json = cams, .outdir = out, .max_points = 5000, .side_px = 256};
	struct sq_ply_info info;
	struct picture pic = {0};
	struct sq_err err = {0};
	double red_x, blue_x, first_x, last_x;
	char *a, *b;

	write_plane(ply, 200, 100, 1);
	sq_mkdir_p(out, &err);
	T_EQ_INT(sq_preview_render(&o, &err), 0);
	T_EQ_INT(sq_ply_read_info(pply, &info, &err), 0);
	T_EQ_INT(info.count, 5000); /* decimated to max_points */
	T_EQ_INT(info.format, SQ_PLY_BINARY_LE);
	T_CHECK(info.has_rgb);
	T_EQ_INT(read_png(png, &pic), 0);
	T_EQ_INT(pic.w > pic.h ? pic.w : pic.h, 256);
	/* the plane is 2 x 1: its longest axis across the picture */
	T_CHECK(pic.w > pic.h);
	T_CHECK(count_colour(&pic, 220, 20, 20, &red_x) > 500);
	T_CHECK(count_colour(&pic, 20, 20, 220, &blue_x) > 500);
	/* the cameras walk from the red half to the blue one; first dot green, last white */
	T_CHECK(count_colour(&pic, 255, 60, 60, NULL) > 50);
	T_CHECK(count_colour(&pic, 60, 230, 90, &first_x) > 10);
	T_CHECK(count_colour(&pic, 255, 255, 255, &last_x) > 10);
	T_CHECK((red_x < blue_x) == (first_x < last_x));
	T_CHECK(fabs(first_x - last_x) > pic.w / 2);
	free(pic.rgb);

	/* the same cloud gives the same preview */
	a = sq_read_file(png, NULL, NULL);
	T_EQ_INT(sq_preview_render(&o, &err), 0);
	b = sq_read_file(png, NULL, NULL);
	T_CHECK(a && b && strcmp(a, b) == 0);
	free(a);
	free(b);
	free(ply), free(out), free(png), free(pply);
}

/* No colour: coloured by height; no cameras: no path; default sizes. */
static void test_plain_and_defaults(void)
{
	char *ply = sq_path_join(dir, "plain.ply"), *out = sq_path_join(dir, "b");
	char *png = sq_path_join(out, SQ_LAYOUT_PREVIEW_PNG), *pply = sq_path_join(out, SQ_LAYOUT_PREVIEW_PLY);
	struct sq_ply_info info;
	struct picture pic = {0};
	struct sq_err err = {0};

	write_plane(ply, 1050, 1000, 0); /* 1.05 M points: more than the preview keeps */
	sq_mkdir_p(out, &err);
	T_EQ_INT(sq_preview_write(ply, NULL, out, &err), 0);
	T_EQ_INT(sq_ply_read_info(pply, &info, &err), 0);
	T_EQ_INT(info.count, SQ_PREVIEW_MAX_POINTS);
	T_CHECK(!info.has_rgb);
	T_EQ_INT(read_png(png, &pic), 0);
	T_EQ_INT(pic.w, SQ_PREVIEW_SIDE_PX);
	T_EQ_INT(count_colour(&pic, 255, 60, 60, NULL), 0);
	T_CHECK(count_colour(&pic, 28, 30, 34, NULL) < (size_t)(pic.w * pic.h) / 2);
	free(pic.rgb);
	free(ply), free(out), free(png), free(pply);
}

static void test_bad_input(void)
{
	char *ply = sq_path_join(dir, "empty.ply"), *out = sq_path_join(dir, "c");
	char *png = sq_path_join(out, SQ_LAYOUT_PREVIEW_PNG);
	struct sq_err err = {0};
	const char *empty = "ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\n"
			    "property float y\nproperty float z\nend_header\n";

	sq_mkdir_p(out, &err);
	sq_write_file_atomic(ply, empty, strlen(empty), &err);
	T_EQ_INT(sq_preview_write(ply, NULL, out, &err), -1);
	T_CONTAINS(err.msg, "no point");
	T_CHECK(!sq_path_exists(png));
	T_EQ_INT(sq_preview_write("/nonexistent.ply", "not json", out, &err), -1);
	T_CONTAINS(err.msg, "/nonexistent.ply");
	free(ply), free(out), free(png);
}

static void test_quality(void)
{
	char **w = NULL, *s;
	size_t n;

	n = sq_quality_warnings("{\"quality\":{\"registered_share\":0.6,"
				"\"mean_reprojection_error_px\":1.8},\"warnings\":[\"x\"]}",
				&w, 0);
	T_EQ_INT(n, 3);
	T_EQ_STR(w[0], "x");
	T_CONTAINS(w[1], "60% of frames registered");
	T_CONTAINS(w[2], "reprojection error 1.80 px");
	n = sq_quality_warnings(
	    "{\"warnings\":[\"x\"],\"confidence\":0.2,\"left_out\":[\"a\",\"b\"]}", &w, n);
	T_EQ_INT(n, 5); /* "x" once */
	T_CONTAINS(w[3], "confidence 0.20");
	T_EQ_STR(w[4], "left out 2 inputs: a, b");
	sq_quality_free(w, n);
	w = NULL;
	T_EQ_INT(sq_quality_warnings("{\"quality\":{\"registered_share\":0.95,"
				     "\"mean_reprojection_error_px\":0.7},\"confidence\":0.9,"
				     "\"unplaced\":[],\"warnings\":[]}",
				     &w, 0),
		 0);
	T_EQ_INT(sq_quality_warnings("not json", &w, 0), 0);
	T_EQ_INT(sq_quality_warnings(NULL, &w, 0), 0);

	s = sq_quality_summary("{\"quality\":{\"registered_share\":0.5},\"frames\":[]}", NULL);
	T_CONTAINS(s, "\"quality\":{\"registered_share\":0.5}");
	T_CONTAINS(s, "\"warnings\":[\"only 50% of frames registered");
	T_CHECK(!strstr(s, "\"frames\""));
	free(s);
	s = sq_quality_summary(NULL, xstrdup("{\"placed\":1,\"unplaced\":[\"g2\"]}"));
	T_EQ_STR(s, "{\"placed\":1,\"unplaced\":[\"g2\"],\"warnings\":[\"left out 1 input: g2\"]}");
	free(s);
	s = sq_quality_summary("{\"warnings\":[]}", xstrdup("{\"frames\":3}"));
	T_EQ_STR(s, "{\"frames\":3,\"warnings\":[]}");
	free(s);
}

int main(void)
{
	const char *tmp = getenv("SCANQ_TMP");

	snprintf(dir, sizeof(dir), "%s/preview", tmp ? tmp : "/tmp");
	sq_mkdir_p(dir, NULL);
	test_render();
	test_plain_and_defaults();
	test_bad_input();
	test_quality();
	return t_done();
}
