-- reinject.lua: repair's writes. Never touches a job that is queued, leased or
-- waiting for a retry; a failed one only with retry_failed.
-- task:   P 'task' <12 task fields as in enqueue> from retry_failed -> 1 injected / 0
--         Puts the task at stage `from`, clearing its done marks from there on
--         (so its group and acquisition stitches re-run by fan-in).
-- done:   P 'done' <12 task fields> -> 1 / 0
--         Records the task done through reconstruct (outputs on disk, Redis lost
--         it) without queueing anything, so fan-in counts it.
-- stitch: P 'stitch' acq sjid group spec version outdir max_attempts backoff_ms
--         need_vram need_ram retry_failed -> 1 queued / 0
--         Queues a stitch now with inputs from the done members.

local mode, acq, jid, group = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local jkey = k_job(acq, jid)
local now = now_ms()

-- 0 when the job must be left alone; clears the dead marks of a retried one.
local function may_touch(retry_failed)
	local st = redis.call('HGET', jkey, 'state')
	if st == 'queued' or st == 'leased' or st == 'retry' then
		return false
	end
	if st == 'failed' then
		if not retry_failed then
			return false
		end
		clear_dead_letters(acq, jid)
	end
	return true
end

local function inject_task()
	local from = ARGV[15]
	if not may_touch(ARGV[16] == '1') then
		return 0
	end
	task_membership(acq, jid, jkey, group, now)
	unqueue(acq, jid, jkey)
	if from == 'extract' then
		redis.call('SREM', k_done(acq, 'extract'), jid)
	end
	redis.call('SREM', k_done(acq, 'reconstruct'), jid)
	redis.call('SREM', k_gdone(acq, group), jid)
	reopen_group(acq, group, now)
	task_fields(jkey, 3, now)
	redis.call('HSET', jkey, 'state', 'queued')
	set_stage(jkey, from)
	redis.call('LPUSH', k_queue(from, acq), jid)
	ring(from)
	return 1
end

local function mark_done()
	if not may_touch(true) then
		return 0
	end
	task_membership(acq, jid, jkey, group, now)
	unqueue(acq, jid, jkey)
	task_fields(jkey, 3, now)
	redis.call('HSET', jkey, 'state', 'done')
	set_stage(jkey, 'reconstruct')
	redis.call('SADD', k_done(acq, 'extract'), jid)
	redis.call('SADD', k_done(acq, 'reconstruct'), jid)
	redis.call('SADD', k_gdone(acq, group), jid)
	return 1
end

local function inject_stitch()
	if not may_touch(ARGV[13] == '1') then
		return 0
	end
	if #stitch_inputs(acq, group) == 0 then
		return 0
	end
	redis.call('SADD', P .. 'acqs', acq)
	if group ~= '' then
		redis.call('SADD', P .. 'groups:' .. acq, group)
		reopen_stitch(acq, '@acq', now)
	end
	redis.call('HSET', k_acq(acq), 'spec:' .. jid, ARGV[6], 'version:' .. jid, ARGV[7],
		'outdir:' .. jid, ARGV[8], 'stitch_max_attempts', num(ARGV[9], 1),
		'stitch_backoff_ms', num(ARGV[10]), 'need_vram_mib.stitch', num(ARGV[11]),
		'need_ram_mib.stitch', num(ARGV[12]))
	return queue_stitch(acq, jid, group, now)
end

if mode == 'task' then
	return inject_task()
elseif mode == 'done' then
	return mark_done()
end
return inject_stitch()
