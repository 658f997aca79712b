/* host.c - free RAM and VRAM of this host, for resource-aware claiming. */
#include "worker/host.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/banned.h"

long long sq_host_free_ram_mib(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	long long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemAvailable: %lld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib < 0 ? -1 : kib / 1024;
}

/* Runs argv (no shell) and reads up to len-1 bytes of its stdout. Returns 0
 * when it exited 0, else -1. */
static int capture(char *const argv[], char *buf, size_t len)
{
	int fds[2], status = 0;
	size_t got = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(fds[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while (got + 1 < len) {
		ssize_t n = read(fds[0], buf + got, len - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

long long sq_host_free_vram_mib(const char *gpu)
{
	char out[256], *end;
	char *argv[] = {"nvidia-smi", "--query-gpu=memory.free", "--format=csv,noheader,nounits",
			"-i", (char *)(gpu ? gpu : "0"), NULL};
	long long mib;

	if (capture(argv, out, sizeof(out)) < 0)
		return -1;
	errno = 0;
	mib = strtoll(out, &end, 10);
	if (errno || end == out || mib < 0)
		return -1;
	return mib;
}

/* One "index, uuid" line of nvidia-smi's CSV; 0, or -1 for anything else. */
static int add_gpu(struct sq_host_gpus *g, const char *line, size_t len)
{
	const char *comma = memchr(line, ',', len);
	const char *u = comma ? comma + 1 : NULL;
	size_t ilen = comma ? (size_t)(comma - line) : 0;

	if (!comma || ilen == 0)
		return -1;
	while (u < line + len && *u == ' ')
		u++;
	g->index = xrealloc(g->index, (g->n + 1) * sizeof(*g->index));
	g->uuid = xrealloc(g->uuid, (g->n + 1) * sizeof(*g->uuid));
	g->index[g->n] = xstrndup(line, ilen);
	g->uuid[g->n] = xstrndup(u, (size_t)(line + len - u));
	g->n++;
	return 0;
}

int sq_host_gpus_read(struct sq_host_gpus *g)
{
	char out[8192];
	char *argv[] = {"nvidia-smi", "--query-gpu=index,uuid", "--format=csv,noheader", NULL};
	const char *p = out;

	memset(g, 0, sizeof(*g));
	if (capture(argv, out, sizeof(out)) < 0)
		return -1;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len && add_gpu(g, p, len) < 0) {
			sq_host_gpus_release(g);
			return -1;
		}
		p += len + (nl != NULL);
	}
	return 0;
}

int sq_host_gpus_has(const struct sq_host_gpus *g, const char *id)
{
	size_t len = strlen(id);

	for (size_t i = 0; i < g->n; i++) {
		if (!strcmp(g->index[i], id))
			return 1;
		if (len > 4 && !strncmp(id, "GPU-", 4) && !strncmp(g->uuid[i], id, len))
			return 1;
	}
	return 0;
}

void sq_host_gpus_release(struct sq_host_gpus *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->index[i]);
		free(g->uuid[i]);
	}
	free(g->index);
	free(g->uuid);
	memset(g, 0, sizeof(*g));
}
