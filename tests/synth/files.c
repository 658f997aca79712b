/* files.c - poses CSV rows and the YAML task directory (see files.h). */
#include "files.h"
#include "base/fsutil.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include "base/banned.h"

char *synth_vehicle_name(int vehicle)
{
	return xasprintf("auv%d", vehicle + 1);
}

char *synth_video_name(int vehicle, int chapter)
{
	return xasprintf("auv%d-ch%02d.mp4", vehicle + 1, chapter + 1);
}

void synth_poses_header(struct sq_strbuf *sb)
{
	sq_strbuf_adds(sb, "chapter,frame,t_s,x,y,z,qw,qx,qy,qz,fx,fy,cx,cy,k1\n");
}

void synth_poses_row(struct sq_strbuf *sb, int chapter, long frame, double t_s,
		     const struct synth_pose *pose, const struct synth_camera *cam)
{
	sq_strbuf_addf(
	    sb, "%d,%ld,%.6f,%.6f,%.6f,%.6f,%.9f,%.9f,%.9f,%.9f,%.6f,%.6f,%.6f,%.6f,%g\n", chapter,
	    frame, t_s, pose->c[0], pose->c[1], pose->c[2], pose->q[0], pose->q[1], pose->q[2],
	    pose->q[3], cam->fx, cam->fy, cam->cx, cam->cy, cam->k1);
}

/* A YAML double-quoted scalar: safe for any argument, placeholders included. */
static void add_quoted(struct sq_strbuf *sb, const char *s)
{
	sq_strbuf_addch(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			sq_strbuf_addf(sb, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			sq_strbuf_addf(sb, "\\x%02x", c);
		else
			sq_strbuf_addch(sb, (char)c);
	}
	sq_strbuf_addch(sb, '"');
}

static void add_backend(struct sq_strbuf *sb, const char *stage, const char *fixed, char **argv,
			size_t argc)
{
	if (!argv) {
		sq_strbuf_addf(sb, "%s: { backend: %s }\n", stage, fixed);
		return;
	}
	sq_strbuf_addf(sb, "%s:\n  backend: command\n  command: [", stage);
	for (size_t i = 0; i < argc; i++) {
		if (i)
			sq_strbuf_adds(sb, ", ");
		add_quoted(sb, argv[i]);
	}
	sq_strbuf_adds(sb, "]\n");
}

static int write_text(const char *dir, const char *name, const struct sq_strbuf *sb,
		      struct sq_err *err)
{
	char *path = sq_path_join(dir, name);
	int rc = sq_write_file_atomic(path, sb->buf, sb->len, err);

	free(path);
	return rc;
}

static int write_acquisition(const struct synth_tasks_opts *o, struct sq_err *err)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	int rc;

	sq_strbuf_adds(&sb, "# Written by scanq-synth: videos in ../videos, ground truth in "
			    "../truth.\n");
	sq_strbuf_addf(&sb, "acquisition: %s\noutput_root: ../out\n", o->acquisition);
	sq_strbuf_addf(&sb, "extract: { fps: %s, width: %d, height: -1 }\n", o->extract_fps,
		       o->extract_width);
	add_backend(&sb, "reconstruct", "colmap", o->reconstruct_argv, o->reconstruct_argc);
	add_backend(&sb, "stitch", "builtin", o->stitch_argv, o->stitch_argc);
	rc = write_text(o->dir, "acquisition.yaml", &sb, err);
	sq_strbuf_release(&sb);
	return rc;
}

/* One task: chapters [first, last] of vehicle v, named name. */
static int write_task(const struct synth_tasks_opts *o, int v, int first, int last,
		      const char *name, struct sq_err *err)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	char *group = synth_vehicle_name(v), *file = xasprintf("%s.yaml", name);
	int rc;

	sq_strbuf_addf(&sb, "group: %s\nname: %s\nvideos:\n", group, name);
	for (int c = first; c <= last; c++) {
		char *video = synth_video_name(v, c);

		sq_strbuf_addf(&sb, "  - ../videos/%s\n", video);
		free(video);
	}
	if (o->chapter_overlap_s > 0 && !o->per_vehicle && last + 1 < o->chapters) {
		char *next = synth_video_name(v, last + 1);

		sq_strbuf_addf(&sb, "  - { path: ../videos/%s, until: %gs }\n", next,
			       o->chapter_overlap_s);
		free(next);
	}
	rc = write_text(o->dir, file, &sb, err);
	sq_strbuf_release(&sb);
	free(group);
	free(file);
	return rc;
}

int synth_tasks_write(const struct synth_tasks_opts *o, struct sq_err *err)
{
	if (write_acquisition(o, err) < 0)
		return -1;
	for (int v = 0; v < o->vehicles; v++) {
		if (o->per_vehicle) {
			char *name = xasprintf("auv%d-all", v + 1);
			int rc = write_task(o, v, 0, o->chapters - 1, name, err);

			free(name);
			if (rc < 0)
				return -1;
			continue;
		}
		for (int c = 0; c < o->chapters; c++) {
			char *video = synth_video_name(v, c), *name = sq_path_stem(video);
			int rc = write_task(o, v, c, c, name, err);

			free(video);
			free(name);
			if (rc < 0)
				return -1;
		}
	}
	return 0;
}
