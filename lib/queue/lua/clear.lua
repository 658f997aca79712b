-- clear.lua: an operator drops dead letters (the jobs stay failed: retry can
-- still bring them back; status stops listing the letters).
-- ARGV: P acq target (as target_jobs; '' every letter of the acquisition)
-- -> JSON {"cleared":N} or {"error":msg}
local acq, target = ARGV[2], ARGV[3]
local named, jids = target_jobs(acq, target)
if not named then
	return refuse(jids)
end
local k = k_failed(acq)
local n = redis.call('LLEN', k)
if named == 'acq' then
	redis.call('DEL', k)
	return '{"cleared":' .. n .. '}'
end
local want = {}
for _, jid in ipairs(jids) do
	want[jid] = true
end
for _, dl in ipairs(redis.call('LRANGE', k, '0', '-1')) do
	local ok, v = pcall(cjson.decode, dl)
	if ok and type(v) == 'table' and want[v.jid] then
		redis.call('LREM', k, '0', dl)
	end
end
return '{"cleared":' .. (n - redis.call('LLEN', k)) .. '}'
