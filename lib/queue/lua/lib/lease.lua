-- lib/lease.lua: the doorbell, attempt history, leases and their end (fencing, dead
-- letters, crashes), and the maintenance that expires leases and promotes retries.
-- Helpers shared by the scripts (see lib/keys.lua for the conventions);
-- embed.py prepends to each script only the definitions it uses.

-- Wakes one idle worker of stage (BLPOP on the doorbell list). The doorbell
-- carries no state: one of the wrong type is replaced.
local function ring(stage)
	local k = k_wake(stage)
	local n = redis.pcall('LPUSH', k, '1')
	if perr(n) then
		redis.call('DEL', k)
		n = redis.call('LPUSH', k, '1')
	end
	if n > WAKE_MAX then
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
-- holds (nil: 0). History is a diagnostic: a key of the wrong type is replaced.
local function add_history(acq, jid, stage, worker, host, attempt, start_ms, now, outcome, err)
	local e = (stage or '') .. '\t' .. (worker or '') .. '\t' .. (host or '') .. '\t' ..
		(attempt or '0') .. '\t' .. (start_ms or '0') .. '\t' .. now .. '\t' .. outcome
	if err then
		e = e .. '\t' .. err
	end
	local k = k_hist(acq, jid)
	local n = redis.pcall('RPUSH', k, e)
	if perr(n) then
		redis.call('DEL', k)
		n = redis.call('RPUSH', k, e)
	end
	if n > HISTORY_MAX then
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
-- check, the idempotency check and the history entry, and checks before it
-- writes.
local LEASE_FIELDS = {'state', 'owner', 'token', 'done_token', 'done_outcome', 'kind', 'stage',
	'group', 'host', 'attempts', 'max_attempts', 'errors', 'crashes', 'claimed_ms', 'backoff_ms',
	'lease_until_ms'}

-- True when the lease read into f (its state, owner) is wid's: the one
-- ownership check, which fenced adds the token to.
local function holds(f, wid)
	return f ~= nil and f.state == ST_LEASED and f.owner == wid
end

-- True when wid holds the lease read into f with this token: the fencing
-- check every lease-ending script and the heartbeat make.
local function fenced(f, wid, token)
	return holds(f, wid) and f.token == token
end

-- Forgets P owned:<owner> if it still names this job (or holds no string).
local function disown(owner, acq, jid)
	if not owner or owner == '' then
		return
	end
	local k = k_owned(owner)
	local v = redis.pcall('GET', k)
	local head = acq .. '\t' .. jid
	if perr(v) or v == head or (v and string.sub(v, 1, #head + 1) == head .. '\t') then
		redis.call('DEL', k)
	end
end

-- The job P owned:<wid> names ("<acq>\t<jid>"; before scanq kept the token
-- there, "<acq>\t<jid>\t<token>"): acq, jid, or nil.
local function owned_job(v)
	if type(v) == 'string' then
		return string.match(v, '^([^\t]*)\t([^\t]*)')
	end
	return nil
end

-- Ends the lease read into f: history entry (outcome, err), lease and
-- ownership gone, fields for h. done_token (and the done_outcome the caller
-- puts) let a retried call (lost reply) answer the same.
local function end_lease(acq, jid, f, h, outcome, err, now)
	add_history(acq, jid, f.stage, f.owner, f.host, f.attempts, f.claimed_ms, now, outcome, err)
	rem('ZREM', k_leased(acq), jid)
	disown(f.owner, acq, jid)
	put(h, 'owner', '', 'done_token', f.token or '', 'updated_ms', now)
end

-- The history list as a JSON array.
local function history_json(acq, jid)
	local list = redis.pcall('LRANGE', k_hist(acq, jid), '0', '-1')
	if perr(list) then
		return '[]'
	end
	for i, e in ipairs(list) do
		list[i] = hist_json(e)
	end
	return '[' .. table.concat(list, ',') .. ']'
end

-- The keys a dead letter adds to, checked: nil, or what is wrong.
local function dead_keys_problem(acq, stage)
	if STAGE_NAMES[stage] then
		return wrong_type(k_failed(acq), 'list', k_dead(acq, stage), 'set')
	end
	return wrong_type(k_failed(acq), 'list')
end

-- Moves a job to the dead-letter list (its history must hold the last
-- attempt). f: the job's fields, with errors/crashes as counted now; the
-- caller has checked dead_keys_problem.
local function dead_letter(acq, jid, jkey, f, h, err, now)
	local dl = '{"jid":' .. jstr(jid) .. ',"acq":' .. jstr(acq) .. ',"stage":' ..
		jstr(f.stage) .. ',"error":' .. jstr(err) .. ',"host":' .. jstr(f.host) ..
		',"attempts":' .. str(f.attempts) .. ',"errors":' .. str(f.errors) .. ',"crashes":' ..
		str(f.crashes) .. ',"time_ms":' .. now .. ',"history":' .. history_json(acq, jid) .. '}'
	put(h, 'state', ST_FAILED, 'error', err, 'owner', '')
	rem('ZREM', k_leased(acq), jid)
	rem('ZREM', k_delayed(acq), jid)
	redis.call('LPUSH', k_failed(acq), dl)
	if STAGE_NAMES[f.stage] then
		redis.call('SADD', k_dead(acq, f.stage), jid)
	end
end

-- Dead-letters a job no transition can use (a field of the wrong form, a key
-- of the wrong type): out of every queue, lease and retry, into failed:<acq>
-- with why, its hash otherwise kept for the operator (repair --retry-failed
-- puts it back once fixed). f: its fields as read, or nil when its key is not
-- a hash; stage: where it was found (used when f.stage is unusable). Returns
-- true, or false with nothing changed when the dead-letter keys themselves
-- are of the wrong type.
local function bury(acq, jid, f, stage, why, now)
	f = f or {}
	if STAGE_NAMES[f.stage] then
		stage = f.stage
	end
	if dead_keys_problem(acq, stage) then
		return false
	end
	add_history(acq, jid, stage, f.owner, f.host, f.attempts, f.claimed_ms, now, 'error', why)
	for _, s in ipairs(ALL_STAGES) do
		rem('LREM', k_queue(s, acq), '0', jid)
	end
	disown(f.owner, acq, jid)
	local h = {'done_token', f.token or '', 'done_outcome', 'dead', 'updated_ms', now}
	dead_letter(acq, jid, nil, {stage = stage, host = f.host, attempts = f.attempts,
		errors = f.errors, crashes = f.crashes}, h, why, now)
	if f.n and f.n > 0 then
		redis.call('HSET', k_job(acq, jid), unpack(h))
	end
	return true
end

-- A lease-ending script (complete, fail, release) that cannot do its
-- transition (why): the job is dead-lettered; when even that cannot be (the
-- dead-letter keys are of the wrong type), the worker is freed of it (P
-- owned:<wid> goes, so its next claim does not hand it back) and the lease
-- left to expire. Returns what the caller's reply says ("<why>: dead-lettered"
-- or "<why>: left to its lease") and whether the job was dead-lettered.
local function abandon(acq, jid, f, why, now)
	if bury(acq, jid, f, nil, why, now) then
		return why .. ': dead-lettered', true
	end
	disown(f.owner, acq, jid)
	return why .. ': left to its lease', false
end

-- A lease ended without a result (worker crashed, expired, was killed):
-- counted as a crash, back to the FRONT of its queue, or dead when exhausted.
-- f: the job's LEASE_FIELDS, unchecked; a job whose fields cannot be used is
-- dead-lettered with why. Returns 'queued', 'dead', or nil when a key it must
-- write is of the wrong type (nothing changed then).
local function crash(acq, jid, jkey, f, reason, now)
	local bad = job_problem(f, LEASE_FIELDS)
	if bad then
		return bury(acq, jid, f, f.stage, bad .. ' (' .. reason .. ')', now) and 'dead' or nil
	end
	local h = {}
	local dead = num(f.attempts) >= num(f.max_attempts, 1)
	if dead and dead_keys_problem(acq, f.stage) or
		not dead and wrong_type(k_queue(f.stage, acq), 'list') then
		return nil
	end
	f.crashes = str(num(f.crashes) + 1)
	end_lease(acq, jid, f, h, 'crash', reason, now)
	put(h, 'crashes', f.crashes, 'done_outcome', 'crash')
	local outcome = 'queued'
	if dead then
		dead_letter(acq, jid, jkey, f, h, reason, now)
		outcome = 'dead'
	else
		put(h, 'state', ST_QUEUED, 'error', reason)
		redis.call('RPUSH', k_queue(f.stage, acq), jid)
		ring(f.stage)
	end
	redis.call('HSET', jkey, unpack(h))
	return outcome
end

-- What became of a job found in a set of jobs in state `want` (a lease, a
-- retry), read into f (nil: its key is not a hash, bad says why): 'here' when
-- it is still in that state, 'gone' (no such job, or it moved on: drop the
-- entry), or 'bad' with the message when it cannot be used.
local function still(f, bad, want)
	if not f then
		return 'bad', bad
	elseif f.n == 0 then
		return 'gone'
	elseif f.state == want then
		return 'here'
	elseif JOB_STATES[f.state] then
		return 'gone'
	end
	return 'bad', fields_problem(f, {'state'})
end

-- A P leased:<acq> score is the lease deadline or earlier (a lease chained to
-- the next stage keeps its entry): the job's lease_until_ms decides, and an
-- entry found early is re-armed with it. A job that cannot be read is
-- dead-lettered; a leased:<acq> of the wrong type is left alone (status says
-- so).
local function expire_leases(acq, now)
	local ids = redis.pcall('ZRANGEBYSCORE', k_leased(acq), '-inf', now, 'LIMIT', '0', SCAN_MAX)
	if perr(ids) then
		return
	end
	for _, jid in ipairs(ids) do
		local jkey = k_job(acq, jid)
		local f, bad = read_hash(jkey, LEASE_FIELDS)
		local what, why = still(f, bad, ST_LEASED)
		if what == 'bad' then
			bury(acq, jid, f, nil, why, now)
		elseif what == 'gone' then
			rem('ZREM', k_leased(acq), jid)
		elseif not field_problem('lease_until_ms', f.lease_until_ms) and
			num(f.lease_until_ms) > tonumber(now) then
			redis.call('ZADD', k_leased(acq), f.lease_until_ms, jid)
		else
			crash(acq, jid, jkey, f, "lease expired: worker '" .. (f.owner or '') .. "' on '" ..
				(f.host or '') .. "' stopped heartbeating", now)
		end
	end
end

-- Due retries back to their queues (one of the wrong type: left for later).
local function promote_retries(acq, now)
	local ids = redis.pcall('ZRANGEBYSCORE', k_delayed(acq), '-inf', now, 'LIMIT', '0', SCAN_MAX)
	if perr(ids) then
		return
	end
	for _, jid in ipairs(ids) do
		local jkey = k_job(acq, jid)
		local f, bad = read_hash(jkey, {'state', 'stage'})
		local what, why = still(f, bad, ST_RETRY)
		if what == 'here' then
			why = fields_problem(f, {'stage'})
			what = why and 'bad' or 'here'
		end
		if what == 'bad' then
			bury(acq, jid, f, nil, why, now)
		elseif what == 'gone' then
			rem('ZREM', k_delayed(acq), jid)
		elseif not wrong_type(k_queue(f.stage, acq), 'list') then
			rem('ZREM', k_delayed(acq), jid)
			redis.call('HSET', jkey, 'state', ST_QUEUED, 'updated_ms', now)
			redis.call('RPUSH', k_queue(f.stage, acq), jid)
			ring(f.stage)
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
-- back) does not count, nor does one that is not a number.
local function maintain_due(acq, now)
	local k = k_maint(acq)
	local due = redis.pcall('GET', k)
	local ahead = type(due) == 'string' and (tonumber(due) or 0) - now
	if ahead and ahead > 0 and ahead <= MAINT_EVERY_MS then
		return
	end
	redis.call('SET', k, ms_after(now, MAINT_EVERY_MS))
	maintain(acq, now)
end
