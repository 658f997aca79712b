-- common_jobs.lua: helpers shared by the scanq scripts, continued (after
-- common.lua, whose definitions these use): moving jobs between queues, the
-- fan-in, task fields, claiming. Same conventions as common.lua.

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
	local k = P .. 'failed:' .. acq
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
	if type(st) == 'string' and st ~= 'waiting' then
		unqueue(acq, sjid, jkey)
		redis.call('HSET', jkey, 'state', 'waiting', 'owner', '', 'updated_ms', now)
	end
	if st == 'failed' then
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
	rem('SREM', P .. 'sdone:' .. acq, group)
	rem('SREM', P .. 'scancel:' .. acq, group)
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
		rem('SREM', P .. 'scancel:' .. acq, f.group or '')
	end
end

-- True while the acquisition is paused (P paused): claims pass it by. A P
-- paused of the wrong type pauses nothing (status names the key).
local function is_paused(acq)
	return redis.pcall('SISMEMBER', P .. 'paused', acq) == 1
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
	local k = group ~= '' and k_gdone(acq, group) or P .. 'sdone:' .. acq
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
		'state', 'queued', 'stage', 'stitch', 'attempts', '0', 'errors', '0', 'crashes', '0',
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
	if st == 'queued' or st == 'leased' or st == 'retry' then
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
		rem('SREM', P .. 'sdone:' .. acq, group)
		rem('SREM', P .. 'scancel:' .. acq, group)
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
	return wrong_type(P .. 'sdone:' .. acq, 'set', P .. 'groups:' .. acq, 'set',
		P .. 'scancel:' .. acq, 'set')
end

-- True when the acquisition has >= 2 groups, each with its stitch done or
-- cancelled (P scancel), one at least done: the acquisition stitch can run.
-- The keys are checked (fan_in_group_problem).
local function acq_settled(acq)
	local ngroups = redis.call('SCARD', P .. 'groups:' .. acq)
	local done = redis.call('SCARD', P .. 'sdone:' .. acq)
	return ngroups >= 2 and done > 0 and
		done + redis.call('SCARD', P .. 'scancel:' .. acq) == ngroups
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
	if redis.call('SADD', P .. 'sdone:' .. acq, group) == 1 and acq_settled(acq) then
		queue_stitch(acq, '@acq', '', now)
	end
end

-- Writes a task job's descriptive fields from ARGV[first..first+11]:
-- acq jid group version spec outdir max_attempts backoff_ms
-- need_vram.extract need_ram.extract need_vram.reconstruct need_ram.reconstruct
-- into h, with the job reset to attempt 0 at stage `stage`.
local function task_fields(h, first, stage, now)
	local a = function(i) return ARGV[first + i] end
	local nv = {extract = str(a(8)), reconstruct = str(a(10))}
	local nr = {extract = str(a(9)), reconstruct = str(a(11))}
	put(h, 'kind', 'task', 'group', a(2), 'name', a(1), 'version', a(3), 'spec', a(4),
		'outdir', a(5), 'max_attempts', str(num(a(6), 1)), 'backoff_ms', str(a(7)),
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
	return wrong_type(P .. 'acqs', 'set', P .. 'groups:' .. acq, 'set', k_members(acq, group),
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
	redis.call('SADD', P .. 'acqs', acq)
	redis.call('SADD', P .. 'groups:' .. acq, group)
	redis.call('SADD', k_members(acq, group), jid)
end

-- --- claiming (claim.lua, and complete.lua when it claims the next job) ---

-- The claim options of the running call, set by claim_opts: plain locals
-- rather than a table, which costs more to build than the whole option parse.
local CO_WID, CO_LEASE_MS, CO_HOST, CO_VRAM, CO_RAM, CO_S0, CO_NS, CO_A0, CO_NA

-- Claim options from ARGV[i..]: lease_ms host free_vram_mib free_ram_mib
-- nstages stage* nacqs acq* (nacqs 0: every acquisition in P acqs). Stages and
-- acquisitions stay in ARGV: stage k is ARGV[CO_S0 + k], acquisition k
-- ARGV[CO_A0 + k]. Numbers are kept as strings until needed.
local function claim_opts(wid, i)
	CO_WID, CO_LEASE_MS, CO_HOST, CO_VRAM, CO_RAM = wid, ARGV[i], ARGV[i + 1], ARGV[i + 2],
		ARGV[i + 3]
	CO_S0, CO_NS = i + 4, ARGV[i + 4] + 0
	CO_A0 = CO_S0 + CO_NS + 1
	CO_NA = ARGV[CO_A0] + 0
end

-- true if v is one of the n ARGV items after index first
local function argv_has(first, n, v)
	for k = 1, n do
		if ARGV[first + k] == v then
			return true
		end
	end
	return false
end

local function serves(stage)
	return argv_has(CO_S0, CO_NS, stage)
end

local function allows(acq)
	return CO_NA == 0 or argv_has(CO_A0, CO_NA, acq)
end

-- True when a job needing vram/ram MiB (decimal strings) fits the claimer.
local function fits(vram, ram)
	if (not vram or vram == '0') and (not ram or ram == '0') then
		return true
	end
	vram, ram = num(vram), num(ram)
	local free_vram, free_ram = CO_VRAM + 0, CO_RAM + 0
	if vram > 0 and (free_vram < 0 or vram > free_vram) then
		return false
	end
	return not (ram > 0 and free_ram >= 0 and ram > free_ram)
end

-- A new lease: a token from P fence and the deadline. When P fence is not a
-- counter no job can be leased: the script fails with that, and since this is
-- the lease's first write, nothing of the lease was written.
local function new_token(now)
	local t = redis.pcall('INCR', P .. 'fence')
	if perr(t) then
		error({err = "cannot lease jobs: key '" .. P .. "fence' does not hold a counter (" ..
			perr(t) .. ')'})
	end
	return t, ms_after(now, CO_LEASE_MS)
end

-- A claim's reply: {acq, jid, kind, stage, version, spec, {inputs...}, token,
-- attempt} (token and attempt as Redis gives them: integer or decimal string).
-- f: the job's fields, checked (inputs, when a stitch's, is a JSON array).
local function job_reply(acq, jid, f, stage, token, attempt)
	local inputs = {}
	if f.kind and f.kind ~= 'task' and f.inputs then
		inputs = cjson.decode(f.inputs)
	end
	return {acq, jid, f.kind or 'task', stage, f.version or '', f.spec or '', inputs, token,
		attempt}
end

-- What a claim reads of a queued job, and checks: the fields it decides on
-- and those later scripts will, so that a job nobody could finish is
-- dead-lettered before any work is done on it (owner and token are the
-- lease's, written by it).
local CLAIM_FIELDS = {'state', 'stage', 'kind', 'group', 'need_vram_mib', 'need_ram_mib',
	'version', 'spec', 'inputs', 'attempts', 'max_attempts', 'errors', 'crashes', 'backoff_ms'}
-- What a claim reads of the job a worker holds.
local HELD_FIELDS = {'state', 'owner', 'token', 'stage', 'kind', 'group', 'version', 'spec',
	'inputs', 'attempts', 'max_attempts', 'errors', 'crashes', 'backoff_ms'}

-- A claim retried after a lost reply gets the job it already holds. A P
-- owned:<wid> that names no lease of ours is dropped; a held job that cannot
-- be used is dead-lettered.
local function held(now)
	local k = P .. 'owned:' .. CO_WID
	local owned = redis.pcall('GET', k)
	if not owned then
		return nil
	end
	local acq, jid = owned_job(owned)
	local f = acq and read_hash(k_job(acq, jid), HELD_FIELDS)
	if f and f.state == 'leased' and f.owner == CO_WID then
		local bad = job_problem(f, HELD_FIELDS)
		local until_ms = ms_after(now, CO_LEASE_MS)
		if bad then
			bury(acq, jid, f, nil, bad, now)
		elseif not perr(redis.pcall('ZADD', k_leased(acq), until_ms, jid)) then
			redis.call('HSET', k_job(acq, jid), 'lease_until_ms', until_ms)
			return job_reply(acq, jid, f, f.stage, f.token, f.attempts)
		end
	end
	redis.call('DEL', k)
	return nil
end

-- Leases job jid (fields f, checked) just found in queue q of stage.
-- Returns the reply, or nil when leased:<acq> is of the wrong type (nothing
-- is changed but a fencing token spent).
local function lease_queued(acq, jid, q, f, stage, now)
	local attempt = '1' -- the common case, without a number conversion
	if f.attempts and f.attempts ~= '0' then
		attempt = str(num(f.attempts) + 1)
	end
	local token, until_ms = new_token(now)
	if perr(redis.pcall('ZADD', k_leased(acq), until_ms, jid)) then
		return nil
	end
	redis.call('LREM', q, '-1', jid)
	redis.call('HSET', k_job(acq, jid), 'state', 'leased', 'owner', CO_WID, 'token',
		string.format('%d', token), 'host', CO_HOST, 'claimed_ms', now, 'lease_until_ms',
		until_ms, 'progress_done', '0', 'progress_total', '0', 'updated_ms', now, 'attempts',
		attempt)
	redis.call('SET', P .. 'owned:' .. CO_WID, acq .. '\t' .. jid)
	return job_reply(acq, jid, f, stage, token, attempt)
end

-- Looks at jid, found in queue q of stage: 'take' with its fields when it is
-- queued there and fits the claimer, 'skip' when it does not fit, 'gone' when
-- the entry was dropped (the job moved on or is no more) or the job
-- dead-lettered (it cannot be used), 'stop' when it cannot be (the
-- dead-letter keys are of the wrong type: the acquisition waits, status says
-- why).
local function look(acq, stage, q, jid, now)
	local f, bad = read_hash(k_job(acq, jid), CLAIM_FIELDS)
	if f and f.n == 0 then
		redis.call('LREM', q, '-1', jid)
		return 'gone'
	end
	bad = bad or job_problem(f, CLAIM_FIELDS)
	if bad then
		return bury(acq, jid, f, stage, bad, now) and 'gone' or 'stop'
	end
	if f.state ~= 'queued' or f.stage ~= stage then
		redis.call('LREM', q, '-1', jid)
		return 'gone'
	end
	if fits(f.need_vram_mib, f.need_ram_mib) then
		return 'take', f
	end
	return 'skip'
end

-- Takes the oldest job of stage:acq whose VRAM/RAM needs fit the claimer
-- (among the LOOK_MAX oldest) and leases it; entries whose job moved on are
-- dropped, jobs that cannot be used dead-lettered. Returns the reply, or nil.
local function take(acq, stage, now)
	local q = k_queue(stage, acq)
	local ids = redis.pcall('LRANGE', q, LOOK_REST, '-1')
	if perr(ids) then
		return nil -- not a list: the acquisition waits (status says why)
	end
	for i = #ids, 1, -1 do
		local what, f = look(acq, stage, q, ids[i], now)
		if what == 'take' then
			return lease_queued(acq, ids[i], q, f, stage, now)
		elseif what == 'stop' then
			return nil
		end
	end
	return nil
end

-- The acquisitions a claim looks at, sorted.
local function claim_acqs()
	local acqs
	if CO_NA == 0 then
		acqs = redis.pcall('SMEMBERS', P .. 'acqs')
		if perr(acqs) then
			return {} -- not a set: nothing can be found (status says why)
		end
	else
		acqs = {}
		for k = 1, CO_NA do
			acqs[k] = ARGV[CO_A0 + k]
		end
	end
	if #acqs > 1 then
		table.sort(acqs)
	end
	return acqs
end

-- Per stage (in o's order), acquisitions round-robin starting after the one
-- served last (P cursor:<stage>), so successive claims serve different
-- acquisitions when several have work; with one there is no cursor to keep.
local function claim_stage(acqs, stage, now)
	local n = #acqs
	if n == 1 then
		return take(acqs[1], stage, now)
	end
	local ckey = P .. 'cursor:' .. stage
	local cursor = redis.pcall('GET', ckey)
	if type(cursor) ~= 'string' then
		cursor = '' -- none, or not a string: SET below replaces it
	end
	local start = 1
	for i = 1, n do
		if acqs[i] > cursor then
			start = i
			break
		end
	end
	for k = 0, n - 1 do
		local acq = acqs[(start - 1 + k) % n + 1]
		local job = take(acq, stage, now)
		if job then
			redis.call('SET', ckey, acq)
			return job
		end
	end
	return nil
end

-- acqs without the paused ones (P paused, usually empty: one SMEMBERS).
local function unpaused(acqs)
	local paused = redis.pcall('SMEMBERS', P .. 'paused')
	if perr(paused) or #paused == 0 then
		return acqs
	end
	local skip, out = {}, {}
	for _, a in ipairs(paused) do
		skip[a] = true
	end
	for _, a in ipairs(acqs) do
		if not skip[a] then
			out[#out + 1] = a
		end
	end
	return out
end

-- Claims one job for the claim options from the queues (after due
-- maintenance, which paused acquisitions get too: their leases still expire),
-- or nil.
local function claim_queued(now)
	if CO_NA == 1 then -- the common case, without a table of one
		local acq = ARGV[CO_A0 + 1]
		maintain_due(acq, now)
		if is_paused(acq) then
			return nil
		end
		for k = 1, CO_NS do
			local job = take(acq, ARGV[CO_S0 + k], now)
			if job then
				return job
			end
		end
		return nil
	end
	local acqs = claim_acqs()
	for _, acq in ipairs(acqs) do
		maintain_due(acq, now)
	end
	acqs = unpaused(acqs)
	for k = 1, CO_NS do
		local job = claim_stage(acqs, ARGV[CO_S0 + k], now)
		if job then
			return job
		end
	end
	return nil
end

-- --- operator actions (scanq-ctl: cancel, retry, clear, show) ---

-- The jobs a target names, in order (a group's tasks sorted, then its stitch):
-- '' every job of acq; '@acq' its stitch; '@group:<g>' or a group's name the
-- group's tasks and stitch; else a task. Returns what was named ('acq', 'group',
-- 'task' or 'stitch') and the jids, or nil and a message.
local function target_jobs(acq, target)
	if redis.call('SISMEMBER', P .. 'acqs', acq) == 0 then
		return nil, "no acquisition '" .. acq .. "'"
	end
	local kgroups = P .. 'groups:' .. acq
	local g = string.match(target, '^@group:(.+)$')
	local is_task = target ~= '' and redis.call('HGET', k_job(acq, target), 'kind') == 'task'
	if target == '@acq' then
		if redis.call('EXISTS', k_job(acq, '@acq')) == 0 then
			return nil, "acquisition '" .. acq .. "' has no acquisition stitch (one group)"
		end
		return 'stitch', {'@acq'}
	end
	if not g and target ~= '' and redis.call('SISMEMBER', kgroups, target) == 1 then
		if is_task then
			return nil, "'" .. target .. "' is both a task and a group of '" .. acq ..
				"': name the group '@group:" .. target .. "'"
		end
		g = target
	end
	if target ~= '' and not g then
		if is_task then
			return 'task', {target}
		end
		return nil, "no task or group '" .. target .. "' in acquisition '" .. acq .. "'"
	end
	local groups = g and {g} or redis.call('SMEMBERS', kgroups)
	if g and redis.call('SISMEMBER', kgroups, g) == 0 then
		return nil, "no group '" .. g .. "' in acquisition '" .. acq .. "'"
	end
	table.sort(groups)
	local jids = {}
	for _, grp in ipairs(groups) do
		local m = redis.call('SMEMBERS', k_members(acq, grp))
		table.sort(m)
		for _, j in ipairs(m) do
			jids[#jids + 1] = j
		end
		jids[#jids + 1] = '@group:' .. grp
	end
	if not g and redis.call('EXISTS', k_job(acq, '@acq')) == 1 then
		jids[#jids + 1] = '@acq'
	end
	return g and 'group' or 'acq', jids
end

-- {"error": msg}: how the operator scripts say no (the C side makes it an error).
local function refuse(msg)
	return '{"error":' .. jstr(msg) .. '}'
end
