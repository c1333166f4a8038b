#!/bin/sh
# Start Redis with ACL users built from the environment at run time, so no
# password is baked into an image or committed to a file. Only a SHA-256 of
# each password reaches the ACL file (in the container's /tmp).
#
#   default     no password, PING only (for the healthcheck)
#   anomstream  the worker: keys under ANOMSTREAM_KEY_PREFIX, the commands
#               the worker and its Lua scripts use, nothing else
#   admin       everything; only when REDIS_ADMIN_PASSWORD is set (backups, debugging)
set -eu

: "${REDIS_PASSWORD:?REDIS_PASSWORD is required}"
prefix="${ANOMSTREAM_KEY_PREFIX:-anomstream}"
acl="${REDIS_ACL_FILE:-/tmp/users.acl}"

sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# Connection: AUTH, HELLO, PING, SELECT, CLIENT SETINFO (redis-py's handshake).
# Direct: HGETALL, ZCARD; EVALSHA + SCRIPT LOAD/EXISTS (redis-py's registered
# scripts; EVAL is never sent). Inside the scripts (stream/windows/lua/*.lua),
# which Redis checks against the same ACL: the hash and sorted-set commands.
worker_commands="+auth +hello +ping +select \
+hgetall +zcard +evalsha +script|load +script|exists \
+hget +hmget +hset +hsetnx +hdel +hexists +hkeys +hlen +hincrby +hincrbyfloat \
+zadd +zrem +zrangebyscore +del +expire"

# CLIENT SETINFO exists from Redis 7.2 on; an older server refuses to start
# on an ACL naming it (redis-py ignores the refusal of that command).
case "$(redis-server --version)" in
  *v=6.* | *v=7.0.* | *v=7.1.*) ;;
  *) worker_commands="$worker_commands +client|setinfo" ;;
esac

umask 077
{
  echo "user default on nopass resetchannels -@all +ping"
  # shellcheck disable=SC2086 # the command list is split on purpose
  echo "user anomstream on #$(sha256 "$REDIS_PASSWORD") ~${prefix}:* resetchannels -@all" $worker_commands
  if [ -n "${REDIS_ADMIN_PASSWORD:-}" ]; then
    echo "user admin on #$(sha256 "$REDIS_ADMIN_PASSWORD") ~* &* +@all"
  fi
} > "$acl"

# Optional memory ceiling (e.g. 4gb); 0 = none. See maxmemory-policy in redis.conf.
exec redis-server "${REDIS_CONFIG:-/usr/local/etc/redis/redis.conf}" \
  --aclfile "$acl" --maxmemory "${REDIS_MAXMEMORY:-0}" "$@"
