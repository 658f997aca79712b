-- release.lua: hands a leased job back untouched (graceful stop): to the FRONT
-- of its queue, the attempt not counted.
-- ARGV: P acq jid wid token -> 'OK' or 'STALE'; an error (nothing changed for
-- the worker to do: the job is dead-lettered or left to its lease) when the
-- job cannot be handed back (a field or key of the wrong form).
local acq, jid, wid, token = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local jkey = k_job(acq, jid)
local f = read_hash(jkey, LEASE_FIELDS)
if not f then
	return 'STALE' -- not a hash: no lease to check; its expiry dead-letters it
end
if f.done_token == token and f.done_outcome == 'released' then
	return 'OK'
end
if not fenced(f, wid, token) then
	return 'STALE'
end
local now = now_ms()
local why = job_problem(f, LEASE_FIELDS) or wrong_type(k_queue(f.stage, acq), 'list')
if why then
	error({err = 'cannot hand back: ' .. abandon(acq, jid, f, why, now)})
end
local h = {}
end_lease(acq, jid, f, h, 'released', nil, now)
put(h, 'attempts', str(num(f.attempts) - 1), 'state', ST_QUEUED, 'done_outcome', 'released')
redis.call('HSET', jkey, unpack(h))
redis.call('RPUSH', k_queue(f.stage, acq), jid)
ring(f.stage)
return 'OK'
