#!/usr/bin/env bash
# Runs the whole test suite: provisions PostgreSQL 15 + pgvector (scripts/provision-postgres.sh),
# then every test of the workspace (cargo-nextest when installed, cargo test otherwise), then the
# documentation examples. Extra arguments go to the test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${KOL_TEST_DATABASE_URL:-}" ]; then
    eval "$(scripts/provision-postgres.sh --print-env)"
else
    scripts/provision-postgres.sh
fi
export KOL_TEST_DATABASE_URL

# Tests create their databases from a migrated template (kol_tpl_*) and drop their own
# (kol_t_<pid>_*) when they finish. At exit this drops what a killed test left (databases whose
# process is gone) and, when no test process is left, the template: nothing stays behind, and
# a test run going on beside this one is left alone.
cleanup() {
    local sql="psql $KOL_TEST_DATABASE_URL -X -q -A -t"
    local live=0 name pid
    for name in $($sql -c "SELECT datname FROM pg_database WHERE datname LIKE 'kol\_t\_%'" 2>/dev/null); do
        pid=$(echo "$name" | cut -d_ -f3)
        if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
            live=1
        else
            $sql -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1 || true
        fi
    done
    if [ $live = 0 ]; then
        for name in $($sql -c "SELECT datname FROM pg_database WHERE datname LIKE 'kol\_tpl\_%'" 2>/dev/null); do
            $sql -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1 || true
        done
    fi
    return 0
}
trap cleanup EXIT

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --lib --bins --tests --examples --no-fail-fast "$@"
else
    echo "test: cargo-nextest not found, using cargo test" >&2
    cargo test --workspace --lib --bins --tests --examples --no-fail-fast "$@"
fi
cargo test --workspace --doc
