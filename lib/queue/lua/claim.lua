-- claim.lua: leases one job to a worker, fairly across acquisitions.
-- ARGV: P wid lease_ms host free_vram_mib free_ram_mib nstages stage* nacqs acq*
-- (nacqs 0: every acquisition in P acqs).
-- -> nil, or {acq, jid, kind, stage, version, spec, {inputs...}, token, attempt}
--
-- A worker that already holds a lease gets that job again (a claim retried
-- after a lost reply loses nothing). Otherwise, after the due maintenance
-- (expired leases back, due retries promoted: maintain_due), per stage in the
-- order given, acquisitions are tried round-robin (claim_stage); within a
-- queue the oldest job whose VRAM/RAM needs fit is taken (take). A job that
-- cannot be used (a field or its key of the wrong form) is dead-lettered on
-- the way, naming what is wrong.
--
-- A claim that finds nothing records the idle worker's free VRAM and RAM on
-- its registry hash (P worker:<wid> vram_mib, ram_mib, when registered), so
-- that status can say which queued jobs no live worker can take.

claim_opts(ARGV[2], 3)
local now = now_ms()
local job = held(now) or claim_queued(now)
if job then
	return job
end
local k = k_worker(CO_WID)
if redis.call('EXISTS', k) == 1 then
	rem('HSET', k, 'vram_mib', CO_VRAM, 'ram_mib', CO_RAM)
end
return false
