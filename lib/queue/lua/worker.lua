-- worker.lua: the worker registry (for scanq-status).
-- ARGV: P 'beat' wid host pid stages gpu job lease_ms -> 1   (gpu/job '' = none)
--       P 'gone' wid -> 1
-- A worker's hash expires one lease after its last beat (lease_ms; older
-- callers without it: 10 min), so a worker killed without a word leaves the
-- view within its lease, as its job leaves it. The registry holds nothing a
-- job depends on: keys of the wrong type are replaced.
local EXPIRE_S = 600
local wid = ARGV[3]
local k = k_worker(wid)
if ARGV[2] == 'gone' then
	rem('ZREM', k_workers(), wid)
	redis.call('DEL', k)
	return 1
end

-- redis.call(cmd, key, ...), replacing a key of the wrong type.
local function write(cmd, key, ...)
	if perr(redis.pcall(cmd, key, ...)) then
		redis.call('DEL', key)
		redis.call(cmd, key, ...)
	end
end

local now = now_ms()
local lease_ms = tonumber(ARGV[9] or '') or EXPIRE_S * 1000
write('ZADD', k_workers(), now, wid)
redis.call('ZREMRANGEBYSCORE', k_workers(), '-inf', now - EXPIRE_S * 1000)
write('HSET', k, 'host', ARGV[4], 'pid', ARGV[5], 'stages', ARGV[6], 'last_beat_ms', now,
	'lease_ms', str(lease_ms))
redis.call('HSETNX', k, 'started_ms', now)
for i, field in ipairs({'gpu', 'job'}) do
	local v = ARGV[6 + i]
	if v == '' then
		redis.call('HDEL', k, field)
	else
		redis.call('HSET', k, field, v)
	end
end
redis.call('PEXPIRE', k, str(lease_ms))
return 1
