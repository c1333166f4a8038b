-- Claim the open windows of one shard whose deadline the watermark has passed.
-- KEYS[1] open index, KEYS[2] inflight index.
-- ARGV: window_key_prefix, watermark, now_ms, lease_ms, token_prefix, limit
-- Returns {member, revision, alert_revision, alert_active, token} per claim.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[6]))
local lease_until = tonumber(ARGV[3]) + tonumber(ARGV[4])
local claims = {}
for i, member in ipairs(due) do
  local key = ARGV[1] .. member
  redis.call('ZREM', KEYS[1], member)
  if redis.call('HGET', key, 'st') == 'o' then
    local token = ARGV[5] .. i
    redis.call('HSET', key, 'st', 'c', 'tok', token, 'lease', lease_until)
    redis.call('ZADD', KEYS[2], lease_until, member)
    local h = redis.call('HMGET', key, 'rev', 'arev', 'act')
    claims[#claims + 1] = {member, tonumber(h[1]) + 1, tonumber(h[2]), tonumber(h[3]), token}
  end
end
return claims
