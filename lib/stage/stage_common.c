/* stage_common.c - what every stage shares: provenance, command backends,
 * the stage log, previews and the result summary (see stage_int.h). */
#include "stage/stage_int.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "base/json.h"
#include "base/strbuf.h"
#include "base/version.h"
#include "base/xalloc.h"
#include "stage/preview.h"
#include "stage/quality.h"
#include "task/layout.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

void sq_stage_provenance(struct sq_provenance *p, const struct sq_stage_ctx *ctx,
			 const char *backend, const char *backend_version, char *params_json,
			 const struct sq_task *t)
{
	memset(p, 0, sizeof(*p));
	p->format = SQ_RECORD_FORMAT;
	p->scanq_version = xstrdup(sq_version());
	p->host = xstrdup(sq_hostname());
	p->worker = xstrdup(ctx->worker_id ? ctx->worker_id : "local");
	p->backend = xstrdup(backend);
	p->backend_version = xstrdup(backend_version ? backend_version : "");
	p->params_json = params_json;
	p->created_ms = sq_now_ms();
	if (!t)
		return;
	p->nsources = t->nvideos;
	p->source_paths = xcalloc(t->nvideos + 1, sizeof(*p->source_paths));
	p->source_ids = xcalloc(t->nvideos + 1, sizeof(*p->source_ids));
	for (size_t i = 0; i < t->nvideos; i++) {
		p->source_paths[i] = xstrdup(t->videos[i]);
		if (t->video_ids)
			p->source_ids[i] = t->video_ids[i];
		else
			p->source_ids[i].size_bytes = -1;
	}
}

int sq_stage_command(const struct sq_backend_spec *b, const struct sq_proc_vars *vars,
		     const char *log_path, struct sq_stage_ctx *ctx, struct sq_proc_result *res,
		     struct sq_err *err)
{
	const struct sq_command_spec *cmd = &b->cmd;
	char **argv = sq_argv_expand(cmd, vars, err);
	char *done_file = NULL, *env[2] = {NULL, NULL};
	struct sq_proc_opts po = {0};
	int rc = -1;

	if (!argv)
		goto out;
	if (cmd->done_file && !(done_file = sq_template_expand(cmd->done_file, vars, err)))
		goto out;
	if (ctx->gpu)
		env[0] = xasprintf("CUDA_VISIBLE_DEVICES=%s", ctx->gpu);
	po.argv = argv;
	po.cwd = vars->workdir;
	po.log_path = log_path;
	po.env_extra = env;
	po.timeout_ms = cmd->timeout_ms;
	po.done_log = cmd->done_log;
	po.done_file = done_file;
	po.hooks = ctx->hooks;
	sq_hooks_log(&ctx->hooks, "running '%s', log in '%s'", argv[0], log_path);
	rc = sq_proc_run(&po, res, err);
out:
	free(env[0]);
	free(done_file);
	sq_argv_free(argv);
	return rc;
}

void sq_stage_log_attempt(const char *log_path, const struct sq_stage_ctx *ctx)
{
	char stamp[64];
	char *line;
	int fd;

	sq_log_stamp(stamp, sizeof(stamp));
	line = xasprintf("=== scanq attempt %s worker %s ===\n", stamp,
			 ctx->worker_id ? ctx->worker_id : "local");
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, line, strlen(line)) < 0) {
			/* the log is best effort; the backend's own writes will say more */
		}
		close(fd);
	}
	free(line);
}

int sq_stage_check_ply(const char *path, const char *backend, const char *log_path,
		       struct sq_err *err)
{
	char magic[4] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, magic, sizeof(magic)) : -1;

	if (fd >= 0)
		close(fd);
	if (n == 4 && memcmp(magic, "ply", 3) == 0 && (magic[3] == '\n' || magic[3] == '\r'))
		return 0;
	return sq_error(err, SQ_ERR_BACKEND, "backend '%s' produced no PLY at '%s' (log: '%s')",
			backend, path, log_path ? log_path : "none");
}

char *sq_stage_result(const char *figures_json, char *const *warnings, size_t nwarnings)
{
	cJSON *w = sq_json_strs((const char *const *)warnings, nwarnings);
	char *wtext = sq_json_print(w, 0);
	char *out =
	    xasprintf("{%s%s\"warnings\":%s}", figures_json, *figures_json ? "," : "", wtext);

	free(wtext);
	cJSON_Delete(w);
	return out;
}

char *sq_stage_result_of(const char *figures_json, const char *record)
{
	return sq_quality_summary(record, xasprintf("{%s}", figures_json));
}

void sq_stage_previews(struct sq_txn *x, const char *ply, const char *record,
		       const struct sq_stage_ctx *ctx)
{
	struct sq_err err = {SQ_OK, ""};

	if (sq_preview_write(ply, record, sq_txn_workdir(x), &err) < 0)
		sq_hooks_log(&ctx->hooks, "no preview: %s", err.msg);
}
