-- Claim the open windows of some shards whose deadline the watermark has passed.
-- KEYS: per shard: its open index, its inflight index.
-- ARGV: watermark, now_ms, lease_ms, token_prefix, limit (per shard), then per
--   shard its window key prefix.
-- Returns {member, revision, alert_revision, alert_active, token} per claim.
local lease_until = tonumber(ARGV[2]) + tonumber(ARGV[3])
local limit = tonumber(ARGV[5])
local claims = {}
for s = 1, #KEYS / 2 do
  local open_index, inflight_index, prefix = KEYS[2 * s - 1], KEYS[2 * s], ARGV[5 + s]
  local due = redis.call('ZRANGEBYSCORE', open_index, '-inf', ARGV[1], 'LIMIT', 0, limit)
  for _, member in ipairs(due) do
    local key = prefix .. member
    redis.call('ZREM', open_index, member)
    if redis.call('HGET', key, 'st') == 'o' then
      local token = ARGV[4] .. (#claims + 1)
      redis.call('HSET', key, 'st', 'c', 'tok', token, 'lease', lease_until)
      redis.call('ZADD', inflight_index, lease_until, member)
      local h = redis.call('HMGET', key, 'rev', 'arev', 'act')
      claims[#claims + 1] = {member, tonumber(h[1]) + 1, tonumber(h[2]), tonumber(h[3]), token}
    end
  end
end
return claims
