-- show.lua: what scanq-ctl show and the web console's pages read, in one call.
-- ARGV: P acq target
--   target '' or a group (name or as target_jobs): the overview
--     -> {"now_ms","acq","paused":bool,"output_root","created_ms","dead_total",
--         "group":g|null,
--         "jobs":[summary...]} in target_jobs order (a group's tasks, its stitch, ...)
--   a task, '@group:<g>' or '@acq': one job
--     -> {"now_ms","acq","paused":bool,...,"job":{every field of its hash, as strings},
--         "status","history":[attempts, oldest first],"dead":[its dead letters]}
--   or {"error":msg}.
-- summary: {"jid","kind","group","stage","state","status","attempts","host",
--   "updated_ms","error" (cut to 300 bytes),"warnings":{stage:[...]}}. status is
--   the state, or "done with warnings" when the job is done and a stage of it
--   left warnings.
local acq, target = ARGV[2], ARGV[3]
local SUMMARY_FMT = '{"jid":%s,"kind":"%s","group":%s,"stage":"%s","state":"%s","status":' ..
	'"%s","attempts":%s,"host":%s,"updated_ms":%s,"error":%s,"warnings":%s}'
local ERROR_MAX = 300 -- an overview's errors are cut: the job's page has them whole

-- '{"extract":[...],...}' from a job's warnings.<stage> fields (w[1..3] in
-- ALL_STAGES order), and whether any.
local function warnings(w)
	local parts = {}
	for i, s in ipairs(ALL_STAGES) do
		if w[i] and w[i] ~= '' then
			parts[#parts + 1] = '"' .. s .. '":' .. w[i]
		end
	end
	return '{' .. table.concat(parts, ',') .. '}', #parts > 0
end

local function status(state, warned)
	if state == ST_DONE and warned then
		return 'done with warnings'
	end
	return state or 'unknown'
end

-- One job of an overview: what its row needs, in one HMGET and one format (an
-- acquisition of 5000 jobs is listed in one call).
local function summary(jid)
	local v = redis.call('HMGET', k_job(acq, jid), 'kind', 'group', 'stage', 'state',
		'attempts', 'host', 'updated_ms', 'error', 'warnings.extract',
		'warnings.reconstruct', 'warnings.stitch')
	local w, warned = warnings({v[9], v[10], v[11]})
	local err = v[8] or ''
	if #err > ERROR_MAX then
		err = string.sub(err, 1, ERROR_MAX) .. '...'
	end
	return string.format(SUMMARY_FMT, jstr(jid), v[1] or 'task', jstr(v[2]), v[3] or '',
		v[4] or 'unknown', status(v[4], warned), v[5] or '0', jstr(v[6]), v[7] or '0',
		jstr(err), w)
end

local function head()
	local a = redis.call('HMGET', k_acq(acq), 'output_root', 'created_ms')
	return '{"now_ms":' .. now_ms() .. ',"acq":' .. jstr(acq) .. ',"paused":' ..
		tostring(is_paused(acq)) ..
		',"output_root":' .. jstr(a[1]) .. ',"created_ms":' .. str(a[2]) .. ',"dead_total":' ..
		redis.call('LLEN', k_failed(acq))
end

local function overview(group, jids)
	local list = {}
	for i, jid in ipairs(jids) do
		list[i] = summary(jid)
	end
	return head() .. ',"group":' .. (group and jstr(group) or 'null') .. ',"jobs":[' ..
		table.concat(list, ',') .. ']}'
end

local function one(jid)
	local jkey = k_job(acq, jid)
	local flat = redis.call('HGETALL', jkey)
	local fields, f = {}, {}
	for i = 1, #flat, 2 do
		f[flat[i]] = flat[i + 1]
		fields[#fields + 1] = jstr(flat[i]) .. ':' .. jstr(flat[i + 1])
	end
	local dead = {}
	for _, dl in ipairs(redis.call('LRANGE', k_failed(acq), '0', '-1')) do
		local ok, v = pcall(cjson.decode, dl)
		if ok and type(v) == 'table' and v.jid == jid then
			dead[#dead + 1] = dl
		end
	end
	local _, warned = warnings({f['warnings.extract'], f['warnings.reconstruct'],
		f['warnings.stitch']})
	return head() .. ',"job":{' .. table.concat(fields, ',') .. '},"status":' ..
		jstr(status(f.state, warned)) .. ',"history":' .. history_json(acq, jid) .. ',"dead":[' ..
		table.concat(dead, ',') .. ']}'
end

if redis.call('SISMEMBER', k_acqs(), acq) == 0 then
	return refuse("no acquisition '" .. acq .. "'")
end
if target == '@acq' or string.match(target, '^@group:') then
	if redis.call('EXISTS', k_job(acq, target)) == 0 then
		return refuse("no job '" .. target .. "' in acquisition '" .. acq .. "'")
	end
	return one(target)
end
local named, jids = target_jobs(acq, target)
if not named then
	return refuse(jids)
end
if named == 'task' then
	return one(target)
end
return overview(named == 'group' and string.gsub(target, '^@group:', '') or nil, jids)
