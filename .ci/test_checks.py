#!/usr/bin/env python3
"""Unit tests of the CI checks in this folder, on made-up inputs (no cargo, no network).

Run: python3 -m unittest discover -s .ci -p 'test_*.py'
"""

from __future__ import annotations

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import check_docs as cd  # noqa: E402
import check_package as cp  # noqa: E402
import check_rust_version as crv  # noqa: E402


def package(name, rust_version=None, edition="2021", publish=None):
    return {"id": f"{name}-id", "name": name, "version": "1.0.0", "rust_version": rust_version,
            "edition": edition, "publish": publish}


def edge(name, *kinds):
    return {"pkg": f"{name}-id", "dep_kinds": [{"kind": k} for k in kinds]}


def metadata(packages, edges, members):
    return {
        "packages": packages,
        "workspace_members": [f"{m}-id" for m in members],
        "resolve": {"nodes": [{"id": p["id"], "deps": edges.get(p["name"], [])}
                              for p in packages]},
    }


class RustVersionTest(unittest.TestCase):
    def verdict(self, meta, name):
        return next(v for v in crv.verdicts(meta) if v.name == name)

    def test_versions_compare_without_trailing_zeros(self):
        self.assertEqual(crv.parse_version("1.86"), crv.parse_version("1.86.0"))
        self.assertLess(crv.parse_version("1.85"), crv.parse_version("1.86.0"))
        self.assertLess(crv.parse_version("1.9"), crv.parse_version("1.10"))

    def test_a_transitive_normal_dependency_raises_the_floor(self):
        meta = metadata(
            [package("lib", "1.85", "2024"), package("a", "1.70"), package("b", "1.88")],
            {"lib": [edge("a", None)], "a": [edge("b", None)]},
            ["lib"],
        )
        v = self.verdict(meta, "lib")
        self.assertFalse(v.ok)
        self.assertEqual(v.needed, (1, 88))
        self.assertEqual(v.because, ["lib 1.0.0", "a 1.0.0", "b 1.0.0"])

    def test_build_dependencies_count(self):
        meta = metadata([package("lib", "1.80"), package("cc", "1.81")],
                        {"lib": [edge("cc", "build")]}, ["lib"])
        self.assertFalse(self.verdict(meta, "lib").ok)

    def test_dev_dependencies_count_only_for_unpublished_members(self):
        packages = [package("lib", "1.80"), package("bench", "1.80", publish=[]),
                    package("criterion", "1.86")]
        edges = {"lib": [edge("criterion", "dev")], "bench": [edge("criterion", "dev")]}
        meta = metadata(packages, edges, ["lib", "bench"])
        self.assertTrue(self.verdict(meta, "lib").ok)
        self.assertFalse(self.verdict(meta, "bench").ok)

    def test_dev_dependencies_of_dependencies_are_never_built(self):
        meta = metadata([package("lib", "1.80"), package("a", "1.70"), package("b", "1.90")],
                        {"lib": [edge("a", None)], "a": [edge("b", "dev")]}, ["lib"])
        self.assertTrue(self.verdict(meta, "lib").ok)

    def test_the_edition_sets_a_floor(self):
        meta = metadata([package("lib", "1.84", "2024")], {}, ["lib"])
        v = self.verdict(meta, "lib")
        self.assertFalse(v.ok)
        self.assertEqual(v.needed, (1, 85))

    def test_a_missing_rust_version_fails(self):
        meta = metadata([package("lib", None)], {}, ["lib"])
        self.assertFalse(self.verdict(meta, "lib").ok)

    def test_declaring_more_than_needed_passes(self):
        meta = metadata([package("lib", "1.90"), package("a", "1.70")],
                        {"lib": [edge("a", None)]}, ["lib"])
        self.assertTrue(self.verdict(meta, "lib").ok)


class DocsTest(unittest.TestCase):
    def workspace(self, tmp: Path) -> cd.Workspace:
        ws = cd.Workspace(tmp, "https://github.com/o/r")
        ws.members = {"kol-core": "kol-core", "kol-db": "kol-db", "examples": "kol-examples"}
        ws.published = {"kol-core", "kol-db"}
        ws.dependencies = {"kol-core": {"serde", "serde_json", "url"},
                           "kol-db": {"kol-core", "diesel"}, "kol-examples": {"kol-db"}}
        ws.rust_version = {"kol-core": "1.85", "kol-db": "1.86"}
        return ws

    def tree(self, files: dict[str, str]) -> Path:
        import tempfile
        tmp = Path(tempfile.mkdtemp())
        self.addCleanup(__import__("shutil").rmtree, tmp)
        for name, text in files.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_text(text)
        return tmp

    def test_github_anchors(self):
        self.assertEqual(cd.github_slug("kol-db: bulk import"), "kol-db-bulk-import")
        self.assertEqual(cd.github_slug("Provisioning PostgreSQL and pgvector"),
                         "provisioning-postgresql-and-pgvector")
        self.assertEqual(cd.github_slug("`examples` (package `kol-examples`)"),
                         "examples-package-kol-examples")
        self.assertEqual(cd.anchors("# A\n## A\n```\n# not a heading\n```\n"), {"a", "a-1"})

    def test_named_paths_skip_elisions_urls_and_placeholders(self):
        text = ("`kol-db/src/kols.rs`, kol-db/src/...rs, <crate>/tests/it/main.rs, "
                "https://x.org/kol-db/src/nope.rs, `scripts/test.sh`, `benches/outreach.rs`.")
        self.assertEqual(cd.named_paths(text, ["kol-db", "scripts", "benches"]),
                         ["kol-db/src/kols.rs", "scripts/test.sh", "benches/outreach.rs"])

    def test_a_missing_path_is_reported(self):
        tmp = self.tree({"kol-db/src/kols.rs": ""})
        ws = self.workspace(tmp)
        self.assertEqual(cd.check_paths(ws, "README.md", "`kol-db/src/kols.rs`"), [])
        self.assertEqual(len(cd.check_paths(ws, "README.md", "`kol-db/src/gone.rs`")), 1)

    def test_a_codemap_that_maps_modules_must_map_all(self):
        tmp = self.tree({f"kol-db/src/{m}.rs": "" for m in
                         ["lib", "kols", "media", "search", "conversations"]}
                        | {"kol-core/src/lib.rs": "", "examples/src/lib.rs": ""})
        ws = self.workspace(tmp)
        text = ("## Codemap\n\n### `kol-core`\n\nTypes.\n\n### `kol-db`\n\n"
                "`kols.rs`, `media.rs` and `search`.\n\n### `examples` (package)\n\nx\n")
        problems = cd.check_codemap(ws, text)
        self.assertEqual(len(problems), 1)
        self.assertIn("conversations.rs", problems[0])
        self.assertEqual(cd.check_codemap(ws, text.replace("`search`.", "`search`, "
                                                           "`conversations.rs`.")), [])

    def test_codemap_sections_are_the_members(self):
        tmp = self.tree({"kol-core/src/lib.rs": ""})
        ws = self.workspace(tmp)
        problems = cd.check_codemap(ws, "## Codemap\n\n### `kol-core`\n\n### `kol-gone`\n")
        self.assertTrue(any("kol-gone" in p for p in problems))
        self.assertTrue(any("`kol-db`" in p for p in problems))
        self.assertTrue(any("`examples`" in p for p in problems))

    def test_stated_dependencies_must_be_the_real_ones(self):
        ws = self.workspace(Path("."))
        self.assertEqual(cd.stated_dependencies("Depends on serde, serde_json and url; no I/O."),
                         [{"serde", "serde-json", "url"}])
        self.assertEqual(cd.check_dependencies(
            ws, "README.md", "kol-core", "Depends on serde, serde_json and url; no I/O."), [])
        self.assertEqual(len(cd.check_dependencies(
            ws, "README.md", "kol-core", "Depends on serde and thiserror, no I/O.")), 1)

    def test_dependency_arrows_match_the_manifests(self):
        ws = self.workspace(Path("."))
        self.assertEqual(cd.check_arrows(ws, "`kol-db -> kol-core`"), [])
        self.assertEqual(len(cd.check_arrows(ws, "`kol-db -> kol-core`, `kol-core -> kol-db`")),
                         1)
        self.assertEqual(len(cd.check_arrows(ws, "nothing")), 1)

    def test_rust_versions_in_documents(self):
        ws = self.workspace(Path("."))
        self.assertEqual(cd.check_rust_versions(
            ws, "kol-db/README.md", "Minimum supported Rust version: 1.86.", "kol-db"), [])
        self.assertEqual(len(cd.check_rust_versions(
            ws, "kol-db/README.md", "Minimum supported Rust version: 1.85.", "kol-db")), 1)
        top = "- **Minimum supported Rust version**: kol-core 1.85; kol-db 1.85 (checked)"
        self.assertEqual(len(cd.check_rust_versions(ws, "README.md", top, None)), 1)

    def test_links_and_anchors(self):
        tmp = self.tree({"README.md": "", "BENCHMARKS.md": "## kol-db: bulk import\n"})
        ws = self.workspace(tmp)
        good = ("[a](BENCHMARKS.md#kol-db-bulk-import) [b](https://github.com/o/r#readme) "
                "[c](https://github.com/o/r/blob/main/BENCHMARKS.md) [d](https://docs.rs/x)")
        self.assertEqual(cd.check_links(ws, "README.md", good), [])
        bad = "[a](BENCHMARKS.md#import) [b](https://github.com/o/r/blob/main/docs/GONE.md)"
        self.assertEqual(len(cd.check_links(ws, "README.md", bad)), 2)

    def test_figures_need_their_benchmarks_link(self):
        self.assertEqual(len(cd.check_figures("README.md", "Imports 100k creators in under 20 s here.\n")), 1)
        self.assertEqual(cd.check_figures("README.md", "In 17.8 s ([BENCHMARKS.md](BENCHMARKS.md#x)).\n"), [])
        self.assertEqual(cd.check_figures("README.md", "Run `sleep 5s`; PostgreSQL 15, 512 values.\n"), [])
        # Each list item stands alone.
        self.assertEqual(len(cd.check_figures(
            "README.md", "- a: 3 ms ([b](BENCHMARKS.md))\n- c: within 1 %\n")), 1)

    def test_references_outside_the_repository(self):
        self.assertEqual(len(cd.check_self_contained("kol-db/src/a.rs", "// see DESIGN.md\n")), 1)
        self.assertEqual(len(cd.check_self_contained(
            "ARCHITECTURE.md", "The seed (`shared/seed/000_*.txt`)")), 1)
        self.assertEqual(len(cd.check_self_contained(
            "kol-core/src/a.rs", "/// as the earlier Python version did\n")), 1)
        self.assertEqual(cd.check_self_contained(
            "kol-core/src/a.rs", "/// as the earlier version did\n/// (docs/SCHEMA.md)\n"), [])
        released = "kol-db/migrations/2026-11-25-000002_kol_media/up.sql"
        self.assertEqual(cd.check_self_contained(released, "-- see DESIGN.md\n"), [])
        later = "kol-db/migrations/2026-12-01-000007_more/up.sql"
        self.assertEqual(len(cd.check_self_contained(later, "-- see DESIGN.md\n")), 1)


class PackageTest(unittest.TestCase):
    def manifest(self, **package):
        base = {"description": "d", "license": "MIT OR Apache-2.0", "readme": "README.md",
                "repository": "r", "documentation": "https://docs.rs/x", "rust-version": "1.85",
                "keywords": ["knapsack"], "categories": ["algorithms"],
                "metadata": {"docs": {"rs": {"all-features": True,
                                             "rustdoc-args": ["--cfg", "docsrs"]}}}}
        base.update(package)
        return {"package": base}

    def test_a_complete_manifest_passes(self):
        self.assertEqual(cp.manifest_problems("x", self.manifest()), [])

    def test_keywords_and_categories_follow_crates_io(self):
        self.assertEqual(len(cp.manifest_problems("x", self.manifest(
            keywords=["vector search", "a" * 21, "ok"]))), 2)
        self.assertEqual(len(cp.manifest_problems("x", self.manifest(
            keywords=["a", "b", "c", "d", "e", "f"]))), 1)
        self.assertEqual(len(cp.manifest_problems("x", self.manifest(
            categories=["science::ml", "multimedia::images"]))), 1)

    def test_docs_rs_metadata_is_required(self):
        problems = cp.manifest_problems("x", self.manifest(metadata={}))
        self.assertEqual(len(problems), 2)

    def test_packaged_files_must_be_the_real_files(self):
        import io
        import tarfile
        import tempfile
        tmp = Path(tempfile.mkdtemp())
        self.addCleanup(__import__("shutil").rmtree, tmp)
        crate = tmp / "x-0.1.0.crate"
        with tarfile.open(crate, "w:gz") as tar:
            def add(name, data=None, link=None):
                info = tarfile.TarInfo(f"x-0.1.0/{name}")
                if link:
                    info.type, info.linkname = tarfile.SYMTYPE, link
                    tar.addfile(info)
                else:
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
            add("README.md", b"readme")
            add("LICENSE-MIT", link="../LICENSE-MIT")
            add("Cargo.toml", b'[package]\nname = "x"\n')
        problems = cp.crate_problems(crate, "x", "0.1.0", {
            "README.md": b"other", "LICENSE-MIT": b"mit", "LICENSE-APACHE": None})
        self.assertTrue(any("README.md differs" in p for p in problems))
        self.assertTrue(any("LICENSE-MIT is packaged as a link" in p for p in problems))
        self.assertTrue(any("no LICENSE-APACHE" in p for p in problems))


if __name__ == "__main__":
    unittest.main()
