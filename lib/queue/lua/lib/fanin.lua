-- lib/fanin.lua: moving jobs between queues, stitch inputs and specs, the fan-in,
-- task fields and membership.
-- Helpers shared by the scripts (see lib/keys.lua for the conventions);
-- embed.py prepends to each script only the definitions it uses.

-- Takes a job out of every list/zset it may sit in (not the done sets).
local function unqueue(acq, jid, jkey)
	local owner = redis.pcall('HGET', jkey, 'owner')
	for _, s in ipairs(ALL_STAGES) do
		rem('LREM', k_queue(s, acq), '0', jid)
	end
	rem('ZREM', k_leased(acq), jid)
	rem('ZREM', k_delayed(acq), jid)
	if type(owner) == 'string' then
		disown(owner, acq, jid)
	end
end

-- Removes the dead letters of jid from failed:<acq> (retry of a failed job).
local function clear_dead_letters(acq, jid)
	local k = k_failed(acq)
	local list = redis.pcall('LRANGE', k, '0', '-1')
	for _, dl in ipairs(perr(list) and {} or list) do
		local ok, v = pcall(cjson.decode, dl)
		if ok and type(v) == 'table' and v.jid == jid then
			redis.call('LREM', k, '0', dl)
		end
	end
	for _, s in ipairs(ALL_STAGES) do
		rem('SREM', k_dead(acq, s), jid)
	end
end

-- A stitch whose inputs changed goes back to waiting for its fan-in; a running
-- attempt is fenced (its completion will be STALE), a dead letter or an
-- operator's cancel of the old inputs' stitch no longer holds.
local function reopen_stitch(acq, sjid, now)
	local jkey = k_job(acq, sjid)
	local st = redis.pcall('HGET', jkey, 'state')
	if type(st) == 'string' and st ~= ST_WAITING then
		unqueue(acq, sjid, jkey)
		redis.call('HSET', jkey, 'state', ST_WAITING, 'owner', '', 'updated_ms', now)
	end
	if st == ST_FAILED then
		clear_dead_letters(acq, sjid)
	end
	rem('SREM', k_done(acq, 'stitch'), sjid)
	rem('SREM', k_dead(acq, 'stitch'), sjid)
	rem('SREM', k_cancelled(acq, 'stitch'), sjid)
	rem('ZREM', k_warn(acq, 'stitch'), sjid)
end

-- A member of group changed: its group stitch and the acquisition stitch must
-- run again once it is done.
local function reopen_group(acq, group, now)
	rem('SREM', k_sdone(acq), group)
	rem('SREM', k_scancel(acq), group)
	reopen_stitch(acq, '@group:' .. group, now)
	reopen_stitch(acq, '@acq', now)
end

-- Forgets every mark of a task's past runs (done, dead, cancelled, warnings,
-- its group's fan-in) and its dead letters: a new version starts afresh.
local function forget_marks(acq, jid, group)
	for _, s in ipairs(ALL_STAGES) do
		rem('SREM', k_done(acq, s), jid)
		rem('SREM', k_cancelled(acq, s), jid)
		rem('ZREM', k_warn(acq, s), jid)
	end
	clear_dead_letters(acq, jid)
	rem('SREM', k_gdone(acq, group), jid)
	rem('SREM', k_gcancel(acq, group), jid)
	rem('HDEL', k_job(acq, jid), 'warnings.extract', 'warnings.reconstruct')
end

-- Takes back an operator's cancel of jid (retry, repair): its cancelled marks
-- and its place among the settled members of its group or acquisition.
local function uncancel(acq, jid)
	local f = read_hash(k_job(acq, jid), {'kind', 'group'}) or {}
	for _, s in ipairs(ALL_STAGES) do
		rem('SREM', k_cancelled(acq, s), jid)
	end
	if f.kind == 'task' then
		rem('SREM', k_gcancel(acq, f.group or ''), jid)
	elseif f.kind == 'group' then
		rem('SREM', k_scancel(acq), f.group or '')
	end
end

-- True while the acquisition is paused (P paused): claims pass it by. A P
-- paused of the wrong type pauses nothing (status names the key).
local function is_paused(acq)
	return redis.pcall('SISMEMBER', k_paused(), acq) == 1
end

-- JSON array of strings; '[]' when empty (cjson would write {}).
local function json_array(list)
	if #list == 0 then
		return '[]'
	end
	return cjson.encode(list)
end

-- The outdir fields of jobs ids (sorted), or nil and what is wrong when one
-- cannot be read: a stitch never runs with an input silently left out.
local function outdirs(acq, ids)
	local dirs = {}
	table.sort(ids)
	for _, jid in ipairs(ids) do
		local d = redis.pcall('HGET', k_job(acq, jid), 'outdir')
		if type(d) ~= 'string' then
			return nil, perr(d) and wrong_type(k_job(acq, jid), 'hash') or
				"input '" .. jid .. "' has no outdir"
		end
		table.insert(dirs, d)
	end
	return dirs
end

-- Output dirs of a stitch's inputs: the done members of a group (sorted), or
-- for '@acq' the group stitches of the done groups; nil and what is wrong
-- when they cannot be read.
local function stitch_inputs(acq, group)
	local k = group ~= '' and k_gdone(acq, group) or k_sdone(acq)
	local ids = redis.pcall('SMEMBERS', k)
	if perr(ids) then
		return nil, wrong_type(k, 'set')
	end
	if group == '' then
		for i, g in ipairs(ids) do
			ids[i] = '@group:' .. g
		end
	end
	return outdirs(acq, ids)
end

-- What queue_stitch reads of P acq:<acq> for stitch sjid.
local function stitch_acq_fields(sjid)
	return {'spec:' .. sjid, 'version:' .. sjid, 'outdir:' .. sjid, 'stitch_max_attempts',
		'stitch_backoff_ms', 'need_vram_mib.stitch', 'need_ram_mib.stitch'}
end

-- Why stitch sjid cannot be queued (its job key, registered spec, inputs or
-- queue unusable), or nil and its acq:<acq> fields and inputs.
local function stitch_problem(acq, sjid, group, st)
	if perr(st) then
		return wrong_type(k_job(acq, sjid), 'hash')
	end
	local names = stitch_acq_fields(sjid)
	local a, why = read_hash(k_acq(acq), names)
	if a then
		why = fields_problem(a, names, 'acquisition')
	end
	if not why and not a[names[1]] then
		why = "no stitch spec registered for '" .. sjid .. "'"
	elseif not why and not a[names[3]] then
		why = "acquisition field '" .. names[3] .. "' is missing"
	end
	if why then
		return why
	end
	local inputs
	inputs, why = stitch_inputs(acq, group)
	if not why then
		why = wrong_type(k_queue('stitch', acq), 'list')
	end
	return why, a, inputs
end

-- The descriptive fields of a stitch job about to be queued (or buried).
local function stitch_fields(sjid, group, now)
	return {'kind', group ~= '' and 'group' or 'acq', 'group', group, 'name', sjid,
		'state', ST_QUEUED, 'stage', 'stitch', 'attempts', '0', 'errors', '0', 'crashes', '0',
		'owner', '', 'error', '', 'progress_done', '0', 'progress_total', '0', 'updated_ms', now}
end

-- Queues a stitch job (fan-in or repair) with its registered spec; nothing if
-- it is already queued, leased or waiting for a retry. A stitch that cannot
-- run (no spec registered, an input without an outdir, a key of the wrong
-- type) is dead-lettered saying why, decided before any write: a dead letter
-- rather than a script error half-way. Returns 1 if queued.
local function queue_stitch(acq, sjid, group, now)
	local jkey = k_job(acq, sjid)
	local st = redis.pcall('HGET', jkey, 'state')
	if st == ST_QUEUED or st == ST_LEASED or st == ST_RETRY then
		return 0
	end
	local why, a, inputs = stitch_problem(acq, sjid, group, st)
	if why and (perr(st) or dead_keys_problem(acq, 'stitch')) then
		bury(acq, sjid, nil, 'stitch', why, now)
		return 0
	end
	local h = stitch_fields(sjid, group, now)
	redis.call('HSETNX', jkey, 'created_ms', now)
	rem('SREM', k_done(acq, 'stitch'), sjid)
	rem('SREM', k_dead(acq, 'stitch'), sjid)
	rem('SREM', k_cancelled(acq, 'stitch'), sjid)
	rem('ZREM', k_warn(acq, 'stitch'), sjid)
	if group ~= '' then
		rem('SREM', k_sdone(acq), group)
		rem('SREM', k_scancel(acq), group)
	end
	if why then
		add_history(acq, sjid, 'stitch', '', '', '0', '0', now, 'error', nil)
		dead_letter(acq, sjid, jkey, {stage = 'stitch'}, h, why, now)
		redis.call('HSET', jkey, unpack(h))
		return 0
	end
	local nv, nr = str(a['need_vram_mib.stitch']), str(a['need_ram_mib.stitch'])
	put(h, 'inputs', json_array(inputs), 'spec', a['spec:' .. sjid], 'version',
		a['version:' .. sjid] or '', 'outdir', a['outdir:' .. sjid], 'max_attempts',
		str(num(a.stitch_max_attempts, 1)), 'backoff_ms', str(a.stitch_backoff_ms),
		'need_vram_mib.stitch', nv, 'need_ram_mib.stitch', nr, 'need_vram_mib', nv,
		'need_ram_mib', nr)
	redis.call('HSET', jkey, unpack(h))
	redis.call('LPUSH', k_queue('stitch', acq), sjid)
	ring('stitch')
	return 1
end

-- The keys the fan-in after a task's reconstruct adds to or counts, checked.
local function fan_in_task_problem(acq, group)
	return wrong_type(k_gdone(acq, group), 'set', k_members(acq, group), 'set',
		k_gcancel(acq, group), 'set')
end

-- True when every task of group is done or cancelled (P gcancel), one at least
-- done: its stitch can run, on the done ones. The keys are checked
-- (fan_in_task_problem).
local function group_settled(acq, group)
	local done = redis.call('SCARD', k_gdone(acq, group))
	return done > 0 and done + redis.call('SCARD', k_gcancel(acq, group)) ==
		redis.call('SCARD', k_members(acq, group))
end

-- The keys the fan-in after a group stitch adds to or counts, checked.
local function fan_in_group_problem(acq)
	return wrong_type(k_sdone(acq), 'set', k_groups(acq), 'set',
		k_scancel(acq), 'set')
end

-- True when the acquisition has >= 2 groups, each with its stitch done or
-- cancelled (P scancel), one at least done: the acquisition stitch can run.
-- The keys are checked (fan_in_group_problem).
local function acq_settled(acq)
	local ngroups = redis.call('SCARD', k_groups(acq))
	local done = redis.call('SCARD', k_sdone(acq))
	return ngroups >= 2 and done > 0 and
		done + redis.call('SCARD', k_scancel(acq)) == ngroups
end

-- The fan-in after jid (a task of group) finished reconstruct: the completion
-- that fills gdone:<acq>:<group> queues the group stitch. SADD answering 1 is
-- what makes it happen exactly once even when two members finish at the same
-- instant (scripts run one at a time); a retried completion adds nothing. The
-- caller has checked fan_in_task_problem.
local function fan_in_task(acq, jid, group, now)
	if redis.call('SADD', k_gdone(acq, group), jid) == 1 and group_settled(acq, group) then
		queue_stitch(acq, '@group:' .. group, group, now)
	end
end

-- The fan-in after a group stitch finished: the one that settles the last group
-- (>= 2 groups) queues the acquisition stitch. The caller has checked
-- fan_in_group_problem.
local function fan_in_group(acq, group, now)
	if redis.call('SADD', k_sdone(acq), group) == 1 and acq_settled(acq) then
		queue_stitch(acq, '@acq', '', now)
	end
end

-- Writes a task job's descriptive fields from ARGV[first..first+11]:
-- acq jid group version spec outdir max_attempts backoff_ms
-- need_vram.extract need_ram.extract need_vram.reconstruct need_ram.reconstruct
-- into h, with the job reset to attempt 0 at stage `stage`.
local function task_fields(h, first, stage, now)
	local a = function(i) return ARGV[first + i] end
	local nv = {extract = str(a(TA_VRAM_EXTRACT)), reconstruct = str(a(TA_VRAM_RECONSTRUCT))}
	local nr = {extract = str(a(TA_RAM_EXTRACT)), reconstruct = str(a(TA_RAM_RECONSTRUCT))}
	put(h, 'kind', 'task', 'group', a(TA_GROUP), 'name', a(TA_JID), 'version', a(TA_VERSION),
		'spec', a(TA_SPEC), 'outdir', a(TA_OUTDIR), 'max_attempts',
		str(num(a(TA_MAX_ATTEMPTS), 1)), 'backoff_ms', str(a(TA_BACKOFF_MS)),
		'need_vram_mib.extract', nv.extract, 'need_ram_mib.extract', nr.extract,
		'need_vram_mib.reconstruct', nv.reconstruct, 'need_ram_mib.reconstruct',
		nr.reconstruct, 'stage', stage, 'need_vram_mib', nv[stage], 'need_ram_mib', nr[stage],
		'attempts', '0', 'errors', '0', 'crashes', '0', 'owner', '', 'error', '',
		'done_token', '', 'progress_done', '0', 'progress_total', '0', 'lease_until_ms', '0',
		'inputs', '[]', 'updated_ms', now)
end

-- The keys a task-writing transition (enqueue, repair) adds to, checked: nil
-- or what is wrong. The job's own key is checked by reading it.
local function task_keys_problem(acq, group, queue_stage)
	return wrong_type(k_acqs(), 'set', k_groups(acq), 'set', k_members(acq, group),
		'set', k_queue(queue_stage, acq), 'list', k_job(acq, '@group:' .. group), 'hash',
		k_job(acq, '@acq'), 'hash')
end

-- Registers a task's acquisition, group and membership; if it moved from the
-- group `old` (a group name as read; anything else is ignored), that group
-- forgets it. The caller has checked task_keys_problem.
local function task_membership(acq, jid, group, old, now)
	if type(old) == 'string' and old ~= '' and old ~= group and is_name(old) then
		rem('SREM', k_members(acq, old), jid)
		rem('SREM', k_gdone(acq, old), jid)
		rem('SREM', k_gcancel(acq, old), jid)
		reopen_group(acq, old, now)
	end
	redis.call('SADD', k_acqs(), acq)
	redis.call('SADD', k_groups(acq), group)
	redis.call('SADD', k_members(acq, group), jid)
end

