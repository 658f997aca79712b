-- forget.lua: an operator removes an acquisition from Redis (outputs on disk
-- are not touched; scanq-enqueue or scanq-repair can bring it back).
-- ARGV: P acq force(0|1)
-- -> JSON {"acq","known":bool,"keys":N,"fenced":[jids]}, or {"error":msg,
--    "running":[jids]} when a job runs and force is 0.
--
-- Every key of the acquisition goes: its jobs and their histories (found
-- through its groups, queues and sets), queues, sets, dead letters, its entry
-- in P acqs and P paused. Expired leases are taken back first, so only live
-- work counts as running. With force, running jobs are fenced as cancel does:
-- their workers' next heartbeat is STALE and the stage stops.
local acq, force = ARGV[2], ARGV[3] == '1'
if redis.call('SISMEMBER', k_acqs(), acq) == 0 and
	redis.call('EXISTS', k_acq(acq)) == 0 then
	return '{"acq":' .. jstr(acq) .. ',"known":false,"keys":0,"fenced":[]}'
end
local now = now_ms()
maintain(acq, now)
local running = redis.call('ZRANGE', k_leased(acq), '0', '-1')
if #running > 0 and not force then
	local names = {}
	for i, jid in ipairs(running) do
		names[i] = jstr(jid)
	end
	return '{"error":' .. jstr("cannot forget '" .. acq .. "': " .. #running ..
		' job(s) running (use --force to stop them)') .. ',"running":[' ..
		table.concat(names, ',') .. ']}'
end

local jids, keys = {}, {}
local function add_all(list)
	for _, j in ipairs(list) do
		jids[j] = true
	end
end
local groups = redis.call('SMEMBERS', k_groups(acq))
for _, g in ipairs(groups) do
	add_all(redis.call('SMEMBERS', k_members(acq, g)))
	jids['@group:' .. g] = true
	for _, k in ipairs({k_members(acq, g), k_gdone(acq, g), k_gcancel(acq, g)}) do
		keys[#keys + 1] = k
	end
end
jids['@acq'] = true
for _, s in ipairs(ALL_STAGES) do
	add_all(redis.call('LRANGE', k_queue(s, acq), '0', '-1'))
	add_all(redis.call('SMEMBERS', k_done(acq, s)))
	add_all(redis.call('SMEMBERS', k_dead(acq, s)))
	add_all(redis.call('SMEMBERS', k_cancelled(acq, s)))
	add_all(redis.call('ZRANGE', k_warn(acq, s), '0', '-1'))
	for _, k in ipairs({k_queue(s, acq), k_done(acq, s), k_dead(acq, s), k_cancelled(acq, s),
		k_warn(acq, s)}) do
		keys[#keys + 1] = k
	end
end
add_all(running)
add_all(redis.call('ZRANGE', k_delayed(acq), '0', '-1'))

local fenced = {}
for jid in pairs(jids) do
	local jkey = k_job(acq, jid)
	local st, owner = unpack(redis.call('HMGET', jkey, 'state', 'owner'))
	if st == ST_LEASED then
		disown(owner, acq, jid)
		fenced[#fenced + 1] = jstr(jid)
	end
	keys[#keys + 1] = jkey
	keys[#keys + 1] = k_hist(acq, jid)
end
for _, k in ipairs({k_acq(acq), k_groups(acq), k_sdone(acq),
	k_scancel(acq), k_leased(acq), k_delayed(acq), k_failed(acq),
	k_maint(acq)}) do
	keys[#keys + 1] = k
end
local n = 0
for i = 1, #keys, 500 do
	n = n + redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys)))
end
redis.call('SREM', k_acqs(), acq)
redis.call('SREM', k_paused(), acq)
table.sort(fenced)
return '{"acq":' .. jstr(acq) .. ',"known":true,"keys":' .. n .. ',"fenced":[' ..
	table.concat(fenced, ',') .. ']}'
