/* proc.h - running external backends: argv templates, process trees, timeouts.
 *
 * No shell is ever involved: a task's fields become argv items verbatim. */
#ifndef SQ_PROC_H
#define SQ_PROC_H

#include "base/err.h"
#include "base/hooks.h"
#include "task/task.h"

#include <stddef.h>

/* Values for the placeholders {frames} {output} {inputs} {workdir} {gpu}. A NULL
 * value makes its placeholder an error. {inputs} must stand alone as one argv
 * item and expands to ninputs items. */
struct sq_proc_vars {
	const char *frames;
	const char *output;
	const char *workdir;
	const char *gpu;
	const char *const *inputs;
	size_t ninputs;
};

/* Expands one template string (not {inputs}); returns new string or NULL. */
char *sq_template_expand(const char *tmpl, const struct sq_proc_vars *vars, struct sq_err *err);

/* Expands cmd->argv into a new NULL-terminated argv (free with sq_argv_free). */
char **sq_argv_expand(const struct sq_command_spec *cmd, const struct sq_proc_vars *vars,
		      struct sq_err *err);
void sq_argv_free(char **argv);

struct sq_proc_opts {
	char *const *argv;	/* NULL-terminated; argv[0] looked up in PATH */
	const char *cwd;	/* NULL: inherit */
	const char *log_path;	/* stdout+stderr appended here (required) */
	char *const *env_extra; /* "K=V" entries added to the environment; NULL-terminated or NULL */
	long long timeout_ms;	/* 0: none */
	const char *done_log;	/* success once the log contains this; then the group is killed */
	const char *done_file;	/* success once this path exists; likewise */
	long long kill_grace_ms; /* SIGTERM then SIGKILL after this (default 5000 when 0) */
	/* its cancelled is polled: non-zero kills the tree, SQ_ERR_CANCEL (log and
	 * progress are not used: the backend's output goes to log_path) */
	struct sq_hooks hooks;
};

struct sq_proc_result {
	int exited;	    /* 1: exited normally, exit_code valid */
	int exit_code;
	int term_signal;    /* signal that ended it, 0 if none */
	int done_by_marker; /* 1: stopped by us after done_log/done_file */
	long long wall_ms;
};

/* Runs the command in its own process group and waits. Returns 0 when it exited 0
 * or its done_when condition was met; -1 otherwise, with err naming the command,
 * how it ended and the last lines of its log. Never leaves a process of its tree
 * running, whichever way it ends: the group, and the descendants that left it
 * (setsid, double fork; see proctree.h), which is why the calling process is a
 * child subreaper while the run lasts. */
int sq_proc_run(const struct sq_proc_opts *opts, struct sq_proc_result *res, struct sq_err *err);

#endif
