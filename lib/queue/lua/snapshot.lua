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
--        "warned_total":N,
--        "blocked":[{"jid","stage","reason"}],
--        "problems":["..."]}],
--     "workers":[{"id","host","pid","stages","gpu","job","last_beat_ms","started_ms"}],
--     "problems":["..."]}
-- gpu and job are null when absent. warnings counts the jobs done with
-- warnings at that stage (they count in done too). Arrays are built as strings
-- because cjson writes an empty Lua table as {}. Bounded: counts are
-- LLEN/SCARD/ZCARD; only leased jobs (about one per worker), delayed ones, the
-- max_dead newest warned ones and the few oldest of each queue are read one by
-- one.
--
-- Nothing in Redis can make it fail: a key of the wrong type reads as empty
-- and a problem names it; a dead letter that is not JSON is shown as one
-- whose error says so. blocked lists the oldest queued jobs (those a claim
-- looks at) that no live worker can take, with why: a job needing VRAM or RAM
-- that no registered worker of its stage has (a worker's GPU memory is what
-- it last reported free when idle, see claim.lua; unknown counts as enough).

local WORKERS_MAX = 1000
local only, max_dead = ARGV[2], tonumber(ARGV[3])

local function join(list)
	return '[' .. table.concat(list, ',') .. ']'
end

-- redis.call(cmd, key, ...) or, when key is of the wrong type, dflt and a
-- warning in warn.
local function read(warn, want, dflt, cmd, key, ...)
	local r = redis.pcall(cmd, key, ...)
	if perr(r) then
		table.insert(warn, wrong_type(key, want) or perr(r))
		return dflt
	end
	return r
end

local function stage_counts(acq, warn)
	local st = {}
	for _, s in ipairs(ALL_STAGES) do
		st[s] = {queued = read(warn, 'list', 0, 'LLEN', k_queue(s, acq)), running = 0,
			done = read(warn, 'set', 0, 'SCARD', k_done(acq, s)),
			failed = read(warn, 'set', 0, 'SCARD', k_dead(acq, s)), retrying = 0,
			cancelled = read(warn, 'set', 0, 'SCARD', k_cancelled(acq, s)),
			warnings = read(warn, 'zset', 0, 'ZCARD', k_warn(acq, s))}
	end
	for _, jid in ipairs(read(warn, 'zset', {}, 'ZRANGE', k_delayed(acq), '0', '-1')) do
		local s = redis.pcall('HGET', k_job(acq, jid), 'stage')
		if st[s] then
			st[s].retrying = st[s].retrying + 1
		end
	end
	return st
end

local RUNNING_FIELDS = {'stage', 'owner', 'host', 'claimed_ms', 'lease_until_ms',
	'progress_done', 'progress_total', 'attempts', 'kind'}

local function running(acq, st, warn)
	local out = {}
	for _, jid in ipairs(read(warn, 'zset', {}, 'ZRANGE', k_leased(acq), '0', '-1')) do
		local f = read_hash(k_job(acq, jid), RUNNING_FIELDS) or {}
		if st[f.stage] then
			st[f.stage].running = st[f.stage].running + 1
		end
		table.insert(out, cjson.encode({jid = jid, kind = f.kind or 'task', stage = f.stage or '',
			owner = f.owner or '', host = f.host or '', claimed_ms = num(f.claimed_ms),
			lease_until_ms = num(f.lease_until_ms), progress_done = num(f.progress_done),
			progress_total = num(f.progress_total), attempt = num(f.attempts)}))
	end
	return out
end

-- The newest jobs done with warnings, across stages (at most max_dead).
local function warned(acq, warn)
	local all = {}
	for _, s in ipairs(ALL_STAGES) do
		local ids = read(warn, 'zset', {}, 'ZREVRANGE', k_warn(acq, s), 0, max_dead - 1,
			'WITHSCORES')
		for i = 1, #ids, 2 do
			all[#all + 1] = {jid = ids[i], stage = s, t = tonumber(ids[i + 1])}
		end
	end
	table.sort(all, function(a, b) return a.t > b.t end)
	local out = {}
	for i = 1, math.min(#all, max_dead) do
		local w = all[i]
		local list = redis.pcall('HGET', k_job(acq, w.jid), 'warnings.' .. w.stage)
		if type(list) ~= 'string' or not is_string_array(list) then
			list = '[]'
		end
		out[i] = '{"jid":' .. jstr(w.jid) .. ',"stage":"' .. w.stage ..
			'","status":"done with warnings","time_ms":' .. str(w.t) .. ',"warnings":' ..
			list .. '}'
	end
	return out
end

-- The newest max_dead dead letters; one that is not a JSON object is shown as
-- a dead letter saying so.
local function dead_letters(acq, warn)
	if max_dead <= 0 then
		return {}
	end
	local k = k_failed(acq)
	local list = read(warn, 'list', {}, 'LRANGE', k, 0, max_dead - 1)
	for i, dl in ipairs(list) do
		local ok, v = pcall(cjson.decode, dl)
		if not ok or type(v) ~= 'table' then
			list[i] = cjson.encode({jid = '?', stage = '', host = '', attempts = 0, time_ms = 0,
				error = 'unreadable dead letter: ' .. shown(dl)})
			table.insert(warn, "key '" .. k .. "' holds an entry that is not a dead letter")
		end
	end
	return list
end

-- The live workers (registry hash present), as a list of field tables.
local function live_workers(warn)
	local out = {}
	local ids = read(warn, 'zset', {}, 'ZREVRANGE', k_workers(), 0, WORKERS_MAX - 1,
		'WITHSCORES')
	for i = 1, #ids, 2 do
		local w = read_hash(k_worker(ids[i]), {'host', 'pid', 'stages', 'gpu', 'job',
			'started_ms', 'vram_mib', 'ram_mib'})
		if w and w.host then -- registry hash expired: the worker is gone
			w.id, w.last_beat_ms = ids[i], ids[i + 1]
			table.insert(out, w)
		end
	end
	return out
end

-- Why no live worker can take a job of stage needing vram/ram MiB, or nil.
local function unfit_reason(workers, stage, vram, ram)
	if vram <= 0 and ram <= 0 then
		return nil
	end
	for _, w in ipairs(workers) do
		local serves_it = string.find(',' .. (w.stages or '') .. ',', ',' .. stage .. ',', 1, true)
		local wv, wr = tonumber(w.vram_mib or ''), tonumber(w.ram_mib or '')
		if serves_it and (vram <= 0 or w.gpu and (not wv or wv >= vram)) and
			(ram <= 0 or not wr or wr < 0 or wr >= ram) then
			return nil
		end
	end
	if vram > 0 then
		return 'needs ' .. vram .. ' MiB VRAM; no live worker has it'
	end
	return 'needs ' .. ram .. ' MiB RAM; no live worker has it'
end

-- The oldest queued jobs (those a claim looks at) no live worker can take.
local function blocked(acq, workers)
	local out = {}
	for _, s in ipairs(ALL_STAGES) do
		local ids = redis.pcall('LRANGE', k_queue(s, acq), LOOK_REST, '-1')
		for i = #(perr(ids) and {} or ids), 1, -1 do
			local f = read_hash(k_job(acq, ids[i]), {'need_vram_mib', 'need_ram_mib'}) or {}
			local why = unfit_reason(workers, s, num(f.need_vram_mib), num(f.need_ram_mib))
			if why then
				table.insert(out, cjson.encode({jid = ids[i], stage = s, reason = why}))
			end
		end
	end
	return out
end

-- Keys of the acquisition whose type is wrong, and stitches whose fan-in
-- should have fired, as warnings.
local function check_acq(acq, groups, warn)
	local kt = {k_acq(acq), 'hash', k_groups(acq), 'set', k_sdone(acq), 'set',
		k_scancel(acq), 'set'}
	for _, g in ipairs(groups) do
		put(kt, k_members(acq, g), 'set', k_gdone(acq, g), 'set', k_gcancel(acq, g), 'set')
	end
	for i = 1, #kt, 2 do
		local p = wrong_type(kt[i], kt[i + 1])
		if p then
			table.insert(warn, p)
		end
	end
	for _, g in ipairs(groups) do
		local n = redis.pcall('SCARD', k_members(acq, g))
		local done = redis.pcall('SCARD', k_gdone(acq, g))
		local gone = redis.pcall('SCARD', k_gcancel(acq, g))
		if type(n) == 'number' and type(done) == 'number' and type(gone) == 'number' and
			done > 0 and done + gone == n and
			redis.pcall('HGET', k_job(acq, '@group:' .. g), 'state') == ST_WAITING then
			table.insert(warn, "stitch '@group:" .. g .. "' waits although every task of " ..
				"its group is settled: run scanq-repair")
		end
	end
end

local function acquisition(acq, workers)
	local warn = {}
	local groups = read(warn, 'set', {}, 'SMEMBERS', k_groups(acq))
	local tasks = 0
	for _, g in ipairs(groups) do
		tasks = tasks + read(warn, 'set', 0, 'SCARD', k_members(acq, g))
	end
	local st = stage_counts(acq, warn)
	local run = running(acq, st, warn)
	local dead = dead_letters(acq, warn)
	local total = read(warn, 'list', 0, 'LLEN', k_failed(acq))
	local nwarned = 0
	for _, s in ipairs(ALL_STAGES) do
		nwarned = nwarned + st[s].warnings
	end
	local warned_list = max_dead > 0 and warned(acq, warn) or {}
	check_acq(acq, groups, warn)
	local seen, uniq = {}, {}
	for _, w in ipairs(warn) do
		if not seen[w] then
			seen[w] = true
			table.insert(uniq, cjson.encode(w))
		end
	end
	return '{"name":' .. cjson.encode(acq) .. ',"tasks":' .. tasks .. ',"groups":' ..
		#groups .. ',"paused":' .. tostring(is_paused(acq)) .. ',"stages":' ..
		cjson.encode(st) .. ',"running":' .. join(run) .. ',"dead":' .. join(dead) ..
		',"dead_total":' .. total .. ',"warned":' .. join(warned_list) ..
		',"warned_total":' .. nwarned .. ',"blocked":' .. join(blocked(acq, workers)) ..
		',"problems":' .. join(uniq) .. '}'
end

local function workers_json(workers)
	local out = {}
	for _, w in ipairs(workers) do
		table.insert(out, cjson.encode({id = w.id, host = w.host, pid = num(w.pid),
			stages = w.stages or '', gpu = w.gpu or cjson.null, job = w.job or cjson.null,
			last_beat_ms = num(w.last_beat_ms), started_ms = num(w.started_ms)}))
	end
	return out
end

local warn = {}
local fence = redis.pcall('GET', k_fence())
if perr(fence) or fence and not string.find(fence, '^%d+$') then
	table.insert(warn, "key '" .. P .. "fence' does not hold a counter: no job can be leased")
end
local paused_type = wrong_type(k_paused(), 'set')
if paused_type then
	table.insert(warn, paused_type)
end
local workers = live_workers(warn)
local names
if only ~= '' then
	names = {only}
else
	names = read(warn, 'set', {}, 'SMEMBERS', k_acqs())
	table.sort(names)
end
local acqs = {}
for _, acq in ipairs(names) do
	table.insert(acqs, acquisition(acq, workers))
end
for i, w in ipairs(warn) do
	warn[i] = cjson.encode(w)
end
return '{"now_ms":' .. now_ms() .. ',"acquisitions":' .. join(acqs) .. ',"workers":' ..
	join(workers_json(workers)) .. ',"problems":' .. join(warn) .. '}'
