-- fail.lua: records a failed attempt (an error, or a crash of the stage).
-- ARGV: P acq jid wid token error crash(0|1)
-- -> 'retry' (back after backoff_ms * 2^(attempt-1)), 'dead' (attempts exhausted:
-- moved to failed:<acq>), or 'STALE'. A retried call for the same lease answers
-- what the first one did. A job whose fields cannot be used is dead-lettered
-- saying so ('dead'); an error when not even that can be done.

local MAX_DELAY_MS = 24 * 3600 * 1000
local acq, jid, wid, token, err = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local is_crash = ARGV[7] == '1'
local jkey = k_job(acq, jid)
local f = read_hash(jkey, LEASE_FIELDS)
if not f then
	return 'STALE' -- not a hash: no lease to check; its expiry dead-letters it
end
if f.done_token == token and (f.done_outcome == 'retry' or f.done_outcome == 'dead') then
	return f.done_outcome
end
if not fenced(f, wid, token) then
	return 'STALE'
end
local now = now_ms()
local why = job_problem(f, LEASE_FIELDS)
local attempts = num(f.attempts)
local dead = attempts >= num(f.max_attempts, 1)
if not why then
	why = dead and dead_keys_problem(acq, f.stage) or
		not dead and wrong_type(k_delayed(acq), 'zset')
end
if why then
	local msg, buried = abandon(acq, jid, f, why .. '; the attempt failed with: ' .. err, now)
	if buried then
		return 'dead'
	end
	error({err = 'cannot record the failure: ' .. msg})
end
local h = {}
if is_crash then
	f.crashes = str(num(f.crashes) + 1)
	put(h, 'crashes', f.crashes)
else
	f.errors = str(num(f.errors) + 1)
	put(h, 'errors', f.errors)
end
end_lease(acq, jid, f, h, is_crash and 'crash' or 'error', err, now)
if dead then
	dead_letter(acq, jid, jkey, f, h, err, now)
	put(h, 'done_outcome', 'dead')
	redis.call('HSET', jkey, unpack(h))
	return 'dead'
end
local delay = num(f.backoff_ms) * math.pow(2, attempts - 1)
if delay > MAX_DELAY_MS then
	delay = MAX_DELAY_MS
end
put(h, 'state', ST_RETRY, 'error', err, 'done_outcome', 'retry')
redis.call('HSET', jkey, unpack(h))
redis.call('ZADD', k_delayed(acq), str(tonumber(now) + math.floor(delay)), jid)
return 'retry'
