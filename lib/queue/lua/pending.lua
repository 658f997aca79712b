-- pending.lua: jobs queued, waiting for a retry, or leased for some stages and
-- acquisitions (for --drain); expires stale leases first so a dead worker's
-- job counts as queued, not running forever. A paused acquisition counts only
-- its running jobs: its queued ones wait for an operator's resume. A key of the
-- wrong type counts as
-- one job pending: what it holds cannot be known, and a drain must not call an
-- acquisition finished while part of it is unreadable.
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
	acqs = redis.pcall('SMEMBERS', k_acqs())
	if perr(acqs) then
		return 1
	end
end

-- A count (LLEN, ZCARD) of key; 1 when it is of the wrong type.
local function count_of(cmd, key)
	local n = redis.pcall(cmd, key)
	return perr(n) and 1 or n
end

-- Members of a zset whose job is at one of the wanted stages.
local function count_set(acq, key)
	if nstages >= #ALL_STAGES then
		return count_of('ZCARD', key)
	end
	local ids = redis.pcall('ZRANGE', key, '0', '-1')
	if perr(ids) then
		return 1
	end
	local n = 0
	for _, jid in ipairs(ids) do
		local s = redis.pcall('HGET', k_job(acq, jid), 'stage')
		if type(s) ~= 'string' or want[s] or not STAGE_NAMES[s] then
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
			count = count + count_of('LLEN', k_queue(s, acq))
		end
		count = count + count_set(acq, k_delayed(acq))
	end
	count = count + count_set(acq, k_leased(acq))
end
return count
