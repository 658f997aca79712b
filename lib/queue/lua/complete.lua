-- complete.lua: records success and moves the job on, with the fan-in; with
-- claim options, also claims the worker's next job in the same call.
-- ARGV: P acq jid wid token result [lease_ms host free_vram_mib free_ram_mib
--       nstages stage* nacqs acq*]
-- Without claim options -> 'OK' (also when this lease's completion was already
-- recorded), or 'STALE' (the lease is not this worker's any more: nothing is
-- changed).
-- With them -> 'STALE' (nothing changed, nothing claimed), 0 (completed, nothing
-- to claim), {'chained', token}: the same job leased on at reconstruct (attempt
-- 1; the caller has the rest), or the next job as claim.lua returns it. A
-- retried call (lost reply) finds the completion recorded and answers the job
-- it then leased (as claim.lua does).
--
-- extract -> reconstruct: queued, or when the caller serves reconstruct for
-- this acquisition and the needs fit, leased straight back to it (its frames
-- are on its host; no queue push, no doorbell). reconstruct -> done, and the
-- group fan-in (fan_in_task). A group stitch -> done, and the acquisition
-- fan-in (fan_in_group).

-- "done with warnings": a result whose "warnings" list is not empty puts the
-- job in P warn:<acq>:<stage> and the list in its warnings.<stage> field (what
-- status shows); any other result takes them out. The cheap find first: most
-- results have none.
local function note_warnings(acq, jid, jkey, stage, result, now)
	local w
	if string.find(result, '"warnings"', 1, true) and
		not string.find(result, '"warnings":[]', 1, true) then
		local ok, doc = pcall(cjson.decode, result)
		if ok and type(doc) == 'table' and type(doc.warnings) == 'table' and
			#doc.warnings > 0 then
			w = cjson.encode(doc.warnings)
		end
	end
	if w then
		redis.call('ZADD', k_warn(acq, stage), now, jid)
		redis.call('HSET', jkey, 'warnings.' .. stage, w)
	elseif redis.call('ZREM', k_warn(acq, stage), jid) == 1 then
		redis.call('HDEL', jkey, 'warnings.' .. stage)
	end
end

local acq, jid, wid, token, result = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local claims = ARGV[7] ~= nil
if claims then
	claim_opts(wid, 7)
end
local jkey = k_job(acq, jid)
local state, owner, tok, stage, attempts, claimed, host, nv, nr = unpack(redis.call('HMGET', jkey,
	'state', 'owner', 'token', 'stage', 'attempts', 'claimed_ms', 'host',
	'need_vram_mib.reconstruct', 'need_ram_mib.reconstruct'))
local now
if state ~= 'leased' or owner ~= wid or tok ~= token then
	local done_tok, done_out = unpack(redis.call('HMGET', jkey, 'done_token', 'done_outcome'))
	if done_tok ~= token or done_out ~= 'done' then
		return 'STALE'
	end
	if not claims then
		return 'OK' -- a retried call: recorded already
	end
	now = now_ms()
	return held(now) or claim_queued(now) or 0
end
now = now_ms()
add_history(acq, jid, stage, wid, host, attempts, claimed, now, 'done', nil)
redis.call('SADD', k_done(acq, stage), jid)
note_warnings(acq, jid, jkey, stage, result, now)
if stage == 'extract' then
	nv, nr = nv or '0', nr or '0'
	if claims and serves('reconstruct') and allows(acq) and fits(nv, nr) and
		not is_paused(acq) then
		-- the same owner and host lease on; P owned:<wid> names the job already
		-- and its P leased:<acq> entry stays, earlier than the new deadline
		-- (see expire_leases). The caller has the rest of the job.
		local t, until_ms = new_token(now)
		redis.call('HSET', jkey, 'done_token', token, 'done_outcome', 'done', 'result', result,
			'error', '', 'stage', 'reconstruct', 'need_vram_mib', nv, 'need_ram_mib', nr,
			'errors', '0', 'crashes', '0', 'attempts', '1', 'token', string.format('%d', t),
			'claimed_ms', now, 'lease_until_ms', until_ms, 'progress_done', '0',
			'progress_total', '0', 'updated_ms', now)
		return {'chained', t}
	end
	redis.call('HSET', jkey, 'done_token', token, 'done_outcome', 'done', 'result', result,
		'error', '', 'stage', 'reconstruct', 'need_vram_mib', nv, 'need_ram_mib', nr,
		'errors', '0', 'crashes', '0', 'attempts', '0', 'state', 'queued', 'owner', '',
		'updated_ms', now)
	redis.call('ZREM', k_leased(acq), jid)
	redis.call('LPUSH', k_queue('reconstruct', acq), jid)
	ring('reconstruct')
else
	redis.call('HSET', jkey, 'done_token', token, 'done_outcome', 'done', 'result', result,
		'error', '', 'state', 'done', 'owner', '', 'updated_ms', now)
	redis.call('ZREM', k_leased(acq), jid)
	local kind, group = unpack(redis.call('HMGET', jkey, 'kind', 'group'))
	if stage == 'reconstruct' then
		fan_in_task(acq, jid, group or '', now)
	elseif kind == 'group' then
		fan_in_group(acq, group or '', now)
	end
end
local job = claims and claim_queued(now)
if job then
	return job -- it re-pointed P owned:<wid>
end
disown(wid, acq, jid)
return claims and 0 or 'OK'
