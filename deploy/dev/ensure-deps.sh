#!/usr/bin/env bash
# Makes sure PostgreSQL and NATS with JetStream run on this machine, for
# `make dev`, `make test` and CI: starts them if installed and stopped,
# installs them from Debian's packages if missing, and creates the `chat`
# role (password `chat`, may create databases) and the `chat` database.
# Then what the browser tests need: Node.js, Chromium (Debian's packages)
# and tests/browser's npm packages (npm ci from the committed lock file), and
# the mail catcher (MailDev, npm ci in deploy/dev/mailcatcher).
set -euo pipefail

say() { printf '==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 100); do port_open "$1" && return 0; sleep 0.2; done
  echo "nothing answers on port $1" >&2; return 1
}

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- a C linker for Rust (rustup does not bring one) ---
if ! command -v cc >/dev/null 2>&1; then
  say "installing gcc (the linker Rust needs)"
  apt_install gcc libc6-dev
fi
# --- rustfmt and clippy, which `make test` runs ---
if command -v rustup >/dev/null 2>&1; then
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi

# --- PostgreSQL ---
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  say "installing PostgreSQL"
  apt_install postgresql
fi
if ! port_open 5432; then
  say "starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main start
  wait_port 5432
fi
# The role and database the suite uses by default (CHAT_DATABASE_URL).
as_postgres psql -qAt -d postgres -c "select 1 from pg_roles where rolname = 'chat'" | grep -q 1 ||
  as_postgres psql -q -d postgres -c "create role chat login createdb password 'chat'"
as_postgres psql -qAt -d postgres -c "select 1 from pg_database where datname = 'chat'" | grep -q 1 ||
  as_postgres psql -q -d postgres -c "create database chat owner chat"

# --- NATS with JetStream ---
if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
  say "installing NATS"
  apt_install nats-server
fi
if ! port_open 4222; then
  say "starting NATS with JetStream"
  nats_bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  store=${CHAT_NATS_STORE:-/var/lib/nats-server}
  as_root mkdir -p "$store"
  as_root start-stop-daemon --start --oknodo --background --exec "$nats_bin" -- \
    -a 127.0.0.1 -p 4222 -js -sd "$store" -l /var/log/nats-server.log
  wait_port 4222
fi
say "PostgreSQL and NATS are up"

# --- the browser tests: Node.js, Debian's Chromium, and the npm packages ---
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "installing Node.js and npm"
  apt_install nodejs npm
fi
if [ ! -x /usr/bin/chromium ]; then
  say "installing Chromium (for the browser tests)"
  apt_install chromium
fi
# npm ci in a folder, from its committed lock file, when it changed.
npm_ci() {
  local folder=$1 what=$2
  if [ ! -f "$folder/node_modules/.package-lock.json" ] ||
     [ "$folder/package-lock.json" -nt "$folder/node_modules/.package-lock.json" ]; then
    say "installing $what (npm ci)"
    (cd "$folder" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
browser_tests="$(dirname "$0")/../../tests/browser"
npm_ci "$browser_tests" "the browser tests' npm packages"
# The mail catcher of `make dev` and the tests (MailDev: SMTP, a web page, a REST API).
npm_ci "$(dirname "$0")/mailcatcher" "the mail catcher"
# playwright-core refuses a Node.js older than its `engines` say. Debian 12
# installs Node.js 18, so tests/browser keeps a playwright-core that takes
# 18 (1.61 is the last), and this says so on every machine, not only on one
# that has an old Node.js.
(cd "$browser_tests" && node - <<'JS')
const pkg = require("./node_modules/playwright-core/package.json");
const wanted = pkg.engines.node;
const least = Number((wanted.match(/>=\s*(\d+)/) || [, 0])[1]);
const have = Number(process.versions.node.split(".")[0]);
if (have < least) {
  console.error(`Node.js ${process.version} is too old for playwright-core ${pkg.version} (it needs ${wanted}): install Node.js ${least} or newer`);
  process.exit(1);
}
if (least > 18) {
  console.error(`tests/browser pins playwright-core ${pkg.version}, which needs Node.js ${wanted}, but Debian 12 installs Node.js 18: pin a version whose engines take 18`);
  process.exit(1);
}
JS
say "Node.js, Chromium, the browser tests' packages and the mail catcher are ready"

# --- the API fuzzer (schemathesis, from PyPI) in a virtual environment ---
fuzz_requirements="$(dirname "$0")/../../tests/fuzz/requirements.txt"
fuzz_env="$(dirname "$0")/../../target/tools/schemathesis"
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  say "installing Python's venv (for the API fuzzer)"
  apt_install python3-venv
fi
if [ ! -x "$fuzz_env/bin/st" ] || [ "$fuzz_requirements" -nt "$fuzz_env/bin/st" ]; then
  say "installing the API fuzzer (schemathesis)"
  python3 -m venv "$fuzz_env"
  "$fuzz_env/bin/pip" install -q --disable-pip-version-check -r "$fuzz_requirements"
  touch "$fuzz_env/bin/st"
fi
say "the API fuzzer is ready"
