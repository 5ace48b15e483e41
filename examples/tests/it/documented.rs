//! The `campaign` command lines the documents show, read from README.md and `.ci/run` (not
//! copied here): each one parses, and each one plans the same in memory and through PostgreSQL,
//! as the README promises. A change to either file is therefore tested as written.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test helpers: a panic is a failed test.

use std::path::Path;

use kol_db::testing::TestDatabase;
use kol_examples::campaign::{
    CampaignError, CampaignReport, brief_embedding, parse_args, run_in_memory, run_in_postgres,
};

/// A command line the documents show: where it is written and the example's arguments.
#[derive(Debug, Clone, PartialEq)]
struct Documented {
    place: String,
    args: Vec<String>,
}

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Splits a shell command line into words: single and double quotes, backslash escapes, and an
/// unquoted `#` comment, `;`, `&&` or `|` ending the command. Enough for documented commands;
/// `None` for what it does not understand (an unclosed quote, `$(...)`, backticks).
fn shell_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                words.extend(word.take());
            }
            '#' if word.is_none() => break,
            ';' | '|' => break,
            '&' if chars.peek() == Some(&'&') => break,
            '$' if chars.peek() == Some(&'(') => return None,
            '`' => return None,
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        other => w.push(other),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => w.push(chars.next()?),
                        '$' => return None,
                        other => w.push(other),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).push(chars.next()?),
            other => word.get_or_insert_with(String::new).push(other),
        }
    }
    words.extend(word);
    Some(words)
}

/// Logical lines (a trailing `\` continues the line) with the line number each starts on.
fn logical_lines<'a>(lines: impl Iterator<Item = (usize, &'a str)>) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut continuing = false;
    for (number, line) in lines {
        let (text, continues) = match line.trim_end().strip_suffix('\\') {
            Some(head) => (head.to_owned(), true),
            None => (line.to_owned(), false),
        };
        match out.last_mut() {
            Some((_, joined)) if continuing => joined.push_str(&text),
            _ => out.push((number, text)),
        }
        continuing = continues;
    }
    out
}

/// The arguments after `--` of every `--example campaign` command in `lines`.
fn campaign_commands<'a>(
    file: &str,
    lines: impl Iterator<Item = (usize, &'a str)>,
) -> Vec<Documented> {
    let mut found = Vec::new();
    for (number, line) in logical_lines(lines) {
        let place = format!("{file}:{number}");
        let Some(words) = shell_words(&line) else {
            assert!(
                !line.contains("--example campaign"),
                "{place}: cannot read the command {line:?}"
            );
            continue;
        };
        let is_campaign = words
            .windows(2)
            .any(|w| w[0] == "--example" && w[1] == "campaign");
        if !is_campaign || !words.iter().any(|w| w == "cargo") {
            continue;
        }
        let args = match words.iter().position(|w| w == "--") {
            Some(i) => words[i + 1..].to_vec(),
            None => Vec::new(),
        };
        found.push(Documented { place, args });
    }
    found
}

/// The lines of README.md's fenced code blocks, numbered from 1.
fn fenced_lines(markdown: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut fenced = false;
    markdown.lines().enumerate().filter_map(move |(i, line)| {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            None
        } else {
            fenced.then_some((i + 1, line))
        }
    })
}

/// Every documented campaign command: README.md's code blocks, then `.ci/run`.
fn documented() -> (Vec<Documented>, Vec<Documented>) {
    let readme = read("README.md");
    let ci = read(".ci/run");
    (
        campaign_commands("README.md", fenced_lines(&readme)),
        campaign_commands(".ci/run", ci.lines().enumerate().map(|(i, l)| (i + 1, l))),
    )
}

#[test]
fn shell_words_reads_quotes_escapes_and_comments() {
    let cases: [(&str, Option<&[&str]>); 7] = [
        (
            "cargo run -- --brief \"skincare for sensitive skin, Bangkok\" --budget 5",
            Some(&[
                "cargo",
                "run",
                "--",
                "--brief",
                "skincare for sensitive skin, Bangkok",
                "--budget",
                "5",
            ]),
        ),
        ("a 'b c' d\\ e # comment", Some(&["a", "b c", "d e"])),
        ("a b && c", Some(&["a", "b"])),
        ("a; b", Some(&["a"])),
        ("a=#b", Some(&["a=#b"])),
        ("a \"unclosed", None),
        ("a $(b)", None),
    ];
    for (line, expected) in cases {
        let expected = expected.map(|e| e.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(shell_words(line), expected, "{line:?}");
    }
}

#[test]
fn commands_are_found_in_code_blocks_and_continued_lines() {
    let markdown = "cargo run -p kol-examples --example campaign -- --budget 1\n\
                    ```sh\n\
                    cargo run --release -p kol-examples --example campaign -- \\\n\
                    \x20 --category travel --budget 2 # a comment\n\
                    cargo run -p kol-examples --example search -- --k 3\n\
                    ```\n";
    let found = campaign_commands("doc", fenced_lines(markdown));
    assert_eq!(
        found,
        vec![Documented {
            place: "doc:3".into(),
            args: ["--category", "travel", "--budget", "2"]
                .map(String::from)
                .to_vec(),
        }]
    );
}

#[test]
fn the_documented_campaign_commands_parse() {
    let (readme, ci) = documented();
    assert!(
        !readme.is_empty(),
        "README.md shows no `cargo run ... --example campaign` command in a code block"
    );
    assert!(
        !ci.is_empty(),
        ".ci/run runs no `cargo run ... --example campaign` command"
    );
    for command in readme.iter().chain(&ci) {
        match parse_args(command.args.clone()) {
            Ok(_) | Err(CampaignError::Help(_)) => {}
            Err(e) => panic!("{}: {:?} does not parse: {e}", command.place, command.args),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_campaign_commands_plan_the_same_in_memory_and_in_postgres() {
    let (readme, ci) = documented();
    let mut compared = 0;
    for command in readme.iter().chain(&ci) {
        let Ok((settings, _json)) = parse_args(command.args.clone()) else {
            continue; // --help, or a parse error the test above reports
        };
        let mut notes = Vec::new();
        let (brief, description) = brief_embedding(&settings, None, &mut notes)
            .unwrap_or_else(|e| panic!("{}: {e}", command.place));
        let memory = run_in_memory(&settings, brief.clone(), description.clone())
            .unwrap_or_else(|e| panic!("{}: in memory: {e}", command.place));
        // A database of its own: the example imports its catalogue unless the database holds it.
        let t = TestDatabase::new().await.unwrap();
        let postgres = run_in_postgres(&settings, t.url(), brief, description)
            .await
            .unwrap_or_else(|e| panic!("{}: in PostgreSQL: {e}", command.place));
        assert!(
            !memory.rows.is_empty(),
            "{}: the plan books nobody",
            command.place
        );
        let strip = |mut r: CampaignReport| {
            r.backend = "";
            r
        };
        assert_eq!(
            strip(memory),
            strip(postgres),
            "{}: {:?} plans differently in memory and in PostgreSQL",
            command.place,
            command.args
        );
        compared += 1;
    }
    assert!(
        compared >= 2,
        "README.md and .ci/run each show a campaign run"
    );
}
