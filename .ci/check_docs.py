#!/usr/bin/env python3
"""Checks that the repository's documents match the tree, so that they cannot drift silently.

- **Code paths.** Every repository path a document names (`kol-db/src/kols.rs`, `examples/...`,
  `scripts/...`, `.ci/...`, `docs/...`) exists. In ARCHITECTURE.md's codemap, the file names a
  crate's section gives (`kols.rs`, `src/schema.rs`, `migrations/`) exist in that crate, and a
  section that maps a crate's modules (it names at least three of them) names all of them.
- **Crate lists.** README.md's "Crates" bullets and ARCHITECTURE.md's codemap sections are
  exactly the workspace members; ARCHITECTURE.md's dependency arrows (`kol-db -> kol-core`) are
  exactly the dependencies between library crates; every "depends on A, B and C" in the README
  names exactly the crate's dependencies; every stated minimum Rust version is the crate's
  `rust-version`.
- **Links.** Relative links and links into this repository's GitHub address lead to files that
  exist and to headings that exist (GitHub's anchors).
- **Figures.** A README paragraph that gives a measured time or percentage links to the
  BENCHMARKS.md section that records it.
- **Self-contained.** No file refers to documents outside the repository (`DESIGN.md`, the
  original schema file under `shared/seed/`), and a mention of the platform's earlier (Python)
  version points to docs/SCHEMA.md, which records what it did. The released migrations are
  exempt: they are never edited, and docs/SCHEMA.md explains how to read their comments.

Usage: python3 .ci/check_docs.py [--root DIR]
Exit status: 0 when everything matches, 1 otherwise (each problem on its own line).
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

# Released migrations: never edited, so their comments keep the old references (docs/SCHEMA.md
# says how to read them).
RELEASED_MIGRATIONS = re.compile(r"^kol-db/migrations/2026-11-25-00000[1-6]_[a-z_]+/")
# Files allowed to name the outside references: the page that explains them, and these checks.
EXPLAINS_REFERENCES = {"docs/SCHEMA.md", ".ci/check_docs.py", ".ci/test_checks.py"}
OUTSIDE_REFERENCES = [
    (re.compile(r"DESIGN\.md"), "DESIGN.md is not in this repository"),
    (re.compile(r"shared/seed|seed/000_"), "the original schema file is not in this repository: "
                                           "refer to docs/SCHEMA.md"),
]
EARLIER_VERSION = re.compile(r"earlier (python )?version|python version", re.IGNORECASE)
TIME_OR_PERCENT = re.compile(r"\d(?:[\d,.]*\d)?\s?(?:ns|µs|us|ms|s|%)(?![\w-])")
DOCUMENTS = ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md", "RELIABILITY.md", "CHANGELOG.md",
             "docs/*.md", "*/README.md"]


@dataclass
class Workspace:
    """What the checks compare the documents with."""

    root: Path
    repository: str  # the GitHub address in [workspace.package]
    members: dict[str, str] = field(default_factory=dict)  # directory -> package name
    published: set[str] = field(default_factory=set)  # package names
    dependencies: dict[str, set[str]] = field(default_factory=dict)  # package -> normal deps
    rust_version: dict[str, str] = field(default_factory=dict)  # package -> rust-version


def load_workspace(root: Path) -> Workspace:
    top = tomllib.loads((root / "Cargo.toml").read_text())
    ws = Workspace(root, top["workspace"].get("package", {}).get("repository", "").rstrip("/"))
    for member in top["workspace"]["members"]:
        manifest = tomllib.loads((root / member / "Cargo.toml").read_text())
        package = manifest["package"]
        name = package["name"]
        ws.members[member] = name
        if package.get("publish", True) is not False:
            ws.published.add(name)
        ws.dependencies[name] = set(manifest.get("dependencies", {}))
        rv = package.get("rust-version")
        if isinstance(rv, str):
            ws.rust_version[name] = rv
    return ws


def normalize(name: str) -> str:
    return name.strip().strip("`*").replace("_", "-").lower()


# --- Markdown helpers -------------------------------------------------------------------------


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"`|\*\*?|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip())
    text = text.lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def headings(markdown: str) -> list[tuple[int, str]]:
    """(level, text) of every heading outside fenced code blocks."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"(#{1,6})\s+(.*?)\s*#*\s*$", line)):
            out.append((len(m.group(1)), m.group(2)))
    return out


def anchors(markdown: str) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for _, text in headings(markdown):
        slug = github_slug(text)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        result.add(slug if n == 0 else f"{slug}-{n}")
    return result


def section(markdown: str, title: str) -> str:
    """The text under the heading `title` up to the next heading of the same or a higher level."""
    lines = markdown.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"(#{1,6})\s+(.*?)\s*$", line)
        if m and m.group(2) == title:
            level = len(m.group(1))
            body = []
            for rest in lines[i + 1:]:
                n = re.match(r"(#{1,6})\s", rest)
                if n and len(n.group(1)) <= level:
                    break
                body.append(rest)
            return "\n".join(body)
    return ""


def subsections(markdown: str, title: str) -> dict[str, str]:
    """The `###` subsections of section `title`, by heading text."""
    body = section(markdown, title)
    out: dict[str, str] = {}
    current = None
    for line in body.splitlines():
        m = re.match(r"###\s+(.*?)\s*$", line)
        if m:
            current = m.group(1)
            out[current] = ""
        elif current is not None:
            out[current] += line + "\n"
    return out


def paragraphs(markdown: str) -> list[str]:
    """Paragraphs and list items (each item its own block), fenced code blocks left out."""
    blocks, current, fenced = [], [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        if not line.strip() or re.match(r"\s*(?:[-*]|\d+\.)\s", line) or line.startswith("#"):
            if current:
                blocks.append("\n".join(current))
            current = [line] if line.strip() else []
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def links(markdown: str) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", markdown)


# --- The checks -------------------------------------------------------------------------------


def path_exists(root: Path, path: str) -> bool:
    path = path.split("::")[0].rstrip(".,;:")
    if any(c in path for c in "*?["):
        return bool(glob.glob(str(root / path)))
    return (root / path).exists()


def named_paths(text: str, prefixes: list[str]) -> list[str]:
    """Repository paths in `text` that start with one of `prefixes` (top-level directories)."""
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w./<-])((?:{alternatives})/[\w.*/-]*[\w*/])")
    out = []
    for m in pattern.finditer(text):
        path = m.group(1)
        if "..." in path or "<" in path:
            continue  # an elided path (`kol-db/src/...rs`), not a name
        out.append(path)
    return out


def check_paths(ws: Workspace, doc: str, text: str) -> list[str]:
    prefixes = list(ws.members) + ["scripts", ".ci", "docs"]
    return [f"{doc}: names `{p}`, which does not exist"
            for p in named_paths(text, prefixes) if not path_exists(ws.root, p)]


def crate_files(crate_dir: Path) -> dict[str, list[Path]]:
    """File name -> paths, for every file of a crate (target and fixtures left out)."""
    out: dict[str, list[Path]] = {}
    for dirpath, dirnames, filenames in os.walk(crate_dir):
        dirnames[:] = [d for d in dirnames if d not in ("target", "fixtures", ".git")]
        for f in filenames:
            out.setdefault(f, []).append(Path(dirpath) / f)
    return out


def check_codemap(ws: Workspace, text: str) -> list[str]:
    problems = []
    sections = subsections(text, "Codemap")
    covered = set()
    for heading, body in sections.items():
        m = re.match(r"`([^`]+)`", heading)
        if not m:
            problems.append(f"ARCHITECTURE.md: codemap section {heading!r} does not name a crate")
            continue
        name = m.group(1)
        directory = next((d for d, p in ws.members.items() if name in (d, p)), None)
        if directory is None:
            problems.append(f"ARCHITECTURE.md: codemap section `{name}` is not a workspace member")
            continue
        covered.add(directory)
        crate_dir = ws.root / directory
        files = crate_files(crate_dir)
        for token in re.findall(r"`([^`\s]+)`", body):
            if token.startswith(directory + "/") or token.startswith("."):
                continue  # a repository path: check_paths handles it
            if re.fullmatch(r"[\w./-]+/", token) or "/" in token:
                if not (crate_dir / token).exists() and not path_exists(ws.root, token):
                    problems.append(f"ARCHITECTURE.md: `{name}` section names `{token}`, which "
                                    f"is not in {directory}/")
            elif re.fullmatch(r"[\w-]+\.(rs|toml|py|sql)", token) and token not in files:
                problems.append(f"ARCHITECTURE.md: `{name}` section names `{token}`, which is "
                                f"not in {directory}/")
        # A section that maps the crate's modules must map all of them.
        src = crate_dir / "src"
        modules = sorted(p.stem for p in src.glob("*.rs") if p.stem not in ("lib", "main"))
        named = [mod for mod in modules
                 if re.search(rf"`(?:src/)?{re.escape(mod)}(?:\.rs)?`", body)]
        if len(named) >= 3:
            for mod in modules:
                if mod not in named:
                    problems.append(f"ARCHITECTURE.md: the `{name}` section maps its modules but "
                                    f"not `{mod}.rs` ({directory}/src/{mod}.rs)")
    for directory in ws.members:
        if directory not in covered:
            problems.append(f"ARCHITECTURE.md: the codemap has no section for `{directory}`")
    return problems


def check_arrows(ws: Workspace, text: str) -> list[str]:
    stated = set(re.findall(r"`([\w-]+) -> ([\w-]+)`", text))
    libraries = ws.published
    actual = {(p, d) for p in libraries for d in ws.dependencies.get(p, set()) if d in libraries}
    problems = [f"ARCHITECTURE.md: states `{a} -> {b}`, but {a} does not depend on {b}"
                for a, b in sorted(stated - actual)]
    problems += [f"ARCHITECTURE.md: {a} depends on {b}, but the dependency rules do not say "
                 f"`{a} -> {b}`" for a, b in sorted(actual - stated)]
    return problems


def readme_crates(text: str) -> dict[str, str]:
    """Crate name -> its bullet, from README.md's "Crates" section."""
    out = {}
    for block in paragraphs(section(text, "Crates")):
        m = re.match(r"\s*-\s+\*\*([\w-]+)\*\*", block)
        if m:
            out[m.group(1)] = block
    return out


def stated_dependencies(text: str) -> list[set[str]]:
    """Every "depends on A, B and C" list in `text`, as sets of names."""
    out = []
    flat = " ".join(text.split())
    for m in re.finditer(r"[Dd]epends on ([^;.]*?)(?:;|\.(?:\s|$)|$)", flat):
        names = set()
        for item in re.split(r",\s*|\s+and\s+", m.group(1)):
            name = normalize(item)
            if not re.fullmatch(r"[a-z][\w-]*", name):
                break  # the list ended ("..., no I/O")
            names.add(name)
        if names:
            out.append(names)
    return out


def check_dependencies(ws: Workspace, doc: str, crate: str, text: str) -> list[str]:
    actual = {normalize(d) for d in ws.dependencies.get(crate, set())}
    problems = []
    for names in stated_dependencies(text):
        if names != actual:
            problems.append(f"{doc}: says {crate} depends on {', '.join(sorted(names))}; its "
                            f"Cargo.toml has {', '.join(sorted(actual))}")
    return problems


def check_crate_lists(ws: Workspace, readme: str, architecture: str) -> list[str]:
    problems = []
    listed = set(readme_crates(readme))
    packages = set(ws.members.values())
    for name in sorted(packages - listed):
        problems.append(f"README.md: the Crates section does not list `{name}`")
    for name in sorted(listed - packages):
        problems.append(f"README.md: the Crates section lists `{name}`, not a workspace member")
    for crate, bullet in readme_crates(readme).items():
        problems += check_dependencies(ws, "README.md", crate, bullet)
    problems += check_codemap(ws, architecture)
    problems += check_arrows(ws, architecture)
    return problems


def check_rust_versions(ws: Workspace, doc: str, text: str, crate: str | None) -> list[str]:
    problems = []
    flat = " ".join(text.split())
    if crate is not None:
        for m in re.finditer(r"Minimum supported Rust version:?\s*(\d+\.\d+)", flat):
            if m.group(1) != ws.rust_version.get(crate):
                problems.append(f"{doc}: minimum Rust {m.group(1)}, but {crate}'s rust-version "
                                f"is {ws.rust_version.get(crate)}")
        return problems
    for m in re.finditer(r"Minimum supported Rust version\*?\*?:?(.*?)(?:\(|$)", flat):
        for group in re.finditer(r"((?:kol-[a-z]+(?:,\s*|\s+and\s+)?)+)\s+(\d+\.\d+)",
                                 m.group(1)):
            for crate_name in re.findall(r"kol-[a-z]+", group.group(1)):
                if ws.rust_version.get(crate_name) != group.group(2):
                    problems.append(f"{doc}: says {crate_name} needs Rust {group.group(2)}, its "
                                    f"rust-version is {ws.rust_version.get(crate_name)}")
    return problems


def check_links(ws: Workspace, doc: str, text: str) -> list[str]:
    problems = []
    base = (ws.root / doc).parent
    prefix = ws.repository + "/blob/main/"
    for target in links(text):
        if ws.repository and target.startswith(prefix):
            path, _, anchor = target[len(prefix):].partition("#")
            file = ws.root / path
        elif ws.repository and target.split("#")[0] == ws.repository:
            file, anchor = ws.root / "README.md", ""
        elif re.match(r"[a-z]+:", target):
            continue  # another site
        else:
            path, _, anchor = target.partition("#")
            file = base / path if path else ws.root / doc
        if not file.exists():
            problems.append(f"{doc}: link to {target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
            problems.append(f"{doc}: link to {target}: no such heading in {file.name}")
    return problems


def check_figures(doc: str, text: str) -> list[str]:
    problems = []
    for block in paragraphs(text):
        if block.lstrip().startswith("#"):
            continue
        # Code spans hold commands and names, not figures.
        prose = re.sub(r"`[^`]*`", "", block)
        figures = TIME_OR_PERCENT.findall(prose)
        if figures and "BENCHMARKS.md" not in block:
            first = " ".join(block.split())[:70]
            problems.append(f"{doc}: gives {', '.join(figures)} without a link to the "
                            f"BENCHMARKS.md section that records it ({first}...)")
    return problems


def check_self_contained(rel: str, text: str) -> list[str]:
    if RELEASED_MIGRATIONS.match(rel) or rel in EXPLAINS_REFERENCES:
        return []
    problems = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        for pattern, why in OUTSIDE_REFERENCES:
            if pattern.search(line):
                problems.append(f"{rel}:{i + 1}: {why}")
        if EARLIER_VERSION.search(line):
            nearby = "\n".join(lines[max(0, i - 3): i + 4])
            if "SCHEMA.md" not in nearby:
                problems.append(f"{rel}:{i + 1}: mentions the earlier version without pointing "
                                "to docs/SCHEMA.md, which records what it did")
    return problems


def tracked_text_files(root: Path) -> list[str]:
    run = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                         cwd=root, capture_output=True, text=True)
    if run.returncode != 0:
        files = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
                 and "target" not in p.parts and ".git" not in p.parts]
    else:
        files = run.stdout.splitlines()
    return [f for f in files
            if f.endswith((".rs", ".md", ".sql", ".py", ".sh", ".toml", ".txt")) or f == ".ci/run"]


def check(root: Path) -> list[str]:
    ws = load_workspace(root)
    problems: list[str] = []
    documents = sorted({str(Path(p).relative_to(root)) for pattern in DOCUMENTS
                        for p in glob.glob(str(root / pattern))})
    texts = {doc: (root / doc).read_text() for doc in documents}
    for doc, text in texts.items():
        problems += check_paths(ws, doc, text)
        problems += check_links(ws, doc, text)
        crate_dir = doc.split("/")[0] if doc.endswith("/README.md") else None
        crate = ws.members.get(crate_dir) if crate_dir else None
        if crate is not None:
            problems += check_dependencies(ws, doc, crate, text)
        problems += check_rust_versions(ws, doc, text, crate)
    problems += check_crate_lists(ws, texts.get("README.md", ""), texts.get("ARCHITECTURE.md", ""))
    problems += check_figures("README.md", texts.get("README.md", ""))
    for rel in tracked_text_files(root):
        path = root / rel
        if path.is_file():
            problems += check_self_contained(rel, path.read_text(errors="replace"))
    return problems


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = ap.parse_args(argv)
    problems = check(args.root.resolve())
    for p in problems:
        print(p)
    if problems:
        print(f"check_docs: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("check_docs: the documents match the tree")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
