/* host.h - what this host can offer a job right now (free RAM, free VRAM). */
#ifndef SQ_HOST_H
#define SQ_HOST_H

#include <stddef.h>

/* MemAvailable from /proc/meminfo in MiB, or -1 if unknown. */
long long sq_host_free_ram_mib(void);

/* Free memory of GPU `gpu` (an index as nvidia-smi -i takes it) in MiB, read with
 * nvidia-smi; -1 when there is no nvidia-smi or it fails (no GPU known). */
long long sq_host_free_vram_mib(const char *gpu);

/* The GPUs nvidia-smi lists: index and UUID of each (new strings). */
struct sq_host_gpus {
	char **index, **uuid;
	size_t n;
};

/* Fills g (release with sq_host_gpus_release). Returns 0, or -1 with g empty
 * when there is no nvidia-smi or it fails (no GPU can be seen). */
int sq_host_gpus_read(struct sq_host_gpus *g);

/* 1 if id names one of g's GPUs, as nvidia-smi -i and CUDA_VISIBLE_DEVICES take
 * it: its index, or its UUID (or a prefix of it, "GPU-..."); else 0. */
int sq_host_gpus_has(const struct sq_host_gpus *g, const char *id);

void sq_host_gpus_release(struct sq_host_gpus *g);

#endif
