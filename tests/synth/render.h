/* render.h - ray casting the seabed from a camera pose into an RGB frame. */
#ifndef SYNTH_RENDER_H
#define SYNTH_RENDER_H

#include "camera.h"
#include "terrain.h"

struct synth_renderer {
	struct synth_camera cam;
	float *rays;	  /* 3 per pixel: undistorted camera-frame direction, z = 1 */
	long long steps;  /* height look-ups so far (for the speed report) */
	long long pixels; /* pixels cast so far */
};

/* Precomputes the per-pixel rays. Returns new (free with synth_renderer_free()). */
struct synth_renderer *synth_renderer_new(const struct synth_camera *cam);
void synth_renderer_free(struct synth_renderer *r);

/* Renders the view from pose into rgb (width * height * 3 bytes, rows top to
 * bottom). The camera must look down: every ray must descend. */
void synth_render(struct synth_renderer *r, struct synth_terrain *t, const struct synth_pose *pose,
		  unsigned char *rgb);

#endif
