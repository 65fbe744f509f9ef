#!/usr/bin/env bash
# Starts a local PostgreSQL server for the store tests and prints the URL
# to export as CALLCOACH_TEST_POSTGRES_URL.
#
# Safe to run again: it installs PostgreSQL only when missing, starts the
# cluster only when stopped and creates the role and database only once.
# The server listens on 127.0.0.1 only. Needs root (apt-get, pg_ctlcluster).
#
# Settings (environment): CALLCOACH_PG_PORT (default 5432),
# CALLCOACH_PG_USER (callcoach), CALLCOACH_PG_PASSWORD (callcoach),
# CALLCOACH_PG_DATABASE (callcoach_test).
set -euo pipefail

port="${CALLCOACH_PG_PORT:-5432}"
user="${CALLCOACH_PG_USER:-callcoach}"
password="${CALLCOACH_PG_PASSWORD:-callcoach}"
database="${CALLCOACH_PG_DATABASE:-callcoach_test}"

if ! command -v pg_lsclusters >/dev/null 2>&1; then
    echo "installing postgresql with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
fi

cluster_line="$(pg_lsclusters --no-header | head -n 1)"
if [ -z "$cluster_line" ]; then
    version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
    pg_createcluster "$version" main --port "$port" >&2
    cluster_line="$(pg_lsclusters --no-header | head -n 1)"
fi
version="$(echo "$cluster_line" | awk '{print $1}')"
cluster="$(echo "$cluster_line" | awk '{print $2}')"

conf_dir="/etc/postgresql/$version/$cluster"
# A conf.d file comes after the main file, so its settings win there.
pg_conftool "$version" "$cluster" remove listen_addresses
pg_conftool "$version" "$cluster" set port "$port"
mkdir -p "$conf_dir/conf.d"
printf "listen_addresses = '127.0.0.1'\n" >"$conf_dir/conf.d/callcoach-loopback.conf"

status="$(pg_lsclusters --no-header | awk -v v="$version" -v c="$cluster" \
    '$1 == v && $2 == c {print $4}')"
if [ "$status" != "online" ]; then
    pg_ctlcluster "$version" "$cluster" start >&2
fi

# Password logins over TCP from loopback use scram-sha-256 in the Debian
# default pg_hba.conf, so the role below needs nothing more there.

psql_admin() {
    su postgres -c "psql --port $port --no-psqlrc --quiet --tuples-only --no-align $*"
}

for _ in $(seq 1 30); do
    if psql_admin "-c 'SELECT 1'" >/dev/null 2>&1; then
        break
    fi
    sleep 1
done

role_exists="$(psql_admin "-c \"SELECT 1 FROM pg_roles WHERE rolname = '$user'\"")"
if [ "$role_exists" != "1" ]; then
    psql_admin "-c \"CREATE ROLE $user LOGIN PASSWORD '$password'\"" >&2
fi

db_exists="$(psql_admin "-c \"SELECT 1 FROM pg_database WHERE datname = '$database'\"")"
if [ "$db_exists" != "1" ]; then
    psql_admin "-c \"CREATE DATABASE $database OWNER $user\"" >&2
fi

echo "postgres://$user:$password@127.0.0.1:$port/$database"
