-- lib/keys.lua: the helpers every scanq script stands on: the key of every
-- Redis key (one k_* function each; the data model is documented in
-- lib/queue/queue.h), Redis's clock, number and field-list helpers. Job states
-- are the ST_* constants embed.py generates from lib/queue/job_state.h.
--
-- The files of lib/ (keys, checks, lease, fanin, claim, actions, in that order:
-- a definition may only use those before it) hold nothing but top-level
-- `local` definitions (bodies indented); embed.py prepends to each script only
-- the definitions it uses. Conventions: ARGV[1] is always the key prefix P;
-- keys are built here rather than passed as KEYS because claim discovers
-- acquisitions at run time (scanq does not support Redis Cluster). Time is
-- always Redis's TIME, read once per script. Hot paths read a job hash with one
-- HMGET and write it with one HSET, and hand redis.call strings rather than Lua
-- numbers (formatting a number costs about as much as a cheap command).

local P = ARGV[1]
local HISTORY_MAX = 32 -- attempts kept per job
local WAKE_MAX = 64 -- doorbell tokens kept per stage
local SCAN_MAX = '100' -- expired leases / due retries handled per call and acq
local MAINT_EVERY_MS = 250 -- lease expiry and retry promotion, per acquisition
local LOOK_MAX = 8 -- queued jobs a claim looks at for one that fits
local LOOK_REST = '-' .. LOOK_MAX -- LRANGE start of the LOOK_MAX oldest
local ALL_STAGES = {'extract', 'reconstruct', 'stitch'}

-- Redis TIME in ms, as a decimal string (by string operations: converting to
-- and from numbers costs more).
local function now_ms()
	local t = redis.call('TIME')
	return t[1] .. string.sub('00000' .. t[2], -6, -4)
end

-- now (a decimal string) plus ms, as a decimal string: redis.call is handed
-- strings (it formats a Lua number slower than string.format does).
local function ms_after(now, ms)
	return string.format('%d', now + ms)
end

local function k_job(acq, jid) return P .. 'job:' .. acq .. ':' .. jid end
local function k_hist(acq, jid) return P .. 'hist:' .. acq .. ':' .. jid end
local function k_queue(stage, acq) return P .. stage .. ':' .. acq end
local function k_leased(acq) return P .. 'leased:' .. acq end
local function k_delayed(acq) return P .. 'delayed:' .. acq end
local function k_done(acq, stage) return P .. 'done:' .. acq .. ':' .. stage end
local function k_dead(acq, stage) return P .. 'dead:' .. acq .. ':' .. stage end
local function k_members(acq, group) return P .. 'members:' .. acq .. ':' .. group end
local function k_gdone(acq, group) return P .. 'gdone:' .. acq .. ':' .. group end
local function k_acq(acq) return P .. 'acq:' .. acq end
local function k_cancelled(acq, stage) return P .. 'cancelled:' .. acq .. ':' .. stage end
local function k_gcancel(acq, group) return P .. 'gcancel:' .. acq .. ':' .. group end
local function k_warn(acq, stage) return P .. 'warn:' .. acq .. ':' .. stage end
local function k_failed(acq) return P .. 'failed:' .. acq end
local function k_groups(acq) return P .. 'groups:' .. acq end
local function k_sdone(acq) return P .. 'sdone:' .. acq end
local function k_scancel(acq) return P .. 'scancel:' .. acq end
local function k_maint(acq) return P .. 'maint:' .. acq end
local function k_acqs() return P .. 'acqs' end
local function k_paused() return P .. 'paused' end
local function k_fence() return P .. 'fence' end
local function k_owned(wid) return P .. 'owned:' .. wid end
local function k_workers() return P .. 'workers' end
local function k_worker(wid) return P .. 'worker:' .. wid end
local function k_wake(stage) return P .. 'wake:' .. stage end
local function k_cursor(stage) return P .. 'cursor:' .. stage end

local function num(v, dflt)
	return tonumber(v) or dflt or 0
end

-- A number read from Redis (or computed) as the decimal string redis.call
-- wants; anything that is not a finite number reads as 0.
local function str(v)
	local n = tonumber(v)
	if not n or n ~= n or n >= 1e15 or n <= -1e15 then
		n = 0
	end
	return string.format('%d', n)
end

-- Appends field/value pairs to h, the one HSET a script ends with.
local function put(h, ...)
	local n = #h
	for i, v in ipairs({...}) do
		h[n + i] = v
	end
end

