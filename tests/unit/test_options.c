/* test_options.c - the programs' option parser, with a fake environment.
 *
 * The parser reads variables only through the getenv it is handed, so the
 * environment here is a table: nothing of the test process's own leaks in. */
#include "base/options.h"
#include "base/xalloc.h"
#include "t.h"

#include <limits.h>
#include <unistd.h>
#include "base/banned.h"

/* ---- a fake environment ---- */

static const char *const *fake_env; /* "NAME=value" entries, NULL-terminated */

static char *fake_getenv(const char *name)
{
	size_t len = strlen(name);

	for (const char *const *e = fake_env; e && *e; e++)
		if (!strncmp(*e, name, len) && (*e)[len] == '=')
			return (char *)*e + len + 1;
	return NULL;
}

/* ---- a program with one option of each kind ---- */

static struct {
	int drain;
	const char *url, *prefix, *acq;
	char *key;
	long long n, lease_ms, stall_ms;
	struct sq_option_list stages;
} v;

static const char *const stage_names[] = {"extract", "reconstruct", "stitch", NULL};

static int no_slash(const char *s)
{
	return *s && !strchr(s, '/');
}

static const struct sq_option table[] = {
    {.type = SQ_OPTION_FLAG, .name = "drain", .value = &v.drain, .help = "drain"},
    {.type = SQ_OPTION_INT,
     .short_name = 'n',
     .value = &v.n,
     .arg = "N",
     .min = 1,
     .max = 1024,
     .help = "processes"},
    {.type = SQ_OPTION_DURATION,
     .name = "lease",
     .value = &v.lease_ms,
     .arg = "D",
     .min = 1000,
     .max = 86400000,
     .help = "lease"},
    {.type = SQ_OPTION_LIST,
     .name = "stage",
     .env = "T_STAGES",
     .value = &v.stages,
     .arg = "S",
     .choices = stage_names,
     .help = "stages"},
    {.type = SQ_OPTION_STRING,
     .name = "acq",
     .value = &v.acq,
     .arg = "A",
     .check = no_slash,
     .expect = "a name without '/'",
     .help = "one\nand two"},
    SQ_OPTION_REDIS(&v.url, "redis://127.0.0.1:6379/0"),
    SQ_OPTION_PREFIX(&v.prefix),
    SQ_OPTION_SSH_KEY(&v.key),
    SQ_OPTION_STALL_TIMEOUT(&v.stall_ms),
    SQ_OPTION_HELP_ENTRY,
    {.type = SQ_OPTION_END},
};

static const struct sq_program prog = {
    .name = "scanq-test",
    .usage = "scanq-test [--drain] DIR...\nscanq-test --other",
    .about = "About it.",
    .notes = "Exit status: 0 ok.",
    .options = table,
};

/* Parses the NULL-terminated argv (argv[0] added) under env; returns the
 * parse's result, the message in err. */
static int parse(const char *const *env, const char *const *args, struct sq_args *rest,
		 struct sq_err *err)
{
	char *argv[32] = {"scanq-test"};
	int argc = 1;

	sq_options_release(&prog, NULL);
	memset(&v, 0, sizeof(v));
	fake_env = env;
	for (; args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	err->msg[0] = '\0';
	return sq_options_parse(&prog, argc, argv, fake_getenv, rest, err);
}

/* Parses and expects a usage error with this message. */
static void expect_error(const char *const *env, const char *const *args, const char *msg)
{
	struct sq_args rest;
	struct sq_err err;

	T_EQ_INT(parse(env, args, &rest, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_INVALID);
	T_EQ_STR(err.msg, msg);
	sq_options_release(&prog, &rest);
}

static void test_values(void)
{
	const char *const args[] = {
	    "d1",    "--drain", "-n", "3",	 "--lease=90", "d2", "--stage", "extract,stitch",
	    "--acq", "demo",	"--", "--drain", NULL};
	struct sq_args rest;
	struct sq_err err;

	T_EQ_INT(parse(NULL, args, &rest, &err), 0);
	T_EQ_INT(v.drain, 1);
	T_EQ_INT(v.n, 3);
	T_EQ_INT(v.lease_ms, 90000); /* a bare number is seconds */
	T_EQ_INT(v.stages.n, 2);
	T_EQ_STR(v.stages.v[1], "stitch");
	T_EQ_STR(v.acq, "demo");
	T_EQ_STR(v.url, "redis://127.0.0.1:6379/0"); /* the default */
	T_CHECK(v.prefix == NULL);
	/* arguments in order, options among them; after "--" all are arguments */
	T_EQ_INT(rest.n, 3);
	T_EQ_STR(rest.v[0], "d1");
	T_EQ_STR(rest.v[1], "d2");
	T_EQ_STR(rest.v[2], "--drain");
	sq_options_release(&prog, &rest);

	const char *const shorts[] = {"-n7", "-", "--lease", "1.5m", NULL};
	T_EQ_INT(parse(NULL, shorts, &rest, &err), 0);
	T_EQ_INT(v.n, 7);
	T_EQ_INT(v.lease_ms, 90000);
	T_EQ_INT(rest.n, 1);
	T_EQ_STR(rest.v[0], "-"); /* stdin, by convention: an argument */
	sq_options_release(&prog, &rest);
}

/* The variables are read through the getenv given, flags win over them, an
 * empty one is unset, a list from the environment is replaced by a flag. */
static void test_environment(void)
{
	const char *const env[] = {
	    "SCANQ_REDIS=unix:///env.sock", "SCANQ_PREFIX=",	      "SCANQ_STALL_TIMEOUT_MS=700",
	    "T_STAGES=reconstruct",	    "SCANQ_SSH_KEY=/keys/id", NULL};
	const char *const none[] = {NULL};
	const char *const flags[] = {
	    "--redis", "unix:///flag.sock", "--stage", "stitch", "--stall-timeout", "2s", NULL};
	struct sq_args rest;
	struct sq_err err;

	T_EQ_INT(parse(env, none, &rest, &err), 0);
	T_EQ_STR(v.url, "unix:///env.sock");
	T_CHECK(v.prefix == NULL);
	T_EQ_INT(v.stall_ms, 700); /* the variable is in ms */
	T_EQ_INT(v.stages.n, 1);
	T_EQ_STR(v.stages.v[0], "reconstruct");
	T_EQ_STR(v.key, "/keys/id");
	sq_options_release(&prog, &rest);

	T_EQ_INT(parse(env, flags, &rest, &err), 0);
	T_EQ_STR(v.url, "unix:///flag.sock");
	T_EQ_INT(v.stall_ms, 2000); /* the flag takes units */
	T_EQ_INT(v.stages.n, 1);
	T_EQ_STR(v.stages.v[0], "stitch");
	sq_options_release(&prog, &rest);

	/* the test process's own environment is not read */
	T_EQ_INT(parse(NULL, none, &rest, &err), 0);
	T_CHECK(v.key == NULL);
	sq_options_release(&prog, &rest);
}

/* A relative path is made absolute where the program started. */
static void test_path(void)
{
	const char *const args[] = {"--ssh-key", "keys/../id_ed25519", NULL};
	const char *const empty[] = {"--ssh-key=", NULL};
	struct sq_args rest;
	struct sq_err err;
	char cwd[PATH_MAX], *want;

	T_CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	want = xasprintf("%s/id_ed25519", cwd);
	T_EQ_INT(parse(NULL, args, &rest, &err), 0);
	T_EQ_STR(v.key, want);
	sq_options_release(&prog, &rest);
	T_CHECK(v.key == NULL);
	free(want);
	expect_error(NULL, empty, "invalid --ssh-key '' (expected a file name)");
}

static void test_errors(void)
{
	static const struct {
		const char *args[4];
		const char *msg;
	} cases[] = {
	    {{"--lease", "1ms"}, "invalid --lease '1ms' (expected a duration of 1s..1d, e.g. 30s)"},
	    {{"--lease", "2d"}, "invalid --lease '2d' (expected a duration of 1s..1d, e.g. 30s)"},
	    {{"--lease", "0x10s"},
	     "invalid --lease '0x10s' (expected a duration of 1s..1d, e.g. 30s)"},
	    {{"--lease", "nan"}, "invalid --lease 'nan' (expected a duration of 1s..1d, e.g. 30s)"},
	    {{"--lease", "1e3"}, "invalid --lease '1e3' (expected a duration of 1s..1d, e.g. 30s)"},
	    {{"--lease", "-5s"}, "invalid --lease '-5s' (expected a duration of 1s..1d, e.g. 30s)"},
	    {{"--lease", "99999999999999999d"},
	     "invalid --lease '99999999999999999d' (expected a duration of 1s..1d, e.g. 30s)"},
	    {{"-n", "0"}, "invalid -n '0' (expected 1..1024)"},
	    {{"-n", "1025"}, "invalid -n '1025' (expected 1..1024)"},
	    {{"-n", "3x"}, "invalid -n '3x' (expected 1..1024)"},
	    {{"-n", "99999999999999999999"},
	     "invalid -n '99999999999999999999' (expected 1..1024)"},
	    {{"-n"}, "option '-n' needs a value"},
	    {{"--stage", "reconstuct"},
	     "invalid --stage 'reconstuct' (expected extract, reconstruct, stitch)"},
	    {{"--stage", "extract,,stitch"}, "invalid --stage: an empty item in 'extract,,stitch'"},
	    {{"--stage", "extract,bogus"},
	     "invalid --stage 'bogus' (expected extract, reconstruct, stitch)"},
	    {{"--acq", "a/b"}, "invalid --acq 'a/b' (expected a name without '/')"},
	    {{"--bogus"}, "unknown option '--bogus'"},
	    {{"--drai"}, "unknown option '--drai'"}, /* no abbreviations */
	    {{"-x"}, "unknown option '-x'"},
	    {{"-hv"}, "unknown option '-hv'"},
	    {{"--drain=1"}, "option '--drain' takes no value"},
	    {{"--redis"}, "option '--redis' needs a value"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(NULL, cases[i].args, cases[i].msg);

	const char *const threads[] = {"SCANQ_STALL_TIMEOUT_MS=soon", NULL};
	const char *const none[] = {NULL};
	expect_error(
	    threads, none,
	    "invalid SCANQ_STALL_TIMEOUT_MS 'soon' (expected milliseconds, 100..86400000)");
}

static void test_help(void)
{
	const char *const h[] = {"-h", "--bogus-after-help-is-not-read", NULL};
	const char *const help[] = {"--help", NULL};
	struct sq_args rest;
	struct sq_err err;
	char *text = sq_options_help(&prog);

	T_EQ_INT(parse(NULL, h, &rest, &err), 1);
	sq_options_release(&prog, &rest);
	T_EQ_INT(parse(NULL, help, &rest, &err), 1);
	sq_options_release(&prog, &rest);
	const char *head = "usage: scanq-test [--drain] DIR...\n"
			   "       scanq-test --other\n\nAbout it.\n\n";
	T_CHECK(!strncmp(text, head, strlen(head)));
	T_CONTAINS(text, "\n  -n N                  processes\n");
	T_CONTAINS(text, "\n  --acq A               one\n                        and two\n");
	T_CONTAINS(text, "\n  --stage S             stages (env T_STAGES)\n");
	T_CONTAINS(text, "(default redis://127.0.0.1:6379/0) (env SCANQ_REDIS)\n");
	T_CONTAINS(text, "(env SCANQ_STALL_TIMEOUT_MS, in ms)");
	T_CONTAINS(text, "\n  -h, --help            show this help\n\nExit status: 0 ok.\n");
	for (const char *line = text; *line;) { /* every line fits 80 columns */
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		T_CHECK(len <= 80);
		line += len + (nl != NULL);
	}
	free(text);
}

int main(void)
{
	test_values();
	test_environment();
	test_path();
	test_errors();
	test_help();
	sq_options_release(&prog, NULL);
	return t_done();
}
