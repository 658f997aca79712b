-- release_owner.lua: a supervisor's child died; whatever it held goes back to
-- the front of its queue at once, counted as a crash (or dead when exhausted,
-- or when the job cannot be used: see crash).
-- ARGV: P wid reason -> 1 if a job was held and requeued (or left to its lease
-- expiry: keys of the wrong type), 2 if held and dead-lettered, else 0
local wid, reason = ARGV[2], ARGV[3]
local k = k_owned(wid)
local owned = redis.pcall('GET', k)
if not owned then
	return 0
end
redis.call('DEL', k)
local acq, jid = owned_job(owned)
if not acq then
	return 0
end
local jkey = k_job(acq, jid)
local f = read_hash(jkey, LEASE_FIELDS)
if not holds(f, wid) then
	return 0 -- not ours (or unreadable: its lease expiry deals with it)
end
if crash(acq, jid, jkey, f, reason, now_ms()) == 'dead' then
	return 2 -- nil: keys of the wrong type, left to expire
end
return 1
