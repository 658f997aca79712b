-- worker.lua: the worker registry (for scanq-status).
-- ARGV: P 'beat' wid host pid stages gpu job -> 1   (gpu/job '' = none)
--       P 'gone' wid -> 1
local EXPIRE_S = 600
local wid = ARGV[3]
local k = P .. 'worker:' .. wid
if ARGV[2] == 'gone' then
	redis.call('ZREM', P .. 'workers', wid)
	redis.call('DEL', k)
	return 1
end
local now = now_ms()
redis.call('ZADD', P .. 'workers', now, wid)
redis.call('ZREMRANGEBYSCORE', P .. 'workers', '-inf', now - EXPIRE_S * 1000)
redis.call('HSET', k, 'host', ARGV[4], 'pid', ARGV[5], 'stages', ARGV[6], 'last_beat_ms', now)
redis.call('HSETNX', k, 'started_ms', now)
for i, field in ipairs({'gpu', 'job'}) do
	local v = ARGV[6 + i]
	if v == '' then
		redis.call('HDEL', k, field)
	else
		redis.call('HSET', k, field, v)
	end
end
redis.call('EXPIRE', k, EXPIRE_S)
return 1
