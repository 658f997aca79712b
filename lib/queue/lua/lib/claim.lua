-- lib/claim.lua: claiming (claim.lua, and complete.lua when it claims the next job).
-- Helpers shared by the scripts (see lib/keys.lua for the conventions);
-- embed.py prepends to each script only the definitions it uses.

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
	local t = redis.pcall('INCR', k_fence())
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
	local k = k_owned(CO_WID)
	local owned = redis.pcall('GET', k)
	if not owned then
		return nil
	end
	local acq, jid = owned_job(owned)
	local f = acq and read_hash(k_job(acq, jid), HELD_FIELDS)
	if holds(f, CO_WID) then
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
	redis.call('HSET', k_job(acq, jid), 'state', ST_LEASED, 'owner', CO_WID, 'token',
		string.format('%d', token), 'host', CO_HOST, 'claimed_ms', now, 'lease_until_ms',
		until_ms, 'progress_done', '0', 'progress_total', '0', 'updated_ms', now, 'attempts',
		attempt)
	redis.call('SET', k_owned(CO_WID), acq .. '\t' .. jid)
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
	if f.state ~= ST_QUEUED or f.stage ~= stage then
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
		acqs = redis.pcall('SMEMBERS', k_acqs())
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
	local ckey = k_cursor(stage)
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
	local paused = redis.pcall('SMEMBERS', k_paused())
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

