/* test_states.c - the contract C and the Lua scripts share is written once:
 * job states (job_state.h) and task arguments (task_args.h) reach the scripts
 * as generated constants, which agree with the C side. */
#include "queue/job_state.h"
#include "queue/task_args.h"
#include "lua_scripts.h"
#include "t.h"

#include <stdio.h>
#include <string.h>

static void test_names(void)
{
	T_EQ_STR(sq_job_state_name(SQ_JOB_QUEUED), "queued");
	T_EQ_STR(sq_job_state_name(SQ_JOB_ABSENT), "");
	T_EQ_INT(sq_job_state_parse("cancelled"), SQ_JOB_CANCELLED);
	T_EQ_INT(sq_job_state_parse("Queued"), SQ_JOB_ABSENT);
	T_EQ_INT(sq_job_state_parse(NULL), SQ_JOB_ABSENT);
	for (int s = 1; s < SQ_JOB_STATE_COUNT; s++)
		T_EQ_INT(sq_job_state_parse(sq_job_state_name((enum sq_job_state)s)), s);
}

/* Every state of the C list is a Lua constant of the same text, in the
 * library and in the scripts (EVALSHA form) that use it. */
static void test_lua_constants(void)
{
	char line[96];

#define CHECK_STATE(name, text)                                                                    \
	snprintf(line, sizeof(line), "local ST_%s = '%s'", #name, text);                           \
	T_CHECK(strstr(sq_lua_library, line) != NULL);
	SQ_JOB_STATES(CHECK_STATE)
#undef CHECK_STATE
	T_CHECK(strstr(sq_lua_claim, "local ST_QUEUED = 'queued'") != NULL);
	T_CHECK(strstr(sq_lua_cancel, "local ST_CANCELLED = 'cancelled'") != NULL);
	/* the scripts spell no state themselves */
	T_CHECK(strstr(sq_lua_cancel, "'state', 'cancelled'") == NULL);
	T_CHECK(strstr(sq_lua_library, "state == 'leased'") == NULL);
}

/* The task fields C appends and the offsets the scripts read them at come
 * from the one list in task_args.h. */
static void test_task_args(void)
{
	char line[96];

#define CHECK_ARG(name)                                                                            \
	snprintf(line, sizeof(line), "local TA_%s = %d\n", #name, SQ_TA_##name);                   \
	T_CHECK(strstr(sq_lua_library, line) != NULL);
	SQ_TASK_ARGS(CHECK_ARG)
#undef CHECK_ARG
	snprintf(line, sizeof(line), "local TA_COUNT = %d\n", SQ_TA_COUNT);
	T_CHECK(strstr(sq_lua_library, line) != NULL);
	T_CHECK(strstr(sq_lua_enqueue, "local TA_COUNT = ") != NULL);
}

int main(void)
{
	test_names();
	test_lua_constants();
	test_task_args();
	return t_done();
}
