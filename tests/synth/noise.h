/* noise.h - seeded, non-repeating procedural noise for the synthetic seabed.
 *
 * Everything is a pure function of (seed, x, y): the same seed draws the same
 * world, and no lookup table wraps, so the texture never repeats inside a survey
 * (a periodic texture would hand SIFT false matches). */
#ifndef SYNTH_NOISE_H
#define SYNTH_NOISE_H

#include <stdint.h>

/* 32-bit integer hash of a lattice point and a salt (seed, layer, octave). */
uint32_t synth_hash(uint32_t seed, int32_t ix, int32_t iy, uint32_t salt);

/* Uniform in [0, 1) from synth_hash(). */
float synth_hash01(uint32_t seed, int32_t ix, int32_t iy, uint32_t salt);

/* Gradient noise at (x, y) in lattice units; about [-1, 1], zero on lattice points. */
float synth_noise(uint32_t seed, float x, float y);

/* Fractal sum of synth_noise() from wavelength wl_max_m down to wl_min_m (octaves
 * finer than wl_min_m are left out, which keeps the result band-limited for a
 * given sampling); each octave is rotated and weighted gain^k. Roughly [-1, 1]. */
float synth_fbm(uint32_t seed, float x_m, float y_m, float wl_max_m, float wl_min_m, float gain);

#endif
