#!/usr/bin/env bash
# `make bench`: runs the five services as separate release processes (as in
# production) on a database and NATS prefix of their own, drives them with the
# load generator, and writes the figures with the machine and date into
# BENCHMARKS.md. Expects `cargo build --release` to have built the binaries.
# BENCH_ONLY=ceilings|throughput|latency|overload|widget|presence|messengers|notifications|sockets|console runs one part (or a comma list)
# and only prints it. BENCH_BIN_DIR takes the binaries from another directory
# (to compare two builds in one sitting).
set -euo pipefail
only=${BENCH_ONLY:-all}
cd "$(dirname "$0")/../.."
bin=${BENCH_BIN_DIR:-target/release}
stamp=$(date +%s)
db=chat_bench_$stamp
admin_url=${CHAT_TEST_DATABASE_URL:-postgres://chat:chat@127.0.0.1:5432/postgres}
export CHAT_DATABASE_URL=${admin_url%/*}/$db
export CHAT_NATS_PREFIX=bench_$stamp
export CHAT_LOG_FORMAT=json RUST_LOG=${RUST_LOG:-warn}
export CHAT_DATABASE_MAX_CONNECTIONS=${CHAT_DATABASE_MAX_CONNECTIONS:-24}
# Ports of their own, so a running `make dev` is left alone.
export GATEWAY_HTTP_ADDR=127.0.0.1:18080 GATEWAY_OPS_ADDR=127.0.0.1:19100 GATEWAY_SEED_DEMO=true
export DIALOG_GRPC_ADDR=127.0.0.1:15051 DIALOG_OPS_ADDR=127.0.0.1:19101
export CONTACT_GRPC_ADDR=127.0.0.1:15052 CONTACT_OPS_ADDR=127.0.0.1:19102
export NOTIFICATION_OPS_ADDR=127.0.0.1:19103 NOTIFICATION_GRPC_ADDR=127.0.0.1:15054 BRIDGE_HTTP_ADDR=127.0.0.1:18090
export BRIDGE_GRPC_ADDR=127.0.0.1:15053
export GATEWAY_DIALOG_URL=http://$DIALOG_GRPC_ADDR GATEWAY_CONTACT_URL=http://$CONTACT_GRPC_ADDR
export GATEWAY_BRIDGE_URL=http://$BRIDGE_GRPC_ADDR GATEWAY_NOTIFICATION_URL=http://$NOTIFICATION_GRPC_ADDR
export NOTIFICATION_DIALOG_URL=$GATEWAY_DIALOG_URL
# E-mails and pushes go to the load generator's SMTP server and push service.
# The other parts run with the product's alert window and visitors' grace;
# the notifications part last, with both at 0 (so its delays are the
# machinery's), the notification service restarted for it.
export BENCH_SMTP=127.0.0.1:18025 BENCH_PUSH=127.0.0.1:18092
export NOTIFICATION_SMTP_URL=smtp://$BENCH_SMTP NOTIFICATION_PUSH_HOSTS=127.0.0.1
export BRIDGE_DIALOG_URL=$GATEWAY_DIALOG_URL BRIDGE_CONTACT_URL=$GATEWAY_CONTACT_URL
# The messengers are the load generator's fakes; their webhooks reach the bridge directly.
export BENCH_FAKES=127.0.0.1:18091
export BRIDGE_TELEGRAM_API_URL=http://$BENCH_FAKES BRIDGE_VK_API_URL=http://$BENCH_FAKES
export BRIDGE_FACEBOOK_API_URL=http://$BENCH_FAKES BRIDGE_PUBLIC_URL=http://$BRIDGE_HTTP_ADDR
export BRIDGE_SECRET_KEYS=bench:$(head -c32 /dev/urandom | base64)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# The gateway holds one descriptor per socket, besides its own few hundred at most.
export BENCH_MAX_SOCKETS=$(( $(ulimit -n) - 500 ))
# Every simulated visitor comes from 127.0.0.1: the per-address budgets are
# lifted, or the load generator would measure them.
export GATEWAY_VISITOR_SOCKETS_PER_ADDRESS=1000000 GATEWAY_VISITOR_CONNECTS_PER_MINUTE_PER_ADDRESS=1000000
export GATEWAY_NEW_VISITORS_PER_MINUTE_PER_ADDRESS=1000000 GATEWAY_NEW_VISITORS_PER_MINUTE_PER_SITE=1000000
export GATEWAY_FIRST_MESSAGES_PER_MINUTE_PER_ADDRESS=1000000 GATEWAY_FIRST_MESSAGES_PER_MINUTE_PER_SITE=1000000

logs=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$bin/chat-loadgen" cleanup "$CHAT_NATS_PREFIX" || true
  psql -q "$admin_url" -c "drop database if exists $db with (force)" || true
}
trap cleanup EXIT

# 200 from a service's /readyz (bash alone: a fresh machine may lack curl).
ready() {
  # Braces: `exec 2>/dev/null` alone would silence the script's stderr for good.
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  local status; status=$(head -n 1 <&3); exec 3>&-
  [[ $status == *" 200"* ]]
}

wait_ready() {
  for port in "$@"; do
    for _ in $(seq 1 100); do
      ready "$port" && break
      sleep 0.2
    done
    ready "$port" || { echo "service on $port not ready; logs in $logs" >&2; exit 1; }
  done
}

psql -q "$admin_url" -c "create database $db"
# One runtime thread a service: on two cores shared with PostgreSQL and NATS
# a second only adds switches (BENCHMARKS.md: same throughput, about 50 µs
# less a message). BENCH_WORKER_THREADS=2 measures tokio's default here.
workers=${BENCH_WORKER_THREADS:-1}
declare -A service_pids
for service in dialog contact notification channel-bridge gateway; do
  TOKIO_WORKER_THREADS=$workers "$bin/$service" >"$logs/$service.log" 2>&1 &
  pids+=($!)
  service_pids[$service]=$!
done
wait_ready 19101 19102 19103 18090 19100

all_parts=ceilings,throughput,latency,overload,widget,presence,messengers,sockets,console
[ "$only" = all ] && parts=$all_parts,notifications || parts=$only
others=$(tr ',' '\n' <<<"$parts" | grep -vx notifications | paste -sd, -)
loadgen() {
  local named=
  for service in dialog contact notification channel-bridge gateway; do named+="$service:${service_pids[$service]},"; done
  BENCH_GATEWAY=$GATEWAY_HTTP_ADDR BENCH_GATEWAY_PID=${service_pids[gateway]} BENCH_PIDS=${named%,} \
    BENCH_DATABASE_URL=$CHAT_DATABASE_URL "$bin/chat-loadgen" "$1"
}
results=$(mktemp)
[ -n "$others" ] && loadgen "$others" | tee "$results"
if [[ ,$parts, == *,notifications,* ]]; then
  kill "${service_pids[notification]}"
  wait "${service_pids[notification]}" 2>/dev/null || true
  NOTIFICATION_ALERT_WINDOW_SECS=0 NOTIFICATION_VISITOR_GRACE_SECS=0 TOKIO_WORKER_THREADS=$workers \
    "$bin/notification" >>"$logs/notification.log" 2>&1 &
  pids+=($!)
  service_pids[notification]=$!
  wait_ready 19103
  loadgen notifications | tee -a "$results"
fi
if [ "$only" != all ]; then exit 0; fi

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
pg=$(psql -qAt "$admin_url" -c "show server_version" 2>/dev/null || echo unknown)
nats=$(nats-server --version 2>/dev/null || /usr/sbin/nats-server --version 2>/dev/null || echo unknown)
{
  sed '/^<!-- results -->/,$d' BENCHMARKS.md
  echo "<!-- results -->"
  echo "## Latest run: $(date -u +%Y-%m-%d)"
  echo
  echo "Machine: $(nproc) cores ($cpu), $mem; PostgreSQL $pg and $nats on the same machine;"
  echo "the five services as separate release processes; the load generator on the same machine too."
  echo
  cat "$results"
} > BENCHMARKS.md.new
mv BENCHMARKS.md.new BENCHMARKS.md
echo "BENCHMARKS.md updated"
