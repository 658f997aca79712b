/* plan.h - the flight plan: a fleet flying a lawn-mower survey in formation.
 *
 * Legs run along x. On every pass the N vehicles fly N adjacent legs side by
 * side, `spacing_m` apart, so each vehicle covers one strip of the pass and
 * adjacent vehicles see the same seabed (sidelap) along their whole tracks,
 * however short the recording; at the end of a pass every vehicle makes a
 * U-turn of radius N * spacing / 2 into its strip of the next pass. The whole
 * plan keeps the nadir footprint inside the survey area.
 *
 * The camera looks straight down, image top towards the direction of travel,
 * with a slow roll/pitch/yaw wobble (a few degrees) as a real vehicle has. */
#ifndef SYNTH_PLAN_H
#define SYNTH_PLAN_H

#include "camera.h"
#include "base/err.h"

#include <stdint.h>

struct synth_plan_opts {
	double area_w_m, area_h_m;
	int vehicles;
	double altitude_m; /* camera height above the mean seabed */
	double speed_mps;
	double footprint_m; /* across-track width of the nadir footprint on the mean seabed */
	double sidelap;	    /* wanted overlap of adjacent legs, fraction of footprint_m */
	double wobble_deg;  /* roll and pitch amplitude */
	uint32_t seed;
};

struct synth_plan {
	struct synth_plan_opts o;
	double spacing_m;	   /* between adjacent legs (and vehicles) */
	double radius_m;	   /* of the U-turns */
	double x_start_m, x_end_m; /* leg ends */
	double y_first_m;	   /* the first leg of vehicle 0 */
	int passes;
	double length_m; /* of one vehicle's whole plan */
};

/* Lays out the plan; fails (SQ_ERR_INVALID, saying what is too small) when the
 * area cannot hold one pass of the fleet. */
int synth_plan_init(struct synth_plan *p, const struct synth_plan_opts *o, struct sq_err *err);

/* Overlap of adjacent vehicles' footprints, as a fraction of the footprint. */
double synth_plan_sidelap(const struct synth_plan *p);

/* Camera pose of vehicle (0-based) at t_s seconds after the start. Past the end
 * of the plan the vehicle stays at the end. */
void synth_plan_pose(const struct synth_plan *p, int vehicle, double t_s, struct synth_pose *pose);

#endif
