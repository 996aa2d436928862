#!/usr/bin/env bash
# Runs CMD... with a throwaway PostgreSQL 15 server: Debian's postgresql-15 installed if missing,
# initdb + pg_ctl in a temporary directory, on a unix socket there and TLS-only on 127.0.0.1 at a
# free port (nothing global: no /etc/postgresql cluster, no systemd unit), stopped and removed at
# exit. CMD sees FC_TEST_POSTGRES_URL (libpq URL form, the socket directory as ?host=), and
# FC_TEST_POSTGRES_TLS_URL with FC_TEST_POSTGRES_TLS_ROOT (the server's self-signed certificate).
# As root the server runs as the unprivileged user `postgres` (it refuses to run as root).
# Usage: scripts/with-postgres.sh swift test --skip-build
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
  echo "with-postgres: installing postgresql-15" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql-15 >/dev/null
fi
PGBIN=$(pg_bin)

as_server=()
if [ "$(id -u)" -eq 0 ]; then as_server=(runuser -u postgres --); fi

dir=$(mktemp -d "${FC_POSTGRES_TMP:-/tmp}/fc-pg-XXXXXX")
chmod 755 "$dir"
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
# The socket file is named after the port, and the TLS listener below listens on it: a free one.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop() {
  "${as_server[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

# C collation and UTF-8, as SQLite compares text (byte order). No fsync for tests; a benchmark
# that compares with SQLite's synced commits sets FC_POSTGRES_DURABLE=1 (PostgreSQL's defaults).
options="-p $port -k $dir -c max_connections=200"
if [ "${FC_POSTGRES_DURABLE:-0}" != 1 ]; then
  options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
"${as_server[@]}" "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >/dev/null

# TLS on 127.0.0.1 for the sslmode tests: a self-signed certificate naming localhost only (so
# verify-full to 127.0.0.1 fails where verify-ca passes), and plain TCP refused, so a test that
# connects over TCP has used TLS.
if ! command -v openssl >/dev/null; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openssl >/dev/null
fi
openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost" -keyout "$dir/server.key" -out "$dir/server.crt" 2>/dev/null
chmod 600 "$dir/server.key"
chmod 644 "$dir/server.crt"
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir/server.key" "$dir/server.crt"; fi
hba="$dir/data/pg_hba.conf"
{ printf 'hostnossl all all 0.0.0.0/0 reject\nhostnossl all all ::/0 reject\n'; cat "$hba"; } >"$hba.new"
mv "$hba.new" "$hba"
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$hba"; fi
options="$options -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
"${as_server[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }

export FC_TEST_POSTGRES_URL="postgresql://postgres@/postgres?host=$dir&port=$port"
export FC_TEST_POSTGRES_TLS_URL="postgresql://postgres@127.0.0.1:$port/postgres"
export FC_TEST_POSTGRES_TLS_ROOT="$dir/server.crt"
# Not exec: the trap stops the server when CMD ends, whatever its status.
"$@"
