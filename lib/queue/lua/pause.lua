-- pause.lua: an operator pauses or resumes an acquisition.
-- ARGV: P 'pause'|'resume' acq -> JSON {"acq","paused":bool,"changed":bool} or
-- {"error":msg}
--
-- Paused (P paused, and paused_ms on P acq:<acq>): claims pass its jobs by,
-- running ones finish (and their completions queue the next stage and the
-- fan-in as usual, so work piles up in its queues), expired leases and due
-- retries still come back. Resume rings the doorbell of every stage with queued
-- work, so idle workers look at once.
local mode, acq = ARGV[2], ARGV[3]
if redis.call('SISMEMBER', k_acqs(), acq) == 0 then
	return refuse("no acquisition '" .. acq .. "'")
end
local changed
if mode == 'pause' then
	changed = redis.call('SADD', k_paused(), acq) == 1
	if changed then
		redis.call('HSET', k_acq(acq), 'paused_ms', now_ms())
	end
else
	changed = redis.call('SREM', k_paused(), acq) == 1
	redis.call('HDEL', k_acq(acq), 'paused_ms')
	for _, s in ipairs(ALL_STAGES) do
		if changed and redis.call('LLEN', k_queue(s, acq)) > 0 then
			ring(s)
		end
	end
end
return '{"acq":' .. jstr(acq) .. ',"paused":' .. tostring(mode == 'pause') .. ',"changed":' ..
	tostring(changed) .. '}'
