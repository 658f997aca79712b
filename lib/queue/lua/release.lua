-- release.lua: hands a leased job back untouched (graceful stop): to the FRONT
-- of its queue, the attempt not counted.
-- ARGV: P acq jid wid token -> 'OK' or 'STALE'
local acq, jid, wid, token = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local jkey = k_job(acq, jid)
local f = hmget(jkey, LEASE_FIELDS)
if f.done_token == token and f.done_outcome == 'released' then
	return 'OK'
end
if not fenced(f, wid, token) then
	return 'STALE'
end
local now = now_ms()
local h = {}
end_lease(acq, jid, f, h, 'released', nil, now)
put(h, 'attempts', str(num(f.attempts) - 1), 'state', 'queued', 'done_outcome', 'released')
redis.call('HSET', jkey, unpack(h))
redis.call('RPUSH', k_queue(f.stage, acq), jid)
ring(f.stage)
return 'OK'
