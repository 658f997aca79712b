/* main.c - scanq-status: the console view of the queue, live or once.
 *
 * Options -> sq_queue_snapshot -> sq_status_render. What lives here and not in
 * lib/ is the terminal: the live view takes the alternate screen, hides the
 * cursor and reads keys unbuffered, and every way out (q, Ctrl-C, SIGTERM,
 * SIGHUP, exit(), a crash, Ctrl-Z) puts the terminal back as it was. */
#include "base/fsutil.h"
#include "base/clock.h"
#include "base/options.h"
#include "queue/queue.h"
#include "queue/redis.h"
#include "ops/console.h"
#include "stage/store_sftp.h"
#include "ops/status.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "base/banned.h"

#define PROG "scanq-status"
#define MAX_DEAD 5
#define DEFAULT_INTERVAL_MS 2000

struct opts {
	const char *acq;
	const char *url;
	char *url_shown; /* the URL with its password masked, for the title */
	const char *prefix;
	long long interval_ms;
	int once, json;
	const char *http;		 /* --http ADDR */
	const char *token_file;		 /* --operator-token-file */
	char *ssh_key, *ssh_known_hosts; /* --http: outputs on a storage host */
};

/* What the command line and the environment say (program state: the option
 * table below points into it). */
static struct opts cli = {.interval_ms = DEFAULT_INTERVAL_MS};

static const struct sq_option options[] = {
    {.type = SQ_OPTION_STRING,
     .name = "acq",
     .value = &cli.acq,
     .arg = "A",
     .check = sq_name_valid,
     .expect = "an acquisition name, [A-Za-z0-9._-]{1,64}",
     .help = "only acquisition A"},
    {.type = SQ_OPTION_DURATION,
     .name = "interval",
     .value = &cli.interval_ms,
     .arg = "S",
     .min = 100,
     .max = 86400000,
     .help = "refresh period of the live view (default 2s; 500ms, 5s, 1m)"},
    {.type = SQ_OPTION_FLAG,
     .name = "once",
     .value = &cli.once,
     .help = "print the view once and exit (the default when stdout is not\n"
	     "a terminal)"},
    {.type = SQ_OPTION_FLAG,
     .name = "json",
     .value = &cli.json,
     .help = "print the snapshot as one JSON document and exit"},
    {.type = SQ_OPTION_STRING,
     .name = "http",
     .value = &cli.http,
     .arg = "ADDR",
     .help = "serve the web console (live view, a page per job, the clouds\n"
	     "in 3D) on ADDR: PORT (on 127.0.0.1), HOST:PORT or [IPv6]:PORT;\n"
	     "port 0 picks a free one; the URL is printed"},
    {.type = SQ_OPTION_STRING,
     .name = "operator-token-file",
     .value = &cli.token_file,
     .arg = "FILE",
     .help = "allow actions (cancel, pause, resume, retry, clear) from the\n"
	     "console to whoever sends this file's token in the X-Scanq-Token\n"
	     "header; without it the console only shows"},
    SQ_OPTION_REDIS(&cli.url, SQ_QUEUE_DEFAULT_URL),
    SQ_OPTION_PREFIX(&cli.prefix),
    SQ_OPTION_SSH_KEY(&cli.ssh_key),
    SQ_OPTION_SSH_KNOWN_HOSTS(&cli.ssh_known_hosts),
    SQ_OPTION_HELP_ENTRY,
    {.type = SQ_OPTION_END},
};

static const struct sq_program prog = {
    .name = PROG,
    .usage = PROG " [--acq A] [--interval S] [--once] [--json] [--redis URL] [--prefix P]\n" PROG
		  " --http ADDR [--operator-token-file FILE] [--acq A] [--interval S]",
    .about = "Shows the queue: per acquisition and stage the jobs queued, running, done,\n"
	     "failed and waiting to retry; running jobs with host, age and progress; the\n"
	     "newest dead letters; workers and the age of their last heartbeat.",
    .notes = "In the live view q quits and space refreshes at once.\n"
	     "Exit status: 0 ok, 1 Redis failure, 2 usage.",
    .options = options,
};

/* ---- the terminal (program state: the signal handlers need it) ---- */

static struct termios saved_tio;
static volatile sig_atomic_t tio_saved, screen_on, quit_signal, redraw;

static void write_all(const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* Async-signal-safe: only write() and tcsetattr(). */
static void term_leave(void)
{
	static const char leave[] = "\033[?25h\033[?1049l";

	if (screen_on)
		write_all(leave, sizeof(leave) - 1);
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

static void term_enter(void)
{
	static const char enter[] = "\033[?1049h\033[?25l\033[H\033[2J";
	struct termios raw;

	if (tio_saved) {
		raw = saved_tio;
		raw.c_lflag &=
		    ~(tcflag_t)(ICANON | ECHO); /* keys unbuffered, not echoed; ISIG stays */
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	if (screen_on)
		write_all(enter, sizeof(enter) - 1);
}

static void term_restore_at_exit(void)
{
	term_leave();
	tio_saved = 0;
	screen_on = 0;
}

static void on_quit(int sig)
{
	quit_signal = sig;
}

static void on_winch(int sig)
{
	(void)sig;
	redraw = 1;
}

/* Ctrl-Z: give the shell its terminal back, stop, and take it again on fg. */
static void on_tstp(int sig)
{
	int saved_errno = errno;

	(void)sig;
	term_leave();
	kill(getpid(), SIGSTOP);
	term_enter();
	redraw = 1;
	errno = saved_errno;
}

/* A crash must not leave the terminal raw: restore it, then die of the signal
 * (SA_RESETHAND put the default action back). */
static void on_fatal(int sig)
{
	term_leave();
	raise(sig);
}

static void handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags; /* no SA_RESTART: a signal must wake poll() */
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Only for the live view: --once keeps the default actions, so Ctrl-C stops
 * it at once even while it waits for Redis. */
static void install_handlers(void)
{
	static const int fatal[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};

	handle(SIGINT, on_quit, 0);
	handle(SIGTERM, on_quit, 0);
	handle(SIGHUP, on_quit, 0);
	handle(SIGWINCH, on_winch, 0);
	handle(SIGTSTP, on_tstp, 0);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		handle(fatal[i], on_fatal, (int)SA_RESETHAND);
}

/* Takes the screen: alternate buffer, hidden cursor, keys unbuffered. */
static void term_start(void)
{
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0)
		tio_saved = 1;
	screen_on = 1;
	atexit(term_restore_at_exit);
	term_enter();
}

static void term_size(int *cols, int *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* ---- options ---- */

/* The checks that span options, and --http's address; 0 or -1 with err. */
static int check_cli(const struct opts *o, struct sq_err *err)
{
	char *host;
	int port;

	if (o->http && sq_http_parse_addr(o->http, &host, &port, err) < 0)
		return -1;
	if (o->http)
		free(host);
	if (o->token_file && !o->http)
		return sq_error(err, SQ_ERR_INVALID, "--operator-token-file needs --http");
	if (o->http && (o->once || o->json))
		return sq_error(err, SQ_ERR_INVALID,
				"--http serves the console; it takes no --once or --json");
	return 0;
}

/* Returns -1 to go on, else the exit status. */
static int parse_opts(int argc, char **argv, struct sq_args *args)
{
	struct sq_err err;
	int rc = sq_options_parse(&prog, argc, argv, getenv, args, &err);

	if (rc == 0 && args->n)
		rc = sq_error(&err, SQ_ERR_INVALID, "unexpected argument '%s'", args->v[0]);
	if (rc == 1) {
		char *help = sq_options_help(&prog);

		fputs(help, stdout);
		free(help);
		return 0;
	}
	if (rc == 0)
		rc = check_cli(&cli, &err);
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\ntry '" PROG " --help'\n", err.msg);
		return 2;
	}
	return -1;
}

/* Checks the URL before any screen is taken: a typo is a usage error. */
static int check_url(struct opts *o)
{
	struct sq_redis_url u;
	struct sq_err err;

	if (sq_redis_url_parse(o->url, &u, &err) < 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return 2;
	}
	o->url_shown = sq_redis_url_show(&u);
	sq_redis_url_release(&u);
	return -1;
}

static struct sq_queue *open_queue(const struct opts *o, struct sq_err *err)
{
	/* fail fast: the live view retries on its own schedule, --once reports */
	struct sq_queue_opts qo = {
	    .url = o->url, .prefix = o->prefix, .connect_timeout_ms = 2000, .retry_for_ms = 1};

	return sq_queue_open(&qo, err);
}

/* Returns new string: the first line of the view; what matters most first, as
 * a narrow terminal cuts the end. */
static char *title(const struct opts *o, const char *extra)
{
	char when[32] = "";
	struct tm tm;
	time_t t = time(NULL);

	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	return xasprintf(PROG "  %s%s  %s%s%s", when, extra, o->url_shown,
			 o->prefix && *o->prefix ? "  prefix " : "", o->prefix ? o->prefix : "");
}

static int use_ascii(void)
{
	const char *cs = nl_langinfo(CODESET);

	return !cs || strcmp(cs, "UTF-8") != 0;
}

/* ---- once ---- */

static int render_once(const struct opts *o, const char *json, struct sq_strbuf *out,
		       struct sq_err *err)
{
	struct sq_status_view v = {.width = 100, .ascii = use_ascii()};
	char *head;
	int rows, rc;

	if (o->json)
		return sq_status_format_json(json, isatty(STDOUT_FILENO), out, err);
	if (isatty(STDOUT_FILENO))
		term_size(&v.width, &rows);
	v.title = head = title(o, "");
	rc = sq_status_render_json(json, &v, out, err);
	free(head);
	return rc;
}

static int run_once(const struct opts *o)
{
	struct sq_strbuf out = SQ_STRBUF_INIT;
	struct sq_queue *q;
	struct sq_err err;
	char *json = NULL;
	int rc = 1;

	q = open_queue(o, &err);
	if (q)
		json = sq_queue_snapshot(q, o->acq, MAX_DEAD, &err);
	if (!json || render_once(o, json, &out, &err) < 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		goto out;
	}
	fwrite(out.buf, 1, out.len, stdout);
	if (fflush(stdout) != 0) {
		fprintf(stderr, PROG ": cannot write the view: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(json);
	sq_strbuf_release(&out);
	sq_queue_free(q);
	return rc;
}

/* ---- live ---- */

struct live {
	const struct opts *o;
	struct sq_queue *q;	/* NULL while Redis is unreachable */
	char *json;		/* the last snapshot that arrived */
	long long json_mono_ms; /* when it arrived */
	struct sq_err err;	/* why the last fetch failed */
	int failing;
	int keys; /* stdin is a terminal we read keys from */
	int quit;
};

/* Takes a new snapshot; on failure keeps the last one and drops the connection
 * so that the next round starts afresh. */
static void live_fetch(struct live *l)
{
	char *json = NULL;

	if (!l->q)
		l->q = open_queue(l->o, &l->err);
	if (l->q)
		json = sq_queue_snapshot(l->q, l->o->acq, MAX_DEAD, &l->err);
	if (!json) {
		l->failing = 1;
		sq_queue_free(l->q);
		l->q = NULL;
		return;
	}
	free(l->json);
	l->json = json;
	l->json_mono_ms = sq_mono_ms();
	l->failing = 0;
}

/* The refresh period for people: "500ms", "1.5s", "2s", "1m00s". */
static void fmt_interval(long long ms, char *buf, size_t size)
{
	if (ms < 1000)
		snprintf(buf, size, "%lldms", ms);
	else if (ms < 60000 && ms % 1000)
		snprintf(buf, size, "%.1fs", (double)ms / 1000.0);
	else
		sq_status_fmt_age(ms, buf, size);
}

/* Returns new string: the error line of the view, NULL when all is well. */
static char *live_error(const struct live *l)
{
	char every[32], ago[32];

	if (!l->failing)
		return NULL;
	fmt_interval(l->o->interval_ms, every, sizeof(every));
	if (!l->json)
		return xasprintf("%s (retrying every %s)", l->err.msg, every);
	sq_status_fmt_age(sq_mono_ms() - l->json_mono_ms, ago, sizeof(ago));
	return xasprintf("%s (retrying every %s; the view below is %s old)", l->err.msg, every,
			 ago);
}

/* Appends view text as a frame drawn over the previous one: home, each line
 * cleared to its end, the rest of the screen cleared. */
static void frame_from_text(struct sq_strbuf *frame, const char *text)
{
	sq_strbuf_adds(frame, "\033[H");
	for (const char *nl; (nl = strchr(text, '\n')); text = nl + 1) {
		sq_strbuf_add(frame, text, (size_t)(nl - text));
		sq_strbuf_adds(frame, "\033[K\n");
	}
	sq_strbuf_adds(frame, "\033[J");
}

static void live_draw(struct live *l)
{
	struct sq_strbuf text = SQ_STRBUF_INIT, frame = SQ_STRBUF_INIT;
	struct sq_status_view v = {.ascii = use_ascii()};
	const struct sq_status *shown = NULL;
	struct sq_status st;
	struct sq_err perr;
	char every[32], *extra, *head, *errline = live_error(l);
	int cols, rows;

	term_size(&cols, &rows);
	/* one column and one row spare: a full last column or a newline on the
	 * last row would make the terminal wrap or scroll */
	v.width = cols - 1;
	v.height = rows - 1;
	fmt_interval(l->o->interval_ms, every, sizeof(every));
	extra = xasprintf("  every %s  q quits", every);
	v.title = head = title(l->o, extra);
	v.error = errline;
	sq_status_init(&st);
	if (l->json) {
		if (sq_status_parse(&st, l->json, &perr) == 0)
			shown = &st;
		else if (!v.error)
			v.error = perr.msg;
	}
	sq_status_render(shown, &v, &text);
	frame_from_text(&frame, text.buf);
	write_all(frame.buf, frame.len);
	sq_status_release(&st);
	free(head);
	free(extra);
	free(errline);
	sq_strbuf_release(&text);
	sq_strbuf_release(&frame);
}

/* Reads pending keys: q quits, space / r / Ctrl-L refresh now. Returns 1 to
 * end the wait. */
static int live_keys(struct live *l)
{
	char keys[64];
	ssize_t n = read(STDIN_FILENO, keys, sizeof(keys));

	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			l->keys = 0; /* hung up: stop polling it */
		return 0;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (keys[i] == 'q' || keys[i] == 'Q')
			l->quit = 1;
		if (keys[i] == ' ' || keys[i] == 'r' || keys[i] == '\f')
			return 1;
	}
	return l->quit;
}

/* Sleeps for the interval, woken early by a key, a resize or a signal. */
static void live_wait(struct live *l)
{
	long long until = sq_mono_ms() + l->o->interval_ms;

	while (!quit_signal && !redraw && !l->quit) {
		struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
		long long left = until - sq_mono_ms();

		if (left <= 0)
			return;
		if (poll(&p, l->keys ? 1 : 0, (int)left) > 0) {
			if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
				l->keys = 0;
			else if (live_keys(l))
				return;
		}
	}
}

static int run_live(const struct opts *o)
{
	struct live l = {.o = o, .keys = isatty(STDIN_FILENO)};

	term_start();
	while (!quit_signal && !l.quit) {
		redraw = 0;
		live_fetch(&l);
		if (quit_signal)
			break;
		live_draw(&l);
		live_wait(&l);
	}
	term_restore_at_exit();
	free(l.json);
	sq_queue_free(l.q);
	return 0;
}

/* ---- the web console ---- */

/* Returns new string: the operator token, the file's first line. A file others
 * may read, or an empty token, is refused: the token lets its holder cancel
 * work. */
static char *read_token(const char *path, struct sq_err *err)
{
	struct stat st;
	char *text, *nl;

	if (stat(path, &st) < 0) {
		sq_error_errno(err, errno, "cannot read '%s'", path);
		return NULL;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		sq_error(err, SQ_ERR_INVALID, "'%s' is readable by others: chmod o-rw it", path);
		return NULL;
	}
	if (!(text = sq_read_file(path, NULL, err)))
		return NULL;
	if ((nl = strpbrk(text, "\r\n")))
		*nl = '\0';
	if (strlen(text) < 8) {
		sq_error(err, SQ_ERR_INVALID, "the token in '%s' is shorter than 8 characters",
			 path);
		free(text);
		return NULL;
	}
	return text;
}

/* Serves the console until SIGINT or SIGTERM. */
static int run_http(const struct opts *o)
{
	struct sq_console_opts co = {.queue = {.url = o->url, .prefix = o->prefix},
				     .acq = o->acq,
				     .refresh_ms = o->interval_ms};
	struct sq_http_opts ho = {.addr = o->http, .handler = sq_console_handle};
	struct sq_ssh_opts ssh = {
	    .key_file = o->ssh_key, .known_hosts = o->ssh_known_hosts, .home = getenv("HOME")};
	struct sq_sftp_opts so = {.ssh = &ssh};
	struct sq_console *c;
	struct sq_store *store;
	struct sq_http *h;
	struct sq_err err;
	char *token = NULL;
	sigset_t set;
	int sig, rc = 1;

	if (o->token_file && !(token = read_token(o->token_file, &err))) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return 2;
	}
	co.token = token;
	/* job pages of sftp:// roots */
	co.store = store = sq_store_sftp_new(&(struct sq_store_sftp_opts){.sftp = &so});
	ho.ctx = c = sq_console_new(&co);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* the server's thread inherits it */
	if (!(h = sq_http_start(&ho, &err))) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		goto out;
	}
	printf(PROG ": console on %s (%s)\n", sq_http_url(h),
	       token ? "actions need the operator token" : "view only");
	fflush(stdout);
	sigwait(&set, &sig);
	sq_http_stop(h);
	rc = 0;
out:
	sq_console_free(c);
	sq_store_free(store);
	free(token);
	return rc;
}

int main(int argc, char **argv)
{
	struct sq_args args;
	int rc, live;

	setlocale(LC_CTYPE, "");
	rc = parse_opts(argc, argv, &args);
	if (rc < 0)
		rc = check_url(&cli);
	if (rc >= 0)
		goto out;
	if (cli.http) {
		rc = run_http(&cli);
		free(cli.url_shown);
		goto out;
	}
	/* a pipe or a file gets the view once, like --once */
	live = !cli.once && !cli.json && isatty(STDOUT_FILENO);
	if (live)
		install_handlers();
	rc = live ? run_live(&cli) : run_once(&cli);
	free(cli.url_shown);
out:
	sq_options_release(&prog, &args);
	return rc;
}
