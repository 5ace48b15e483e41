#!/usr/bin/env python3
"""Checks that every crate's declared `rust-version` is at least what its locked dependencies need.

A crate's `rust-version` promises its users that this Rust release builds it. Dependencies declare
their own `rust-version`; when the lock file moves to a release that needs a newer Rust, the
promise silently breaks. This check recomputes, for every workspace member, the highest
`rust-version` over the locked dependencies it builds, and fails when the member declares less.

What counts:

- Normal and build dependencies, transitively (a dependency's own dev-dependencies are never
  built). Dev-dependencies of a *published* crate do not count: a project that depends on the
  crate never builds them, so they cannot raise what the crate promises. Members with
  `publish = false` (examples, benchmarks) are only ever built inside this workspace, with their
  dev-dependencies, so for them the dev-dependencies count too.
- All features (`--all-features`): a dependent may enable any of them.
- The dependencies of the host platform (`--filter-platform`, from `rustc -vV`): the lock file
  also lists other platforms' dependencies, whose sources are not downloaded on this machine, so
  they cannot be read offline.
- The edition: edition 2024 needs Rust 1.85, whatever the dependencies need.

The dependency graph is the one `cargo metadata` resolves for the whole workspace (features
unified across members), an upper bound of what a dependent builds.

It only reads what cargo already has: the lock file, and the registry sources the build
downloaded (`--offline` makes that explicit; without it, cargo downloads what is missing).
The crate's own code may need a newer Rust than its dependencies (a recently stabilized API or
language feature); clippy's `incompatible_msrv` lint catches the standard-library APIs, and a
member that declares more than its dependencies need is reported, not refused.

Usage: python3 .ci/check_rust_version.py [--offline] [--manifest-path Cargo.toml]
Exit status: 0 when every member declares enough, 1 otherwise, 2 when cargo fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass

# The first Rust release of each edition.
EDITION_RUST = {"2015": "1.0", "2018": "1.31", "2021": "1.56", "2024": "1.85"}


def parse_version(text: str) -> tuple[int, ...]:
    """`"1.86"` or `"1.86.0"` as a comparable tuple, trailing zeros dropped (1.86 == 1.86.0)."""
    parts = [int(p) for p in text.strip().split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def show(version: tuple[int, ...]) -> str:
    return ".".join(str(p) for p in (version + (0,))[: max(2, len(version))])


@dataclass
class Verdict:
    """What one workspace member declares and what it needs, with the reason."""

    name: str
    declared: tuple[int, ...] | None
    needed: tuple[int, ...]
    because: list[str]  # the chain of packages that sets `needed`, the member first

    @property
    def ok(self) -> bool:
        return self.declared is not None and self.declared >= self.needed


def counts(dep_kinds: list[dict], with_dev: bool) -> bool:
    """Whether an edge of the resolve graph is built: normal and build edges, dev if asked."""
    return any(k.get("kind") in (None, "build") or (with_dev and k.get("kind") == "dev")
               for k in dep_kinds)


def verdicts(metadata: dict) -> list[Verdict]:
    """One verdict per workspace member, from `cargo metadata --format-version 1` output."""
    packages = {p["id"]: p for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}
    result = []
    for member in metadata["workspace_members"]:
        package = packages[member]
        published = package.get("publish") != []
        # Breadth-first from the member; `parent` keeps one shortest chain to each package.
        parent: dict[str, str | None] = {member: None}
        queue = [member]
        while queue:
            current = queue.pop(0)
            for dep in nodes[current]["deps"]:
                with_dev = current == member and not published
                if dep["pkg"] not in parent and counts(dep["dep_kinds"], with_dev):
                    parent[dep["pkg"]] = current
                    queue.append(dep["pkg"])
        edition = package.get("edition", "2015")
        needed = parse_version(EDITION_RUST.get(edition, "1.0"))
        because = [f"{package['name']} (edition {edition})"]
        for pid in parent:
            if pid == member:
                continue
            rv = packages[pid].get("rust_version")
            if rv and parse_version(rv) > needed:
                needed = parse_version(rv)
                chain = []
                at: str | None = pid
                while at is not None:
                    chain.append(f"{packages[at]['name']} {packages[at]['version']}")
                    at = parent[at]
                because = list(reversed(chain))
        declared = package.get("rust_version")
        result.append(Verdict(package["name"], parse_version(declared) if declared else None,
                              needed, because))
    return sorted(result, key=lambda v: v.name)


def host_triple() -> str:
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("host: "):
            return line.split(": ", 1)[1].strip()
    raise RuntimeError("rustc -vV printed no host line")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--offline", action="store_true", help="never touch the network")
    ap.add_argument("--manifest-path", default=None)
    args = ap.parse_args(argv)
    cmd = ["cargo", "metadata", "--format-version", "1", "--locked", "--all-features",
           "--filter-platform", host_triple()]
    if args.offline:
        cmd.append("--offline")
    if args.manifest_path:
        cmd += ["--manifest-path", args.manifest_path]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.stderr.write(run.stderr)
        print("check_rust_version: cargo metadata failed", file=sys.stderr)
        return 2
    failed = 0
    for v in verdicts(json.loads(run.stdout)):
        declared = show(v.declared) if v.declared else "none"
        chain = " -> ".join(v.because)
        if v.declared is None:
            print(f"FAIL {v.name}: no rust-version declared; it needs {show(v.needed)} ({chain})")
            failed += 1
        elif not v.ok:
            print(f"FAIL {v.name}: declares rust-version {declared}, its locked dependencies "
                  f"need {show(v.needed)} ({chain})")
            failed += 1
        elif v.declared > v.needed:
            print(f"note {v.name}: declares {declared}, its dependencies need only "
                  f"{show(v.needed)} ({chain}); fine if its own code needs {declared}")
        else:
            print(f"ok   {v.name}: rust-version {declared} ({chain})")
    if failed:
        print(f"check_rust_version: {failed} crate(s) declare a rust-version below what they "
              "need: raise it in their Cargo.toml", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
