-- workers.lua: the worker registry for an operator (scanq-ctl workers).
-- ARGV: P dead_after_ms forget(0|1)
-- -> JSON {"now_ms":N,"workers":[{"id","host","pid","stages","gpu","job",
--    "started_ms","last_beat_ms","alive":bool}],"forgotten":[ids]}
--
-- A worker is dead when its registry hash expired or its last heartbeat is
-- older than dead_after_ms. With forget, the dead ones leave the registry, and a
-- job one of them still holds goes back to its queue now (counted as a crash,
-- as an expired lease would be).
local dead_after, forget = tonumber(ARGV[2]), ARGV[3] == '1'
local now = now_ms()
local ids = redis.pcall('ZREVRANGE', k_workers(), 0, -1, 'WITHSCORES')
if perr(ids) then
	ids = {} -- not a zset: no registry to show (the next beat replaces it)
end
local out, forgotten = {}, {}

local function release(wid)
	local k = k_owned(wid)
	local acq, jid = owned_job(redis.pcall('GET', k))
	redis.call('DEL', k)
	if acq then
		local jkey = k_job(acq, jid)
		local f = read_hash(jkey, LEASE_FIELDS)
		-- crash checks the fields (dead-letters a job it cannot use) and the
		-- keys it writes (leaves the lease to expire when one is broken)
		if holds(f, wid) then
			crash(acq, jid, jkey, f, "worker '" .. wid .. "' forgotten by an operator", now)
		end
	end
end

for i = 1, #ids, 2 do
	local wid, beat = ids[i], tonumber(ids[i + 1])
	local f = redis.pcall('HMGET', k_worker(wid), 'host', 'pid', 'stages', 'gpu', 'job',
		'started_ms')
	if perr(f) then
		f = {}
	end
	local alive = f[1] ~= false and f[1] ~= nil and now - beat <= dead_after
	out[#out + 1] = '{"id":' .. jstr(wid) .. ',"host":' .. jstr(f[1] or '') .. ',"pid":' ..
		str(f[2]) .. ',"stages":' .. jstr(f[3] or '') .. ',"gpu":' ..
		(f[4] and jstr(f[4]) or 'null') .. ',"job":' .. (f[5] and jstr(f[5]) or 'null') ..
		',"started_ms":' .. str(f[6]) .. ',"last_beat_ms":' .. str(beat) .. ',"alive":' ..
		tostring(alive) .. '}'
	if forget and not alive then
		release(wid)
		redis.call('ZREM', k_workers(), wid)
		redis.call('DEL', k_worker(wid))
		forgotten[#forgotten + 1] = jstr(wid)
	end
end
return '{"now_ms":' .. now .. ',"workers":[' .. table.concat(out, ',') .. '],"forgotten":[' ..
	table.concat(forgotten, ',') .. ']}'
