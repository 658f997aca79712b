-- enqueue.lua: registers an acquisition's stitch specs (mode 'acq'), pushes
-- one task (mode 'task'), removes the tasks a directory no longer has (mode
-- 'prune') and checks what Redis holds after a push (modes 'verify_acq',
-- 'verify'). Idempotent: the same version changes nothing.
--
-- acq:  P 'acq' acq template output_root max_attempts backoff_ms need_vram need_ram
--       task_dir replace n {sjid group spec version outdir}*n
--       -> 1, or {'owned', dir}: refused, nothing changed (the acquisition was
--       enqueued from task directory dir, not task_dir, and replace is not '1'),
--       or {'replaced', dir}: taken over from dir. task_dir '' is neither
--       checked nor recorded. Stores every stitch spec on P acq:<acq> (fan-in
--       reads them there) and creates the stitch jobs in state 'waiting' if
--       absent; a changed spec is written onto a job that is not leased.
-- task: P 'task' <the task fields of lib/queue/task_args.h: acq jid group
--       version spec outdir max_attempts backoff_ms need_vram.extract
--       need_ram.extract need_vram.reconstruct need_ram.reconstruct> run
--       -> 0 added, 1 unchanged, 2 updated (restarted at extract, old lease
--       fenced), or "refused: <why>" (a key of the wrong type; nothing
--       changed). run names the enqueue: a task it already pushed (a reply
--       lost to a reconnect) answers what that push did.
-- prune: P 'prune' acq n jid* -> {jid, outdir, ...}: every task of the
--       acquisition not among the n given is removed from Redis (queues,
--       leases, groups, done and dead marks, its hash); groups left empty go
--       with their stitch; the stitches that counted a removed task are
--       re-planned (back to waiting, or queued at once when every remaining
--       input is done).
-- verify_acq: P 'verify_acq' acq task_dir ngroups group* -> {problem...}
--       (empty: the acquisition is registered with every group's stitch spec)
-- verify: P 'verify' acq n {jid version group}*n -> {i...}: the 1-based
--       indexes of the tasks Redis does not hold at that version and group.

local acq = ARGV[3]

local function stitch_job_problem(i, n)
	for k = 0, n - 1 do
		local p = wrong_type(k_job(acq, ARGV[i + k * 5]), 'hash')
		if p then
			return p
		end
	end
	return nil
end

local function register_stitch(i, now)
	local sjid, group, spec, version, outdir = ARGV[i], ARGV[i + 1], ARGV[i + 2],
		ARGV[i + 3], ARGV[i + 4]
	redis.call('HSET', k_acq(acq), 'spec:' .. sjid, spec, 'version:' .. sjid, version,
		'outdir:' .. sjid, outdir)
	if group ~= '' then
		redis.call('SADD', k_groups(acq), group)
	elseif redis.call('SCARD', k_groups(acq)) < 2 then
		return -- one group: its stitch is final, there is no '@acq' job
	end
	local jkey = k_job(acq, sjid)
	local f = redis.call('HMGET', jkey, 'state', 'version')
	if not f[1] then
		redis.call('HSET', jkey, 'kind', group ~= '' and 'group' or 'acq', 'group', group,
			'name', sjid, 'stage', 'stitch', 'state', ST_WAITING, 'inputs', '[]',
			'attempts', '0', 'errors', '0', 'crashes', '0', 'created_ms', now)
	elseif f[2] == version or f[1] == ST_LEASED then
		return
	end
	redis.call('HSET', jkey, 'spec', spec, 'version', version, 'outdir', outdir,
		'max_attempts', str(num(ARGV[6], 1)), 'backoff_ms', str(ARGV[7]), 'updated_ms', now)
end

local function enqueue_acq()
	local now, dir, n = now_ms(), ARGV[10], tonumber(ARGV[12])
	local why = wrong_type(k_acqs(), 'set', k_acq(acq), 'hash', k_groups(acq), 'set')
		or stitch_job_problem(13, n)
	if why then
		error({err = "cannot register acquisition '" .. acq .. "': " .. why})
	end
	local old = redis.call('HGET', k_acq(acq), 'task_dir')
	local reply = 1
	if dir ~= '' and old and old ~= '' and old ~= dir then
		if ARGV[11] ~= '1' then
			return {'owned', old}
		end
		reply = {'replaced', old}
	end
	redis.call('SADD', k_acqs(), acq)
	redis.call('HSET', k_acq(acq), 'template', ARGV[4], 'output_root', ARGV[5],
		'stitch_max_attempts', str(num(ARGV[6], 1)), 'stitch_backoff_ms', str(ARGV[7]),
		'need_vram_mib.stitch', str(ARGV[8]), 'need_ram_mib.stitch', str(ARGV[9]),
		'updated_ms', now)
	if dir ~= '' then
		redis.call('HSET', k_acq(acq), 'task_dir', dir)
	end
	redis.call('HSETNX', k_acq(acq), 'created_ms', now)
	-- groups first, so the '@acq' entry (last) sees how many there are
	for k = 0, n - 1 do
		register_stitch(13 + k * 5, now)
	end
	return reply
end

local function enqueue_task()
	local jid, group, version = ARGV[3 + TA_JID], ARGV[3 + TA_GROUP], ARGV[3 + TA_VERSION]
	local run = ARGV[3 + TA_COUNT] or ''
	local jkey = k_job(acq, jid)
	local f, why = read_hash(jkey, {'version', 'group', 'enqueued_by'})
	why = why or task_keys_problem(acq, group, 'extract')
	if why then
		return 'refused: ' .. why
	end
	if f.version == version then
		local by, outcome = string.match(f.enqueued_by or '', '^(.*):(%d)$')
		return by == run and run ~= '' and tonumber(outcome) or 1
	end
	local now = now_ms()
	task_membership(acq, jid, group, f.group, now)
	if f.version then
		unqueue(acq, jid, jkey)
		forget_marks(acq, jid, group)
	end
	reopen_group(acq, group, now)
	local outcome = f.version and 2 or 0
	local h = {}
	task_fields(h, 3, 'extract', now)
	put(h, 'state', ST_QUEUED, 'enqueued_by', run .. ':' .. outcome)
	redis.call('HSET', jkey, unpack(h))
	redis.call('HSETNX', jkey, 'created_ms', now)
	redis.call('LPUSH', k_queue('extract', acq), jid)
	ring('extract')
	return outcome
end

-- Members of set key, or {} when it is of another type (nothing to prune).
local function members_of(key)
	local m = redis.pcall('SMEMBERS', key)
	return perr(m) and {} or m
end

-- Removes task jid of group from everything; returns its outdir ('' if unknown).
local function remove_task(jid, group)
	local jkey = k_job(acq, jid)
	local outdir = redis.pcall('HGET', jkey, 'outdir')
	unqueue(acq, jid, jkey)
	forget_marks(acq, jid, group)
	rem('SREM', k_members(acq, group), jid)
	redis.call('DEL', jkey, k_hist(acq, jid))
	return type(outdir) == 'string' and outdir or ''
end

-- Removes a stitch job (its group is gone, or '@acq' with fewer than two
-- groups) with its registration.
local function remove_stitch(sjid)
	local jkey = k_job(acq, sjid)
	unqueue(acq, sjid, jkey)
	rem('SREM', k_done(acq, 'stitch'), sjid)
	rem('SREM', k_cancelled(acq, 'stitch'), sjid)
	rem('ZREM', k_warn(acq, 'stitch'), sjid)
	clear_dead_letters(acq, sjid)
	redis.call('DEL', jkey, k_hist(acq, sjid))
	rem('HDEL', k_acq(acq), 'spec:' .. sjid, 'version:' .. sjid, 'outdir:' .. sjid)
end

-- After removals: a group whose every remaining member is done gets its
-- stitch now (no completion is left to do it); the acquisition stitch
-- likewise, or goes when fewer than two groups remain.
local function replan(touched, now)
	for g in pairs(touched) do
		local left = redis.pcall('SCARD', k_members(acq, g))
		if left == 0 then
			rem('SREM', k_groups(acq), g)
			rem('SREM', k_sdone(acq), g)
			rem('SREM', k_scancel(acq), g)
			redis.call('DEL', k_members(acq, g), k_gdone(acq, g), k_gcancel(acq, g))
			remove_stitch('@group:' .. g)
		elseif type(left) == 'number' then
			reopen_group(acq, g, now)
			if redis.pcall('SCARD', k_gdone(acq, g)) == left then
				queue_stitch(acq, '@group:' .. g, g, now)
			end
		end
	end
	local ngroups = redis.pcall('SCARD', k_groups(acq))
	if type(ngroups) == 'number' and ngroups < 2 then
		remove_stitch('@acq')
	elseif type(ngroups) == 'number' and redis.pcall('SCARD', k_sdone(acq)) == ngroups then
		queue_stitch(acq, '@acq', '', now)
	end
end

local function prune()
	local keep = {}
	for i = 1, tonumber(ARGV[4]) do
		keep[ARGV[4 + i]] = true
	end
	local removed, touched, now = {}, {}, now_ms()
	for _, g in ipairs(members_of(k_groups(acq))) do
		for _, jid in ipairs(members_of(k_members(acq, g))) do
			if not keep[jid] then
				table.insert(removed, jid)
				table.insert(removed, remove_task(jid, g))
				touched[g] = true
			end
		end
	end
	if #removed > 0 then
		replan(touched, now)
	end
	return removed
end

local function verify_acq()
	local problems = {}
	local a = read_hash(k_acq(acq), {'template', 'task_dir'})
	if redis.pcall('SISMEMBER', k_acqs(), acq) ~= 1 then
		table.insert(problems, "acquisition '" .. acq .. "' is not registered")
	end
	if not a or not a.template then
		table.insert(problems, "acquisition '" .. acq .. "' has no stitch template")
	elseif ARGV[4] ~= '' and a.task_dir ~= ARGV[4] then
		table.insert(problems, "acquisition '" .. acq .. "' names another task directory")
	end
	local n = tonumber(ARGV[5])
	for i = 1, n do
		local g = ARGV[5 + i]
		local sjids = {'@group:' .. g}
		if i == n and n >= 2 then
			table.insert(sjids, '@acq')
		end
		if redis.pcall('SISMEMBER', k_groups(acq), g) ~= 1 then
			table.insert(problems, "group '" .. g .. "' is not registered")
		end
		for _, sjid in ipairs(sjids) do
			if a and redis.pcall('HEXISTS', k_acq(acq), 'spec:' .. sjid) ~= 1 then
				table.insert(problems, "no stitch spec for '" .. sjid .. "'")
			end
		end
	end
	return problems
end

local function verify()
	local missing = {}
	for i = 1, tonumber(ARGV[4]) do
		local b = 5 + (i - 1) * 3
		local jid, version, group = ARGV[b], ARGV[b + 1], ARGV[b + 2]
		local f = read_hash(k_job(acq, jid), {'version', 'group'})
		if not f or f.version ~= version or f.group ~= group or
			redis.pcall('SISMEMBER', k_members(acq, group), jid) ~= 1 then
			table.insert(missing, i)
		end
	end
	return missing
end

local mode = ARGV[2]
if mode == 'acq' then
	return enqueue_acq()
elseif mode == 'prune' then
	return prune()
elseif mode == 'verify_acq' then
	return verify_acq()
elseif mode == 'verify' then
	return verify()
end
return enqueue_task()
