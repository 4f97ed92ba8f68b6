#!/usr/bin/env bash
# Writes the offline data of the services' compile-time checked queries
# (`sqlx::query!`, `query_as!`, `query_scalar!`) into `.sqlx` at the top,
# so a machine without a database builds them. Run it (`make
# sqlx-prepare`) after changing a checked query or a migration, and commit the
# folder. With --check it writes nothing and fails when the committed data
# differ from what the queries and migrations give now.
#
# It needs the machine's PostgreSQL (make deps); it makes a database of its
# own, migrates each service's schema in it, then builds each service with
# the macros connected to that schema. It connects over TCP as the role the
# set-up creates (`chat`, password `chat`), or as PGHOST, PGPORT, PGUSER and
# PGPASSWORD say: never as a password-less `postgres`, which only a trusting
# cluster lets in.
set -euo pipefail
cd "$(dirname "$0")/../.."

check=false
[[ "${1:-}" == "--check" ]] && check=true

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-chat}
PGPASSWORD=${PGPASSWORD:-chat}
export PGHOST PGPORT PGUSER PGPASSWORD
database="chat_sqlx_prepare_$$"
psql_quiet() { psql -v ON_ERROR_STOP=1 -q "$@" >/dev/null; }

# package:schema, as each service's lib.rs connects.
services=(gateway:gateway dialog:dialog contact:contact notification:notification
          channel-bridge:channel_bridge)
# Each service's macros connect to its own schema, named in a `.env` file in
# its folder while this runs (the macros read one per crate).
cleanup_env_files() { for entry in "${services[@]}"; do rm -f "services/${entry%%:*}/.env"; done; }
trap 'cleanup_env_files; psql_quiet -d postgres -c "drop database if exists $database with (force)"' EXIT
psql_quiet -d postgres -c "create database $database"
for entry in "${services[@]}"; do
    package=${entry%%:*}
    schema=${entry##*:}
    psql_quiet -d "$database" -c "create schema $schema"
    for file in crates/platform/src/platform_tables.sql services/"$package"/migrations/*.sql; do
        PGOPTIONS="-c search_path=$schema -c client_min_messages=warning" \
            psql_quiet -d "$database" -f "$file"
    done
    echo "DATABASE_URL=postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$database?options=-csearch_path%3D$schema" \
        > "services/$package/.env"
    # The macros read their environment only when the crate is compiled: a
    # touched source file makes cargo compile it again (and again afterwards,
    # so the next build uses the offline data).
    touch "services/$package/src/lib.rs"
done

out=$(mktemp -d)
# The same targets as `make lint`, so the dependencies built are shared.
SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$out" cargo check --quiet --workspace --all-targets
cleanup_env_files
for entry in "${services[@]}"; do touch "services/${entry%%:*}/src/lib.rs"; done

if $check; then
    committed=.sqlx
    [[ -d "$committed" ]] || committed=$(mktemp -d)
    if ! diff -r "$out" "$committed" >/dev/null; then
        echo ".sqlx is out of date: run make sqlx-prepare and commit it" >&2
        exit 1
    fi
else
    rm -rf .sqlx
    mkdir .sqlx
    cp "$out"/*.json .sqlx/
    echo ".sqlx: $(ls .sqlx | wc -l) queries"
fi
rm -rf "$out"
