/* test_states.c - job states are one list: the C names and the constants the
 * Lua scripts use are generated from job_state.h, and agree. */
#include "queue/job_state.h"
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

int main(void)
{
	test_names();
	test_lua_constants();
	return t_done();
}
