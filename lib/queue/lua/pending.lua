-- pending.lua: jobs queued, waiting for a retry, or leased for some stages and
-- acquisitions (for --drain); expires stale leases first so a dead worker's
-- job counts as queued, not running forever. A paused acquisition counts only
-- its running jobs: its queued ones wait for an operator's resume.
-- ARGV: P nstages stage* nacqs acq* (nacqs 0: all) -> count
local nstages = tonumber(ARGV[2])
local want, acqs = {}, {}
for i = 1, nstages do
	want[ARGV[2 + i]] = true
end
local nacqs = tonumber(ARGV[3 + nstages])
for i = 1, nacqs do
	acqs[i] = ARGV[3 + nstages + i]
end
if nacqs == 0 then
	acqs = redis.call('SMEMBERS', P .. 'acqs')
end

-- Members of a zset whose job is at one of the wanted stages.
local function count_set(acq, key)
	if nstages >= #ALL_STAGES then
		return redis.call('ZCARD', key)
	end
	local n = 0
	for _, jid in ipairs(redis.call('ZRANGE', key, '0', '-1')) do
		if want[redis.call('HGET', k_job(acq, jid), 'stage')] then
			n = n + 1
		end
	end
	return n
end

local now = now_ms()
local count = 0
for _, acq in ipairs(acqs) do
	maintain(acq, now)
	if not is_paused(acq) then -- its queued work waits for a resume, not for us
		for s in pairs(want) do
			count = count + redis.call('LLEN', k_queue(s, acq))
		end
		count = count + count_set(acq, k_delayed(acq))
	end
	count = count + count_set(acq, k_leased(acq))
end
return count
