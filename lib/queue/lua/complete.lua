-- complete.lua: records success and moves the job on, with the fan-in; with
-- claim options, also claims the worker's next job in the same call.
-- ARGV: P acq jid wid token result [lease_ms host free_vram_mib free_ram_mib
--       nstages stage* nacqs acq*]
-- Without claim options -> 'OK' (also when this lease's completion was already
-- recorded), or 'STALE' (the lease is not this worker's any more: nothing is
-- changed).
-- With them -> 'STALE' (nothing changed, nothing claimed), 0 (completed, nothing
-- to claim), {'chained', token}: the same job leased on at reconstruct (attempt
-- 1; the caller has the rest), or the next job as claim.lua returns it. A
-- retried call (lost reply) finds the completion recorded and answers the job
-- it then leased (as claim.lua does).
-- An error when the completion cannot be recorded (a field or key of the
-- wrong form): the job is then dead-lettered saying why (or, when not even
-- that can be, left to its lease), and nothing is claimed.
--
-- extract -> reconstruct: queued, or when the caller serves reconstruct for
-- this acquisition and the needs fit, leased straight back to it (its frames
-- are on its host; no queue push, no doorbell). reconstruct -> done, and the
-- group fan-in (fan_in_task). A group stitch -> done, and the acquisition
-- fan-in (fan_in_group).

local FIELDS = {'state', 'owner', 'token', 'done_token', 'done_outcome', 'kind', 'stage',
	'group', 'host', 'attempts', 'max_attempts', 'errors', 'crashes', 'claimed_ms', 'backoff_ms',
	'lease_until_ms', 'need_vram_mib.reconstruct', 'need_ram_mib.reconstruct'}

-- "done with warnings": a result whose "warnings" list is not empty puts the
-- job in P warn:<acq>:<stage> and the list in its warnings.<stage> field (what
-- status shows); any other result takes them out. The cheap find first: most
-- results have none. P warn:<acq>:<stage> is checked (keys_problem).
local function note_warnings(acq, jid, jkey, stage, result, now)
	local w
	if string.find(result, '"warnings"', 1, true) and
		not string.find(result, '"warnings":[]', 1, true) then
		local ok, doc = pcall(cjson.decode, result)
		if ok and type(doc) == 'table' and type(doc.warnings) == 'table' and
			#doc.warnings > 0 then
			w = cjson.encode(doc.warnings)
		end
	end
	if w then
		redis.call('ZADD', k_warn(acq, stage), now, jid)
		redis.call('HSET', jkey, 'warnings.' .. stage, w)
	elseif redis.call('ZREM', k_warn(acq, stage), jid) == 1 then
		redis.call('HDEL', jkey, 'warnings.' .. stage)
	end
end

local acq, jid, wid, token, result = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local claims = ARGV[7] ~= nil
if claims then
	claim_opts(wid, 7)
end

-- The next job for the caller (retried: the one held, if any), or 0.
-- Claiming fails only before a lease's first write (P fence not a counter):
-- the completion stands, and the worker's next claim reports it.
local function claim_next(now, retried)
	local ok, job = pcall(function()
		return retried and held(now) or claim_queued(now)
	end)
	return ok and job or 0
end

-- What the completion of stage adds to, checked.
local function keys_problem(f)
	local p = wrong_type(k_done(acq, f.stage), 'set', k_warn(acq, f.stage), 'zset')
	if p or f.stage == 'extract' then
		return p or wrong_type(k_queue('reconstruct', acq), 'list')
	elseif f.stage == 'reconstruct' then
		return fan_in_task_problem(acq, f.group)
	elseif f.kind == 'group' then
		return fan_in_group_problem(acq)
	end
	return nil
end

local jkey = k_job(acq, jid)
local f = read_hash(jkey, FIELDS)
local now
if not f or not fenced(f, wid, token) then
	if not f or f.done_token ~= token or f.done_outcome ~= 'done' then
		return 'STALE'
	end
	if not claims then
		return 'OK' -- a retried call: recorded already
	end
	return claim_next(now_ms(), true)
end
now = now_ms()
local why = job_problem(f, FIELDS) or keys_problem(f)
if why then
	error({err = 'cannot record the completion: ' .. abandon(acq, jid, f, why, now)})
end
local stage = f.stage
if stage == 'extract' then
	local nv = f['need_vram_mib.reconstruct'] or '0'
	local nr = f['need_ram_mib.reconstruct'] or '0'
	-- the same owner and host lease on; P owned:<wid> names the job already
	-- and its P leased:<acq> entry stays, earlier than the new deadline
	-- (see expire_leases). The caller has the rest of the job. The token is
	-- the first write: a P fence that is no counter means no chaining.
	local ok, t, until_ms
	if claims and serves('reconstruct') and allows(acq) and fits(nv, nr) and
		not is_paused(acq) then
		ok, t, until_ms = pcall(new_token, now)
	end
	add_history(acq, jid, stage, wid, f.host, f.attempts, f.claimed_ms, now, 'done', nil)
	redis.call('SADD', k_done(acq, stage), jid)
	note_warnings(acq, jid, jkey, stage, result, now)
	if ok then
		redis.call('HSET', jkey, 'done_token', token, 'done_outcome', 'done', 'result', result,
			'error', '', 'stage', 'reconstruct', 'need_vram_mib', nv, 'need_ram_mib', nr,
			'errors', '0', 'crashes', '0', 'attempts', '1', 'token', string.format('%d', t),
			'claimed_ms', now, 'lease_until_ms', until_ms, 'progress_done', '0',
			'progress_total', '0', 'updated_ms', now)
		return {'chained', t}
	end
	redis.call('HSET', jkey, 'done_token', token, 'done_outcome', 'done', 'result', result,
		'error', '', 'stage', 'reconstruct', 'need_vram_mib', nv, 'need_ram_mib', nr,
		'errors', '0', 'crashes', '0', 'attempts', '0', 'state', ST_QUEUED, 'owner', '',
		'updated_ms', now)
	rem('ZREM', k_leased(acq), jid)
	redis.call('LPUSH', k_queue('reconstruct', acq), jid)
	ring('reconstruct')
else
	add_history(acq, jid, stage, wid, f.host, f.attempts, f.claimed_ms, now, 'done', nil)
	redis.call('SADD', k_done(acq, stage), jid)
	note_warnings(acq, jid, jkey, stage, result, now)
	redis.call('HSET', jkey, 'done_token', token, 'done_outcome', 'done', 'result', result,
		'error', '', 'state', ST_DONE, 'owner', '', 'updated_ms', now)
	rem('ZREM', k_leased(acq), jid)
	if stage == 'reconstruct' then
		fan_in_task(acq, jid, f.group, now)
	elseif f.kind == 'group' then
		fan_in_group(acq, f.group, now)
	end
end
local job = claims and claim_next(now, false)
if job and job ~= 0 then
	return job -- it re-pointed P owned:<wid>
end
disown(wid, acq, jid)
return claims and 0 or 'OK'
