/* host.h - what this host can offer a job right now (free RAM, free VRAM). */
#ifndef SQ_HOST_H
#define SQ_HOST_H

/* MemAvailable from /proc/meminfo in MiB, or -1 if unknown. */
long long sq_host_free_ram_mib(void);

/* Free memory of GPU `gpu` (an index as nvidia-smi -i takes it) in MiB, read with
 * nvidia-smi; -1 when there is no nvidia-smi or it fails (no GPU known). */
long long sq_host_free_vram_mib(const char *gpu);

#endif
