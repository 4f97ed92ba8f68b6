#!/usr/bin/env bash
# Starts a second PostgreSQL cluster, `strict`, configured as a fresh Debian
# configures one: password authentication (scram-sha-256) over TCP, nobody
# trusted. CI runs `make test` against it (port 5433 unless STRICT_PG_PORT
# says otherwise), so a script or test that leans on the development
# machines' trusting cluster fails in CI as it would on a newcomer's machine.
#
# Creates the same `chat` role (password `chat`, may create databases) as
# ensure-deps.sh does on the main cluster, then prints the environment that
# points the tests and sqlx-prepare.sh at it, for `eval "$(...)"`.
set -euo pipefail
port=${STRICT_PG_PORT:-5433}
cluster=strict
say() { printf '==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Only the closing `export` lines may reach stdout, which the caller evals:
# everything set_up runs (pg_ctlcluster's "Removed stale pid file.", psql)
# writes to stderr. (Not `exec 3>&1`: the server would inherit fd 3 and the
# caller's `$(...)` would wait for it to exit.)
set_up() {
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ ! -d "/etc/postgresql/$version/$cluster" ]; then
    say "creating the PostgreSQL cluster '$cluster' on port $port (scram-sha-256 over TCP)"
    as_root pg_createcluster --port "$port" "$version" "$cluster" -- \
      --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  fi
  if ! port_open "$port"; then
    say "starting the PostgreSQL cluster '$cluster'"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start ||
      as_root pg_ctlcluster "$version" "$cluster" start
    for _ in $(seq 1 100); do port_open "$port" && break; sleep 0.2; done
    port_open "$port" || { echo "the cluster '$cluster' does not answer on port $port" >&2; exit 1; }
  fi
  # The trust check: a password-less TCP connection must be refused here.
  if PGPASSWORD= psql -w -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
    echo "the cluster '$cluster' lets postgres in over TCP without a password; it must not" >&2
    exit 1
  fi
  as_postgres psql -p "$port" -qAt -d postgres -c "select 1 from pg_roles where rolname = 'chat'" | grep -q 1 ||
    as_postgres psql -p "$port" -q -d postgres -c "create role chat login createdb password 'chat'"
  as_postgres psql -p "$port" -qAt -d postgres -c "select 1 from pg_database where datname = 'chat'" | grep -q 1 ||
    as_postgres psql -p "$port" -q -d postgres -c "create database chat owner chat"
  say "the cluster '$cluster' is up on port $port"
}
set_up >&2

cat <<EOF
export CHAT_TEST_DATABASE_URL=postgres://chat:chat@127.0.0.1:$port/postgres
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=chat PGPASSWORD=chat
EOF
