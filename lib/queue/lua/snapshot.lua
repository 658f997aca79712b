-- snapshot.lua: one consistent view for scanq-status, as a JSON document.
-- ARGV: P acq ('' for all) max_dead
-- -> {"now_ms":N,
--     "acquisitions":[{"name":"demo","tasks":6,"groups":2,"paused":false,
--        "stages":{"extract":{"queued":0,"running":1,"done":5,"failed":0,"retrying":0,
--                             "cancelled":0,"warnings":1},
--                  "reconstruct":{...},"stitch":{...}},
--        "running":[{"jid","kind","stage","owner","host","claimed_ms","lease_until_ms",
--                    "progress_done","progress_total","attempt"}],
--        "dead":[dead letters as stored, newest first, at most max_dead],
--        "dead_total":N,
--        "warned":[{"jid","stage","status":"done with warnings","time_ms",
--                   "warnings":[...]}, newest first, at most max_dead],
--        "warned_total":N}],
--     "workers":[{"id","host","pid","stages","gpu","job","last_beat_ms","started_ms"}]}
-- gpu and job are null when absent. warnings counts the jobs done with
-- warnings at that stage (they count in done too). Arrays are built as strings
-- because cjson writes an empty Lua table as {}. Bounded: counts are
-- LLEN/SCARD/ZCARD; only leased jobs (about one per worker), delayed ones and
-- the max_dead newest warned ones are read one by one.

local WORKERS_MAX = 1000
local only, max_dead = ARGV[2], tonumber(ARGV[3])

local function join(list)
	return '[' .. table.concat(list, ',') .. ']'
end

local function stage_counts(acq)
	local st = {}
	for _, s in ipairs(ALL_STAGES) do
		st[s] = {queued = redis.call('LLEN', k_queue(s, acq)), running = 0,
			done = redis.call('SCARD', k_done(acq, s)),
			failed = redis.call('SCARD', k_dead(acq, s)), retrying = 0,
			cancelled = redis.call('SCARD', k_cancelled(acq, s)),
			warnings = redis.call('ZCARD', k_warn(acq, s))}
	end
	for _, jid in ipairs(redis.call('ZRANGE', k_delayed(acq), '0', '-1')) do
		local s = redis.call('HGET', k_job(acq, jid), 'stage')
		if st[s] then
			st[s].retrying = st[s].retrying + 1
		end
	end
	return st
end

local function running(acq, st)
	local out = {}
	for _, jid in ipairs(redis.call('ZRANGE', k_leased(acq), '0', '-1')) do
		local f = redis.call('HMGET', k_job(acq, jid), 'stage', 'owner', 'host', 'claimed_ms',
			'lease_until_ms', 'progress_done', 'progress_total', 'attempts', 'kind')
		if st[f[1]] then
			st[f[1]].running = st[f[1]].running + 1
		end
		table.insert(out, cjson.encode({jid = jid, kind = f[9] or 'task', stage = f[1] or '',
			owner = f[2] or '', host = f[3] or '', claimed_ms = num(f[4]),
			lease_until_ms = num(f[5]), progress_done = num(f[6]),
			progress_total = num(f[7]), attempt = num(f[8])}))
	end
	return out
end

-- The newest jobs done with warnings, across stages (at most max_dead).
local function warned(acq)
	local all = {}
	for _, s in ipairs(ALL_STAGES) do
		local ids = redis.call('ZREVRANGE', k_warn(acq, s), 0, max_dead - 1, 'WITHSCORES')
		for i = 1, #ids, 2 do
			all[#all + 1] = {jid = ids[i], stage = s, t = tonumber(ids[i + 1])}
		end
	end
	table.sort(all, function(a, b) return a.t > b.t end)
	local out = {}
	for i = 1, math.min(#all, max_dead) do
		local w = all[i]
		local list = redis.call('HGET', k_job(acq, w.jid), 'warnings.' .. w.stage) or '[]'
		out[i] = '{"jid":' .. jstr(w.jid) .. ',"stage":"' .. w.stage ..
			'","status":"done with warnings","time_ms":' .. str(w.t) .. ',"warnings":' ..
			list .. '}'
	end
	return out
end

local function acquisition(acq)
	local groups = redis.call('SMEMBERS', P .. 'groups:' .. acq)
	local tasks = 0
	for _, g in ipairs(groups) do
		tasks = tasks + redis.call('SCARD', k_members(acq, g))
	end
	local st = stage_counts(acq)
	local run = running(acq, st)
	local dead = {}
	if max_dead > 0 then
		dead = redis.call('LRANGE', P .. 'failed:' .. acq, 0, max_dead - 1)
	end
	local nwarned = 0
	for _, s in ipairs(ALL_STAGES) do
		nwarned = nwarned + st[s].warnings
	end
	return '{"name":' .. cjson.encode(acq) .. ',"tasks":' .. tasks .. ',"groups":' ..
		#groups .. ',"paused":' .. tostring(is_paused(acq)) .. ',"stages":' ..
		cjson.encode(st) .. ',"running":' .. join(run) .. ',"dead":' .. join(dead) ..
		',"dead_total":' .. redis.call('LLEN', P .. 'failed:' .. acq) .. ',"warned":' ..
		join(max_dead > 0 and warned(acq) or {}) .. ',"warned_total":' .. nwarned .. '}'
end

local function workers()
	local out = {}
	local ids = redis.call('ZREVRANGE', P .. 'workers', 0, WORKERS_MAX - 1, 'WITHSCORES')
	for i = 1, #ids, 2 do
		local f = redis.call('HMGET', P .. 'worker:' .. ids[i], 'host', 'pid', 'stages', 'gpu',
			'job', 'started_ms')
		if f[1] then -- registry hash expired: the worker is gone
			table.insert(out, cjson.encode({id = ids[i], host = f[1], pid = num(f[2]),
				stages = f[3] or '', gpu = f[4] or cjson.null, job = f[5] or cjson.null,
				last_beat_ms = num(ids[i + 1]), started_ms = num(f[6])}))
		end
	end
	return out
end

local names
if only ~= '' then
	names = {only}
else
	names = redis.call('SMEMBERS', P .. 'acqs')
	table.sort(names)
end
local acqs = {}
for _, acq in ipairs(names) do
	table.insert(acqs, acquisition(acq))
end
return '{"now_ms":' .. now_ms() .. ',"acquisitions":' .. join(acqs) .. ',"workers":' ..
	join(workers()) .. '}'
