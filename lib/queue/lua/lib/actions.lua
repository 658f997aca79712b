-- lib/actions.lua: operator actions (scanq-ctl: cancel, retry, clear, show).
-- Helpers shared by the scripts (see lib/keys.lua for the conventions);
-- embed.py prepends to each script only the definitions it uses.

-- The jobs a target names, in order (a group's tasks sorted, then its stitch):
-- '' every job of acq; '@acq' its stitch; '@group:<g>' or a group's name the
-- group's tasks and stitch; else a task. Returns what was named ('acq', 'group',
-- 'task' or 'stitch') and the jids, or nil and a message.
local function target_jobs(acq, target)
	if redis.call('SISMEMBER', k_acqs(), acq) == 0 then
		return nil, "no acquisition '" .. acq .. "'"
	end
	local kgroups = k_groups(acq)
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
