-- retry.lua: an operator sends dead-lettered jobs (and, when asked, cancelled
-- ones) back to their queues.
-- ARGV: P acq target cancelled_too(0|1)   (target as target_jobs)
-- -> JSON {"retried":[{"jid","stage","was"}],"unchanged":N} or {"error":msg}
--
-- A task goes back to the front of the queue of the stage it stopped at,
-- attempt counts reset, its dead letters dropped. A task taken back from a cancel re-opens its
-- group (and the acquisition) stitch: it may have run without the task. A
-- stitch is queued at once when its inputs are settled, else waits for its
-- fan-in. Other jobs are left alone (idempotent).

local acq, target, cancelled_too = ARGV[2], ARGV[3], ARGV[4] == '1'
local named, jids = target_jobs(acq, target)
if not named then
	return refuse(jids)
end
local now = now_ms()
local out, unchanged = {}, 0

local function revive_task(jid, jkey, f)
	local group = f.group or ''
	if f.state == ST_CANCELLED then
		reopen_group(acq, group, now)
	end
	redis.call('HSET', jkey, 'state', ST_QUEUED, 'attempts', '0', 'errors', '0', 'crashes', '0',
		'error', '', 'owner', '', 'progress_done', '0', 'progress_total', '0', 'updated_ms',
		now)
	redis.call('RPUSH', k_queue(f.stage, acq), jid) -- the front: it has waited
	ring(f.stage)
end

local function revive_stitch(jid, jkey, f)
	local group = f.kind == 'group' and (f.group or '') or ''
	if group ~= '' and f.state == ST_CANCELLED then
		reopen_stitch(acq, '@acq', now) -- it may have run without this group
	end
	if (group ~= '' and group_settled(acq, group)) or (group == '' and acq_settled(acq)) then
		queue_stitch(acq, jid, group, now)
	else
		redis.call('HSET', jkey, 'state', ST_WAITING, 'error', '', 'owner', '', 'updated_ms', now)
	end
end

local function retry_one(jid)
	local jkey = k_job(acq, jid)
	local f = read_hash(jkey, LEASE_FIELDS)
	if not f or f.state ~= ST_FAILED and not (cancelled_too and f.state == ST_CANCELLED) then
		return false
	end
	-- a job buried for a field no script can use goes back through
	-- scanq-repair --retry-failed, which rewrites its fields; nor can a task go
	-- to a queue of the wrong type
	if job_problem(f, {'state', 'stage', 'kind', 'group', 'max_attempts', 'backoff_ms'}) or
		f.kind ~= 'group' and f.kind ~= 'acq' and wrong_type(k_queue(f.stage, acq), 'list') then
		return false
	end
	clear_dead_letters(acq, jid)
	uncancel(acq, jid)
	if f.kind == 'task' then
		revive_task(jid, jkey, f)
	else
		revive_stitch(jid, jkey, f)
	end
	out[#out + 1] = '{"jid":' .. jstr(jid) .. ',"stage":' .. jstr(f.stage) .. ',"was":' ..
		jstr(f.state) .. '}'
	return true
end

for _, jid in ipairs(jids) do
	if not retry_one(jid) then
		unchanged = unchanged + 1
	end
end
return '{"retried":[' .. table.concat(out, ',') .. '],"unchanged":' .. unchanged .. '}'
