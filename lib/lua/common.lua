-- common.lua: helpers prepended (by embed.py) to every other scanq script, so
-- each EVALSHA body is self-contained. The data model is documented in
-- lib/queue.h. Conventions: ARGV[1] is always the key prefix P; keys are built
-- here rather than passed as KEYS because claim discovers acquisitions at run
-- time (scanq does not support Redis Cluster). Time is always Redis's TIME.

local P = ARGV[1]
local HISTORY_MAX = 32 -- attempts kept per job
local WAKE_MAX = 64 -- doorbell tokens kept per stage
local SCAN_MAX = 100 -- expired leases / due retries handled per call and acq
local ALL_STAGES = {'extract', 'reconstruct', 'stitch'}

local function now_ms()
	local t = redis.call('TIME')
	return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function k_job(acq, jid) return P .. 'job:' .. acq .. ':' .. jid end
local function k_queue(stage, acq) return P .. stage .. ':' .. acq end
local function k_leased(acq) return P .. 'leased:' .. acq end
local function k_delayed(acq) return P .. 'delayed:' .. acq end
local function k_done(acq, stage) return P .. 'done:' .. acq .. ':' .. stage end
local function k_dead(acq, stage) return P .. 'dead:' .. acq .. ':' .. stage end
local function k_members(acq, group) return P .. 'members:' .. acq .. ':' .. group end
local function k_gdone(acq, group) return P .. 'gdone:' .. acq .. ':' .. group end
local function k_acq(acq) return P .. 'acq:' .. acq end

-- Wakes one idle worker of stage (BLPOP on the doorbell list).
local function ring(stage)
	local k = P .. 'wake:' .. stage
	redis.call('LPUSH', k, '1')
	redis.call('LTRIM', k, 0, WAKE_MAX - 1)
end

local function num(v, dflt)
	return tonumber(v) or dflt or 0
end

-- Sets the job's stage and the requirements claim checks for it.
local function set_stage(jkey, stage)
	local n = redis.call('HMGET', jkey, 'need_vram_mib.' .. stage, 'need_ram_mib.' .. stage)
	redis.call('HSET', jkey, 'stage', stage, 'need_vram_mib', num(n[1]), 'need_ram_mib',
		num(n[2]))
end

local function add_history(jkey, entry)
	local h = redis.call('HGET', jkey, 'history')
	local list = {}
	if h and h ~= '' then
		list = cjson.decode(h)
	end
	table.insert(list, entry)
	while #list > HISTORY_MAX do
		table.remove(list, 1)
	end
	redis.call('HSET', jkey, 'history', cjson.encode(list))
end

-- True when wid holds jkey's lease with this token (the fencing check).
local function fenced(jkey, wid, token)
	local f = redis.call('HMGET', jkey, 'state', 'owner', 'token')
	return f[1] == 'leased' and f[2] == wid and f[3] == token
end

-- Forgets P owned:<owner> if it still names this job.
local function disown(owner, acq, jid)
	if not owner or owner == '' then
		return
	end
	local k = P .. 'owned:' .. owner
	local v = redis.call('GET', k)
	local head = acq .. '\t' .. jid .. '\t'
	if v and string.sub(v, 1, #head) == head then
		redis.call('DEL', k)
	end
end

-- Ends the current lease of a job: history entry, lease and ownership gone.
-- done_token/done_outcome let a retried call (lost reply) answer the same.
local function end_lease(acq, jid, jkey, outcome, err, now)
	local f = redis.call('HMGET', jkey, 'stage', 'owner', 'host', 'attempts', 'claimed_ms',
		'token')
	add_history(jkey, {stage = f[1], worker = f[2] or '', host = f[3] or '',
		attempt = num(f[4]), start_ms = num(f[5]), end_ms = now, outcome = outcome,
		error = err})
	redis.call('ZREM', k_leased(acq), jid)
	disown(f[2], acq, jid)
	redis.call('HSET', jkey, 'owner', '', 'done_token', f[6] or '', 'updated_ms', now)
end

-- Moves a job to the dead-letter list (its history must hold the last attempt).
local function dead_letter(acq, jid, jkey, err, now)
	local f = redis.call('HMGET', jkey, 'stage', 'host', 'attempts', 'errors', 'crashes',
		'history')
	local head = cjson.encode({jid = jid, acq = acq, stage = f[1], error = err,
		host = f[2] or '', attempts = num(f[3]), errors = num(f[4]),
		crashes = num(f[5]), time_ms = now})
	-- history is spliced in as stored: cjson would turn an empty array into {}
	local dl = string.sub(head, 1, -2) .. ',"history":' .. (f[6] or '[]') .. '}'
	redis.call('HSET', jkey, 'state', 'failed', 'error', err, 'owner', '')
	redis.call('ZREM', k_leased(acq), jid)
	redis.call('ZREM', k_delayed(acq), jid)
	redis.call('LPUSH', P .. 'failed:' .. acq, dl)
	redis.call('SADD', k_dead(acq, f[1]), jid)
end

-- A lease ended without a result (worker crashed, expired, was killed):
-- counted as a crash, back to the FRONT of its queue, or dead when exhausted.
local function crash(acq, jid, jkey, reason, now)
	local f = redis.call('HMGET', jkey, 'stage', 'attempts', 'max_attempts')
	redis.call('HINCRBY', jkey, 'crashes', 1)
	end_lease(acq, jid, jkey, 'crash', reason, now)
	redis.call('HSET', jkey, 'done_outcome', 'crash')
	if num(f[2]) >= num(f[3], 1) then
		dead_letter(acq, jid, jkey, reason, now)
		return 'dead'
	end
	redis.call('HSET', jkey, 'state', 'queued', 'error', reason)
	redis.call('RPUSH', k_queue(f[1], acq), jid)
	ring(f[1])
	return 'queued'
end

local function expire_leases(acq, now)
	local ids = redis.call('ZRANGEBYSCORE', k_leased(acq), '-inf', now, 'LIMIT', 0, SCAN_MAX)
	for _, jid in ipairs(ids) do
		local jkey = k_job(acq, jid)
		local f = redis.call('HMGET', jkey, 'state', 'owner', 'host')
		if f[1] == 'leased' then
			crash(acq, jid, jkey, "lease expired: worker '" .. (f[2] or '') .. "' on '" ..
				(f[3] or '') .. "' stopped heartbeating", now)
		else
			redis.call('ZREM', k_leased(acq), jid)
		end
	end
end

local function promote_retries(acq, now)
	local ids = redis.call('ZRANGEBYSCORE', k_delayed(acq), '-inf', now, 'LIMIT', 0, SCAN_MAX)
	for _, jid in ipairs(ids) do
		local jkey = k_job(acq, jid)
		local f = redis.call('HMGET', jkey, 'state', 'stage')
		redis.call('ZREM', k_delayed(acq), jid)
		if f[1] == 'retry' then
			redis.call('HSET', jkey, 'state', 'queued', 'updated_ms', now)
			redis.call('RPUSH', k_queue(f[2], acq), jid)
			ring(f[2])
		end
	end
end

-- Expired leases back to their queues, due retries promoted.
local function maintain(acq, now)
	expire_leases(acq, now)
	promote_retries(acq, now)
end

-- Takes a job out of every list/zset it may sit in (not the done sets).
local function unqueue(acq, jid, jkey)
	local owner = redis.call('HGET', jkey, 'owner')
	for _, s in ipairs(ALL_STAGES) do
		redis.call('LREM', k_queue(s, acq), 0, jid)
	end
	redis.call('ZREM', k_leased(acq), jid)
	redis.call('ZREM', k_delayed(acq), jid)
	disown(owner, acq, jid)
end

-- A stitch whose inputs changed goes back to waiting for its fan-in; a running
-- attempt is fenced (its completion will be STALE).
local function reopen_stitch(acq, sjid, now)
	local jkey = k_job(acq, sjid)
	local st = redis.call('HGET', jkey, 'state')
	if st and st ~= 'waiting' then
		unqueue(acq, sjid, jkey)
		redis.call('HSET', jkey, 'state', 'waiting', 'owner', '', 'updated_ms', now)
	end
	redis.call('SREM', k_done(acq, 'stitch'), sjid)
	redis.call('SREM', k_dead(acq, 'stitch'), sjid)
end

-- A member of group changed: its group stitch and the acquisition stitch must
-- run again once it is done.
local function reopen_group(acq, group, now)
	redis.call('SREM', P .. 'sdone:' .. acq, group)
	reopen_stitch(acq, '@group:' .. group, now)
	reopen_stitch(acq, '@acq', now)
end

-- Removes the dead letters of jid from failed:<acq> (retry of a failed job).
local function clear_dead_letters(acq, jid)
	local k = P .. 'failed:' .. acq
	for _, dl in ipairs(redis.call('LRANGE', k, 0, -1)) do
		local ok, v = pcall(cjson.decode, dl)
		if ok and type(v) == 'table' and v.jid == jid then
			redis.call('LREM', k, 0, dl)
		end
	end
	for _, s in ipairs(ALL_STAGES) do
		redis.call('SREM', k_dead(acq, s), jid)
	end
end

-- JSON array of strings; '[]' when empty (cjson would write {}).
local function json_array(list)
	if #list == 0 then
		return '[]'
	end
	return cjson.encode(list)
end

-- Output dirs of a stitch's inputs: the done members of a group (sorted), or
-- for '@acq' the group stitches of the done groups.
local function stitch_inputs(acq, group)
	local dirs = {}
	if group ~= '' then
		local ids = redis.call('SMEMBERS', k_gdone(acq, group))
		table.sort(ids)
		for _, jid in ipairs(ids) do
			local d = redis.call('HGET', k_job(acq, jid), 'outdir')
			if d then
				table.insert(dirs, d)
			end
		end
	else
		local groups = redis.call('SMEMBERS', P .. 'sdone:' .. acq)
		table.sort(groups)
		for _, g in ipairs(groups) do
			local d = redis.call('HGET', k_job(acq, '@group:' .. g), 'outdir')
			if d then
				table.insert(dirs, d)
			end
		end
	end
	return dirs
end

-- Queues a stitch job (fan-in or repair) with its registered spec; nothing if
-- it is already queued, leased or waiting for a retry. Returns 1 if queued.
local function queue_stitch(acq, sjid, group, now)
	local jkey = k_job(acq, sjid)
	local st = redis.call('HGET', jkey, 'state')
	if st == 'queued' or st == 'leased' or st == 'retry' then
		return 0
	end
	local a = redis.call('HMGET', k_acq(acq), 'spec:' .. sjid, 'version:' .. sjid,
		'outdir:' .. sjid, 'stitch_max_attempts', 'stitch_backoff_ms',
		'need_vram_mib.stitch', 'need_ram_mib.stitch')
	redis.call('HSET', jkey, 'kind', group ~= '' and 'group' or 'acq', 'group', group,
		'name', sjid, 'state', 'queued', 'inputs', json_array(stitch_inputs(acq, group)),
		'attempts', 0, 'errors', 0, 'crashes', 0, 'owner', '', 'error', '',
		'progress_done', 0, 'progress_total', 0, 'updated_ms', now,
		'need_vram_mib.stitch', num(a[6]), 'need_ram_mib.stitch', num(a[7]))
	redis.call('HSETNX', jkey, 'history', '[]')
	redis.call('HSETNX', jkey, 'created_ms', now)
	set_stage(jkey, 'stitch')
	redis.call('SREM', k_done(acq, 'stitch'), sjid)
	redis.call('SREM', k_dead(acq, 'stitch'), sjid)
	if group ~= '' then
		redis.call('SREM', P .. 'sdone:' .. acq, group)
	end
	if not a[1] then
		-- enqueue registers every spec first; without one the job cannot run,
		-- and a dead letter says so rather than a script error half-way
		add_history(jkey, {stage = 'stitch', outcome = 'error', end_ms = now})
		dead_letter(acq, sjid, jkey, "no stitch spec registered for '" .. sjid .. "'", now)
		return 0
	end
	redis.call('HSET', jkey, 'spec', a[1], 'version', a[2] or '', 'outdir', a[3] or '',
		'max_attempts', num(a[4], 1), 'backoff_ms', num(a[5]))
	redis.call('LPUSH', k_queue('stitch', acq), sjid)
	ring('stitch')
	return 1
end

-- Writes a task job's descriptive fields from ARGV[first..first+11]:
-- acq jid group version spec outdir max_attempts backoff_ms
-- need_vram.extract need_ram.extract need_vram.reconstruct need_ram.reconstruct
local function task_fields(jkey, first, now)
	local a = function(i) return ARGV[first + i] end
	redis.call('HSET', jkey, 'kind', 'task', 'group', a(2), 'name', a(1), 'version', a(3),
		'spec', a(4), 'outdir', a(5), 'max_attempts', num(a(6), 1), 'backoff_ms', num(a(7)),
		'need_vram_mib.extract', num(a(8)), 'need_ram_mib.extract', num(a(9)),
		'need_vram_mib.reconstruct', num(a(10)), 'need_ram_mib.reconstruct', num(a(11)),
		'attempts', 0, 'errors', 0, 'crashes', 0, 'owner', '', 'error', '', 'done_token', '',
		'progress_done', 0, 'progress_total', 0, 'lease_until_ms', 0, 'updated_ms', now)
	redis.call('HSETNX', jkey, 'history', '[]')
	redis.call('HSETNX', jkey, 'created_ms', now)
end

-- Registers a task's acquisition, group and membership; if it moved to another
-- group, the old group forgets it.
local function task_membership(acq, jid, jkey, group, now)
	local old = redis.call('HGET', jkey, 'group')
	if old and old ~= '' and old ~= group then
		redis.call('SREM', k_members(acq, old), jid)
		redis.call('SREM', k_gdone(acq, old), jid)
		reopen_group(acq, old, now)
	end
	redis.call('SADD', P .. 'acqs', acq)
	redis.call('SADD', P .. 'groups:' .. acq, group)
	redis.call('SADD', k_members(acq, group), jid)
end
