/* redis_int.h - what redis.c (the connection) and redis_reply.c (commands'
 * arguments and replies) share; not for other modules. */
#ifndef SQ_REDIS_INT_H
#define SQ_REDIS_INT_H

#include "queue/redis.h"

#include <hiredis.h>

/* Copies hiredis's reply in into out (an empty reply), recursively. */
void sq_redis_reply_fill(struct sq_reply *out, const redisReply *in);

#endif
