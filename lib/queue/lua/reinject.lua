-- reinject.lua: repair's reads and writes. Never touches a job that is queued,
-- leased or waiting for a retry; a failed or cancelled one only with
-- retry_failed (or when recording work done on disk, which supersedes the
-- failure). A key of the
-- wrong type makes a mode fail before its first write, naming it.
-- task:   P 'task' <the task fields of task_args.h, as in enqueue> from retry_failed
--         -> 1 injected / 0
--         Puts the task at stage `from`, clearing its done marks from there on
--         (so its group and acquisition stitches re-run by fan-in); from
--         reconstruct, its extract counts as done (its frames are on disk).
-- done:   P 'done' <the task fields> -> 1 marked / 0
--         Records the task done through reconstruct (outputs on disk, Redis lost
--         it) without queueing anything, so fan-in counts it.
-- stitch: P 'stitch' <stitch fields> retry_failed -> 1 queued / 0
--         Queues a stitch now with inputs from the done members.
-- stitch_done: P 'stitch_done' <stitch fields> -> 1 marked / 0
--         Records a stitch done (its output is on disk) without queueing it: a
--         group stitch counts towards the acquisition fan-in (sdone:<acq>).
-- acq:    P 'acq' acq template output_root max_attempts backoff_ms need_vram
--         need_ram task_dir n {sjid group spec version outdir}*n m {jid group}*m
--         -> 1
--         What an empty Redis lacks before any job is re-injected: the
--         acquisition, its stitch specs (kept where present: a changed
--         directory is scanq-enqueue's to push), its stitch jobs (waiting),
--         and every task's group membership, so that no fan-in fires before
--         the whole group is counted.
-- states: P 'states' acq n jid* -> {{state, stage, version} | {'!', why}}*n
--         (a job that cannot be read says why instead)
-- <stitch fields>: acq sjid group spec version outdir max_attempts backoff_ms
--         need_vram need_ram

local mode, acq, jid, group = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local jkey = k_job(acq, jid)
local now = now_ms()

-- Fails the call (nothing written yet) when why is set.
local function repair_refused(why)
	if why then
		error({err = "cannot repair '" .. acq .. '/' .. jid .. "': " .. why})
	end
end

-- false when the job must be left alone; clears the dead marks of a retried one.
local function may_touch(retry_failed)
	local st = redis.pcall('HGET', jkey, 'state')
	repair_refused(perr(st) and wrong_type(jkey, 'hash'))
	if st == ST_QUEUED or st == ST_LEASED or st == ST_RETRY then
		return false
	end
	if st == ST_FAILED or st == ST_CANCELLED then
		if not retry_failed then
			return false
		end
		clear_dead_letters(acq, jid)
		uncancel(acq, jid)
	end
	return true
end

local function inject_task()
	local from = ARGV[3 + TA_COUNT]
	repair_refused(task_keys_problem(acq, group, from) or
		wrong_type(k_done(acq, 'extract'), 'set', k_gdone(acq, group), 'set'))
	if not may_touch(ARGV[4 + TA_COUNT] == '1') then
		return 0
	end
	task_membership(acq, jid, group, redis.call('HGET', jkey, 'group'), now)
	unqueue(acq, jid, jkey)
	if from == 'extract' then
		rem('SREM', k_done(acq, 'extract'), jid)
	else
		redis.call('SADD', k_done(acq, 'extract'), jid)
	end
	rem('SREM', k_done(acq, 'reconstruct'), jid)
	rem('SREM', k_gdone(acq, group), jid)
	reopen_group(acq, group, now)
	local h = {}
	task_fields(h, 3, from, now)
	put(h, 'state', ST_QUEUED)
	redis.call('HSET', jkey, unpack(h))
	redis.call('HSETNX', jkey, 'created_ms', now)
	redis.call('LPUSH', k_queue(from, acq), jid)
	ring(from)
	return 1
end

local function mark_done()
	repair_refused(task_keys_problem(acq, group, 'extract') or
		wrong_type(k_done(acq, 'extract'), 'set', k_done(acq, 'reconstruct'), 'set',
			k_gdone(acq, group), 'set'))
	if not may_touch(true) then
		return 0
	end
	task_membership(acq, jid, group, redis.call('HGET', jkey, 'group'), now)
	unqueue(acq, jid, jkey)
	local h = {}
	task_fields(h, 3, 'reconstruct', now)
	put(h, 'state', ST_DONE)
	redis.call('HSET', jkey, unpack(h))
	redis.call('HSETNX', jkey, 'created_ms', now)
	redis.call('SADD', k_done(acq, 'extract'), jid)
	redis.call('SADD', k_done(acq, 'reconstruct'), jid)
	redis.call('SADD', k_gdone(acq, group), jid)
	return 1
end

local function acq_keys_problem()
	return wrong_type(k_acqs(), 'set', k_acq(acq), 'hash', k_groups(acq), 'set')
end

-- Registers the stitch's spec where fan-in reads it (P acq:<acq>).
local function register_stitch()
	redis.call('SADD', k_acqs(), acq)
	redis.call('HSET', k_acq(acq), 'spec:' .. jid, ARGV[6], 'version:' .. jid, ARGV[7],
		'outdir:' .. jid, ARGV[8], 'stitch_max_attempts', str(num(ARGV[9], 1)),
		'stitch_backoff_ms', str(ARGV[10]), 'need_vram_mib.stitch', str(ARGV[11]),
		'need_ram_mib.stitch', str(ARGV[12]))
	if group ~= '' then
		redis.call('SADD', k_groups(acq), group)
	end
end

local function inject_stitch()
	local inputs, why = stitch_inputs(acq, group)
	repair_refused(acq_keys_problem() or why)
	if #inputs == 0 or not may_touch(ARGV[13] == '1') then
		return 0
	end
	register_stitch()
	if group ~= '' then
		reopen_stitch(acq, '@acq', now)
	end
	return queue_stitch(acq, jid, group, now)
end

local function mark_stitch_done()
	repair_refused(acq_keys_problem() or wrong_type(k_done(acq, 'stitch'), 'set',
		k_sdone(acq), 'set'))
	if not may_touch(true) then
		return 0
	end
	register_stitch()
	unqueue(acq, jid, jkey)
	local inputs = stitch_inputs(acq, group) or {}
	redis.call('HSET', jkey, 'kind', group ~= '' and 'group' or 'acq', 'group', group,
		'name', jid, 'stage', 'stitch', 'state', ST_DONE, 'inputs', json_array(inputs),
		'spec', ARGV[6], 'version', ARGV[7], 'outdir', ARGV[8],
		'max_attempts', str(num(ARGV[9], 1)), 'backoff_ms', str(ARGV[10]),
		'need_vram_mib.stitch', str(ARGV[11]), 'need_ram_mib.stitch', str(ARGV[12]),
		'need_vram_mib', str(ARGV[11]), 'need_ram_mib', str(ARGV[12]), 'attempts', '0',
		'errors', '0', 'crashes', '0', 'owner', '', 'error', '', 'updated_ms', now)
	redis.call('HSETNX', jkey, 'created_ms', now)
	redis.call('SADD', k_done(acq, 'stitch'), jid)
	if group ~= '' then
		redis.call('SADD', k_sdone(acq), group)
	end
	return 1
end

-- mode 'acq': ARGV[3..9] as enqueue's, task_dir, then the stitches, then
-- the tasks.
local function register_acq()
	local n = tonumber(ARGV[11])
	local t0 = 12 + n * 5
	local m = tonumber(ARGV[t0])
	local checks = {}
	for k = 0, n - 1 do
		put(checks, k_job(acq, ARGV[12 + k * 5]), 'hash')
	end
	for k = 1, m do
		put(checks, k_members(acq, ARGV[t0 + k * 2]), 'set')
	end
	jid = '@acq'
	repair_refused(acq_keys_problem() or wrong_type(unpack(checks)))
	local a = k_acq(acq)
	redis.call('SADD', k_acqs(), acq)
	for i, f in ipairs({'template', 'output_root', 'stitch_max_attempts', 'stitch_backoff_ms',
		'need_vram_mib.stitch', 'need_ram_mib.stitch'}) do
		redis.call('HSETNX', a, f, i <= 2 and ARGV[3 + i] or str(ARGV[3 + i]))
	end
	if ARGV[10] ~= '' then
		redis.call('HSETNX', a, 'task_dir', ARGV[10])
	end
	redis.call('HSETNX', a, 'created_ms', now)
	for k = 0, n - 1 do
		local i = 12 + k * 5
		local sjid, g = ARGV[i], ARGV[i + 1]
		redis.call('HSETNX', a, 'spec:' .. sjid, ARGV[i + 2])
		redis.call('HSETNX', a, 'version:' .. sjid, ARGV[i + 3])
		redis.call('HSETNX', a, 'outdir:' .. sjid, ARGV[i + 4])
		if g ~= '' then
			redis.call('SADD', k_groups(acq), g)
		end
		if (g ~= '' or n >= 3) and redis.call('EXISTS', k_job(acq, sjid)) == 0 then
			redis.call('HSET', k_job(acq, sjid), 'kind', g ~= '' and 'group' or 'acq',
				'group', g, 'name', sjid, 'stage', 'stitch', 'state', ST_WAITING,
				'inputs', '[]', 'attempts', '0', 'errors', '0', 'crashes', '0',
				'spec', ARGV[i + 2], 'version', ARGV[i + 3], 'outdir', ARGV[i + 4],
				'created_ms', now)
		end
	end
	for k = 1, m do
		redis.call('SADD', k_members(acq, ARGV[t0 + k * 2]), ARGV[t0 + k * 2 - 1])
	end
	return 1
end

local function states()
	local out = {}
	for i = 1, tonumber(ARGV[4]) do
		local f, why = read_hash(k_job(acq, ARGV[4 + i]), {'state', 'stage', 'version'})
		if f then
			out[i] = {f.state or false, f.stage or false, f.version or false}
		else
			out[i] = {'!', why}
		end
	end
	return out
end

if mode == 'task' then
	return inject_task()
elseif mode == 'done' then
	return mark_done()
elseif mode == 'stitch_done' then
	return mark_stitch_done()
elseif mode == 'acq' then
	return register_acq()
elseif mode == 'states' then
	return states()
end
return inject_stitch()
