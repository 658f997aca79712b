-- fail.lua: records a failed attempt (an error, or a crash of the stage).
-- ARGV: P acq jid wid token error crash(0|1)
-- -> 'retry' (back after backoff_ms * 2^(attempt-1)), 'dead' (attempts exhausted:
-- moved to failed:<acq>), or 'STALE'. A retried call for the same lease answers
-- what the first one did.

local MAX_DELAY_MS = 24 * 3600 * 1000
local acq, jid, wid, token, err = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local is_crash = ARGV[7] == '1'
local jkey = k_job(acq, jid)
local f = redis.call('HMGET', jkey, 'done_token', 'done_outcome', 'attempts', 'max_attempts',
	'backoff_ms')
if f[1] == token and (f[2] == 'retry' or f[2] == 'dead') then
	return f[2]
end
if not fenced(jkey, wid, token) then
	return 'STALE'
end
local now = now_ms()
local attempts = num(f[3])
redis.call('HINCRBY', jkey, is_crash and 'crashes' or 'errors', 1)
end_lease(acq, jid, jkey, is_crash and 'crash' or 'error', err, now)
if attempts >= num(f[4], 1) then
	dead_letter(acq, jid, jkey, err, now)
	redis.call('HSET', jkey, 'done_outcome', 'dead')
	return 'dead'
end
local delay = num(f[5]) * math.pow(2, attempts - 1)
if delay > MAX_DELAY_MS then
	delay = MAX_DELAY_MS
end
redis.call('HSET', jkey, 'state', 'retry', 'error', err, 'done_outcome', 'retry')
redis.call('ZADD', k_delayed(acq), now + math.floor(delay), jid)
return 'retry'
