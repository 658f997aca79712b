-- complete.lua: records success and moves the job on, with the fan-in.
-- ARGV: P acq jid wid token result
-- -> 'OK' (also when this lease's completion was already recorded), or 'STALE'
-- (the lease is not this worker's any more: nothing is changed).
--
-- extract -> queued at reconstruct. reconstruct -> done; the completion that
-- fills gdone:<acq>:<group> queues the group stitch. A group stitch -> done;
-- the one that fills sdone:<acq> (>= 2 groups) queues the acquisition stitch.
-- SADD returning 1 is what makes the fan-in happen exactly once even when two
-- members finish at the same instant: scripts run one at a time.

local acq, jid, wid, token = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local jkey = k_job(acq, jid)
local f = redis.call('HMGET', jkey, 'done_token', 'done_outcome', 'kind', 'stage', 'group')
if f[1] == token and f[2] == 'done' then
	return 'OK'
end
if not fenced(jkey, wid, token) then
	return 'STALE'
end
local now = now_ms()
local kind, stage, group = f[3], f[4], f[5] or ''
end_lease(acq, jid, jkey, 'done', nil, now)
redis.call('HSET', jkey, 'done_outcome', 'done', 'result', ARGV[6], 'error', '')
redis.call('SADD', k_done(acq, stage), jid)

if stage == 'extract' then
	redis.call('HSET', jkey, 'state', 'queued', 'attempts', 0, 'errors', 0, 'crashes', 0)
	set_stage(jkey, 'reconstruct')
	redis.call('LPUSH', k_queue('reconstruct', acq), jid)
	ring('reconstruct')
	return 'OK'
end

redis.call('HSET', jkey, 'state', 'done')
if stage == 'reconstruct' then
	local gdone = k_gdone(acq, group)
	if redis.call('SADD', gdone, jid) == 1 and
		redis.call('SCARD', gdone) == redis.call('SCARD', k_members(acq, group)) then
		queue_stitch(acq, '@group:' .. group, group, now)
	end
elseif kind == 'group' then
	local sdone = P .. 'sdone:' .. acq
	local ngroups = redis.call('SCARD', P .. 'groups:' .. acq)
	if redis.call('SADD', sdone, group) == 1 and ngroups >= 2 and
		redis.call('SCARD', sdone) == ngroups then
		queue_stitch(acq, '@acq', '', now)
	end
end
return 'OK'
