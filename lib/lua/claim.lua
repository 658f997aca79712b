-- claim.lua: leases one job to a worker, fairly across acquisitions.
-- ARGV: P wid lease_ms host free_vram_mib free_ram_mib nstages stage* nacqs acq*
-- (nacqs 0: every acquisition in P acqs).
-- -> nil, or {acq, jid, kind, stage, version, spec, {inputs...}, token, attempt}
--
-- Per stage (in the order given), acquisitions are tried round-robin starting
-- after the one served last (P cursor:<stage>), so successive claims serve
-- different acquisitions when several have work. Within a queue the oldest job
-- (right end) whose VRAM/RAM needs fit is taken, looking at up to LOOK_MAX.

local LOOK_MAX = 8
local wid, lease_ms, host = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local free_vram, free_ram = tonumber(ARGV[5]), tonumber(ARGV[6])
local nstages = tonumber(ARGV[7])
local stages, acqs = {}, {}
for i = 1, nstages do
	stages[i] = ARGV[7 + i]
end
local nacqs = tonumber(ARGV[8 + nstages])
for i = 1, nacqs do
	acqs[i] = ARGV[8 + nstages + i]
end
if nacqs == 0 then
	acqs = redis.call('SMEMBERS', P .. 'acqs')
end
table.sort(acqs)

local function reply(acq, jid, jkey)
	local f = redis.call('HMGET', jkey, 'kind', 'stage', 'version', 'spec', 'inputs', 'token',
		'attempts')
	local inputs = {}
	if f[5] and f[5] ~= '' then
		inputs = cjson.decode(f[5])
	end
	return {acq, jid, f[1] or 'task', f[2], f[3] or '', f[4] or '', inputs, f[6], f[7]}
end

local function fits(vram, ram)
	if vram > 0 and (free_vram < 0 or vram > free_vram) then
		return false
	end
	return not (ram > 0 and free_ram >= 0 and ram > free_ram)
end

-- Removes and returns the oldest fitting jid of stage:acq, or nil.
local function take(acq, stage)
	local q = k_queue(stage, acq)
	local ids = redis.call('LRANGE', q, -LOOK_MAX, -1)
	for i = #ids, 1, -1 do
		local jid = ids[i]
		local f = redis.call('HMGET', k_job(acq, jid), 'state', 'stage', 'need_vram_mib',
			'need_ram_mib')
		if f[1] ~= 'queued' or f[2] ~= stage then
			redis.call('LREM', q, -1, jid) -- a stray entry: the job moved on
		elseif fits(num(f[3]), num(f[4])) then
			redis.call('LREM', q, -1, jid)
			return jid
		end
	end
	return nil
end

local function lease(acq, jid, now)
	local jkey = k_job(acq, jid)
	local token = redis.call('INCR', P .. 'fence')
	local until_ms = now + lease_ms
	redis.call('HINCRBY', jkey, 'attempts', 1)
	redis.call('HSET', jkey, 'state', 'leased', 'owner', wid, 'token', token, 'host', host,
		'claimed_ms', now, 'lease_until_ms', until_ms, 'progress_done', 0,
		'progress_total', 0, 'updated_ms', now)
	redis.call('ZADD', k_leased(acq), until_ms, jid)
	redis.call('SET', P .. 'owned:' .. wid, acq .. '\t' .. jid .. '\t' .. token)
	return reply(acq, jid, jkey)
end

-- A claim retried after a lost reply gets the job it already holds.
local function held(now)
	local k = P .. 'owned:' .. wid
	local owned = redis.call('GET', k)
	if not owned then
		return nil
	end
	local acq, jid, token = string.match(owned, '^([^\t]*)\t([^\t]*)\t(.*)$')
	if acq and fenced(k_job(acq, jid), wid, token) then
		local until_ms = now + lease_ms
		redis.call('HSET', k_job(acq, jid), 'lease_until_ms', until_ms)
		redis.call('ZADD', k_leased(acq), until_ms, jid)
		return reply(acq, jid, k_job(acq, jid))
	end
	redis.call('DEL', k)
	return nil
end

local function claim_stage(stage, now)
	local n = #acqs
	local cursor = redis.call('GET', P .. 'cursor:' .. stage) or ''
	local start = 1
	for i = 1, n do
		if acqs[i] > cursor then
			start = i
			break
		end
	end
	for k = 0, n - 1 do
		local acq = acqs[(start - 1 + k) % n + 1]
		local jid = take(acq, stage)
		if jid then
			redis.call('SET', P .. 'cursor:' .. stage, acq)
			return lease(acq, jid, now)
		end
	end
	return nil
end

local now = now_ms()
local job = held(now)
if job then
	return job
end
for _, acq in ipairs(acqs) do
	maintain(acq, now)
end
for _, stage in ipairs(stages) do
	job = claim_stage(stage, now)
	if job then
		return job
	end
end
return false
