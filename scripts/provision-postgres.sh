#!/usr/bin/env bash
# Makes sure the database the test suite needs is there: a running PostgreSQL 15 server, the
# pgvector extension (>= 0.8) installable with `CREATE EXTENSION vector`, TLS enabled, and a test
# role. Idempotent, and quiet when everything is already in place: it prints only what it does.
#
# Works on a machine where PostgreSQL 15 already runs (it only adds what is missing) and on a fresh
# Debian bookworm machine as root with no PostgreSQL at all (it installs it from Debian's packages).
# pgvector comes, in order of preference, from what is already installed, from the
# `postgresql-15-pgvector` package where a configured repository offers it, or from the Debian
# source package `pgvector` of trixie, built against `postgresql-server-dev-15`. That source is
# fetched with a private apt list and state directory: the system's apt sources are never changed.
#
# Usage: scripts/provision-postgres.sh [--print-env]
#   --print-env   print `export KOL_TEST_DATABASE_URL=...` for the test role (for `eval`)
#
# Environment:
#   KOL_PG_PORT            port of the cluster to use (default: the port of cluster 15/main, or 5432)
#   KOL_PROVISION_DIR      where downloads and builds go (default: /var/cache/kol-provision)
#   KOL_PGVECTOR_SUITE     Debian suite to fetch the pgvector source from (default: trixie)
#   KOL_DEBIAN_MIRROR      Debian mirror for that source (default: http://deb.debian.org/debian)
set -euo pipefail

PG_MAJOR=15
PGVECTOR_MIN=0.8.0
TEST_ROLE=kol_test
TEST_PASSWORD=kol_test
STATE_DIR=${KOL_PROVISION_DIR:-/var/cache/kol-provision}
SUITE=${KOL_PGVECTOR_SUITE:-trixie}
MIRROR=${KOL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin

print_env=0
for arg in "$@"; do
    case $arg in
        --print-env) print_env=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "provision: unknown argument $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

say() { echo "provision: $*" >&2; }
die() {
    echo "provision: error: $*" >&2
    exit 1
}

need_root() {
    [ "$(id -u)" = 0 ] || die "$1 needs root. Run this script as root (or with sudo), or do it yourself: $2"
}

apt_updated=0
# Installs Debian packages quietly; refreshes the package lists once if a package is unknown.
apt_install() {
    need_root "installing $*" "apt-get install $*"
    command -v apt-get >/dev/null || die "apt-get not found: this script supports Debian and Ubuntu; install $* yourself"
    local log
    log=$(mktemp)
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >"$log" 2>&1; then
        if [ $apt_updated = 0 ]; then
            apt_updated=1
            DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 ||
                { cat "$log" >&2; rm -f "$log"; die "apt-get update failed: is a Debian package registry reachable?"; }
            if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >"$log" 2>&1; then
                rm -f "$log"
                return 0
            fi
        fi
        tail -n 5 "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

# --- 1. the server ---------------------------------------------------------------------------
if [ ! -x "$PG_BIN/postgres" ]; then
    say "PostgreSQL $PG_MAJOR is not installed: installing it from Debian's packages"
    # Debian's postinst may try to start the server through the init system; we start it below.
    apt_install "postgresql-$PG_MAJOR" postgresql-contrib ssl-cert ||
        die "could not install postgresql-$PG_MAJOR (is a Debian package registry reachable?)"
fi

# Diesel's PostgreSQL support links libpq: make sure its development files are there.
if ! compgen -G "/usr/lib/*/libpq.so" >/dev/null && ! [ -e /usr/lib/libpq.so ]; then
    say "libpq (needed to link kol-db) is missing: installing libpq-dev"
    apt_install libpq-dev || die "could not install libpq-dev"
fi

cluster_line() { pg_lsclusters -h 2>/dev/null | awk -v v="$PG_MAJOR" '$1 == v && $2 == "main"'; }

if [ -z "$(cluster_line)" ]; then
    need_root "creating the PostgreSQL cluster" "pg_createcluster $PG_MAJOR main"
    say "creating cluster $PG_MAJOR/main"
    pg_createcluster "$PG_MAJOR" main >/dev/null
fi
PORT=${KOL_PG_PORT:-$(cluster_line | awk '{print $3}')}
PORT=${PORT:-5432}

if ! cluster_line | grep -q online; then
    need_root "starting PostgreSQL" "pg_ctlcluster --skip-systemctl-redirect $PG_MAJOR main start"
    say "starting cluster $PG_MAJOR/main"
    pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main start
fi
for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || die "PostgreSQL does not answer on 127.0.0.1:$PORT"

# Runs SQL as the database superuser, through the local socket (peer or trust authentication).
psql_admin() {
    if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
        runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1 -p "$PORT" -d postgres "$@"
    else
        psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres "$@"
    fi
}

# --- 2. pgvector -------------------------------------------------------------------------------
vector_version() {
    psql_admin -c "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"
}
version_ok() { [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$PGVECTOR_MIN" "$1" | sort -V | head -n 1)" = "$PGVECTOR_MIN" ]; }

build_pgvector_from_source() {
    need_root "building pgvector" "see README.md, section 'PostgreSQL and pgvector'"
    say "building pgvector from the Debian $SUITE source package (about 20 s)"
    apt_install "postgresql-server-dev-$PG_MAJOR" build-essential dpkg-dev ca-certificates ||
        die "could not install the build dependencies of pgvector"
    local apt_dir="$STATE_DIR/apt" src_dir="$STATE_DIR/src"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$src_dir"
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    echo "deb-src [signed-by=$keyring] $MIRROR $SUITE main" >"$apt_dir/sources.list"
    # A private source list and state: the system's own apt configuration stays as it is.
    local apt_opts=(
        -o "Dir::Etc::SourceList=$apt_dir/sources.list"
        -o "Dir::Etc::SourceParts=$apt_dir/none"
        -o "Dir::State::Lists=$apt_dir/lists"
        -o "Dir::Cache=$apt_dir/cache"
        -o "APT::Sandbox::User=root"
    )
    apt-get "${apt_opts[@]}" -q update >"$STATE_DIR/apt-update.log" 2>&1 ||
        { tail -n 5 "$STATE_DIR/apt-update.log" >&2; die "could not read the $SUITE source index from $MIRROR"; }
    rm -rf "$src_dir"/pgvector*
    (cd "$src_dir" && apt-get "${apt_opts[@]}" -q source pgvector >"$STATE_DIR/apt-source.log" 2>&1) ||
        { tail -n 5 "$STATE_DIR/apt-source.log" >&2; die "could not fetch the pgvector source package"; }
    local tree
    tree=$(find "$src_dir" -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)
    [ -n "$tree" ] || die "the pgvector source package did not unpack under $src_dir"
    # OPTFLAGS="" : no -march=native, so the build runs on any x86-64 machine it is copied to.
    make -C "$tree" PG_CONFIG="$PG_BIN/pg_config" OPTFLAGS="" >"$STATE_DIR/make.log" 2>&1 ||
        { tail -n 20 "$STATE_DIR/make.log" >&2; die "building pgvector failed (log: $STATE_DIR/make.log)"; }
    make -C "$tree" PG_CONFIG="$PG_BIN/pg_config" install >>"$STATE_DIR/make.log" 2>&1 ||
        { tail -n 20 "$STATE_DIR/make.log" >&2; die "installing pgvector failed (log: $STATE_DIR/make.log)"; }
}

have=$(vector_version)
if ! version_ok "$have"; then
    if [ -n "$have" ]; then
        say "pgvector $have is older than $PGVECTOR_MIN"
    fi
    need_root "installing pgvector" "see README.md, section 'PostgreSQL and pgvector'"
    if apt-cache show "postgresql-$PG_MAJOR-pgvector" >/dev/null 2>&1; then
        say "installing postgresql-$PG_MAJOR-pgvector"
        apt_install "postgresql-$PG_MAJOR-pgvector" || true
        have=$(vector_version)
    fi
    if ! version_ok "$have"; then
        build_pgvector_from_source
        have=$(vector_version)
    fi
    version_ok "$have" || die "pgvector >= $PGVECTOR_MIN is still not available (found: ${have:-none})"
fi

# --- 3. TLS, for the tests of encrypted connections -------------------------------------------------
if [ "$(psql_admin -c 'SHOW ssl')" != on ]; then
    need_root "enabling TLS" "ALTER SYSTEM SET ssl = on (with a certificate)"
    say "enabling TLS with the snakeoil certificate"
    [ -f /etc/ssl/certs/ssl-cert-snakeoil.pem ] || apt_install ssl-cert || die "could not install ssl-cert"
    [ -f /etc/ssl/certs/ssl-cert-snakeoil.pem ] || make-ssl-cert generate-default-snakeoil
    usermod -a -G ssl-cert postgres 2>/dev/null || true
    psql_admin -c "ALTER SYSTEM SET ssl_cert_file = '/etc/ssl/certs/ssl-cert-snakeoil.pem'" \
        -c "ALTER SYSTEM SET ssl_key_file = '/etc/ssl/private/ssl-cert-snakeoil.key'" \
        -c "ALTER SYSTEM SET ssl = on" -c "SELECT pg_reload_conf()" >/dev/null
fi

# --- 4. the test role, and a check that the extension really loads ------------------------------
psql_admin >/dev/null <<SQL
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TEST_ROLE') THEN
        CREATE ROLE $TEST_ROLE LOGIN SUPERUSER PASSWORD '$TEST_PASSWORD';
    END IF;
END
\$\$;
BEGIN;
CREATE EXTENSION IF NOT EXISTS vector;
SELECT '[1,2,3]'::vector <=> '[3,2,1]'::vector;
ROLLBACK;
SQL

if [ $print_env = 1 ]; then
    echo "export KOL_TEST_DATABASE_URL=postgres://$TEST_ROLE:$TEST_PASSWORD@127.0.0.1:$PORT/postgres"
fi
