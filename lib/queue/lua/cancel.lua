-- cancel.lua: an operator cancels an acquisition, a group or a task.
-- ARGV: P acq target (see target_jobs: '' all, a task, a group or '@group:<g>',
-- '@acq')
-- -> JSON {"target":"task|group|acq|stitch","cancelled":[{"jid","stage","was",
--    "host"}],"unchanged":N,"queued":[stitch jids the re-plan queued]}, or
--    {"error":msg} for an unknown acquisition or target.
--
-- A job waiting, queued, leased, waiting for a retry or dead-lettered becomes
-- 'cancelled' at its stage (P cancelled:<acq>:<stage>): taken out of its queue
-- or retry set, its dead letters dropped, and a running one fenced: its lease is
-- gone, so its worker's next heartbeat is STALE and the stage (its backend's
-- process group) is stopped; whatever it completes is refused. Outputs on disk
-- are not touched. Done and cancelled jobs are left as they are (idempotent).
--
-- Re-plan: a cancelled task counts as settled for its group's fan-in (P
-- gcancel), so a group whose other tasks are done gets its stitch queued now,
-- on the done ones; a group whose tasks are all cancelled gets its stitch
-- cancelled, which settles it for the acquisition stitch (P scancel) alike.

local acq, target = ARGV[2], ARGV[3]
local CANCELLABLE = {[ST_WAITING] = true, [ST_QUEUED] = true, [ST_LEASED] = true,
	[ST_RETRY] = true, [ST_FAILED] = true}
local REASON = 'cancelled by an operator'

local named, jids = target_jobs(acq, target)
if not named then
	return refuse(jids)
end
-- what a cancel adds to, checked before its first write
local checks = {k_scancel(acq), 'set', k_sdone(acq), 'set'}
for _, s in ipairs(ALL_STAGES) do
	put(checks, k_cancelled(acq, s), 'set', k_queue(s, acq), 'list')
end
for _, g in ipairs(redis.call('SMEMBERS', k_groups(acq))) do
	put(checks, k_gcancel(acq, g), 'set', k_gdone(acq, g), 'set', k_members(acq, g), 'set')
end
local broken = wrong_type(unpack(checks))
if broken then
	return refuse("cannot cancel in '" .. acq .. "': " .. broken)
end
local now = now_ms()
local out, gone, touched, unchanged = {}, {}, {}, 0

local function cancel_one(jid)
	local jkey = k_job(acq, jid)
	local f = read_hash(jkey, LEASE_FIELDS)
	-- a job whose fields cannot be used is left to the scripts that meet it:
	-- they dead-letter it, naming the field
	if not f or not CANCELLABLE[f.state] or job_problem(f, LEASE_FIELDS) then
		return false
	end
	if f.state == ST_LEASED then
		add_history(acq, jid, f.stage, f.owner, f.host, f.attempts, f.claimed_ms, now,
			'cancelled', REASON)
		disown(f.owner, acq, jid)
	elseif f.state == ST_FAILED then
		clear_dead_letters(acq, jid)
	end
	rem('ZREM', k_leased(acq), jid)
	rem('ZREM', k_delayed(acq), jid)
	redis.call('HSET', jkey, 'state', ST_CANCELLED, 'owner', '', 'error', REASON,
		'cancelled_ms', now, 'updated_ms', now)
	redis.call('SADD', k_cancelled(acq, f.stage), jid)
	if f.kind == 'task' then
		redis.call('SADD', k_gcancel(acq, f.group or ''), jid)
		touched[f.group or ''] = true
	elseif f.kind == 'group' then
		redis.call('SADD', k_scancel(acq), f.group or '')
	end
	gone[jid] = true
	out[#out + 1] = '{"jid":' .. jstr(jid) .. ',"stage":' .. jstr(f.stage) .. ',"was":' ..
		jstr(f.state) .. ',"host":' .. jstr(f.host) .. '}'
	return true
end

-- Rewrites each queue of the acquisition without the cancelled jobs (one pass,
-- order kept: LREM per job would cost a pass per job).
local function drop_from_queues()
	for _, s in ipairs(ALL_STAGES) do
		local q = k_queue(s, acq)
		local keep, dropped = {}, false
		for _, id in ipairs(redis.call('LRANGE', q, '0', '-1')) do
			if gone[id] then
				dropped = true
			else
				keep[#keep + 1] = id
			end
		end
		if dropped then
			redis.call('DEL', q)
			for i = 1, #keep, 1000 do
				redis.call('RPUSH', q, unpack(keep, i, math.min(i + 999, #keep)))
			end
		end
	end
end

-- A waiting stitch whose inputs are now all settled runs (or, with nothing left
-- to stitch, is cancelled).
local function replan(queued)
	for g in pairs(touched) do
		local sjid = '@group:' .. g
		if redis.call('HGET', k_job(acq, sjid), 'state') == ST_WAITING then
			if group_settled(acq, g) then
				if queue_stitch(acq, sjid, g, now) == 1 then
					queued[#queued + 1] = jstr(sjid)
				end
			elseif redis.call('SCARD', k_gcancel(acq, g)) ==
				redis.call('SCARD', k_members(acq, g)) then
				cancel_one(sjid)
			end
		end
	end
	if redis.call('HGET', k_job(acq, '@acq'), 'state') == ST_WAITING then
		if acq_settled(acq) then
			if queue_stitch(acq, '@acq', '', now) == 1 then
				queued[#queued + 1] = '"@acq"'
			end
		elseif redis.call('SCARD', k_scancel(acq)) ==
			redis.call('SCARD', k_groups(acq)) then
			cancel_one('@acq')
		end
	end
end

for _, jid in ipairs(jids) do
	if not cancel_one(jid) then
		unchanged = unchanged + 1
	end
end
drop_from_queues()
local queued = {}
replan(queued)
return '{"target":"' .. named .. '","cancelled":[' .. table.concat(out, ',') ..
	'],"unchanged":' .. unchanged .. ',"queued":[' .. table.concat(queued, ',') .. ']}'
