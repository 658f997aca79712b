-- claim.lua: leases one job to a worker, fairly across acquisitions.
-- ARGV: P wid lease_ms host free_vram_mib free_ram_mib nstages stage* nacqs acq*
-- (nacqs 0: every acquisition in P acqs).
-- -> nil, or {acq, jid, kind, stage, version, spec, {inputs...}, token, attempt}
--
-- A worker that already holds a lease gets that job again (a claim retried
-- after a lost reply loses nothing). Otherwise, after the due maintenance
-- (expired leases back, due retries promoted: maintain_due), per stage in the
-- order given, acquisitions are tried round-robin (claim_stage); within a
-- queue the oldest job whose VRAM/RAM needs fit is taken (take).

claim_opts(ARGV[2], 3)
local now = now_ms()
return held(now) or claim_queued(now) or false
