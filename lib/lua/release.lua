-- release.lua: hands a leased job back untouched (graceful stop): to the FRONT
-- of its queue, the attempt not counted.
-- ARGV: P acq jid wid token -> 'OK' or 'STALE'
local acq, jid, wid, token = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local jkey = k_job(acq, jid)
local f = redis.call('HMGET', jkey, 'done_token', 'done_outcome', 'stage')
if f[1] == token and f[2] == 'released' then
	return 'OK'
end
if not fenced(jkey, wid, token) then
	return 'STALE'
end
local now = now_ms()
end_lease(acq, jid, jkey, 'released', nil, now)
redis.call('HINCRBY', jkey, 'attempts', -1)
redis.call('HSET', jkey, 'state', 'queued', 'done_outcome', 'released')
redis.call('RPUSH', k_queue(f[3], acq), jid)
ring(f[3])
return 'OK'
