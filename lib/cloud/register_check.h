/* register_check.h - judging a placement of one surface onto another by what
 * the two clouds say, whatever found it (features, matches, cameras).
 *
 * A right placement lays the two surfaces on each other wherever both were
 * measured: over the part of b's footprint that a's points reach, a's points
 * lie on b's surface (within their noise), and the other way round. A wrong
 * one fits where ICP pulled it (a strip, a flank) and leaves the rest of the
 * overlap above or below the other surface, often on both sides of it. The
 * check also says how firmly the overlap fixes the placement: point-to-plane
 * residuals constrain it only across the surface, so a flat overlap leaves
 * the shift and the turn within the plane free, a ribbed one the shift along
 * its crests, a narrow strip the tilt about its length; the covariance of the
 * fit (residual variance times the inverse of its normal matrix) measures it.
 *
 * Footprints are taken in the plane of each surface (its principal axes): the
 * inputs are surfaces seen from one side, height fields over that plane. */
#ifndef SQ_REGISTER_CHECK_H
#define SQ_REGISTER_CHECK_H

#include "cloud/register.h"

#include <stddef.h>

/* One input as the check sees it: its surface (a prepared cloud with normals,
 * fine enough to follow the relief) and raw points of it. */
struct sq_reg_side {
	const struct sq_reg_cloud *surf;
	const float *raw; /* 3 * nraw */
	size_t nraw;
	double noise;	   /* scatter of raw about surf (sq_reg_noise), surf's units */
	double self_share; /* share of raw on surf by the check's distance (sq_reg_noise) */
	const unsigned char *salient; /* nraw flags (sq_reg_salient); NULL: none known */
};

/* Robust scatter (1.4826 x median absolute point-to-plane distance) of the
 * raw points about the surface they were sampled from: their noise plus what
 * the surface's cells smooth away. 0 when too few points pair up. *on_share
 * (may be NULL) gets the share of them that a check between two such clouds
 * would count as on the surface: what a right placement can reach. */
double sq_reg_noise(const struct sq_reg_cloud *surf, const float *raw, size_t nraw,
		    double *on_share);

/* Flags the raw points that lie in relief: where the surface stands off the
 * plane of its surroundings (radius_vox surface voxels) by more than a few
 * noise scatters (a boulder, a ridge; not a flat or gently curved stretch).
 * New array of nraw (free with free()); *surf_flags (when not NULL) gets the
 * same flags for surf's points, a new array of surf->c.n. */
unsigned char *sq_reg_salient(const struct sq_reg_cloud *surf, const float *raw, size_t nraw,
			      double noise, double radius_vox, unsigned char **surf_flags);

struct sq_reg_check {
	/* Share of a's raw points over b's footprint that lie on b's surface
	 * [0], and of b's over a's footprint on a's [1]; NAN where none is over. */
	double coherence[2];
	size_t over[2]; /* those raw points over the other's footprint */
	/* The same over the points in relief (sq_reg_salient), where a wrong
	 * placement of a flat surface with a few features shows: NAN where
	 * fewer than a handful are over the other's footprint. */
	double salient_coherence[2];
	size_t salient_over[2];
	double above, below; /* of a's points over b's footprint: off b's surface, by side */
	double area_vox2;    /* the overlap's area, in b's surface voxels squared */
	double width_vox;    /* its narrowest extent (a strip is narrow), b voxels */
	double normal_deg;   /* median angle between paired surface normals */
	double rms;	     /* point-to-plane RMS of a's surface points paired on b */
	size_t pairs;	     /* a's surface points paired on b's surface */
	/* Predicted standard deviations of the placement from the paired points:
	 * rotation (degrees), scale (relative), shift (b's units); INFINITY where
	 * the overlap does not constrain it at all. */
	double rot_sd_deg, scale_sd, shift_sd;
	double on_thr; /* distance counted as on the surface, b's units */
	/* Where the overlap is, in b's frame: its centre, its longer and shorter
	 * in-plane axes and b's plane normal (unit vectors): the axes a surface
	 * laid upside down on the other would have been turned about. */
	double centre[3], axis_long[3], axis_short[3], normal[3];
};

/* Only coherence[0], on up to max_points of a's raw points: a quick look that
 * spares a placement the clouds plainly disagree with its refinement. */
double sq_reg_coherence(const struct sq_reg_side *a, const struct sq_reg_side *b,
			const struct sq_sim *T, size_t max_points);

/* Judges T (a -> b). Deterministic, whatever the thread count. */
void sq_reg_check(const struct sq_reg_side *a, const struct sq_reg_side *b, const struct sq_sim *T,
		  struct sq_reg_check *out);

#endif
