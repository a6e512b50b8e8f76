# PostgreSQL for the test suite: a throw-away cluster on 127.0.0.1, started as the
# postgres user (the server refuses to run as root), with TLS on a self-signed
# certificate, an owner role, an application role and a database.
#
# Source this file, then call `pg_test_start`: it exports
#   PVAULT_TEST_PG      owner role URL (runs migrations, makes a schema per test)
#   PVAULT_TEST_PG_APP  application role URL (what pvault connects as)
#   PVAULT_TEST_PG_TLS  application role URL with sslmode=verify-full and the test CA
# and stops the cluster and removes its folder when the shell exits. Works the same on a
# developer's machine: `source .ci/postgres.sh && pg_test_start && cargo test`.

# What building and testing the PostgreSQL store needs from Debian: the server, and
# OpenSSL's headers for the TLS connector (native-tls → openssl-sys).
pg_test_deps() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "postgres: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

pg_test_start() {
  local bindir port base cert
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    pg_test_deps
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  port=${PVAULT_TEST_PG_PORT:-55432}
  # the next free port, should another cluster be listening there
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  base=$(mktemp -d /tmp/pvault-pg.XXXXXX)
  chmod 755 "$base"
  mkdir -p "$base/data" "$base/run"
  # the server's TLS key and a self-signed certificate for CN=localhost (the test CA)
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost" \
    -keyout "$base/server.key" -out "$base/server.crt" >/dev/null 2>&1
  chown -R postgres:postgres "$base"
  chmod 600 "$base/server.key"
  chmod 644 "$base/server.crt"
  # as_pg runs a command as the postgres user, whether we are root (CI) or postgres
  if [ "$(id -u)" = 0 ]; then as_pg() { runuser -u postgres -- "$@"; }; else as_pg() { "$@"; }; fi
  as_pg "$bindir/initdb" -D "$base/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 \
    || { cat "$base/initdb.log"; return 1; }
  as_pg "$bindir/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 60 \
    -o "-p $port -k $base/run -c listen_addresses=127.0.0.1 -c ssl=on \
        -c ssl_cert_file=$base/server.crt -c ssl_key_file=$base/server.key \
        -c max_connections=100 -c fsync=on -c synchronous_commit=on" start >/dev/null \
    || { cat "$base/server.log"; return 1; }
  PVAULT_TEST_PG_BASE=$base
  PVAULT_TEST_PG_BIN=$bindir
  trap pg_test_stop EXIT
  as_pg "$bindir/psql" -q -h "$base/run" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<'SQL'
CREATE ROLE pvault_owner LOGIN PASSWORD 'owner-test-pw';
CREATE ROLE pvault_app LOGIN PASSWORD 'app-test-pw';
CREATE DATABASE pvault_test OWNER pvault_owner;
REVOKE ALL ON DATABASE pvault_test FROM PUBLIC;
GRANT CONNECT ON DATABASE pvault_test TO pvault_app;
SQL
  cp "$base/server.crt" "$base/ca.crt"
  chmod 644 "$base/ca.crt"
  export PVAULT_TEST_PG="postgres://pvault_owner:owner-test-pw@127.0.0.1:$port/pvault_test?sslmode=disable"
  export PVAULT_TEST_PG_APP="postgres://pvault_app:app-test-pw@127.0.0.1:$port/pvault_test?sslmode=disable"
  export PVAULT_TEST_PG_TLS="postgres://pvault_app:app-test-pw@localhost:$port/pvault_test?sslmode=verify-full&sslrootcert=$base/ca.crt"
  echo "postgres: $("$bindir/postgres" --version) on 127.0.0.1:$port (data in $base)"
}

pg_test_stop() {
  if [ -n "${PVAULT_TEST_PG_BASE:-}" ] && [ -d "$PVAULT_TEST_PG_BASE/data" ]; then
    if [ "$(id -u)" = 0 ]; then
      runuser -u postgres -- "$PVAULT_TEST_PG_BIN/pg_ctl" -D "$PVAULT_TEST_PG_BASE/data" -m fast -w stop >/dev/null 2>&1 || true
    else
      "$PVAULT_TEST_PG_BIN/pg_ctl" -D "$PVAULT_TEST_PG_BASE/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PVAULT_TEST_PG_BASE"
  fi
}
