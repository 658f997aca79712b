/* host.c - free RAM and VRAM of this host, for resource-aware claiming. */
#include "worker/host.h"

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

/* Runs argv (no shell) and reads up to len-1 bytes of its stdout. */
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
