-- reinject.lua: repair's writes. Never touches a job that is queued, leased or
-- waiting for a retry; a failed or cancelled one only with retry_failed (or
-- when recording work done on disk, which supersedes the failure).
-- task:   P 'task' <12 task fields as in enqueue> from retry_failed -> 1 injected / 0
--         Puts the task at stage `from`, clearing its done marks from there on
--         (so its group and acquisition stitches re-run by fan-in).
-- done:   P 'done' <12 task fields> -> 1 marked / 0
--         Records the task done through reconstruct (outputs on disk, Redis lost
--         it) without queueing anything, so fan-in counts it.
-- stitch: P 'stitch' <stitch fields> retry_failed -> 1 queued / 0
--         Queues a stitch now with inputs from the done members.
-- stitch_done: P 'stitch_done' <stitch fields> -> 1 marked / 0
--         Records a stitch done (its output is on disk) without queueing it: a
--         group stitch counts towards the acquisition fan-in (sdone:<acq>).
-- <stitch fields>: acq sjid group spec version outdir max_attempts backoff_ms
--         need_vram need_ram

local mode, acq, jid, group = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local jkey = k_job(acq, jid)
local now = now_ms()

-- 0 when the job must be left alone; clears the dead marks of a retried one.
local function may_touch(retry_failed)
	local st = redis.call('HGET', jkey, 'state')
	if st == 'queued' or st == 'leased' or st == 'retry' then
		return false
	end
	if st == 'failed' or st == 'cancelled' then
		if not retry_failed then
			return false
		end
		clear_dead_letters(acq, jid)
		uncancel(acq, jid)
	end
	return true
end

local function inject_task()
	local from = ARGV[15]
	if not may_touch(ARGV[16] == '1') then
		return 0
	end
	task_membership(acq, jid, group, redis.call('HGET', jkey, 'group'), now)
	unqueue(acq, jid, jkey)
	if from == 'extract' then
		redis.call('SREM', k_done(acq, 'extract'), jid)
	end
	redis.call('SREM', k_done(acq, 'reconstruct'), jid)
	redis.call('SREM', k_gdone(acq, group), jid)
	reopen_group(acq, group, now)
	local h = {}
	task_fields(h, 3, from, now)
	put(h, 'state', 'queued')
	redis.call('HSET', jkey, unpack(h))
	redis.call('HSETNX', jkey, 'created_ms', now)
	redis.call('LPUSH', k_queue(from, acq), jid)
	ring(from)
	return 1
end

local function mark_done()
	if not may_touch(true) then
		return 0
	end
	task_membership(acq, jid, group, redis.call('HGET', jkey, 'group'), now)
	unqueue(acq, jid, jkey)
	local h = {}
	task_fields(h, 3, 'reconstruct', now)
	put(h, 'state', 'done')
	redis.call('HSET', jkey, unpack(h))
	redis.call('HSETNX', jkey, 'created_ms', now)
	redis.call('SADD', k_done(acq, 'extract'), jid)
	redis.call('SADD', k_done(acq, 'reconstruct'), jid)
	redis.call('SADD', k_gdone(acq, group), jid)
	return 1
end

-- Registers the stitch's spec where fan-in reads it (P acq:<acq>).
local function register_stitch()
	redis.call('SADD', P .. 'acqs', acq)
	redis.call('HSET', k_acq(acq), 'spec:' .. jid, ARGV[6], 'version:' .. jid, ARGV[7],
		'outdir:' .. jid, ARGV[8], 'stitch_max_attempts', str(num(ARGV[9], 1)),
		'stitch_backoff_ms', str(ARGV[10]), 'need_vram_mib.stitch', str(ARGV[11]),
		'need_ram_mib.stitch', str(ARGV[12]))
	if group ~= '' then
		redis.call('SADD', P .. 'groups:' .. acq, group)
	end
end

local function inject_stitch()
	if not may_touch(ARGV[13] == '1') then
		return 0
	end
	if #stitch_inputs(acq, group) == 0 then
		return 0
	end
	register_stitch()
	if group ~= '' then
		reopen_stitch(acq, '@acq', now)
	end
	return queue_stitch(acq, jid, group, now)
end

local function mark_stitch_done()
	if not may_touch(true) then
		return 0
	end
	register_stitch()
	unqueue(acq, jid, jkey)
	redis.call('HSET', jkey, 'kind', group ~= '' and 'group' or 'acq', 'group', group,
		'name', jid, 'stage', 'stitch', 'state', 'done',
		'inputs', json_array(stitch_inputs(acq, group)), 'spec', ARGV[6], 'version', ARGV[7],
		'outdir', ARGV[8], 'max_attempts', str(num(ARGV[9], 1)), 'backoff_ms', str(ARGV[10]),
		'need_vram_mib.stitch', str(ARGV[11]), 'need_ram_mib.stitch', str(ARGV[12]),
		'need_vram_mib', str(ARGV[11]), 'need_ram_mib', str(ARGV[12]), 'attempts', '0',
		'errors', '0', 'crashes', '0', 'owner', '', 'error', '', 'updated_ms', now)
	redis.call('HSETNX', jkey, 'created_ms', now)
	redis.call('SADD', k_done(acq, 'stitch'), jid)
	if group ~= '' then
		redis.call('SADD', P .. 'sdone:' .. acq, group)
	end
	return 1
end

if mode == 'task' then
	return inject_task()
elseif mode == 'done' then
	return mark_done()
elseif mode == 'stitch_done' then
	return mark_stitch_done()
end
return inject_stitch()
