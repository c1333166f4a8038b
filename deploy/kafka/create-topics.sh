#!/usr/bin/env bash
# One-shot topic setup for anomstream (the compose service `kafka-init`, in the
# apache/kafka image). Idempotent: creates what is missing, grows the input and
# output topics when ANOMSTREAM_TOPIC_PARTITIONS was raised (Kafka cannot
# shrink a topic; a lower value is reported and ignored), and (re)applies the
# retention settings. Workers also create missing topics at start, but without
# these settings, so they start only after this job succeeded.
set -euo pipefail

bootstrap="${KAFKA_BOOTSTRAP:-kafka:9092}"
partitions="${ANOMSTREAM_TOPIC_PARTITIONS:-8}"
replication="${KAFKA_REPLICATION_FACTOR:-1}"
bin="${KAFKA_BIN:-/opt/kafka/bin}"
admin_config=()
# For a secured cluster: a client properties file (security.protocol, sasl.*, ssl.*).
if [[ -n "${KAFKA_ADMIN_CONFIG:-}" ]]; then
  admin_config=(--command-config "$KAFKA_ADMIN_CONFIG")
fi

topics() { "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" "${admin_config[@]}" "$@"; }
configs() { "$bin/kafka-configs.sh" --bootstrap-server "$bootstrap" "${admin_config[@]}" "$@"; }

# ensure NAME PARTITIONS [key=value]
ensure() {
  local name=$1 wanted=$2 setting=${3:-}
  local extra=()
  if [[ -n "$setting" ]]; then extra=(--config "$setting"); fi
  topics --create --if-not-exists --topic "$name" --partitions "$wanted" \
    --replication-factor "$replication" "${extra[@]}"
  local current
  current=$(topics --describe --topic "$name" | sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p' | head -n 1)
  if ((current < wanted)); then
    echo "growing $name from $current to $wanted partitions (restart the workers afterwards)"
    topics --alter --topic "$name" --partitions "$wanted"
  elif ((current > wanted)); then
    echo "note: $name has $current partitions, more than the $wanted asked: Kafka cannot shrink a topic"
  fi
  if [[ -n "$setting" ]]; then
    configs --alter --entity-type topics --entity-name "$name" --add-config "$setting"
  fi
}

day_ms=86400000

# Inputs: a week to replay from after an outage (the broker default, stated).
ensure "${ANOMSTREAM_TOPIC_READINGS:-meter-readings}" "$partitions" "retention.ms=$((7 * day_ms))"
ensure "${ANOMSTREAM_TOPIC_SALES:-ticket-sales}" "$partitions" "retention.ms=$((7 * day_ms))"
# window-scores is the audit trail and the trainer's training data: kept forever.
ensure "${ANOMSTREAM_TOPIC_SCORES:-window-scores}" "$partitions" "retention.ms=-1"
# Alerts and rejected inputs: a month to investigate.
ensure "${ANOMSTREAM_TOPIC_ANOMALIES:-anomalies}" "$partitions" "retention.ms=$((30 * day_ms))"
ensure "${ANOMSTREAM_TOPIC_DEAD_LETTERS:-dead-letters}" "$partitions" "retention.ms=$((30 * day_ms))"
# Model announcements: one partition keeps them in order; every worker reads all.
ensure "${ANOMSTREAM_TOPIC_MODEL_UPDATES:-model-updates}" 1 "retention.ms=$((30 * day_ms))"
# Faust's leader-election topic: workers do not declare topics themselves
# (topic_allow_declare=False), so it must exist before they join the group.
ensure "${ANOMSTREAM_CONSUMER_GROUP:-anomstream-worker}-__assignor-__leader" 1

topics --list
