-- heartbeat.lua: extends a lease and records progress.
-- ARGV: P acq jid wid token lease_ms progress_done progress_total
-- -> 1, or 0 when the lease is no longer this worker's (stop working on it)
--
-- The job hash is the lease (its P leased:<acq> entry only lets expiry find
-- it): a leased:<acq> of the wrong type does not take the job from a worker
-- that is alive.
local acq, jid, wid, token = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local jkey = k_job(acq, jid)
local f = read_hash(jkey, {'state', 'owner', 'token'})
if not f or not fenced(f, wid, token) then
	return 0
end
local until_ms = str(tonumber(now_ms()) + tonumber(ARGV[6]))
redis.call('HSET', jkey, 'lease_until_ms', until_ms, 'progress_done', ARGV[7],
	'progress_total', ARGV[8])
rem('ZADD', k_leased(acq), until_ms, jid)
return 1
