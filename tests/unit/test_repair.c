/* test_repair.c - the repair planner, from hand-built disk and Redis states.
 *
 * The fixture is one acquisition "demo" with groups auv1 and auv2 of two tasks
 * each, everything complete on disk and done in Redis; each test breaks one thing
 * and checks the whole plan, as the lines scanq-repair prints. */
#include "ops/repair.h"
#include "base/strbuf.h"
#include "t.h"

#include <stdio.h>
#include <string.h>
#include "base/banned.h"

#define NTASKS 4

struct fixture {
	struct sq_task tasks[NTASKS];
	char *groups[2];
	struct sq_repair_task rtasks[NTASKS];
	struct sq_repair_stitch rgroups[2];
	struct sq_repair_acq a;
};

static void set_job(struct sq_job_info *js, const char *state, enum sq_stage stage,
		    const char *version)
{
	memset(js, 0, sizeof(*js));
	js->exists = state != NULL;
	js->state = sq_job_state_parse(state);
	js->stage = stage;
	snprintf(js->version, sizeof(js->version), "%s", version);
}

static void stitch_init(struct sq_repair_stitch *rs, char *group, long long record_ms)
{
	memset(rs, 0, sizeof(*rs));
	rs->spec.acquisition = "demo";
	rs->spec.group = group;
	snprintf(rs->spec.version, sizeof(rs->spec.version), "%s",
		 group ? "stitchgroup" : "stitchacq");
	rs->current = 1;
	rs->record_ms = record_ms;
	set_job(&rs->job, "done", SQ_STAGE_STITCH, rs->spec.version);
}

/* Everything complete: tasks' records at 1000 (frames) and 2000 (reconstruct),
 * group stitches at 3000, the acquisition stitch at 4000. ngroups 1 puts every
 * task in auv1. */
static void fixture_init(struct fixture *f, size_t ngroups)
{
	static char *names[NTASKS] = {"auv1-seg01", "auv1-seg02", "auv2-seg01", "auv2-seg02"};

	memset(f, 0, sizeof(*f));
	f->groups[0] = "auv1";
	f->groups[1] = "auv2";
	for (size_t i = 0; i < NTASKS; i++) {
		struct sq_task *t = &f->tasks[i];
		struct sq_repair_task *rt = &f->rtasks[i];

		t->acquisition = "demo";
		t->name = names[i];
		t->group = ngroups == 1 ? f->groups[0] : f->groups[i / 2];
		snprintf(t->version, sizeof(t->version), "%s", "0123456789abcdef");
		rt->task = t;
		rt->current[SQ_STAGE_EXTRACT] = rt->current[SQ_STAGE_RECONSTRUCT] = 1;
		rt->record_ms[SQ_STAGE_EXTRACT] = 1000;
		rt->record_ms[SQ_STAGE_RECONSTRUCT] = 2000;
		set_job(&rt->job, "done", SQ_STAGE_RECONSTRUCT, t->version);
	}
	for (size_t g = 0; g < 2; g++)
		stitch_init(&f->rgroups[g], f->groups[g], 3000);
	stitch_init(&f->a.top, NULL, 4000);
	f->a.acq.name = "demo";
	f->a.acq.tasks = f->tasks;
	f->a.acq.ntasks = NTASKS;
	f->a.acq.groups = f->groups;
	f->a.acq.ngroups = ngroups;
	f->a.tasks = f->rtasks;
	f->a.groups = f->rgroups;
}

static void lose_record(struct sq_repair_task *rt, enum sq_stage stage)
{
	rt->current[stage] = 0;
	rt->record_ms[stage] = -1;
}

/* Plans f and returns the printed lines, one per action, each ending in '\n'. */
static char *plan_text(struct fixture *f, int retry_failed, struct sq_repair_counts *counts)
{
	struct sq_repair_plan p = SQ_REPAIR_PLAN_INIT;
	struct sq_strbuf sb = SQ_STRBUF_INIT;

	sq_repair_plan(&f->a, retry_failed, &p);
	for (size_t i = 0; i < p.n; i++) {
		char *line = sq_repair_action_format(&p.v[i]);

		sq_strbuf_addf(&sb, "%s\n", line);
		free(line);
		T_EQ_INT(p.v[i].applied, -1);
	}
	if (counts)
		*counts = p.counts;
	sq_repair_plan_release(&p);
	return sq_strbuf_detach(&sb);
}

#define T_PLAN(f, retry_failed, expected)                                                          \
	do {                                                                                       \
		char *t_text_ = plan_text((f), (retry_failed), NULL);                              \
		T_EQ_STR(t_text_, (expected));                                                     \
		free(t_text_);                                                                     \
	} while (0)

static void test_complete_needs_nothing(void)
{
	struct fixture f;
	struct sq_repair_counts c;
	char *text;

	fixture_init(&f, 2);
	text = plan_text(&f, 0, &c);
	T_EQ_STR(text, "");
	T_EQ_INT(c.up_to_date, 7);
	T_EQ_INT(c.reinject + c.mark_done + c.follows + c.in_flight + c.failed + c.changed +
		     c.waiting,
		 0);
	free(text);
}

static void test_lost_reconstruction(void)
{
	struct fixture f;
	struct sq_repair_counts c;
	char *text, *summary;

	fixture_init(&f, 2);
	lose_record(&f.rtasks[1], SQ_STAGE_RECONSTRUCT);
	text = plan_text(&f, 0, &c);
	/* the stitches are not queued: fan-in re-runs them after the task */
	T_EQ_STR(text, "reinject  demo/auv1-seg02  at reconstruct  (reconstruct.json missing)\n"
		       "follows   demo/@group:auv1  by fan-in\n"
		       "follows   demo/@acq  by fan-in\n");
	summary = sq_repair_counts_format(&c);
	T_EQ_STR(summary, "1 to re-inject, 0 to mark done, 2 to follow by fan-in, 0 in flight, "
			  "0 failed (use --retry-failed), 0 changed (re-enqueue), 0 waiting, "
			  "4 up to date");
	free(summary);
	free(text);
}

static void test_earliest_missing_stage(void)
{
	struct fixture f;

	/* frames gone though the reconstruction is there: restart at extract */
	fixture_init(&f, 2);
	lose_record(&f.rtasks[2], SQ_STAGE_EXTRACT);
	T_PLAN(&f, 0,
	       "reinject  demo/auv2-seg01  at extract  (frames.json missing)\n"
	       "follows   demo/@group:auv2  by fan-in\n"
	       "follows   demo/@acq  by fan-in\n");

	/* a record of another version is present but does not count */
	fixture_init(&f, 2);
	f.rtasks[0].current[SQ_STAGE_RECONSTRUCT] = 0;
	T_PLAN(&f, 0,
	       "reinject  demo/auv1-seg01  at reconstruct  (reconstruct.json not current)\n"
	       "follows   demo/@group:auv1  by fan-in\n"
	       "follows   demo/@acq  by fan-in\n");
}

static void test_in_flight_untouched(void)
{
	struct fixture f;
	struct sq_repair_counts c;
	char *text;

	fixture_init(&f, 2);
	lose_record(&f.rtasks[0], SQ_STAGE_RECONSTRUCT);
	set_job(&f.rtasks[0].job, "queued", SQ_STAGE_RECONSTRUCT, f.tasks[0].version);
	lose_record(&f.rtasks[1], SQ_STAGE_RECONSTRUCT);
	set_job(&f.rtasks[1].job, "leased", SQ_STAGE_RECONSTRUCT, f.tasks[1].version);
	lose_record(&f.rtasks[2], SQ_STAGE_EXTRACT);
	set_job(&f.rtasks[2].job, "retry", SQ_STAGE_EXTRACT, f.tasks[2].version);
	text = plan_text(&f, 1, &c);
	T_EQ_STR(text, "skip      demo/auv1-seg01  (queued)\n"
		       "skip      demo/auv1-seg02  (leased)\n"
		       "skip      demo/auv2-seg01  (waiting for a retry)\n"
		       "follows   demo/@group:auv1  by fan-in\n"
		       "follows   demo/@group:auv2  by fan-in\n"
		       "follows   demo/@acq  by fan-in\n");
	T_EQ_INT(c.in_flight, 3);
	T_EQ_INT(c.reinject, 0);
	free(text);
}

static void test_failed_needs_flag(void)
{
	struct fixture f;
	struct sq_repair_counts c;
	char *text;

	fixture_init(&f, 2);
	lose_record(&f.rtasks[3], SQ_STAGE_RECONSTRUCT);
	set_job(&f.rtasks[3].job, "failed", SQ_STAGE_RECONSTRUCT, f.tasks[3].version);
	text = plan_text(&f, 0, &c);
	T_EQ_STR(text, "skip      demo/auv2-seg02  (failed at reconstruct; use --retry-failed)\n"
		       "skip      demo/@group:auv2  (waits for auv2-seg02)\n"
		       "skip      demo/@acq  (waits for @group:auv2)\n");
	T_EQ_INT(c.failed, 1);
	T_EQ_INT(c.waiting, 2);
	T_EQ_INT(c.up_to_date, 4);
	free(text);

	T_PLAN(&f, 1,
	       "reinject  demo/auv2-seg02  at reconstruct  (reconstruct.json missing; it had "
	       "failed)\n"
	       "follows   demo/@group:auv2  by fan-in\n"
	       "follows   demo/@acq  by fan-in\n");
}

static void test_changed_task_left_to_enqueue(void)
{
	struct fixture f;
	struct sq_repair_counts c;
	char *text;

	fixture_init(&f, 2);
	lose_record(&f.rtasks[0], SQ_STAGE_EXTRACT);
	lose_record(&f.rtasks[0], SQ_STAGE_RECONSTRUCT);
	set_job(&f.rtasks[0].job, "done", SQ_STAGE_RECONSTRUCT, "fedcba9876543210");
	text = plan_text(&f, 1, &c);
	T_EQ_STR(text, "skip      demo/auv1-seg01  (the directory has a newer version than "
		       "Redis: re-enqueue it with scanq-enqueue)\n"
		       "skip      demo/@group:auv1  (waits for auv1-seg01)\n"
		       "skip      demo/@acq  (waits for @group:auv1)\n");
	T_EQ_INT(c.changed, 1);
	free(text);
}

static void test_mark_done(void)
{
	struct fixture f;
	struct sq_repair_counts c;
	char *text;

	/* Redis lost the task or dead-lettered it although its records are there */
	fixture_init(&f, 2);
	set_job(&f.rtasks[0].job, NULL, SQ_STAGE_EXTRACT, "");
	set_job(&f.rtasks[3].job, "failed", SQ_STAGE_RECONSTRUCT, f.tasks[3].version);
	text = plan_text(&f, 0, &c);
	T_EQ_STR(text, "mark done demo/auv1-seg01  (complete on disk; unknown to Redis)\n"
		       "mark done demo/auv2-seg02  (complete on disk; Redis says failed)\n");
	T_EQ_INT(c.mark_done, 2);
	T_EQ_INT(c.up_to_date, 5);
	free(text);

	/* marked first, then the missing group stitch is queued with every input */
	f.rgroups[0].current = 0;
	f.rgroups[0].record_ms = -1;
	set_job(&f.rgroups[0].job, NULL, SQ_STAGE_EXTRACT, "");
	T_PLAN(&f, 0,
	       "mark done demo/auv1-seg01  (complete on disk; unknown to Redis)\n"
	       "mark done demo/auv2-seg02  (complete on disk; Redis says failed)\n"
	       "reinject  demo/@group:auv1  at stitch  (stitch.json missing)\n"
	       "follows   demo/@acq  by fan-in\n");
}

static void test_stitches(void)
{
	struct fixture f;

	/* older than one of its inputs */
	fixture_init(&f, 2);
	f.rtasks[3].record_ms[SQ_STAGE_RECONSTRUCT] = 3500;
	T_PLAN(&f, 0,
	       "reinject  demo/@group:auv2  at stitch  (stitch.json older than "
	       "auv2-seg02/reconstruct.json)\n"
	       "follows   demo/@acq  by fan-in\n");

	/* the same rule one level up */
	fixture_init(&f, 2);
	f.rgroups[1].record_ms = 4500;
	T_PLAN(&f, 0,
	       "reinject  demo/@acq  at stitch  (stitch.json older than auv2/stitch.json)\n");

	/* made from another spec version */
	fixture_init(&f, 2);
	f.a.top.current = 0;
	T_PLAN(&f, 0, "reinject  demo/@acq  at stitch  (stitch.json not current)\n");

	/* already queued: left alone, and the acquisition follows it */
	fixture_init(&f, 2);
	f.rgroups[0].current = 0;
	set_job(&f.rgroups[0].job, "queued", SQ_STAGE_STITCH, "stitchgroup");
	T_PLAN(&f, 0,
	       "skip      demo/@group:auv1  (queued)\n"
	       "follows   demo/@acq  by fan-in\n");

	/* dead-lettered stitch */
	fixture_init(&f, 2);
	f.rgroups[0].current = 0;
	set_job(&f.rgroups[0].job, "failed", SQ_STAGE_STITCH, "stitchgroup");
	T_PLAN(&f, 0,
	       "skip      demo/@group:auv1  (failed at stitch; use --retry-failed)\n"
	       "skip      demo/@acq  (waits for @group:auv1)\n");
	T_PLAN(&f, 1,
	       "reinject  demo/@group:auv1  at stitch  (stitch.json not current; it had "
	       "failed)\n"
	       "follows   demo/@acq  by fan-in\n");
}

static void test_one_group_is_final(void)
{
	struct fixture f;
	struct sq_repair_counts c;
	char *text;

	/* with one group there is no acquisition stitch at all */
	fixture_init(&f, 1);
	f.a.top.current = 0;
	f.a.top.record_ms = -1;
	text = plan_text(&f, 0, &c);
	T_EQ_STR(text, "");
	T_EQ_INT(c.up_to_date, 5);
	free(text);

	lose_record(&f.rtasks[3], SQ_STAGE_RECONSTRUCT);
	T_PLAN(&f, 0,
	       "reinject  demo/auv2-seg02  at reconstruct  (reconstruct.json missing)\n"
	       "follows   demo/@group:auv1  by fan-in\n");
}

static void test_result_lines(void)
{
	struct fixture f;
	struct sq_repair_plan p = SQ_REPAIR_PLAN_INIT;
	char *line;

	fixture_init(&f, 2);
	lose_record(&f.rtasks[1], SQ_STAGE_RECONSTRUCT);
	sq_repair_plan(&f.a, 0, &p);
	T_EQ_INT(p.n, 3);
	T_CHECK(sq_repair_result_format(&p.v[0]) == NULL); /* not tried */
	p.v[0].applied = 1;
	T_CHECK(sq_repair_result_format(&p.v[0]) == NULL);
	p.v[0].applied = 0;
	line = sq_repair_result_format(&p.v[0]);
	T_EQ_STR(line, "unchanged demo/auv1-seg02  (it became queued, leased or failed meanwhile)");
	free(line);
	sq_repair_plan_release(&p);
}

static void test_plans_accumulate(void)
{
	struct fixture f1, f2;
	struct sq_repair_plan p = SQ_REPAIR_PLAN_INIT;

	/* one plan over several directories: counts add up, actions keep their acq */
	fixture_init(&f1, 2);
	fixture_init(&f2, 1);
	f2.a.acq.name = "other";
	lose_record(&f1.rtasks[0], SQ_STAGE_RECONSTRUCT);
	lose_record(&f2.rtasks[0], SQ_STAGE_RECONSTRUCT);
	sq_repair_plan(&f1.a, 0, &p);
	sq_repair_plan(&f2.a, 0, &p);
	T_EQ_INT(p.n, 5);
	T_EQ_INT(p.counts.reinject, 2);
	T_EQ_INT(p.counts.follows, 3);
	T_EQ_INT(p.counts.up_to_date, 4 + 3);
	T_CHECK(p.v[3].acq == &f2.a);
	sq_repair_plan_release(&p);
}

/* A cancelled task stays cancelled (it is no input of its group stitch); a group
 * whose every task is cancelled has no stitch to make. --retry-failed takes the
 * cancel back. */
static void test_cancelled(void)
{
	struct fixture f;
	struct sq_repair_counts c;
	char *text, *summary;

	fixture_init(&f, 2);
	set_job(&f.rtasks[1].job, "cancelled", SQ_STAGE_RECONSTRUCT, f.tasks[1].version);
	lose_record(&f.rtasks[1], SQ_STAGE_RECONSTRUCT);
	f.rgroups[0].record_ms = -1;
	f.rgroups[0].current = 0;
	text = plan_text(&f, 0, &c);
	T_EQ_STR(text, "skip      demo/auv1-seg02  (cancelled by an operator; use --retry-failed or "
		       "scanq-ctl retry --cancelled)\n"
		       "reinject  demo/@group:auv1  at stitch  (stitch.json missing)\n"
		       "follows   demo/@acq  by fan-in\n");
	summary = sq_repair_counts_format(&c);
	T_CONTAINS(summary, "waiting, 4 up to date, 1 cancelled");
	free(summary);
	free(text);
	T_PLAN(&f, 1,
	       "reinject  demo/auv1-seg02  at reconstruct  (reconstruct.json missing; it had "
	       "failed)\n"
	       "follows   demo/@group:auv1  by fan-in\n"
	       "follows   demo/@acq  by fan-in\n");

	set_job(&f.rtasks[0].job, "cancelled", SQ_STAGE_EXTRACT, f.tasks[0].version);
	set_job(&f.rgroups[0].job, "cancelled", SQ_STAGE_STITCH, f.rgroups[0].spec.version);
	T_PLAN(&f, 0,
	       "skip      demo/auv1-seg01  (cancelled by an operator; use --retry-failed or "
	       "scanq-ctl retry --cancelled)\n"
	       "skip      demo/auv1-seg02  (cancelled by an operator; use --retry-failed or "
	       "scanq-ctl retry --cancelled)\n"
	       "skip      demo/@group:auv1  (cancelled by an operator; use --retry-failed or "
	       "scanq-ctl retry --cancelled)\n");
}

int main(void)
{
	test_complete_needs_nothing();
	test_lost_reconstruction();
	test_earliest_missing_stage();
	test_in_flight_untouched();
	test_failed_needs_flag();
	test_changed_task_left_to_enqueue();
	test_mark_done();
	test_stitches();
	test_one_group_is_final();
	test_result_lines();
	test_plans_accumulate();
	test_cancelled();
	return t_done();
}
