-- Windows of one shard whose worker died: expired claims are re-claimed,
-- outboxes never acknowledged are handed back for re-publishing (same bytes).
-- A window can need both: a scored window that changed was re-claimed before
-- its outbox was acknowledged. The new claimer loads the current values, so an
-- old 'dirty' mark is dropped (it would only force a needless re-score).
-- KEYS[1] inflight index; ARGV: window_key_prefix, now_ms, lease_ms, token_prefix, limit
-- Returns {{member, revision, alert_revision, alert_active, token}...}, {{member, outbox, revision}...}
local now = tonumber(ARGV[2])
local lease_until = now + tonumber(ARGV[3])
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
local claims, outboxes = {}, {}
for i, member in ipairs(stale) do
  local key = ARGV[1] .. member
  local h = redis.call('HMGET', key, 'st', 'ob', 'lease', 'rev', 'arev', 'act', 'obrev')
  if h[1] == 'c' and tonumber(h[3]) <= now then
    local token = ARGV[4] .. i
    redis.call('HSET', key, 'tok', token, 'lease', lease_until)
    redis.call('HDEL', key, 'dirty')
    redis.call('ZADD', KEYS[1], lease_until, member)
    claims[#claims + 1] = {member, tonumber(h[4]) + 1, tonumber(h[5]), tonumber(h[6]), token}
  end
  if h[2] then
    redis.call('ZADD', KEYS[1], lease_until, member)
    outboxes[#outboxes + 1] = {member, h[2], h[7]}
  elseif h[1] ~= 'c' then
    redis.call('ZREM', KEYS[1], member)
  end
end
return {claims, outboxes}
