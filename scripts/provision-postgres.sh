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
# Usage: scripts/provision-postgres.sh [--print-env] [--replica PORT | --pause-replica PORT |
#                                                   --stop-replica PORT]
#   --print-env           print `export KOL_TEST_DATABASE_URL=...` for the test role (for `eval`)
#   --replica PORT        also run a streaming replica (hot standby) of that server on
#                         127.0.0.1:PORT: `pg_basebackup -R` through a physical replication slot
#                         `kol_replica_PORT`, its own data directory under KOL_REPLICA_DIR, run as
#                         the postgres user. A no-op when it already streams; a paused replica is
#                         started again. Needs root.
#   --pause-replica PORT  stop that replica's server, keeping its data and slot (`--replica PORT`
#                         starts it again and it catches up)
#   --stop-replica PORT   stop that replica, remove its data directory and drop its slot (a slot
#                         left behind would keep WAL on the primary forever)
#
# The primary is never restarted: replication needs `wal_level` replica or logical (PostgreSQL's
# default) and free WAL senders; the `pg_hba.conf` entry for the replication role is added and
# the server reloaded.
#
# Environment:
#   KOL_PG_PORT            port of the cluster to use (default: the port of cluster 15/main, or 5432)
#   KOL_PROVISION_DIR      where downloads and builds go (default: /var/cache/kol-provision)
#   KOL_PGVECTOR_SUITE     Debian suite to fetch the pgvector source from (default: trixie)
#   KOL_DEBIAN_MIRROR      Debian mirror for that source (default: http://deb.debian.org/debian)
#   KOL_REPLICA_DIR        where replicas' data directories go (default:
#                          /var/lib/postgresql/kol-replicas, one directory per port)
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
replica_action=
replica_port=
while [ $# -gt 0 ]; do
    arg=$1
    shift
    case $arg in
        --print-env) print_env=1 ;;
        --replica | --pause-replica | --stop-replica)
            [ -z "$replica_action" ] || { echo "provision: only one replica action at a time" >&2; exit 2; }
            replica_action=${arg#--}
            replica_port=${1:-}
            shift || true
            case $replica_port in
                '' | *[!0-9]*) echo "provision: $arg needs a port number" >&2; exit 2 ;;
            esac
            if [ "$replica_port" -lt 1024 ] || [ "$replica_port" -gt 65535 ]; then
                echo "provision: replica port $replica_port is not in 1024..65535" >&2
                exit 2
            fi
            ;;
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

# --- 5. a streaming replica, on request -----------------------------------------------------------
REPLICA_ROLE=kol_replicator
REPLICA_PASSWORD=kol_replicator
REPLICA_ROOT=${KOL_REPLICA_DIR:-/var/lib/postgresql/kol-replicas}

as_postgres() { runuser -u postgres -- "$@"; }

# Answers SQL on the replica (through its own socket directory).
psql_replica() {
    as_postgres psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$1" -p "$2" -d postgres -c "$3" 2>/dev/null
}

replica_running() { as_postgres "$PG_BIN/pg_ctl" status -D "$1" >/dev/null 2>&1; }

start_replica() {
    local dir=$1 port=$2
    # `-w`: wait until it accepts connections (a hot standby does once it is consistent).
    as_postgres "$PG_BIN/pg_ctl" start -w -t 120 -D "$dir" -l "$dir/server.log" >/dev/null 9>&- ||
        { tail -n 20 "$dir/server.log" >&2; die "the replica on port $port did not start (log: $dir/server.log)"; }
}

stop_replica_server() {
    local dir=$1
    if [ -d "$dir" ] && replica_running "$dir"; then
        as_postgres "$PG_BIN/pg_ctl" stop -w -t 60 -m fast -D "$dir" >/dev/null ||
            die "could not stop the replica in $dir"
    fi
}

drop_slot() {
    psql_admin -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                   WHERE slot_name = '$1' AND NOT active" >/dev/null
}

ensure_replication_access() {
    psql_admin >/dev/null <<SQL
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$REPLICA_ROLE') THEN
        CREATE ROLE $REPLICA_ROLE LOGIN REPLICATION PASSWORD '$REPLICA_PASSWORD';
    END IF;
END
\$\$;
SQL
    local wal_level
    wal_level=$(psql_admin -c 'SHOW wal_level')
    [ "$wal_level" != minimal ] ||
        die "wal_level is minimal on the primary: streaming replication needs 'replica' (changing it needs a restart, which this script never does)"
    local hba
    hba=$(psql_admin -c 'SHOW hba_file')
    # First match wins in pg_hba.conf: the entry goes before every other rule.
    if ! grep -q "^host[[:space:]]\+replication[[:space:]]\+$REPLICA_ROLE[[:space:]]\+127.0.0.1/32" "$hba"; then
        say "allowing replication connections of $REPLICA_ROLE from 127.0.0.1 (pg_hba.conf, then reload)"
        local tmp
        tmp=$(mktemp)
        {
            echo "# Added by kol's scripts/provision-postgres.sh: streaming replicas on this machine."
            echo "host    replication     $REPLICA_ROLE   127.0.0.1/32    scram-sha-256"
            cat "$hba"
        } >"$tmp"
        cat "$tmp" >"$hba" # keeps the file's owner and mode
        rm -f "$tmp"
        psql_admin -c 'SELECT pg_reload_conf()' >/dev/null
    fi
}

create_replica() {
    local dir=$1 port=$2 slot=$3
    say "creating a streaming replica on 127.0.0.1:$port (pg_basebackup into $dir, slot $slot)"
    drop_slot "$slot"
    rm -rf "$dir"
    install -d -o postgres -g postgres -m 700 "$dir"
    local conninfo="host=127.0.0.1 port=$PORT user=$REPLICA_ROLE password=$REPLICA_PASSWORD application_name=kol_replica_$port"
    # -C -S: a slot, so the primary keeps the WAL this replica has not received yet;
    # -R: standby.signal and primary_conninfo (with the slot), so it starts as a hot standby.
    as_postgres "$PG_BIN/pg_basebackup" -d "$conninfo" -D "$dir" -X stream -C -S "$slot" -R \
        --checkpoint=fast >"$REPLICA_ROOT/basebackup-$port.log" 2>&1 ||
        { tail -n 10 "$REPLICA_ROOT/basebackup-$port.log" >&2; drop_slot "$slot"; rm -rf "$dir"; die "pg_basebackup for the replica on port $port failed"; }
    # Debian keeps the server's configuration outside the data directory: the replica reads the
    # primary's (same memory and connection limits, which a hot standby needs at least), then its
    # own settings, which come later and win.
    local conf
    conf=$(psql_admin -c 'SHOW config_file')
    cat >"$dir/postgresql.conf" <<CONF
# Streaming replica of 127.0.0.1:$PORT, made by kol's scripts/provision-postgres.sh.
include_if_exists '$conf'
data_directory = '$dir'
hba_file = '$(psql_admin -c 'SHOW hba_file')'
ident_file = '$(psql_admin -c 'SHOW ident_file')'
external_pid_file = ''
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
cluster_name = 'kol-replica-$port'
hot_standby = on
hot_standby_feedback = on
logging_collector = off
CONF
    chown postgres:postgres "$dir/postgresql.conf"
}

replica_streams() {
    local dir=$1 port=$2
    [ "$(psql_replica "$dir" "$port" 'SELECT pg_is_in_recovery()')" = t ] || return 1
    [ "$(psql_replica "$dir" "$port" "SELECT status FROM pg_stat_wal_receiver")" = streaming ]
}

if [ -n "$replica_action" ]; then
    need_root "managing a replica" "pg_basebackup -R -C -S SLOT, then pg_ctl start as the postgres user"
    id postgres >/dev/null 2>&1 || die "there is no postgres user to run the replica as"
    [ "$replica_port" != "$PORT" ] || die "port $replica_port is the primary's"
    install -d -o postgres -g postgres -m 700 "$REPLICA_ROOT"
    replica_dir="$REPLICA_ROOT/$replica_port"
    # One replica job at a time on this machine (tests may start several replicas together).
    exec 9>"$REPLICA_ROOT/.lock"
    flock 9
    slot="kol_replica_$replica_port"
    case $replica_action in
        replica)
            ensure_replication_access
            if [ ! -f "$replica_dir/standby.signal" ] || [ ! -f "$replica_dir/PG_VERSION" ]; then
                pg_isready -q -h 127.0.0.1 -p "$replica_port" &&
                    die "something already listens on 127.0.0.1:$replica_port"
                create_replica "$replica_dir" "$replica_port" "$slot"
            fi
            if ! replica_running "$replica_dir"; then
                say "starting the replica on 127.0.0.1:$replica_port"
                start_replica "$replica_dir" "$replica_port"
            fi
            # Healthy means: a hot standby whose WAL receiver streams from the primary.
            for _ in $(seq 1 120); do
                replica_streams "$replica_dir" "$replica_port" && break
                sleep 0.5
            done
            replica_streams "$replica_dir" "$replica_port" ||
                die "the replica on port $replica_port runs but does not stream from the primary (log: $replica_dir/server.log)"
            ;;
        pause-replica)
            if [ -d "$replica_dir" ] && replica_running "$replica_dir"; then
                say "pausing the replica on 127.0.0.1:$replica_port"
                stop_replica_server "$replica_dir"
            fi
            ;;
        stop-replica)
            if [ -d "$replica_dir" ]; then
                say "removing the replica on 127.0.0.1:$replica_port"
                stop_replica_server "$replica_dir"
                rm -rf "$replica_dir"
            fi
            rm -f "$REPLICA_ROOT/basebackup-$replica_port.log"
            drop_slot "$slot"
            ;;
    esac
fi

if [ $print_env = 1 ]; then
    echo "export KOL_TEST_DATABASE_URL=postgres://$TEST_ROLE:$TEST_PASSWORD@127.0.0.1:$PORT/postgres"
    if [ "$replica_action" = replica ]; then
        echo "export KOL_TEST_REPLICA_URL=postgres://$TEST_ROLE:$TEST_PASSWORD@127.0.0.1:$replica_port/postgres"
    fi
fi
