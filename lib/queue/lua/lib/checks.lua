-- lib/checks.lua: what scripts read, checked before their first write.
-- Helpers shared by the scripts (see lib/keys.lua for the conventions);
-- embed.py prepends to each script only the definitions it uses.

-- Redis does not roll back a script that fails half-way, so every transition
-- reads and checks first: a key of the wrong type or a field no scanq wrote
-- must stop it before its first write. Removing a member from a key of the
-- wrong type is a no-op (the member cannot be there): removals go through
-- rem(). Keys added to are checked with wrong_type() or by making the one
-- unchecked addition the transition's first write, through redis.pcall.

-- The error of a redis.pcall reply, or nil when it succeeded.
local function perr(r)
	return type(r) == 'table' and r.err or nil
end

-- A removal (LREM, ZREM, SREM, DEL) that a key of the wrong type cannot fail.
local function rem(...)
	redis.pcall(...)
end

-- nil when every key (pairs key, type) holds that type or nothing, else a
-- message naming the first that does not.
local function wrong_type(...)
	local kt = {...}
	for i = 1, #kt, 2 do
		local t = redis.call('TYPE', kt[i]).ok
		if t ~= 'none' and t ~= kt[i + 1] then
			return "key '" .. kt[i] .. "' is a " .. t .. ', not a ' .. kt[i + 1]
		end
	end
	return nil
end

local STAGE_NAMES = {extract = true, reconstruct = true, stitch = true}
local JOB_KINDS = {task = true, group = true, acq = true}
-- Job (and acq:<acq>) fields that hold whole numbers, as decimal strings.
local INT_FIELDS = {attempts = true, errors = true, crashes = true, max_attempts = true,
	backoff_ms = true, need_vram_mib = true, need_ram_mib = true,
	['need_vram_mib.extract'] = true, ['need_ram_mib.extract'] = true,
	['need_vram_mib.reconstruct'] = true, ['need_ram_mib.reconstruct'] = true,
	['need_vram_mib.stitch'] = true, ['need_ram_mib.stitch'] = true, claimed_ms = true,
	lease_until_ms = true, token = true, progress_done = true, progress_total = true,
	stitch_max_attempts = true, stitch_backoff_ms = true}

-- A value for a message: quoted, at most 40 characters.
local function shown(v)
	if #v > 40 then
		v = string.sub(v, 1, 40) .. '...'
	end
	return "'" .. v .. "'"
end

-- [A-Za-z0-9._-]{1,64}, as acquisition, group and task names are.
local function is_name(v)
	return #v <= 64 and string.find(v, '^[%w._-]+$') ~= nil
end

-- A JSON array of strings (a stitch job's inputs); cjson reads [] and {} alike.
local function is_string_array(v)
	local ok, t = pcall(cjson.decode, v)
	if not ok or type(t) ~= 'table' then
		return false
	end
	local n = 0
	for k, e in pairs(t) do
		if type(k) ~= 'number' or type(e) ~= 'string' then
			return false
		end
		n = n + 1
	end
	return n == #t
end

-- What is wrong with field name holding v (nil: absent), or nil. state and
-- stage must be present; the others may be absent (older scanq did not write
-- them all), and fields no script decides on are not checked.
local function field_problem(name, v)
	if v == nil then
		return (name == 'state' or name == 'stage') and 'is missing' or nil
	end
	local ok, want
	if INT_FIELDS[name] then
		ok, want = #v <= 16 and string.find(v, '^%-?%d+$'), 'a whole number'
	elseif name == 'state' then
		ok, want = JOB_STATES[v], 'a job state'
	elseif name == 'stage' then
		ok, want = STAGE_NAMES[v], 'a stage'
	elseif name == 'kind' then
		ok, want = JOB_KINDS[v], 'task, group or acq'
	elseif name == 'group' then
		ok, want = v == '' or is_name(v), 'a group name'
	elseif name == 'inputs' then
		ok, want = is_string_array(v), 'a JSON array of paths'
	elseif name == 'spec' or string.sub(name, 1, 5) == 'spec:' or name == 'template' then
		ok, want = string.sub(v, 1, 1) == '{', 'a JSON object'
	else
		return nil
	end
	if ok then
		return nil
	end
	return 'holds ' .. shown(v) .. ', not ' .. want
end

-- Fields names of hash key as a table (name -> value, nil when absent; n:
-- how many are present), or nil and a message when key is not a hash.
local function read_hash(key, names)
	local v = redis.pcall('HMGET', key, unpack(names))
	if perr(v) then
		return nil, wrong_type(key, 'hash') or perr(v)
	end
	local f = {n = 0}
	for i, name in ipairs(names) do
		if v[i] then
			f[name] = v[i]
			f.n = f.n + 1
		end
	end
	return f
end

-- The first problem of the fields names of f (read with read_hash) as
-- "job field 'attempts' holds 'x', not a whole number", or nil. what: "job"
-- or "acquisition".
local function fields_problem(f, names, what)
	for _, name in ipairs(names) do
		local p = field_problem(name, f[name])
		if p then
			return (what or 'job') .. " field '" .. name .. "' " .. p
		end
	end
	return nil
end

-- The first problem of job fields f, read with read_hash(names) where names
-- holds 'group': fields_problem, and a task (kind absent or task) needs its
-- group, which its fan-in counts it in.
local function job_problem(f, names)
	local p = fields_problem(f, names)
	if not p and (f.kind == nil or f.kind == 'task') and (f.group or '') == '' then
		p = "job field 'group' is missing"
	end
	return p
end

