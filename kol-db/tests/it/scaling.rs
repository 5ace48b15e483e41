//! The Citus plan of docs/SCALING.md against the schema: every table of the migrations has a
//! place in the plan (distributed by a column, or a reference table), and the list of keys and
//! foreign keys the plan must change (those Citus cannot enforce across shards: a primary key or
//! unique constraint without the distribution column, a foreign key between distributed tables
//! without it, a foreign key from a reference table to a distributed one) is exactly the list
//! written in the document. A new migration that adds such a constraint, or a plan that changes,
//! fails here until the document says so.
//!
//! The migrations are read with a small parser of the statement forms they use (`CREATE TABLE`
//! with column and table constraints, `ALTER TABLE ... ADD CONSTRAINT`, `CREATE UNIQUE INDEX`,
//! `DROP INDEX`); function bodies (between `$$`) are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    PrimaryKey,
    Unique,
    ForeignKey { to: String },
}

#[derive(Debug, Clone)]
struct Constraint {
    table: String,
    name: String,
    kind: Kind,
    columns: Vec<String>,
}

/// The migrations' `up.sql`, in order, with comments and dollar-quoted bodies removed.
fn schema_sql() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut dirs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut out = String::new();
    for d in dirs {
        let sql = std::fs::read_to_string(d.join("up.sql")).unwrap();
        let mut in_body = false;
        for line in sql.lines() {
            let mut code = line;
            if let Some(i) = code.find("--") {
                code = &code[..i];
            }
            // Dollar quotes: keep what is outside them.
            let mut kept = String::new();
            for (i, part) in code.split("$$").enumerate() {
                if i > 0 {
                    in_body = !in_body;
                }
                if !in_body {
                    kept.push_str(part);
                }
            }
            out.push_str(&kept);
            out.push('\n');
        }
    }
    out
}

/// Splits at commas outside parentheses.
fn top_level(body: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (mut depth, mut current) = (0i32, String::new());
    for c in body.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(current.trim().to_owned());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        parts.push(current.trim().to_owned());
    }
    parts
}

/// The column list in the first parentheses after `keyword`.
fn columns_after(text: &str, keyword: &str) -> Option<(Vec<String>, String)> {
    let upper = text.to_uppercase();
    let at = upper.find(keyword)? + keyword.len();
    let open = at + text[at..].find('(')?;
    let close = open + text[open..].find(')')?;
    let cols = text[open + 1..close]
        .split(',')
        .map(|c| c.trim().to_lowercase())
        .collect();
    Some((cols, text[close + 1..].to_owned()))
}

fn first_word(text: &str) -> String {
    text.split_whitespace()
        .next()
        .unwrap_or("")
        .trim_matches(|c: char| c == '(' || c == ';')
        .to_lowercase()
}

/// A table element or an `ADD CONSTRAINT` clause.
fn element(table: &str, text: &str, out: &mut Vec<Constraint>) {
    let mut text = text.trim().to_owned();
    let mut name = None;
    if text.to_uppercase().starts_with("CONSTRAINT ") {
        let rest = text["CONSTRAINT ".len()..].trim_start().to_owned();
        name = Some(first_word(&rest));
        text = rest[rest.find(char::is_whitespace).unwrap_or(rest.len())..]
            .trim()
            .to_owned();
    }
    let upper = text.to_uppercase();
    let push = |out: &mut Vec<Constraint>, kind: Kind, columns: Vec<String>, default: String| {
        out.push(Constraint {
            table: table.to_owned(),
            name: name.clone().unwrap_or(default),
            kind,
            columns,
        });
    };
    if upper.starts_with("PRIMARY KEY") {
        let (cols, _) = columns_after(&text, "PRIMARY KEY").unwrap();
        push(out, Kind::PrimaryKey, cols, format!("{table}_pkey"));
    } else if upper.starts_with("UNIQUE") {
        let (cols, _) = columns_after(&text, "UNIQUE").unwrap();
        let default = format!("{table}_{}_key", cols.join("_"));
        push(out, Kind::Unique, cols, default);
    } else if upper.starts_with("FOREIGN KEY") {
        let (cols, rest) = columns_after(&text, "FOREIGN KEY").unwrap();
        let rest_upper = rest.to_uppercase();
        let at = rest_upper.find("REFERENCES").unwrap() + "REFERENCES".len();
        let to = first_word(&rest[at..]);
        let default = format!("{table}_{}_fkey", cols.join("_"));
        push(out, Kind::ForeignKey { to }, cols, default);
    } else if upper.starts_with("CHECK") || upper.starts_with("EXCLUDE") {
    } else {
        // A column definition.
        let column = first_word(&text);
        if upper.contains("PRIMARY KEY") {
            push(
                out,
                Kind::PrimaryKey,
                vec![column.clone()],
                format!("{table}_pkey"),
            );
        }
        if upper.split_whitespace().any(|w| w == "UNIQUE") {
            push(
                out,
                Kind::Unique,
                vec![column.clone()],
                format!("{table}_{column}_key"),
            );
        }
        if let Some(at) = upper.find("REFERENCES") {
            let to = first_word(&text[at + "REFERENCES".len()..]);
            push(
                out,
                Kind::ForeignKey { to },
                vec![column.clone()],
                format!("{table}_{column}_fkey"),
            );
        }
    }
}

/// Every table and the keys and foreign keys in force after the last migration.
fn schema() -> (BTreeSet<String>, Vec<Constraint>) {
    let sql = schema_sql();
    let mut tables = BTreeSet::new();
    let mut constraints: Vec<Constraint> = Vec::new();
    for statement in sql.split(';') {
        let s = statement.split_whitespace().collect::<Vec<_>>().join(" ");
        let upper = s.to_uppercase();
        if let Some(rest) = upper.strip_prefix("CREATE TABLE ") {
            let name = first_word(rest);
            let open = s.find('(').unwrap();
            let close = s.rfind(')').unwrap();
            for part in top_level(&s[open + 1..close]) {
                element(&name, &part, &mut constraints);
            }
            tables.insert(name);
        } else if let Some(rest) = upper.strip_prefix("ALTER TABLE ") {
            let table = first_word(rest);
            let body = &s["ALTER TABLE ".len() + table.len()..];
            for clause in top_level(body) {
                if let Some(add) = clause
                    .to_uppercase()
                    .strip_prefix("ADD CONSTRAINT ")
                    .map(|_| clause["ADD ".len()..].to_owned())
                {
                    element(&table, &add, &mut constraints);
                }
                if clause.to_uppercase().starts_with("DROP CONSTRAINT ") {
                    let name = first_word(&clause["DROP CONSTRAINT ".len()..]);
                    constraints.retain(|c| c.name != name);
                }
            }
        } else if upper.starts_with("CREATE UNIQUE INDEX ") {
            let rest = &s["CREATE UNIQUE INDEX ".len()..];
            let name = first_word(rest);
            let on = upper.find(" ON ").unwrap() + " ON ".len();
            let table = first_word(&s[on..]);
            let (columns, _) = columns_after(&s[on..], "").unwrap();
            constraints.push(Constraint {
                table,
                name,
                kind: Kind::Unique,
                columns,
            });
        } else if let Some(rest) = upper.strip_prefix("DROP INDEX ") {
            let name = first_word(rest);
            constraints.retain(|c| c.name != name);
        }
    }
    (tables, constraints)
}

/// What the document says: each table's place, and the fenced list of changes.
fn plan() -> (BTreeMap<String, Option<String>>, Vec<String>) {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/SCALING.md"))
            .unwrap();
    let between = |begin: &str, end: &str| {
        let a = doc
            .find(begin)
            .unwrap_or_else(|| panic!("{begin} in SCALING.md"))
            + begin.len();
        let b = a + doc[a..].find(end).unwrap();
        doc[a..b].to_owned()
    };
    let mut placement = BTreeMap::new();
    for line in between("<!-- plan:begin -->", "<!-- plan:end -->").lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `table` | distributed by `column` / reference | ...
        if cells.len() < 3 || !cells[1].starts_with('`') {
            continue;
        }
        let table = cells[1].trim_matches('`').to_owned();
        let place = if let Some(col) = cells[2].strip_prefix("distributed by ") {
            Some(col.trim_matches('`').to_owned())
        } else {
            assert_eq!(cells[2], "reference", "{line}");
            None
        };
        placement.insert(table, place);
    }
    let changes = between("<!-- changes:begin -->", "<!-- changes:end -->")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("```"))
        .map(str::to_owned)
        .collect();
    (placement, changes)
}

/// What the plan cannot keep as it is, one line per constraint.
fn required_changes(
    placement: &BTreeMap<String, Option<String>>,
    constraints: &[Constraint],
) -> Vec<String> {
    let mut out = Vec::new();
    for c in constraints {
        let place = &placement[&c.table];
        let cols = c.columns.join(", ");
        let line = match (&c.kind, place) {
            (Kind::PrimaryKey | Kind::Unique, Some(d)) if !c.columns.contains(d) => {
                let what = if c.kind == Kind::PrimaryKey {
                    "primary key"
                } else {
                    "unique"
                };
                Some(format!("{}: {what} {} ({cols}) lacks {d}", c.table, c.name))
            }
            (Kind::ForeignKey { to }, Some(d)) => match &placement[to] {
                Some(_) if !c.columns.contains(d) => Some(format!(
                    "{}: foreign key {} ({cols}) -> {to} lacks {d}",
                    c.table, c.name
                )),
                _ => None,
            },
            (Kind::ForeignKey { to }, None) if placement[to].is_some() => Some(format!(
                "{}: foreign key {} ({cols}) -> {to}: from a reference table to a distributed one",
                c.table, c.name
            )),
            _ => None,
        };
        out.extend(line);
    }
    out.sort();
    out
}

#[test]
fn the_citus_plan_places_every_table_and_lists_every_constraint_it_changes() {
    let (tables, constraints) = schema();
    let (placement, written) = plan();
    let planned: BTreeSet<String> = placement.keys().cloned().collect();
    assert_eq!(
        planned, tables,
        "docs/SCALING.md's plan must place exactly the tables of the migrations"
    );
    // The parser saw the schema's keys (a guard against a parser that finds nothing).
    assert!(
        constraints
            .iter()
            .any(|c| c.name == "kols_platform_username_key")
    );
    assert!(
        !constraints
            .iter()
            .any(|c| c.name == "conversations_one_open_per_kol"),
        "dropped by migration 8"
    );
    assert_eq!(
        constraints
            .iter()
            .filter(|c| c.kind == Kind::PrimaryKey)
            .count(),
        tables.len(),
        "one primary key per table: {constraints:#?}"
    );
    let required = required_changes(&placement, &constraints);
    assert_eq!(
        written,
        required,
        "docs/SCALING.md's list of constraints to change has drifted from the migrations; \
         the list now:\n{}",
        required.join("\n")
    );
}
