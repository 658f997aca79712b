/* task_args.h - the task fields every task-writing script takes, in order: the
 * one list. sq_queue_add_task (queue_enqueue.c) appends them in this order, and
 * lib/queue/lua/embed.py gives the scripts their offsets from it (TA_<NAME>,
 * 0 for the first, and TA_COUNT), so the two sides never count apart.
 * Internal to lib/queue. */
#ifndef SQ_TASK_ARGS_H
#define SQ_TASK_ARGS_H

#define SQ_TASK_ARGS(X)                                                                            \
	X(ACQ)                                                                                     \
	X(JID)                                                                                     \
	X(GROUP)                                                                                   \
	X(VERSION)                                                                                 \
	X(SPEC)                                                                                    \
	X(OUTDIR)                                                                                  \
	X(MAX_ATTEMPTS)                                                                            \
	X(BACKOFF_MS)                                                                              \
	X(VRAM_EXTRACT)                                                                            \
	X(RAM_EXTRACT)                                                                             \
	X(VRAM_RECONSTRUCT)                                                                        \
	X(RAM_RECONSTRUCT)

enum sq_task_arg {
#define SQ_TASK_ARG_ENUM(name) SQ_TA_##name,
	SQ_TASK_ARGS(SQ_TASK_ARG_ENUM)
#undef SQ_TASK_ARG_ENUM
	    SQ_TA_COUNT,
};

#endif
