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

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --lib --bins --tests --examples --no-fail-fast "$@"
else
    echo "test: cargo-nextest not found, using cargo test" >&2
    cargo test --workspace --lib --bins --tests --examples --no-fail-fast "$@"
fi
cargo test --workspace --doc
