/* noise.c - hashed gradient noise and its fractal sum (see noise.h). */
#include "noise.h"

#include <math.h>
#include "base/banned.h"

#define OCT_MAX 16
#define OCT_LACUNARITY 2.0317f /* not 2: octave lattices never line up */

/* cos/sin of k * 0.618034 rad: each octave is rotated so that no lattice
 * direction dominates (axis-aligned streaks are easy false matches). */
static const float oct_cos[OCT_MAX] = {1.0000000f,  0.8150192f,	 0.3285126f,  -0.2795311f,
				       -0.7841590f, -0.9986781f, -0.8437248f, -0.3766256f,
				       0.2298106f,  0.7512256f,	 0.9947161f,  0.8701998f,
				       0.4237430f,  -0.1794825f, -0.7163063f, -0.9881243f};
static const float oct_sin[OCT_MAX] = {0.0000000f,  0.5794340f,	 0.9444996f,  0.9601366f,
				       0.6205600f,  0.0514000f,	 -0.5367760f, -0.9263656f,
				       -0.9732354f, -0.6600455f, -0.1026641f, 0.4926991f,
				       0.9057825f,  0.9837612f,	 0.6977860f,  0.1536568f};

uint32_t synth_hash(uint32_t seed, int32_t ix, int32_t iy, uint32_t salt)
{
	/* a murmur3-style finaliser over a mix of the inputs: cheap and well spread */
	uint32_t h = seed * 0x9e3779b9u ^ (uint32_t)ix * 0x85ebca6bu ^ (uint32_t)iy * 0xc2b2ae35u ^
		     salt * 0x27d4eb2fu;

	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

float synth_hash01(uint32_t seed, int32_t ix, int32_t iy, uint32_t salt)
{
	return (float)(synth_hash(seed, ix, iy, salt) >> 8) * (1.0f / 16777216.0f);
}

static float fade(float t)
{
	return t * t * t * (t * (t * 6.0f - 15.0f) + 10.0f);
}

/* The gradient comes straight from the hash bits (no table that could wrap). */
static float corner(uint32_t seed, int32_t ix, int32_t iy, float dx, float dy)
{
	uint32_t h = synth_hash(seed, ix, iy, 0x51ed);
	float gx = (float)(h & 0xffff) * (1.0f / 32768.0f) - 1.0f;
	float gy = (float)(h >> 16) * (1.0f / 32768.0f) - 1.0f;

	return gx * dx + gy * dy;
}

float synth_noise(uint32_t seed, float x, float y)
{
	float fx = floorf(x), fy = floorf(y);
	int32_t ix = (int32_t)fx, iy = (int32_t)fy;
	float dx = x - fx, dy = y - fy;
	float u = fade(dx), v = fade(dy);
	float a = corner(seed, ix, iy, dx, dy);
	float b = corner(seed, ix + 1, iy, dx - 1.0f, dy);
	float c = corner(seed, ix, iy + 1, dx, dy - 1.0f);
	float d = corner(seed, ix + 1, iy + 1, dx - 1.0f, dy - 1.0f);

	/* with gradients in the unit square the sum stays within about +-0.7 */
	return 1.6f * (a + u * (b - a) + v * (c - a) + u * v * (a - b - c + d));
}

float synth_fbm(uint32_t seed, float x_m, float y_m, float wl_max_m, float wl_min_m, float gain)
{
	float sum = 0.0f, amp = 1.0f, norm = 0.0f, wl = wl_max_m;

	for (int k = 0; k < OCT_MAX; k++, amp *= gain, wl /= OCT_LACUNARITY) {
		float rx = oct_cos[k] * x_m - oct_sin[k] * y_m;
		float ry = oct_sin[k] * x_m + oct_cos[k] * y_m;

		/* normalise over every octave, kept or not, so that the large scales
		 * look the same whatever the sampling */
		norm += amp;
		if (wl < wl_min_m)
			continue;
		sum += amp * synth_noise(seed + (uint32_t)k * 0x632be5abu, rx / wl, ry / wl);
	}
	return sum / norm * 1.5f;
}
