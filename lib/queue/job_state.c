/* job_state.c - job state names (see job_state.h). */
#include "queue/job_state.h"

#include <string.h>

#include "base/banned.h"

static const char *const names[SQ_JOB_STATE_COUNT] = {[SQ_JOB_ABSENT] = "",
#define SQ_JOB_STATE_NAME(name, text) [SQ_JOB_##name] = text,
						      SQ_JOB_STATES(SQ_JOB_STATE_NAME)
#undef SQ_JOB_STATE_NAME
};

const char *sq_job_state_name(enum sq_job_state s)
{
	return (unsigned)s < SQ_JOB_STATE_COUNT ? names[s] : "";
}

enum sq_job_state sq_job_state_parse(const char *name)
{
	for (int i = 1; name && i < SQ_JOB_STATE_COUNT; i++)
		if (!strcmp(name, names[i]))
			return (enum sq_job_state)i;
	return SQ_JOB_ABSENT;
}
