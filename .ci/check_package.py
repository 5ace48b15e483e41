#!/usr/bin/env python3
"""Packages the library crates as crates.io would receive them, and checks what is inside.

Runs `cargo package --workspace --no-verify --allow-dirty --locked`, leaving out the members with
`publish = false` (kol-examples and kol-benches: programs and benchmarks of this repository, not
crates to depend on; kol-benches also depends on kol-examples by path only, which `cargo package`
rightly refuses for a package meant for a registry). `--no-verify` skips building each package
from its tarball, which would resolve the unpublished workspace crates from crates.io.

Then, for every packaged crate, reads its `.crate` file and checks:

- `README.md`, `LICENSE-MIT` and `LICENSE-APACHE` are inside, as files whose contents are the
  crate's README and the repository's licence files (a symlink that packaged as a dangling link
  or as a path would fail here);
- the manifest has what crates.io shows and docs.rs uses: `description`, `license`, `readme`,
  `repository`, `documentation`, `rust-version`, `keywords` (at most 5, each at most 20
  characters of ASCII letters, digits, `_`, `-` or `+`, starting with a letter) and `categories`
  (at most 5, each a crates.io category slug), and `[package.metadata.docs.rs]` with
  `all-features = true` and `--cfg docsrs`.

Works offline once the dependencies are downloaded (pass `--offline` to make sure).

Usage: python3 .ci/check_package.py [--offline]
Exit status: 0 when every library crate packages with everything, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# crates.io's category slugs (the `[slug]` and `[slug.categories.sub]` entries of
# src/boot/categories.toml in the rust-lang/crates.io repository).
CATEGORIES = {
    "algorithms", "api-bindings", "asynchronous", "authentication", "caching",
    "command-line-interface", "command-line-utilities", "compression", "computer-vision",
    "config", "concurrency", "cryptography", "cryptography::cryptocurrencies", "database",
    "database-implementations", "data-structures", "date-and-time", "development-tools",
    "development-tools::build-utils", "development-tools::cargo-plugins",
    "development-tools::debugging", "development-tools::ffi",
    "development-tools::procedural-macro-helpers", "development-tools::profiling",
    "development-tools::testing", "email", "embedded", "emulators", "encoding",
    "external-ffi-bindings", "filesystem", "game-engines", "game-development", "games",
    "graphics", "gui", "hardware-support", "internationalization", "localization", "mathematics",
    "memory-management", "multimedia", "multimedia::audio", "multimedia::video",
    "multimedia::images", "multimedia::encoding", "network-programming", "no-std", "os",
    "os::linux-apis", "os::macos-apis", "os::unix-apis", "os::windows-apis",
    "parser-implementations", "parsing", "rendering", "rendering::engine",
    "rendering::graphics-api", "rendering::data-formats", "rust-patterns", "science",
    "science::robotics", "simulation", "template-engine", "text-editors", "text-processing",
    "value-formatting", "visualization", "wasm", "web-programming",
    "web-programming::http-client", "web-programming::http-server", "web-programming::websocket",
}
KEYWORD = re.compile(r"[A-Za-z][A-Za-z0-9_+-]{0,19}")
REQUIRED_FIELDS = ["description", "license", "readme", "repository", "documentation",
                   "rust-version", "keywords", "categories"]


def manifest_problems(name: str, manifest: dict) -> list[str]:
    """What a packaged `Cargo.toml` lacks for crates.io and docs.rs."""
    package = manifest.get("package", {})
    problems = [f"{name}: Cargo.toml has no `{f}`" for f in REQUIRED_FIELDS if not package.get(f)]
    keywords = package.get("keywords", [])
    if len(keywords) > 5:
        problems.append(f"{name}: {len(keywords)} keywords, crates.io takes at most 5")
    problems += [f"{name}: keyword {k!r} is not a crates.io keyword (a letter, then up to 19 "
                 "letters, digits, `_`, `-` or `+`)" for k in keywords if not KEYWORD.fullmatch(k)]
    categories = package.get("categories", [])
    if len(categories) > 5:
        problems.append(f"{name}: {len(categories)} categories, crates.io takes at most 5")
    problems += [f"{name}: {c!r} is not a crates.io category slug" for c in categories
                 if c not in CATEGORIES]
    docs_rs = package.get("metadata", {}).get("docs", {}).get("rs", {})
    if docs_rs.get("all-features") is not True:
        problems.append(f"{name}: [package.metadata.docs.rs] lacks `all-features = true`")
    args = docs_rs.get("rustdoc-args", [])
    if not any(a == "docsrs" and b == "--cfg" for b, a in zip(args, args[1:])):
        problems.append(f"{name}: [package.metadata.docs.rs] lacks "
                        "`rustdoc-args = [\"--cfg\", \"docsrs\"]`")
    return problems


def crate_problems(crate_file: Path, name: str, version: str,
                   expected: dict[str, bytes | None]) -> list[str]:
    """What a `.crate` file lacks: each `expected` file, with the expected contents (any
    contents for `None`)."""
    problems = []
    with tarfile.open(crate_file, "r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        for file, contents in expected.items():
            member = members.get(f"{name}-{version}/{file}")
            if member is None:
                problems.append(f"{name}: the package has no {file}")
            elif not member.isfile():
                problems.append(f"{name}: {file} is packaged as a link, not as the file itself")
            else:
                data = tar.extractfile(member)
                if data is None or (contents is not None and data.read() != contents):
                    problems.append(f"{name}: the packaged {file} differs from the repository's")
        cargo_toml = members.get(f"{name}-{version}/Cargo.toml")
        if cargo_toml is None:
            problems.append(f"{name}: the package has no Cargo.toml")
        else:
            data = tar.extractfile(cargo_toml)
            manifest = tomllib.loads(data.read().decode()) if data else {}
            problems += manifest_problems(name, manifest)
    return problems


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--offline", action="store_true", help="never touch the network")
    args = ap.parse_args(argv)
    offline = ["--offline"] if args.offline else []

    meta = subprocess.run(["cargo", "metadata", "--no-deps", "--format-version", "1", *offline],
                          cwd=ROOT, capture_output=True, text=True)
    if meta.returncode != 0:
        sys.stderr.write(meta.stderr)
        return 1
    metadata = json.loads(meta.stdout)
    members = [p for p in metadata["packages"] if p["id"] in metadata["workspace_members"]]
    published = [p for p in members if p.get("publish") != []]
    unpublished = [p["name"] for p in members if p.get("publish") == []]

    cmd = ["cargo", "package", "--workspace", "--no-verify", "--allow-dirty", "--locked",
           *offline]
    for name in unpublished:
        cmd += ["--exclude", name]
    print("check_package:", " ".join(cmd))
    run = subprocess.run(cmd, cwd=ROOT)
    if run.returncode != 0:
        print("check_package: cargo package failed", file=sys.stderr)
        return 1

    package_dir = Path(metadata["target_directory"]) / "package"
    problems = []
    licences: dict[str, bytes | None] = {}
    for licence in ("LICENSE-MIT", "LICENSE-APACHE"):
        path = ROOT / licence
        licences[licence] = path.read_bytes() if path.is_file() else None
        if not path.is_file():
            problems.append(f"no {licence} at the top of the repository")
    for p in published:
        crate_dir = Path(p["manifest_path"]).parent
        readme = crate_dir / "README.md"
        expected: dict[str, bytes | None] = dict(licences)
        if readme.is_file():
            expected["README.md"] = readme.read_bytes()
        else:
            problems.append(f"{p['name']}: no README.md in {crate_dir}")
        crate_file = package_dir / f"{p['name']}-{p['version']}.crate"
        if not crate_file.is_file():
            problems.append(f"{p['name']}: {crate_file} was not written")
            continue
        problems += crate_problems(crate_file, p["name"], p["version"], expected)
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_package: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_package: {', '.join(p['name'] for p in published)} package with their README "
          f"and licence files (not packaged: {', '.join(unpublished) or 'none'}, publish = false)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
