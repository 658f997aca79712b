/* extract.c - bench-extract: scanq's frame extraction against the ffmpeg program.
 *
 * For each case the same cached input is extracted by sq_media_extract() (in a
 * forked child, so that its peak RSS is its own) and by
 *   ffmpeg -nostdin -v error -i IN -vf fps=3,scale=518:294 -q:v 4 DIR/frame_%06d.jpg
 * (fork/exec, no shell), alternating which goes first, N times each. Printed:
 * median wall and CPU time of each, the ratio scanq/CLI of the median walls and
 * the median of the per-pair ratios (a pair runs back to back, under the same
 * load of a shared machine), both peak RSS (wait4), the
 * packets scanq decoded and skipped, and whether the last run's files were
 * byte-identical. Inputs are made once with the ffmpeg program and cached (see
 * README.md). Run by hand, never by CI: it takes tens of minutes.
 *
 * --sftp makes another table instead: each case extracted by scanq from the same file
 * read as sftp://127.0.0.1:PORT/... from a private sshd (its own keys and
 * config in cache/sshd, started here, fork/exec, no shell) against scanq on
 * the local file, alternating; the ratio is sftp/local. sshd's CPU is not in
 * the sftp column (it runs on the same machine). */
#include "base/fsutil.h"
#include "media/media.h"
#include "base/xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/banned.h"

#define MAX_REPS 15

struct bench_case {
	const char *name, *file;
	const char *desc;
	const char *gen[24]; /* ffmpeg arguments between the program name and the output */
};

/* testsrc2 under moderate temporal noise: every frame differs, like camera
 * footage, at about 10 Mb/s in 1080p. Scene-cut detection is off, or the noise
 * would turn most B-frames into P-frames; b-adapt=0 keeps the GOP pattern fixed.
 * The B-frames of IBBP and 7B are not references (b-pyramid none), as hardware
 * camera encoders make them; 7B-pyr is x264's default pyramid, where some are. */
#define NOISY(size) "testsrc2=size=" size ":rate=30,noise=alls=8:allf=t"
#define X264(bf, extra)                                                                            \
	"-c:v", "libx264", "-preset", "veryfast", "-bf", bf, "-x264-params",                       \
	    "b-adapt=0:scenecut=0" extra, "-pix_fmt", "yuv420p"

static const struct bench_case cases[] = {
    {"h264-noB",
     "h264-noB-60s.mp4",
     "60 s 1080p30 H.264, no B-frames",
     {"-f", "lavfi", "-i", NOISY("1920x1080"), "-t", "60", X264("0", ""), NULL}},
    {"h264-IBBP",
     "h264-IBBP-60s.mp4",
     "60 s 1080p30 H.264, IBBP",
     {"-f", "lavfi", "-i", NOISY("1920x1080"), "-t", "60", X264("2", ":b-pyramid=none"), NULL}},
    {"h264-7B",
     "h264-7B-60s.mp4",
     "60 s 1080p30 H.264, 7 B-frames",
     {"-f", "lavfi", "-i", NOISY("1920x1080"), "-t", "60", X264("7", ":b-pyramid=none"), NULL}},
    {"h264-7B-pyr",
     "h264-7B-pyr-60s.mp4",
     "60 s 1080p30 H.264, 7 B-frames, B-pyramid",
     {"-f", "lavfi", "-i", NOISY("1920x1080"), "-t", "60", X264("7", ""), NULL}},
    {"hevc-4k",
     "hevc-4k-20s.mp4",
     "20 s 2160p30 HEVC (x265 ultrafast)",
     {"-f", "lavfi", "-i", NOISY("3840x2160"), "-t", "20", "-c:v", "libx265", "-preset",
      "ultrafast", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p", "-tag:v", "hvc1",
      NULL}},
    /* the IBBP file's first 10 s: peak RSS must not depend on the length */
    {"h264-IBBP-10s",
     "h264-IBBP-10s.mp4",
     "10 s of the IBBP file (stream copy)",
     {"-i", "@h264-IBBP-60s.mp4", "-t", "10", "-c", "copy", NULL}},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct run {
	double wall_s, cpu_s; /* cpu: user + system of the process and its threads */
	long rss_kb;
	int ok;
	long long decoded, skipped, frames;
};

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double cpu_seconds(const struct rusage *ru)
{
	return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
	       (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

/* Runs argv (fork/exec, stdout/stderr kept); returns its exit status or -1. */
static int spawn(char *const argv[], struct run *r)
{
	long long t0 = mono_ns();
	struct rusage ru;
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return -1;
	if (r) {
		r->wall_s = (double)(mono_ns() - t0) / 1e9;
		r->cpu_s = cpu_seconds(&ru);
		r->rss_kb = ru.ru_maxrss;
		r->ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Makes cache/<file> with the ffmpeg program unless it is there. "@name" in the
 * arguments stands for cache/name. */
static int make_input(const char *cache, const struct bench_case *c)
{
	char *out = xasprintf("%s/%s", cache, c->file), *tmp = xasprintf("%s.part.mp4", out);
	char *argv[40], *owned[4] = {NULL};
	size_t n = 0, no = 0;
	int rc = 0;

	if (sq_path_exists(out))
		goto out;
	fprintf(stderr, "making %s (%s), once...\n", out, c->desc);
	argv[n++] = "ffmpeg";
	argv[n++] = "-nostdin";
	argv[n++] = "-v";
	argv[n++] = "error";
	argv[n++] = "-y";
	for (size_t i = 0; c->gen[i]; i++) {
		if (c->gen[i][0] == '@' && no < 4)
			argv[n++] = owned[no++] = xasprintf("%s/%s", cache, c->gen[i] + 1);
		else
			argv[n++] = (char *)c->gen[i];
	}
	argv[n++] = tmp;
	argv[n] = NULL;
	rc = spawn(argv, NULL) == 0 && rename(tmp, out) == 0 ? 0 : -1;
	if (rc < 0)
		fprintf(stderr, "cannot make %s\n", out);
out:
	for (size_t i = 0; i < no; i++)
		free(owned[i]);
	free(out);
	free(tmp);
	return rc;
}

/* How scanq reads the inputs: the sshd's key and known_hosts once started. */
static struct sq_media_read_opts media_read;

/* scanq: sq_media_extract() in a child; its counts come back through a pipe. */
static int run_scanq(const char *in, const char *dir, struct run *r)
{
	struct sq_extract_spec spec = {3, 1, 518, 294, 4};
	long long t0 = mono_ns();
	struct rusage ru;
	int fds[2], status;
	pid_t pid;
	FILE *f;

	if (pipe(fds) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		const char *inputs[1] = {in};
		struct sq_extract_opts o = {.spec = &spec,
					    .inputs = inputs,
					    .ninputs = 1,
					    .frames_dir = dir,
					    .read = &media_read};
		struct sq_extract_result res;
		struct sq_err err = {0};
		int ok = sq_media_extract(&o, &res, &err) == 0;
		char line[128];
		int len = snprintf(line, sizeof(line), "%zu %zu %zu\n", res.npackets_decoded,
				   res.npackets_skipped, res.nframes);

		if (!ok)
			fprintf(stderr, "scanq: %s\n", err.msg);
		if (write(fds[1], line, (size_t)len) != len)
			ok = 0;
		_exit(ok ? 0 : 1);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (!f || fscanf(f, "%lld %lld %lld", &r->decoded, &r->skipped, &r->frames) != 3)
		r->decoded = r->skipped = r->frames = -1;
	if (f)
		fclose(f);
	if (wait4(pid, &status, 0, &ru) < 0)
		return -1;
	r->wall_s = (double)(mono_ns() - t0) / 1e9;
	r->cpu_s = cpu_seconds(&ru);
	r->rss_kb = ru.ru_maxrss;
	r->ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	return r->ok ? 0 : -1;
}

static int run_cli(const char *ffmpeg, const char *in, const char *dir, struct run *r)
{
	char *pattern = xasprintf("%s/frame_%%06d.jpg", dir);
	char *argv[] = {(char *)ffmpeg,	       "-nostdin", "-v", "error", "-i", (char *)in, "-vf",
			"fps=3,scale=518:294", "-q:v",	   "4",	 pattern, NULL};
	int rc = spawn(argv, r);

	free(pattern);
	return rc == 0 && r->ok ? 0 : -1;
}

/* Number of frame files in a and whether b has the same ones, byte for byte. */
static long compare_dirs(const char *a, const char *b, int *identical)
{
	long n = 0;

	*identical = 1;
	for (;; n++) {
		char *pa = xasprintf("%s/frame_%06ld.jpg", a, n + 1);
		char *pb = xasprintf("%s/frame_%06ld.jpg", b, n + 1);
		size_t la, lb;
		char *da = sq_read_file(pa, &la, NULL), *db = sq_read_file(pb, &lb, NULL);
		int end = !da && !db;

		if (!end && (!da || !db || la != lb || memcmp(da, db, la) != 0))
			*identical = 0;
		free(da);
		free(db);
		free(pa);
		free(pb);
		if (end)
			return n;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* what: 'w' wall, 'c' cpu, 'r' the wall ratio of run i of s to run i of f
 * (taken back to back, so under the same load). */
static double median_of(const struct run *s, const struct run *f, int n, char what)
{
	double v[MAX_REPS];

	for (int i = 0; i < n; i++)
		v[i] = what == 'w'   ? s[i].wall_s
		       : what == 'c' ? s[i].cpu_s
				     : s[i].wall_s / f[i].wall_s;
	return median(v, n);
}

static long max_rss(const struct run *r, int n)
{
	long m = 0;

	for (int i = 0; i < n; i++)
		m = r[i].rss_kb > m ? r[i].rss_kb : m;
	return m;
}

struct opts {
	int reps, sftp;
	const char *cache, *ffmpeg, *only;
	char *sftp_prefix; /* sftp://127.0.0.1:PORT, with --sftp */
};

static void print_row(const struct bench_case *c, const struct run *s, const struct run *f,
		      int reps, long nframes, int same)
{
	double sw = median_of(s, f, reps, 'w'), fw = median_of(f, s, reps, 'w');

	printf("| %-13s | %6.2f | %6.2f | %5.2f | %5.2f | %6.1f | %6.1f | %4ld | %4ld | %5lld / "
	       "%-5lld | %4ld %s |\n",
	       c->name, sw, fw, sw / fw, median_of(s, f, reps, 'r'), median_of(s, f, reps, 'c'),
	       median_of(f, s, reps, 'c'), max_rss(s, reps) / 1024, max_rss(f, reps) / 1024,
	       s[0].decoded, s[0].skipped, nframes, same ? "yes" : "NO");
}

/* One case: reps runs of each, alternating; prints its table row. */
static int bench_one(const struct opts *o, const struct bench_case *c)
{
	struct run s[MAX_REPS] = {0}, f[MAX_REPS] = {0};
	char *in = xasprintf("%s/%s", o->cache, c->file);
	char *ds = xasprintf("%s/out-scanq", o->cache), *dc = xasprintf("%s/out-cli", o->cache);
	int rc = 0, same = 0;
	long n = 0;

	for (int i = 0; i < o->reps && rc == 0; i++) {
		sq_rm_rf(ds, NULL);
		sq_rm_rf(dc, NULL);
		if (sq_mkdir_p(ds, NULL) < 0 || sq_mkdir_p(dc, NULL) < 0)
			rc = -1;
		else if (i % 2 == 0)
			rc = run_scanq(in, ds, &s[i]) < 0 || run_cli(o->ffmpeg, in, dc, &f[i]) < 0;
		else
			rc = run_cli(o->ffmpeg, in, dc, &f[i]) < 0 || run_scanq(in, ds, &s[i]) < 0;
		fprintf(stderr, "  %s run %d: scanq %.2f s, cli %.2f s\n", c->name, i + 1,
			s[i].wall_s, f[i].wall_s);
	}
	if (rc == 0)
		n = compare_dirs(dc, ds, &same);
	if (rc == 0)
		print_row(c, s, f, o->reps, n, same);
	else
		printf("| %-13s | failed (see above) |\n", c->name);
	fflush(stdout);
	sq_rm_rf(ds, NULL);
	sq_rm_rf(dc, NULL);
	free(in);
	free(ds);
	free(dc);
	return rc ? -1 : 0;
}

static int wanted(const struct opts *o, const char *name);

/* ---- the SFTP row: a private sshd on loopback ---- */

/* A free TCP port on 127.0.0.1 (released again: sshd binds it next). */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int port_open(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static int write_text(const char *path, const char *text)
{
	return sq_write_file_atomic(path, text, strlen(text), NULL);
}

/* Host and client keys (made once), authorized_keys, known_hosts, config. */
static int sshd_files(const char *dir, int port)
{
	static const char *const keys[] = {"host", "client"};
	char *pub = NULL, *text, *path;
	int rc = 0;

	for (size_t i = 0; i < 2 && rc == 0; i++) {
		path = xasprintf("%s/%s", dir, keys[i]);
		if (!sq_path_exists(path)) {
			char *argv[] = {"ssh-keygen", "-q", "-t", "ed25519", "-N",
					"",	      "-f", path, NULL};

			rc = spawn(argv, NULL) == 0 ? 0 : -1;
		}
		free(path);
	}
	path = xasprintf("%s/client.pub", dir);
	text = rc == 0 ? sq_read_file(path, NULL, NULL) : NULL;
	free(path);
	path = xasprintf("%s/host.pub", dir);
	pub = text ? sq_read_file(path, NULL, NULL) : NULL;
	free(path);
	if (!pub) {
		free(text);
		return -1;
	}
	path = xasprintf("%s/authorized_keys", dir);
	rc |= write_text(path, text);
	free(path);
	free(text);
	pub[strcspn(pub, "\n")] = '\0';
	*strrchr(pub, ' ') = '\0'; /* the comment */
	text = xasprintf("[127.0.0.1]:%d %s\n", port, pub);
	path = xasprintf("%s/known_hosts", dir);
	rc |= write_text(path, text);
	free(path);
	free(text);
	free(pub);
	text =
	    xasprintf("Port %d\nListenAddress 127.0.0.1\nHostKey %s/host\nPidFile none\n"
		      "AuthorizedKeysFile %s/authorized_keys\nPermitRootLogin prohibit-password\n"
		      "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
		      "StrictModes no\nSubsystem sftp internal-sftp\n",
		      port, dir, dir);
	path = xasprintf("%s/config", dir);
	rc |= write_text(path, text);
	free(path);
	free(text);
	return rc ? -1 : 0;
}

/* Starts sshd on a free port; returns its pid (> 0) and sets o->sftp_prefix and
 * the SSH options scanq reads with. */
static pid_t start_sshd(struct opts *o)
{
	char *cache = realpath(o->cache, NULL); /* sshd wants absolute paths */
	char *dir = xasprintf("%s/sshd", cache ? cache : o->cache);
	char *cfg = xasprintf("%s/config", dir);
	char *log = xasprintf("%s/log", dir), *key = xasprintf("%s/client", dir);
	char *kh = xasprintf("%s/known_hosts", dir);
	int port = free_port();
	pid_t pid = -1;

	if (getuid() == 0)
		mkdir("/run/sshd", 0755); /* privilege separation */
	if (port <= 0 || sq_mkdir_p(dir, NULL) < 0 || sshd_files(dir, port) < 0) {
		fprintf(stderr, "cannot set up sshd in '%s'\n", dir);
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0)
			dup2(fd, 2);
		execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", cfg, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 100 && !port_open(port); i++)
		usleep(100000);
	if (pid < 0 || !port_open(port)) {
		fprintf(stderr, "sshd did not start (see '%s')\n", log);
		if (pid > 0)
			kill(pid, SIGTERM);
		pid = -1;
		goto out;
	}
	media_read.ssh.key_file = xstrdup(key);
	media_read.ssh.known_hosts = xstrdup(kh);
	media_read.ssh.home = getenv("HOME");
	o->sftp_prefix = xasprintf("sftp://127.0.0.1:%d", port);
out:
	free(cache);
	free(dir);
	free(cfg);
	free(log);
	free(key);
	free(kh);
	return pid;
}

static void print_sftp_row(const struct bench_case *c, const struct run *s, const struct run *l,
			   int reps, long nframes, int same)
{
	double sw = median_of(s, l, reps, 'w'), lw = median_of(l, s, reps, 'w');

	printf(
	    "| %-13s | %6.2f | %6.2f | %5.2f | %5.2f | %6.1f | %6.1f | %4ld | %4ld | %4ld %s |\n",
	    c->name, sw, lw, sw / lw, median_of(s, l, reps, 'r'), median_of(s, l, reps, 'c'),
	    median_of(l, s, reps, 'c'), max_rss(s, reps) / 1024, max_rss(l, reps) / 1024, nframes,
	    same ? "yes" : "NO");
}

/* One case over SFTP against the same extraction from the local file. */
static int bench_sftp(const struct opts *o, const struct bench_case *c)
{
	struct run s[MAX_REPS] = {0}, l[MAX_REPS] = {0};
	char *in = xasprintf("%s/%s", o->cache, c->file), *abs = realpath(in, NULL);
	char *url = abs ? xasprintf("%s%s", o->sftp_prefix, abs) : NULL;
	char *ds = xasprintf("%s/out-sftp", o->cache), *dl = xasprintf("%s/out-local", o->cache);
	int rc = url ? 0 : -1, same = 0;
	long n = 0;

	for (int i = 0; i < o->reps && rc == 0; i++) {
		sq_rm_rf(ds, NULL);
		sq_rm_rf(dl, NULL);
		if (sq_mkdir_p(ds, NULL) < 0 || sq_mkdir_p(dl, NULL) < 0)
			rc = -1;
		else if (i % 2 == 0)
			rc = run_scanq(url, ds, &s[i]) < 0 || run_scanq(in, dl, &l[i]) < 0;
		else
			rc = run_scanq(in, dl, &l[i]) < 0 || run_scanq(url, ds, &s[i]) < 0;
		fprintf(stderr, "  %s run %d: sftp %.2f s, local %.2f s\n", c->name, i + 1,
			s[i].wall_s, l[i].wall_s);
	}
	if (rc == 0) {
		n = compare_dirs(dl, ds, &same);
		print_sftp_row(c, s, l, o->reps, n, same);
	} else {
		printf("| %-13s | failed (see above) |\n", c->name);
	}
	fflush(stdout);
	sq_rm_rf(ds, NULL);
	sq_rm_rf(dl, NULL);
	free(in);
	free(abs);
	free(url);
	free(ds);
	free(dl);
	return rc ? -1 : 0;
}

static int sftp_table(struct opts *o)
{
	pid_t sshd = start_sshd(o);
	int rc = 0, status;

	if (sshd < 0)
		return -1;
	printf(
	    "median of %d, alternating; fps=3, 518x294, q 4; scanq over sftp from a private "
	    "sshd on loopback against scanq on the local file; ratio = sftp/local wall; peak RSS "
	    "in MiB\n\n| case | sftp wall s | local wall s | ratio of medians "
	    "| median of ratios | sftp cpu s | local cpu s | sftp RSS | local RSS | frames, "
	    "identical |\n|---|---|---|---|---|---|---|---|---|---|\n",
	    o->reps);
	fflush(stdout);
	for (size_t i = 0; i < NCASES; i++)
		if (wanted(o, cases[i].name) && bench_sftp(o, &cases[i]) < 0)
			rc = -1;
	kill(sshd, SIGTERM);
	waitpid(sshd, &status, 0);
	return rc;
}

static char *default_cache(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *dir, *cache;

	if (n <= 0)
		return xstrdup("extract-cache");
	exe[n] = '\0';
	dir = sq_path_dirname(exe);
	cache = xasprintf("%s/extract-cache", dir);
	free(dir);
	return cache;
}

static void usage(FILE *to)
{
	fprintf(
	    to,
	    "usage: bench-extract [--reps N] [--cases a,b] [--cache DIR] "
	    "[--ffmpeg PROG] [--sftp]\n"
	    "cases: h264-noB h264-IBBP h264-7B h264-7B-pyr hevc-4k h264-IBBP-10s (default all)\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {{"reps", required_argument, NULL, 'r'},
					   {"cases", required_argument, NULL, 'c'},
					   {"cache", required_argument, NULL, 'C'},
					   {"ffmpeg", required_argument, NULL, 'f'},
					   {"sftp", no_argument, NULL, 's'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'r':
			o->reps = (int)strtol(optarg, NULL, 10);
			break;
		case 'c':
			o->only = optarg;
			break;
		case 'C':
			o->cache = optarg;
			break;
		case 'f':
			o->ffmpeg = optarg;
			break;
		case 's':
			o->sftp = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	return o->reps >= 1 && o->reps <= MAX_REPS && optind == argc ? 0 : -1;
}

static int wanted(const struct opts *o, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = o->only; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] != 0))
		if (strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return 1;
	return !o->only;
}

int main(int argc, char **argv)
{
	struct opts o = {.reps = 5, .ffmpeg = "ffmpeg"};
	char *cache = NULL;
	int rc = 0;

	if (parse(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (!o.cache)
		o.cache = cache = default_cache();
	if (sq_mkdir_p(o.cache, NULL) < 0) {
		fprintf(stderr, "cannot create '%s'\n", o.cache);
		return 1;
	}
	for (size_t i = 0; i < NCASES; i++)
		if ((wanted(&o, cases[i].name) || (i == 1 && wanted(&o, "h264-IBBP-10s"))) &&
		    make_input(o.cache, &cases[i]) < 0)
			return 1;
	if (o.sftp) {
		rc = sftp_table(&o) < 0;
		free(o.sftp_prefix);
		free(cache);
		return rc;
	}
	printf("median of %d, alternating; fps=3, 518x294, q 4; ratio = scanq/cli wall; "
	       "peak RSS in MiB\n\n",
	       o.reps);
	printf("| case | scanq wall s | cli wall s | ratio of medians | median of ratios | scanq "
	       "cpu s | cli cpu s | scanq RSS | cli RSS | decoded / skipped | frames, identical "
	       "|\n|---|---|---|---|---|---|---|---|---|---|---|\n");
	fflush(stdout);
	for (size_t i = 0; i < NCASES; i++)
		if (wanted(&o, cases[i].name) && bench_one(&o, &cases[i]) < 0)
			rc = 1;
	free(cache);
	return rc;
}
