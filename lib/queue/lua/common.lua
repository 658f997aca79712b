-- common.lua: helpers shared by the scanq scripts. embed.py prepends to each
-- script only the definitions it uses, so this file holds nothing but top-level
-- `local` definitions (bodies indented). The data model is documented in
-- lib/queue/queue.h. Conventions: ARGV[1] is always the key prefix P; keys are built
-- here rather than passed as KEYS because claim discovers acquisitions at run
-- time (scanq does not support Redis Cluster). Time is always Redis's TIME, read
-- once per script. Hot paths read a job hash with one HMGET and write it with one
-- HSET, and hand redis.call strings rather than Lua numbers (formatting a number
-- costs about as much as a cheap command).

local P = ARGV[1]
local HISTORY_MAX = 32 -- attempts kept per job
local WAKE_MAX = 64 -- doorbell tokens kept per stage
local SCAN_MAX = '100' -- expired leases / due retries handled per call and acq
local MAINT_EVERY_MS = 250 -- lease expiry and retry promotion, per acquisition
local LOOK_MAX = 8 -- queued jobs a claim looks at for one that fits
local LOOK_REST = '-' .. LOOK_MAX -- LRANGE start of the LOOK_MAX oldest
local ALL_STAGES = {'extract', 'reconstruct', 'stitch'}

-- Redis TIME in ms, as a decimal string (by string operations: converting to
-- and from numbers costs more).
local function now_ms()
	local t = redis.call('TIME')
	return t[1] .. string.sub('00000' .. t[2], -6, -4)
end

-- now (a decimal string) plus ms, as a decimal string: redis.call is handed
-- strings (it formats a Lua number slower than string.format does).
local function ms_after(now, ms)
	return string.format('%d', now + ms)
end

local function k_job(acq, jid) return P .. 'job:' .. acq .. ':' .. jid end
local function k_hist(acq, jid) return P .. 'hist:' .. acq .. ':' .. jid end
local function k_queue(stage, acq) return P .. stage .. ':' .. acq end
local function k_leased(acq) return P .. 'leased:' .. acq end
local function k_delayed(acq) return P .. 'delayed:' .. acq end
local function k_done(acq, stage) return P .. 'done:' .. acq .. ':' .. stage end
local function k_dead(acq, stage) return P .. 'dead:' .. acq .. ':' .. stage end
local function k_members(acq, group) return P .. 'members:' .. acq .. ':' .. group end
local function k_gdone(acq, group) return P .. 'gdone:' .. acq .. ':' .. group end
local function k_acq(acq) return P .. 'acq:' .. acq end
local function k_cancelled(acq, stage) return P .. 'cancelled:' .. acq .. ':' .. stage end
local function k_gcancel(acq, group) return P .. 'gcancel:' .. acq .. ':' .. group end
local function k_warn(acq, stage) return P .. 'warn:' .. acq .. ':' .. stage end

local function num(v, dflt)
	return tonumber(v) or dflt or 0
end

-- A number read from Redis (or computed) as the decimal string redis.call wants.
local function str(v)
	return string.format('%d', tonumber(v) or 0)
end

-- Appends field/value pairs to h, the one HSET a script ends with.
local function put(h, ...)
	local n = #h
	for i, v in ipairs({...}) do
		h[n + i] = v
	end
end

-- HMGET of names into a table keyed by name (nil for absent fields).
local function hmget(key, names)
	local v = redis.call('HMGET', key, unpack(names))
	local f = {}
	for i, name in ipairs(names) do
		f[name] = v[i] or nil
	end
	return f
end

-- Wakes one idle worker of stage (BLPOP on the doorbell list).
local function ring(stage)
	local k = P .. 'wake:' .. stage
	if redis.call('LPUSH', k, '1') > WAKE_MAX then
		redis.call('LTRIM', k, '0', tostring(WAKE_MAX - 1))
	end
end

-- A JSON string; most values need no escaping, and cjson is only asked when
-- one does.
local function jstr(s)
	s = s or ''
	if string.find(s, '[%c"\\/\128-\255]') then
		return cjson.encode(s)
	end
	return '"' .. s .. '"'
end

-- Appends one attempt to P hist:<acq>:<jid> (oldest first, last HISTORY_MAX)
-- as "stage\tworker\thost\tattempt\tstart_ms\tend_ms\toutcome[\terror]": a
-- completion only concatenates; dead letters, which are rare, turn entries into
-- JSON (hist_json). attempt and start_ms are the decimal strings the job hash
-- holds (nil: 0).
local function add_history(acq, jid, stage, worker, host, attempt, start_ms, now, outcome, err)
	local e = stage .. '\t' .. (worker or '') .. '\t' .. (host or '') .. '\t' ..
		(attempt or '0') .. '\t' .. (start_ms or '0') .. '\t' .. now .. '\t' .. outcome
	if err then
		e = e .. '\t' .. err
	end
	local k = k_hist(acq, jid)
	if redis.call('RPUSH', k, e) > HISTORY_MAX then
		redis.call('LTRIM', k, tostring(-HISTORY_MAX), '-1')
	end
end

-- One history entry as the JSON object dead letters hold: {stage, worker, host,
-- attempt, start_ms, end_ms, outcome[, error]}.
local function hist_json(e)
	local stage, worker, host, attempt, start_ms, end_ms, outcome, err = string.match(e,
		'^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$')
	if not stage then
		return jstr(e) -- not ours: kept, as a string
	end
	local j = '{"stage":' .. jstr(stage) .. ',"worker":' .. jstr(worker) .. ',"host":' ..
		jstr(host) .. ',"attempt":' .. str(attempt) .. ',"start_ms":' .. str(start_ms) ..
		',"end_ms":' .. str(end_ms) .. ',"outcome":' .. jstr(outcome)
	if err ~= '' then
		j = j .. ',"error":' .. jstr(err)
	end
	return j .. '}'
end

-- Fields every lease-ending script reads (with one HMGET) for the fencing
-- check, the idempotency check and the history entry.
local LEASE_FIELDS = {'state', 'owner', 'token', 'done_token', 'done_outcome', 'kind', 'stage',
	'group', 'host', 'attempts', 'max_attempts', 'errors', 'crashes', 'claimed_ms', 'backoff_ms',
	'lease_until_ms'}

-- True when wid holds the lease read into f with this token (the fencing check).
local function fenced(f, wid, token)
	return f.state == 'leased' and f.owner == wid and f.token == token
end

-- Forgets P owned:<owner> if it still names this job.
local function disown(owner, acq, jid)
	if not owner or owner == '' then
		return
	end
	local k = P .. 'owned:' .. owner
	local v = redis.call('GET', k)
	local head = acq .. '\t' .. jid
	if v == head or (v and string.sub(v, 1, #head + 1) == head .. '\t') then
		redis.call('DEL', k)
	end
end

-- The job P owned:<wid> names ("<acq>\t<jid>"; before scanq kept the token
-- there, "<acq>\t<jid>\t<token>"): acq, jid, or nil.
local function owned_job(v)
	if v then
		return string.match(v, '^([^\t]*)\t([^\t]*)')
	end
	return nil
end

-- Ends the lease read into f: history entry (outcome, err), lease and
-- ownership gone, fields for h. done_token (and the done_outcome the caller
-- puts) let a retried call (lost reply) answer the same.
local function end_lease(acq, jid, f, h, outcome, err, now)
	add_history(acq, jid, f.stage, f.owner, f.host, f.attempts, f.claimed_ms, now, outcome, err)
	redis.call('ZREM', k_leased(acq), jid)
	disown(f.owner, acq, jid)
	put(h, 'owner', '', 'done_token', f.token or '', 'updated_ms', now)
end

-- The history list as a JSON array.
local function history_json(acq, jid)
	local list = redis.call('LRANGE', k_hist(acq, jid), '0', '-1')
	for i, e in ipairs(list) do
		list[i] = hist_json(e)
	end
	return '[' .. table.concat(list, ',') .. ']'
end

-- Moves a job to the dead-letter list (its history must hold the last
-- attempt). f: the job's fields, with errors/crashes as counted now.
local function dead_letter(acq, jid, jkey, f, h, err, now)
	local dl = '{"jid":' .. jstr(jid) .. ',"acq":' .. jstr(acq) .. ',"stage":' ..
		jstr(f.stage) .. ',"error":' .. jstr(err) .. ',"host":' .. jstr(f.host) ..
		',"attempts":' .. str(f.attempts) .. ',"errors":' .. str(f.errors) .. ',"crashes":' ..
		str(f.crashes) .. ',"time_ms":' .. now .. ',"history":' .. history_json(acq, jid) .. '}'
	put(h, 'state', 'failed', 'error', err, 'owner', '')
	redis.call('ZREM', k_leased(acq), jid)
	redis.call('ZREM', k_delayed(acq), jid)
	redis.call('LPUSH', P .. 'failed:' .. acq, dl)
	redis.call('SADD', k_dead(acq, f.stage), jid)
end

-- A lease ended without a result (worker crashed, expired, was killed):
-- counted as a crash, back to the FRONT of its queue, or dead when exhausted.
-- f: the job's LEASE_FIELDS.
local function crash(acq, jid, jkey, f, reason, now)
	local h = {}
	f.crashes = str(num(f.crashes) + 1)
	end_lease(acq, jid, f, h, 'crash', reason, now)
	put(h, 'crashes', f.crashes, 'done_outcome', 'crash')
	local outcome = 'queued'
	if num(f.attempts) >= num(f.max_attempts, 1) then
		dead_letter(acq, jid, jkey, f, h, reason, now)
		outcome = 'dead'
	else
		put(h, 'state', 'queued', 'error', reason)
		redis.call('RPUSH', k_queue(f.stage, acq), jid)
		ring(f.stage)
	end
	redis.call('HSET', jkey, unpack(h))
	return outcome
end

-- A P leased:<acq> score is the lease deadline or earlier (a lease chained to
-- the next stage keeps its entry): the job's lease_until_ms decides, and an
-- entry found early is re-armed with it.
local function expire_leases(acq, now)
	local ids = redis.call('ZRANGEBYSCORE', k_leased(acq), '-inf', now, 'LIMIT', '0', SCAN_MAX)
	for _, jid in ipairs(ids) do
		local jkey = k_job(acq, jid)
		local f = hmget(jkey, LEASE_FIELDS)
		if f.state ~= 'leased' then
			redis.call('ZREM', k_leased(acq), jid)
		elseif num(f.lease_until_ms) > tonumber(now) then
			redis.call('ZADD', k_leased(acq), f.lease_until_ms, jid)
		else
			crash(acq, jid, jkey, f, "lease expired: worker '" .. (f.owner or '') .. "' on '" ..
				(f.host or '') .. "' stopped heartbeating", now)
		end
	end
end

local function promote_retries(acq, now)
	local ids = redis.call('ZRANGEBYSCORE', k_delayed(acq), '-inf', now, 'LIMIT', '0', SCAN_MAX)
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

-- maintain, at most once per MAINT_EVERY_MS and acquisition (P maint:<acq>
-- holds when it is due next): claims run it on the way, and a deadline is seen
-- at most that much late while anyone claims (idle workers claim again after
-- each doorbell wait). A due time further ahead than that (Redis's clock went
-- back) does not count.
local function maintain_due(acq, now)
	local k = P .. 'maint:' .. acq
	local due = redis.call('GET', k)
	local ahead = due and (tonumber(due) or 0) - now
	if ahead and ahead > 0 and ahead <= MAINT_EVERY_MS then
		return
	end
	redis.call('SET', k, ms_after(now, MAINT_EVERY_MS))
	maintain(acq, now)
end

-- Takes a job out of every list/zset it may sit in (not the done sets).
local function unqueue(acq, jid, jkey)
	local owner = redis.call('HGET', jkey, 'owner')
	for _, s in ipairs(ALL_STAGES) do
		redis.call('LREM', k_queue(s, acq), '0', jid)
	end
	redis.call('ZREM', k_leased(acq), jid)
	redis.call('ZREM', k_delayed(acq), jid)
	disown(owner, acq, jid)
end

-- Removes the dead letters of jid from failed:<acq> (retry of a failed job).
local function clear_dead_letters(acq, jid)
	local k = P .. 'failed:' .. acq
	for _, dl in ipairs(redis.call('LRANGE', k, '0', '-1')) do
		local ok, v = pcall(cjson.decode, dl)
		if ok and type(v) == 'table' and v.jid == jid then
			redis.call('LREM', k, '0', dl)
		end
	end
	for _, s in ipairs(ALL_STAGES) do
		redis.call('SREM', k_dead(acq, s), jid)
	end
end

-- A stitch whose inputs changed goes back to waiting for its fan-in; a running
-- attempt is fenced (its completion will be STALE), a dead letter or an
-- operator's cancel of the old inputs' stitch no longer holds.
local function reopen_stitch(acq, sjid, now)
	local jkey = k_job(acq, sjid)
	local st = redis.call('HGET', jkey, 'state')
	if st and st ~= 'waiting' then
		unqueue(acq, sjid, jkey)
		redis.call('HSET', jkey, 'state', 'waiting', 'owner', '', 'updated_ms', now)
	end
	if st == 'failed' then
		clear_dead_letters(acq, sjid)
	end
	redis.call('SREM', k_done(acq, 'stitch'), sjid)
	redis.call('SREM', k_dead(acq, 'stitch'), sjid)
	redis.call('SREM', k_cancelled(acq, 'stitch'), sjid)
	redis.call('ZREM', k_warn(acq, 'stitch'), sjid)
end

-- A member of group changed: its group stitch and the acquisition stitch must
-- run again once it is done.
local function reopen_group(acq, group, now)
	redis.call('SREM', P .. 'sdone:' .. acq, group)
	redis.call('SREM', P .. 'scancel:' .. acq, group)
	reopen_stitch(acq, '@group:' .. group, now)
	reopen_stitch(acq, '@acq', now)
end

-- Forgets every mark of a task's past runs (done, dead, cancelled, warnings,
-- its group's fan-in) and its dead letters: a new version starts afresh.
local function forget_marks(acq, jid, group)
	for _, s in ipairs(ALL_STAGES) do
		redis.call('SREM', k_done(acq, s), jid)
		redis.call('SREM', k_cancelled(acq, s), jid)
		redis.call('ZREM', k_warn(acq, s), jid)
	end
	clear_dead_letters(acq, jid)
	redis.call('SREM', k_gdone(acq, group), jid)
	redis.call('SREM', k_gcancel(acq, group), jid)
	redis.call('HDEL', k_job(acq, jid), 'warnings.extract', 'warnings.reconstruct')
end

-- Takes back an operator's cancel of jid (retry, repair): its cancelled marks
-- and its place among the settled members of its group or acquisition.
local function uncancel(acq, jid)
	local kind, group = unpack(redis.call('HMGET', k_job(acq, jid), 'kind', 'group'))
	for _, s in ipairs(ALL_STAGES) do
		redis.call('SREM', k_cancelled(acq, s), jid)
	end
	if kind == 'task' then
		redis.call('SREM', k_gcancel(acq, group or ''), jid)
	elseif kind == 'group' then
		redis.call('SREM', P .. 'scancel:' .. acq, group or '')
	end
end

-- True while the acquisition is paused (P paused): claims pass it by.
local function is_paused(acq)
	return redis.call('SISMEMBER', P .. 'paused', acq) == 1
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
	local h = {'kind', group ~= '' and 'group' or 'acq', 'group', group, 'name', sjid,
		'state', 'queued', 'stage', 'stitch', 'inputs', json_array(stitch_inputs(acq, group)),
		'attempts', '0', 'errors', '0', 'crashes', '0', 'owner', '', 'error', '',
		'progress_done', '0', 'progress_total', '0', 'updated_ms', now,
		'need_vram_mib.stitch', str(a[6]), 'need_ram_mib.stitch', str(a[7]),
		'need_vram_mib', str(a[6]), 'need_ram_mib', str(a[7])}
	redis.call('HSETNX', jkey, 'created_ms', now)
	redis.call('SREM', k_done(acq, 'stitch'), sjid)
	redis.call('SREM', k_dead(acq, 'stitch'), sjid)
	redis.call('SREM', k_cancelled(acq, 'stitch'), sjid)
	redis.call('ZREM', k_warn(acq, 'stitch'), sjid)
	if group ~= '' then
		redis.call('SREM', P .. 'sdone:' .. acq, group)
		redis.call('SREM', P .. 'scancel:' .. acq, group)
	end
	if not a[1] then
		-- enqueue registers every spec first; without one the job cannot run,
		-- and a dead letter says so rather than a script error half-way
		add_history(acq, sjid, 'stitch', '', '', '0', '0', now, 'error', nil)
		dead_letter(acq, sjid, jkey, {stage = 'stitch'}, h,
			"no stitch spec registered for '" .. sjid .. "'", now)
		redis.call('HSET', jkey, unpack(h))
		return 0
	end
	put(h, 'spec', a[1], 'version', a[2] or '', 'outdir', a[3] or '', 'max_attempts',
		str(num(a[4], 1)), 'backoff_ms', str(a[5]))
	redis.call('HSET', jkey, unpack(h))
	redis.call('LPUSH', k_queue('stitch', acq), sjid)
	ring('stitch')
	return 1
end

-- True when every task of group is done or cancelled (P gcancel), one at least
-- done: its stitch can run, on the done ones.
local function group_settled(acq, group)
	local done = redis.call('SCARD', k_gdone(acq, group))
	return done > 0 and done + redis.call('SCARD', k_gcancel(acq, group)) ==
		redis.call('SCARD', k_members(acq, group))
end

-- True when the acquisition has >= 2 groups, each with its stitch done or
-- cancelled (P scancel), one at least done: the acquisition stitch can run.
local function acq_settled(acq)
	local ngroups = redis.call('SCARD', P .. 'groups:' .. acq)
	local done = redis.call('SCARD', P .. 'sdone:' .. acq)
	return ngroups >= 2 and done > 0 and
		done + redis.call('SCARD', P .. 'scancel:' .. acq) == ngroups
end

-- The fan-in after jid (a task of group) finished reconstruct: the completion
-- that fills gdone:<acq>:<group> queues the group stitch. SADD answering 1 is
-- what makes it happen exactly once even when two members finish at the same
-- instant (scripts run one at a time); a retried completion adds nothing.
local function fan_in_task(acq, jid, group, now)
	if redis.call('SADD', k_gdone(acq, group), jid) == 1 and group_settled(acq, group) then
		queue_stitch(acq, '@group:' .. group, group, now)
	end
end

-- The fan-in after a group stitch finished: the one that settles the last group
-- (>= 2 groups) queues the acquisition stitch.
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
		'updated_ms', now)
end

-- Registers a task's acquisition, group and membership; if it moved from the
-- group `old`, that group forgets it.
local function task_membership(acq, jid, group, old, now)
	if old and old ~= '' and old ~= group then
		redis.call('SREM', k_members(acq, old), jid)
		redis.call('SREM', k_gdone(acq, old), jid)
		redis.call('SREM', k_gcancel(acq, old), jid)
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

-- A new lease: a token from P fence and the deadline. Returns token, deadline.
local function new_token(now)
	return redis.call('INCR', P .. 'fence'), ms_after(now, CO_LEASE_MS)
end

-- A stitch job's inputs (JSON array as stored) as a Lua list.
local function inputs_list(inputs)
	if inputs and inputs ~= '' and inputs ~= '[]' then
		return cjson.decode(inputs)
	end
	return {}
end

-- A claim's reply: {acq, jid, kind, stage, version, spec, {inputs...}, token,
-- attempt} (token and attempt as Redis gives them: integer or decimal string).
local function job_reply(acq, jid, kind, stage, version, spec, inputs, token, attempt)
	return {acq, jid, kind or 'task', stage, version or '', spec or '', inputs_list(inputs),
		token, attempt}
end

-- A claim retried after a lost reply gets the job it already holds.
local function held(now)
	local k = P .. 'owned:' .. CO_WID
	local owned = redis.call('GET', k)
	if not owned then
		return nil
	end
	local acq, jid = owned_job(owned)
	if acq then
		local jkey = k_job(acq, jid)
		local st, owner, token, kind, stage, version, spec, inputs, attempts =
			unpack(redis.call('HMGET', jkey, 'state', 'owner', 'token', 'kind', 'stage',
				'version', 'spec', 'inputs', 'attempts'))
		if st == 'leased' and owner == CO_WID then
			local until_ms = ms_after(now, CO_LEASE_MS)
			redis.call('HSET', jkey, 'lease_until_ms', until_ms)
			redis.call('ZADD', k_leased(acq), until_ms, jid)
			return job_reply(acq, jid, kind, stage, version, spec, inputs, token, attempts)
		end
	end
	redis.call('DEL', k)
	return nil
end

-- What a claim reads of a queued job.
local function queued_fields(jkey)
	return unpack(redis.call('HMGET', jkey, 'state', 'stage', 'need_vram_mib', 'need_ram_mib',
		'kind', 'version', 'spec', 'inputs', 'attempts'))
end

-- Leases a job just taken out of its queue (its queued_fields after jkey).
local function lease_queued(acq, jid, jkey, now, stage, kind, version, spec, inputs, attempts)
	local attempt = '1' -- the common case, without a number conversion
	if attempts and attempts ~= '0' then
		attempt = string.format('%d', attempts + 1)
	end
	local token, until_ms = new_token(now)
	redis.call('HSET', jkey, 'state', 'leased', 'owner', CO_WID, 'token', string.format('%d', token),
		'host', CO_HOST, 'claimed_ms', now, 'lease_until_ms', until_ms, 'progress_done', '0',
		'progress_total', '0', 'updated_ms', now, 'attempts', attempt)
	redis.call('ZADD', k_leased(acq), until_ms, jid)
	redis.call('SET', P .. 'owned:' .. CO_WID, acq .. '\t' .. jid)
	return job_reply(acq, jid, kind, stage, version, spec, inputs, token, attempt)
end

-- take's slow path: the oldest job of q does not fit; look at the next
-- LOOK_MAX - 1 for the oldest that does (dropping stray entries).
local function take_scan(acq, stage, q, now)
	local ids = redis.call('LRANGE', q, LOOK_REST, '-2')
	for i = #ids, 1, -1 do
		local jid = ids[i]
		local jkey = k_job(acq, jid)
		local st, jstage, nv, nr, kind, version, spec, inputs, attempts = queued_fields(jkey)
		local ok = st == 'queued' and jstage == stage
		if not ok or fits(nv, nr) then
			redis.call('LREM', q, '-1', jid)
			if ok then
				return lease_queued(acq, jid, jkey, now, stage, kind, version, spec,
					inputs, attempts)
			end
		end
	end
	return nil
end

-- Takes the oldest job of stage:acq whose VRAM/RAM needs fit o (among the
-- LOOK_MAX oldest) and leases it; entries whose job moved on are dropped.
-- Returns the reply, or nil.
local function take(acq, stage, now)
	local q = k_queue(stage, acq)
	for _ = 1, LOOK_MAX do
		local jid = redis.call('RPOP', q) -- the oldest: the common case is that it fits
		if not jid then
			return nil
		end
		local jkey = k_job(acq, jid)
		local st, jstage, nv, nr, kind, version, spec, inputs, attempts = queued_fields(jkey)
		if st == 'queued' and jstage == stage then
			if fits(nv, nr) then
				return lease_queued(acq, jid, jkey, now, stage, kind, version, spec,
					inputs, attempts)
			end
			redis.call('RPUSH', q, jid) -- stays the oldest
			return take_scan(acq, stage, q, now)
		end
	end
	return nil
end

-- The acquisitions a claim looks at, sorted.
local function claim_acqs()
	local acqs
	if CO_NA == 0 then
		acqs = redis.call('SMEMBERS', P .. 'acqs')
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
	local cursor = redis.call('GET', ckey) or ''
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
	local paused = redis.call('SMEMBERS', P .. 'paused')
	if #paused == 0 then
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
