-- Windows of some shards whose worker died: expired claims are re-claimed,
-- outboxes never acknowledged are handed back for re-publishing (same bytes).
-- A window can need both: a scored window that changed was re-claimed before
-- its outbox was acknowledged. The new claimer loads the current values, so an
-- old 'dirty' mark is dropped (it would only force a needless re-score).
-- KEYS: per shard its inflight index; ARGV: now_ms, lease_ms, token_prefix,
--   limit (per shard), then per shard its window key prefix.
-- Returns {{member, revision, alert_revision, alert_active, token}...}, {{member, outbox, revision}...}
local now = tonumber(ARGV[1])
local lease_until = now + tonumber(ARGV[2])
local claims, outboxes = {}, {}
for s = 1, #KEYS do
  local inflight_index, prefix = KEYS[s], ARGV[4 + s]
  local stale = redis.call('ZRANGEBYSCORE', inflight_index, '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))
  for _, member in ipairs(stale) do
    local key = prefix .. member
    local h = redis.call('HMGET', key, 'st', 'ob', 'lease', 'rev', 'arev', 'act', 'obrev')
    if h[1] == 'c' and tonumber(h[3]) <= now then
      local token = ARGV[3] .. (#claims + 1)
      redis.call('HSET', key, 'tok', token, 'lease', lease_until)
      redis.call('HDEL', key, 'dirty')
      redis.call('ZADD', inflight_index, lease_until, member)
      claims[#claims + 1] = {member, tonumber(h[4]) + 1, tonumber(h[5]), tonumber(h[6]), token}
    end
    if h[2] then
      redis.call('ZADD', inflight_index, lease_until, member)
      outboxes[#outboxes + 1] = {member, h[2], h[7]}
    elseif h[1] ~= 'c' then
      redis.call('ZREM', inflight_index, member)
    end
  end
end
return {claims, outboxes}
