/* options.h - the programs' command lines: one table-driven parser for all of them.
 *
 * A program describes its options once, in a table of struct sq_option with
 * named fields and a description per entry (tmux's options-table.c, git's
 * parse-options); the parser reads them and --help is printed from the same
 * table, so the two never disagree. The options every program shares (--redis,
 * --prefix, the SSH files, the stall timeout, -h/--help) are the SQ_OPTION_*
 * entries below, written here once.
 *
 * The environment: an entry may name a SCANQ_* variable, read when its flag is
 * not given. The parser reads it through the getenv the program hands over,
 * so nothing in lib/ reads the environment (tests give a fake one), and the
 * program reads it exactly once, here.
 *
 * Values are checked as they are read; a bad one is named with what was
 * expected: "invalid --lease '1ms' (expected a duration from 1s to 1d, e.g.
 * 30s)", "invalid -n '0' (expected 1..1024)". The parser prints nothing and
 * never exits: the program prints the message and exits 2 (usage). */
#ifndef SQ_OPTIONS_H
#define SQ_OPTIONS_H

#include "base/err.h"

#include <stddef.h>

/* The program's getenv: the C library's, or a test's fake environment. */
typedef char *(*sq_getenv_fn)(const char *name);

enum sq_option_type {
	SQ_OPTION_END = 0,  /* ends a table */
	SQ_OPTION_FLAG,	    /* int: set to 1; takes no value */
	SQ_OPTION_STRING,   /* const char *: the value as given (borrowed from argv or env) */
	SQ_OPTION_PATH,	    /* char *: the value made absolute (new; freed by release) */
	SQ_OPTION_INT,	    /* long long, within [min, max] */
	SQ_OPTION_DURATION, /* long long milliseconds within [min, max]: "500ms", "30s",
			       "1.5m", "3h", "1d", or a bare number of seconds */
	SQ_OPTION_LIST,	    /* struct sq_option_list: comma lists; a repeat appends */
	SQ_OPTION_HELP,	    /* -h, --help: the parse returns 1 */
};

/* A LIST option's items (new strings; freed by sq_options_release). */
struct sq_option_list {
	char **v;
	size_t n;
};

struct sq_option {
	enum sq_option_type type;
	const char *name; /* long name without "--"; NULL: none */
	char short_name;  /* 'n' for -n; 0: none */
	const char *env;  /* variable read when the flag is absent; NULL: none */
	void *value;	  /* where the value goes (the type says what it points to) */
	const char *arg;  /* the value's name in --help: "URL", "S[,S...]" */
	const char *help; /* one line of description; '\n' starts another */
	const char *def;  /* STRING: the value when neither flag nor variable is set */
	long long min;	  /* INT, DURATION (in ms): the bounds, inclusive */
	long long max;
	int env_ms; /* DURATION: the variable holds a bare number of ms (SCANQ_*_MS) */
	const char *const *choices;	 /* LIST: the allowed items, NULL-terminated; NULL: any */
	int (*check)(const char *value); /* STRING, LIST items: 1 if valid; NULL: any */
	const char *expect;		 /* what check wants, for its message */
};

struct sq_program {
	const char *name;		 /* "scanq-worker": the head of every message */
	const char *usage;		 /* the synopsis after "usage: "; '\n' starts another */
	const char *about;		 /* a paragraph after the synopsis; NULL: none */
	const char *notes;		 /* after the options (exit status, ...); NULL: none */
	const struct sq_option *options; /* ends with an SQ_OPTION_END entry */
};

/* Positional arguments, in order (borrowed from argv; free v only). */
struct sq_args {
	char **v;
	size_t n;
};

/* Reads the variables of prog's table through env (may be NULL: none), then
 * argv[1..argc) (options and positional arguments in any order; "--" ends the
 * options), into the table's values; a flag wins over its variable, the last of
 * repeated flags wins. An empty variable counts as unset. Returns 0 with the
 * positional arguments in *args (release with sq_options_release), 1 when help
 * was asked for (print sq_options_help and exit 0), or -1 with err set to a
 * message naming the option, its value and what was expected (print it and
 * exit 2). Values set before a failure stay set and are freed by release. */
int sq_options_parse(const struct sq_program *prog, int argc, char **argv, sq_getenv_fn env,
		     struct sq_args *args, struct sq_err *err);

/* Returns new string: the program's --help text (usage, about, one line per
 * option with its variable, notes). */
char *sq_options_help(const struct sq_program *prog);

/* Frees what the parse allocated: PATH values, LIST items, args' array. */
void sq_options_release(const struct sq_program *prog, struct sq_args *args);

/* ---- the options every program shares ---- */

#define SQ_OPTION_HELP_ENTRY                                                                       \
	{                                                                                          \
		.type = SQ_OPTION_HELP, .name = "help", .short_name = 'h',                         \
		.help = "show this help"                                                           \
	}

/* const char *: the Redis URL */
#define SQ_OPTION_REDIS(ptr, default_url)                                                          \
	{                                                                                          \
		.type = SQ_OPTION_STRING, .name = "redis", .env = "SCANQ_REDIS", .value = (ptr),   \
		.arg = "URL", .def = (default_url),                                                \
		.help =                                                                            \
		    "redis://[user:pass@]host:port/db or unix:///path\n(default " default_url ")"  \
	}

/* const char *: the key prefix */
#define SQ_OPTION_PREFIX(ptr)                                                                      \
	{                                                                                          \
		.type = SQ_OPTION_STRING, .name = "prefix", .env = "SCANQ_PREFIX", .value = (ptr), \
		.arg = "P", .help = "key prefix shared by one deployment (default none)"           \
	}

/* char *: the private key for sftp:// hosts (videos, output roots) */
#define SQ_OPTION_SSH_KEY(ptr)                                                                     \
	{                                                                                          \
		.type = SQ_OPTION_PATH, .name = "ssh-key", .env = "SCANQ_SSH_KEY", .value = (ptr), \
		.arg = "FILE",                                                                     \
		.help = "private key for sftp:// hosts (only this one); default:\n"                \
			"ssh-agent and the keys in ~/.ssh"                                         \
	}

/* char *: the known_hosts file for sftp:// hosts */
#define SQ_OPTION_SSH_KNOWN_HOSTS(ptr)                                                             \
	{                                                                                          \
		.type = SQ_OPTION_PATH, .name = "ssh-known-hosts", .env = "SCANQ_SSH_KNOWN_HOSTS", \
		.value = (ptr), .arg = "FILE",                                                     \
		.help = "host keys of sftp:// hosts (default ~/.ssh/known_hosts);\n"               \
			"an unknown or changed key is refused"                                     \
	}

/* long long ms: how long a video read may wait for data */
#define SQ_OPTION_STALL_TIMEOUT(ptr)                                                               \
	{                                                                                          \
		.type = SQ_OPTION_DURATION, .name = "stall-timeout",                               \
		.env = "SCANQ_STALL_TIMEOUT_MS", .env_ms = 1, .value = (ptr), .arg = "D",          \
		.min = 100, .max = 86400000,                                                       \
		.help = "a video read that gets no data for this long fails\n"                     \
			"(default 30s)"                                                            \
	}

#endif
