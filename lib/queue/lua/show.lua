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
-- summary: {"jid","kind","group","stage","state","status","attempts","errors",
--   "crashes","host","claimed_ms","updated_ms","error","progress_done",
--   "progress_total","outdir","warnings":{stage:[...]}}. status is the state, or
--   "done with warnings" when the job is done and a stage of it left warnings.
local acq, target = ARGV[2], ARGV[3]
local SUMMARY = {'kind', 'group', 'stage', 'state', 'attempts', 'errors', 'crashes', 'host',
	'claimed_ms', 'updated_ms', 'error', 'progress_done', 'progress_total', 'outdir',
	'warnings.extract', 'warnings.reconstruct', 'warnings.stitch'}

-- '{"extract":[...],...}' from the warnings.<stage> fields of f, and whether any.
local function warnings(f)
	local parts = {}
	for _, s in ipairs(ALL_STAGES) do
		local w = f['warnings.' .. s]
		if w and w ~= '' then
			parts[#parts + 1] = '"' .. s .. '":' .. w
		end
	end
	return '{' .. table.concat(parts, ',') .. '}', #parts > 0
end

local function status(f, warned)
	if f.state == 'done' and warned then
		return 'done with warnings'
	end
	return f.state or 'unknown'
end

local function summary(jid)
	local f = hmget(k_job(acq, jid), SUMMARY)
	local w, warned = warnings(f)
	local j = '{"jid":' .. jstr(jid) .. ',"status":' .. jstr(status(f, warned)) ..
		',"warnings":' .. w
	for _, name in ipairs(SUMMARY) do
		if not string.find(name, '.', 1, true) then
			j = j .. ',"' .. name .. '":' .. jstr(f[name])
		end
	end
	return j .. '}'
end

local function head()
	local a = redis.call('HMGET', k_acq(acq), 'output_root', 'created_ms')
	return '{"now_ms":' .. now_ms() .. ',"acq":' .. jstr(acq) .. ',"paused":' ..
		tostring(is_paused(acq)) ..
		',"output_root":' .. jstr(a[1]) .. ',"created_ms":' .. str(a[2]) .. ',"dead_total":' ..
		redis.call('LLEN', P .. 'failed:' .. acq)
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
	for _, dl in ipairs(redis.call('LRANGE', P .. 'failed:' .. acq, '0', '-1')) do
		local ok, v = pcall(cjson.decode, dl)
		if ok and type(v) == 'table' and v.jid == jid then
			dead[#dead + 1] = dl
		end
	end
	local _, warned = warnings(f)
	return head() .. ',"job":{' .. table.concat(fields, ',') .. '},"status":' ..
		jstr(status(f, warned)) .. ',"history":' .. history_json(acq, jid) .. ',"dead":[' ..
		table.concat(dead, ',') .. ']}'
end

if redis.call('SISMEMBER', P .. 'acqs', acq) == 0 then
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
