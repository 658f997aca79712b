-- enqueue.lua: registers an acquisition's stitch specs (mode 'acq') or pushes
-- one task (mode 'task'). Idempotent: the same version changes nothing.
--
-- acq:  P 'acq' acq template output_root max_attempts backoff_ms need_vram need_ram
--       n {sjid group spec version outdir}*n
--       -> 1. Stores every stitch spec on P acq:<acq> (fan-in reads them there) and
--       creates the stitch jobs in state 'waiting' if absent; a changed spec is
--       written onto a job that is not leased.
-- task: P 'task' acq jid group version spec outdir max_attempts backoff_ms
--       need_vram.extract need_ram.extract need_vram.reconstruct need_ram.reconstruct
--       -> 0 added, 1 unchanged, 2 updated (restarted at extract, old lease fenced)

local function register_stitch(acq, i, now)
	local sjid, group, spec, version, outdir = ARGV[i], ARGV[i + 1], ARGV[i + 2],
		ARGV[i + 3], ARGV[i + 4]
	redis.call('HSET', k_acq(acq), 'spec:' .. sjid, spec, 'version:' .. sjid, version,
		'outdir:' .. sjid, outdir)
	if group ~= '' then
		redis.call('SADD', P .. 'groups:' .. acq, group)
	elseif redis.call('SCARD', P .. 'groups:' .. acq) < 2 then
		return -- one group: its stitch is final, there is no '@acq' job
	end
	local jkey = k_job(acq, sjid)
	local f = redis.call('HMGET', jkey, 'state', 'version')
	if not f[1] then
		redis.call('HSET', jkey, 'kind', group ~= '' and 'group' or 'acq', 'group', group,
			'name', sjid, 'stage', 'stitch', 'state', 'waiting', 'inputs', '[]',
			'attempts', '0', 'errors', '0', 'crashes', '0', 'created_ms', now)
	elseif f[2] == version or f[1] == 'leased' then
		return
	end
	redis.call('HSET', jkey, 'spec', spec, 'version', version, 'outdir', outdir,
		'max_attempts', str(num(ARGV[6], 1)), 'backoff_ms', str(ARGV[7]), 'updated_ms', now)
end

local function enqueue_acq()
	local acq, now = ARGV[3], now_ms()
	redis.call('SADD', P .. 'acqs', acq)
	redis.call('HSET', k_acq(acq), 'template', ARGV[4], 'output_root', ARGV[5],
		'stitch_max_attempts', str(num(ARGV[6], 1)), 'stitch_backoff_ms', str(ARGV[7]),
		'need_vram_mib.stitch', str(ARGV[8]), 'need_ram_mib.stitch', str(ARGV[9]),
		'updated_ms', now)
	redis.call('HSETNX', k_acq(acq), 'created_ms', now)
	local n = tonumber(ARGV[10])
	-- groups first, so the '@acq' entry (last) sees how many there are
	for k = 0, n - 1 do
		register_stitch(acq, 11 + k * 5, now)
	end
	return 1
end

local function enqueue_task()
	local acq, jid, group, version = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
	local jkey = k_job(acq, jid)
	local f = redis.call('HMGET', jkey, 'version', 'group')
	if f[1] == version then
		return 1
	end
	local now = now_ms()
	task_membership(acq, jid, group, f[2], now)
	if f[1] then
		unqueue(acq, jid, jkey)
		forget_marks(acq, jid, group)
	end
	reopen_group(acq, group, now)
	local h = {}
	task_fields(h, 3, 'extract', now)
	put(h, 'state', 'queued')
	redis.call('HSET', jkey, unpack(h))
	redis.call('HSETNX', jkey, 'created_ms', now)
	redis.call('LPUSH', k_queue('extract', acq), jid)
	ring('extract')
	return f[1] and 2 or 0
end

if ARGV[2] == 'acq' then
	return enqueue_acq()
end
return enqueue_task()
