//! Every rule the database enforces: a write that breaks it (as a second client would send it,
//! bypassing kol-core) gets the matching typed error, and the data is unchanged afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{kol, test_db};
use kol_db::DbError;
use kol_db::testing::TestDatabase;

/// Runs `sql`, expects a [`DbError::RuleViolation`] (or a unique violation when `unique`) naming
/// `constraint`, and checks that `table` still has its rows.
async fn refused(t: &TestDatabase, table: &str, sql: &str, constraint: &str) {
    let before = t.count(table).await.unwrap();
    let err = t.execute_sql(sql).await.expect_err(sql);
    match &err {
        DbError::RuleViolation { constraint: c, .. }
        | DbError::UniqueViolation { constraint: c, .. } => {
            assert_eq!(c, constraint, "{sql}: {err}")
        }
        other => panic!("{sql}: expected a rule violation, got {other:?}"),
    }
    if constraint.ends_with("_key") || constraint == "conversations_one_open_per_campaign_kol" {
        assert!(matches!(err, DbError::UniqueViolation { .. }), "{err:?}");
    } else {
        assert!(matches!(err, DbError::RuleViolation { .. }), "{err:?}");
    }
    assert_eq!(
        t.count(table).await.unwrap(),
        before,
        "{sql} changed {table}"
    );
}

/// Puts creator `kol` in campaign 1 (created when missing) as a second client would, so that
/// conversations can be inserted for it with `campaign_id = 1`.
async fn in_campaign(t: &TestDatabase, kol: impl std::fmt::Display) {
    t.execute_sql(
        "INSERT INTO campaigns (id, name, client, budget_integer, starts_on, ends_on) \
         VALUES (1, 'Launch', 'Brand', 100000, '2026-12-01', '2026-12-31') ON CONFLICT DO NOTHING",
    )
    .await
    .unwrap();
    t.execute_sql(&format!(
        "INSERT INTO campaign_kols (campaign_id, kol_id) VALUES (1, {kol})"
    ))
    .await
    .unwrap();
}

/// An insert into `kols` of `platform, username` plus the columns `cols` (each with a leading
/// comma), with the values `vals`.
fn ins(cols: &str, vals: &str) -> String {
    format!("INSERT INTO kols (platform, username{cols}) VALUES ({vals})")
}

#[tokio::test]
async fn kols_rules() {
    let t = test_db().await;
    let k = t.db().create_kol(&kol(1)).await.unwrap();
    let cases = [
        (ins("", "'myspace', 'a'"), "kols_platform_known"),
        (ins("", "'tiktok', ''"), "kols_username_normalized"),
        (ins("", "'tiktok', '@porji'"), "kols_username_normalized"),
        (ins("", "'tiktok', 'Porji'"), "kols_username_normalized"),
        (ins("", "'tiktok', 'two words'"), "kols_username_normalized"),
        (
            ins("", "'tiktok', 'creator_1'"),
            "kols_platform_username_key",
        ),
        (
            ins(", display_name", "'tiktok', 'b', '  padded '"),
            "kols_display_name_trimmed",
        ),
        (
            ins(", category", "'tiktok', 'b', '{Beauty}'"),
            "kols_category_tags",
        ),
        (
            ins(", category", "'tiktok', 'b', '{\"\"}'"),
            "kols_category_tags",
        ),
        (
            ins(", followers", "'tiktok', 'b', -1"),
            "kols_followers_non_negative",
        ),
        (
            ins(", country", "'tiktok', 'b', 'th'"),
            "kols_country_assigned",
        ),
        (
            ins(", contact", "'tiktok', 'b', ''"),
            "kols_contact_trimmed",
        ),
        (
            ins(", sample_links", "'tiktok', 'b', '{ftp://x}'"),
            "kols_sample_links_http",
        ),
        (ins(", extra", "'tiktok', 'b', '[1]'"), "kols_extra_object"),
        (
            ins(", audience_th_pct", "'tiktok', 'b', 101"),
            "kols_audience_th_pct_range",
        ),
        (
            ins(", audience_th_pct", "'tiktok', 'b', -1"),
            "kols_audience_th_pct_range",
        ),
        (
            format!("UPDATE kols SET username = '@x' WHERE id = {}", k.id),
            "kols_username_normalized",
        ),
    ];
    for (sql, constraint) in cases {
        refused(&t, "kols", &sql, constraint).await;
    }
    assert_eq!(
        t.db().kol(k.id).await.unwrap(),
        k,
        "the existing row is unchanged"
    );
}

#[tokio::test]
async fn media_and_rate_card_rules() {
    let t = test_db().await;
    let k = t.db().create_kol(&kol(1)).await.unwrap();
    let id = k.id;
    let zero = format!("'[{}]'", vec!["0"; 512].join(","));
    let one = format!("'[{}]'", vec!["1"; 512].join(","));
    let media = |cols: &str, vals: &str| {
        format!("INSERT INTO kol_media (kol_id, kind{cols}) VALUES ({id}, {vals})")
    };
    let cases = [
        (
            media(", path", "'banner', '/a.jpg'"),
            "kol_media_kind_known",
        ),
        (media("", "'thumb'"), "kol_media_has_location"),
        (media(", path", "'thumb', ' '"), "kol_media_path_trimmed"),
        (
            media(", media_url", "'thumb', 'file:///a.jpg'"),
            "kol_media_url_http",
        ),
        (
            media(", path, emb", &format!("'thumb', '/a.jpg', {zero}")),
            "kol_media_emb_non_zero",
        ),
        (
            format!(
                "INSERT INTO kol_media (kol_id, kind, path, emb) VALUES (987654, 'thumb', '/a.jpg', {one})"
            ),
            "kol_media_kol_id_fkey",
        ),
    ];
    for (sql, constraint) in cases {
        refused(&t, "kol_media", &sql, constraint).await;
    }
    // The vector type itself refuses a wrong width.
    let before = t.count("kol_media").await.unwrap();
    assert!(
        t.execute_sql(&media(", path, emb", "'thumb', '/a.jpg', '[1,2,3]'"))
            .await
            .is_err()
    );
    assert_eq!(t.count("kol_media").await.unwrap(), before);

    t.execute_sql(&format!(
        "INSERT INTO rate_cards (kol_id, item, price_integer) VALUES ({id}, 'bundle', 100)"
    ))
    .await
    .unwrap();
    let card = |vals: &str| {
        format!("INSERT INTO rate_cards (kol_id, item, price_integer, est_reach) VALUES ({vals})")
    };
    let cases = [
        (
            card(&format!("{id}, 'Bundle', 1, 1")),
            "rate_cards_item_slug",
        ),
        (
            card(&format!("{id}, 'video', -1, 1")),
            "rate_cards_price_non_negative",
        ),
        (
            card(&format!("{id}, 'video', 1, -1")),
            "rate_cards_est_reach_non_negative",
        ),
        (
            card(&format!("{id}, 'bundle', 5, 5")),
            "rate_cards_kol_id_item_key",
        ),
        (card("987654, 'video', 1, 1"), "rate_cards_kol_id_fkey"),
    ];
    for (sql, constraint) in cases {
        refused(&t, "rate_cards", &sql, constraint).await;
    }
}

#[tokio::test]
async fn conversation_and_message_rules() {
    let t = test_db().await;
    let k = t.db().create_kol(&kol(1)).await.unwrap();
    let id = k.id;
    in_campaign(&t, id).await;
    t.execute_sql(&format!(
        "INSERT INTO conversations (id, campaign_id, kol_id, channel) VALUES (1, 1, {id}, 'line')"
    ))
    .await
    .unwrap();
    let conv = |cols: &str, vals: &str| {
        format!("INSERT INTO conversations (campaign_id, kol_id, channel{cols}) VALUES (1, {vals})")
    };
    let cases = [
        (
            conv("", &format!("{id}, 'fax'")),
            "conversations_channel_known",
        ),
        (
            conv(", status", &format!("{id}, 'dm', 'won'")),
            "conversations_start_contacted",
        ),
        (
            conv("", &format!("{id}, 'dm'")),
            "conversations_one_open_per_campaign_kol",
        ),
        // Conversations start as `contacted` without terms; later states come only by updates.
        (
            conv(", status", &format!("{id}, 'dm', 'closed'")),
            "conversations_start_contacted",
        ),
        (
            conv(
                ", proposed_deliverables, proposed_timeline, proposed_price_integer",
                &format!("{id}, 'dm', 'x', 'y', 1"),
            ),
            "conversations_start_contacted",
        ),
        (
            "UPDATE conversations SET status = 'negotiating', proposed_deliverables = 'x', \
             proposed_price_integer = 1 WHERE id = 1"
                .to_owned(),
            "conversations_proposed_terms_whole",
        ),
        (
            "UPDATE conversations SET agreed_deliverables = 'x', agreed_timeline = 'y' WHERE id = 1"
                .to_owned(),
            "conversations_agreement_by_confirmation",
        ),
        (
            "UPDATE conversations SET status = 'negotiating', proposed_deliverables = ' ', \
             proposed_timeline = 'y', proposed_price_integer = 1 WHERE id = 1"
                .to_owned(),
            "conversations_terms_text",
        ),
        (
            "UPDATE conversations SET status = 'negotiating', proposed_deliverables = 'x', \
             proposed_timeline = 'y', proposed_price_integer = -1 WHERE id = 1"
                .to_owned(),
            "conversations_prices_non_negative",
        ),
        (conv("", "987654, 'dm'"), "conversations_kol_id_fkey"),
        (
            "UPDATE conversations SET status = 'confirmed' WHERE id = 1".to_owned(),
            "conversations_status_transition",
        ),
        (
            "UPDATE conversations SET kol_id = kol_id + 1 WHERE id = 1".to_owned(),
            "conversations_kol_fixed",
        ),
    ];
    for (sql, constraint) in cases {
        refused(&t, "conversations", &sql, constraint).await;
    }

    // Forward moves pass; backward ones and reopening do not.
    t.execute_sql(
        "UPDATE conversations SET status = 'negotiating', proposed_deliverables = '1 video', \
         proposed_timeline = 'Dec', proposed_price_integer = 100 WHERE id = 1",
    )
    .await
    .unwrap();
    refused(
        &t,
        "conversations",
        "UPDATE conversations SET status = 'contacted' WHERE id = 1",
        "conversations_status_transition",
    )
    .await;
    refused(
        &t,
        "conversations",
        "UPDATE conversations SET status = 'confirmed' WHERE id = 1",
        "conversations_confirmed_has_terms",
    )
    .await;
    t.execute_sql(
        "UPDATE conversations SET status = 'confirmed', agreed_deliverables = '1 video', \
         agreed_timeline = 'Dec', agreed_price_integer = 90 WHERE id = 1",
    )
    .await
    .unwrap();
    refused(
        &t,
        "conversations",
        "UPDATE conversations SET agreed_price_integer = 1 WHERE id = 1",
        "conversations_agreed_terms_final",
    )
    .await;
    t.execute_sql("UPDATE conversations SET status = 'closed' WHERE id = 1")
        .await
        .unwrap();
    refused(
        &t,
        "conversations",
        "UPDATE conversations SET status = 'negotiating' WHERE id = 1",
        "conversations_status_transition",
    )
    .await;
    refused(
        &t,
        "conversations",
        "UPDATE conversations SET status = 'confirmed' WHERE id = 1",
        "conversations_status_transition",
    )
    .await;

    let msg = |vals: &str| {
        format!("INSERT INTO messages (conversation_id, direction, body) VALUES ({vals})")
    };
    t.execute_sql(&msg("1, 'in', 'thanks!'")).await.unwrap();
    let long = "x".repeat(10_001);
    let cases = [
        (msg("1, 'sideways', 'hi'"), "messages_direction_known"),
        (msg("1, 'out', ''"), "messages_body_text"),
        (msg("1, 'out', E' \\n\\t '"), "messages_body_text"),
        (msg(&format!("1, 'out', '{long}'")), "messages_body_text"),
        (msg("987654, 'out', 'hi'"), "messages_conversation_id_fkey"),
    ];
    for (sql, constraint) in cases {
        refused(&t, "messages", &sql, constraint).await;
    }
    // History is never lost by a cascade.
    refused(
        &t,
        "conversations",
        "DELETE FROM conversations WHERE id = 1",
        "conversations_append_only",
    )
    .await;
    // The creator is in a campaign and has a conversation: either foreign key keeps it.
    let err = t
        .execute_sql(&format!("DELETE FROM kols WHERE id = {id}"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DbError::RuleViolation { constraint, .. }
            if constraint == "conversations_kol_id_fkey" || constraint == "campaign_kols_kol_id_fkey"),
        "{err}"
    );
    assert_eq!(t.count("kols").await.unwrap(), 1);
}

#[tokio::test]
async fn last_message_at_follows_the_newest_message() {
    let t = test_db().await;
    let k = t.db().create_kol(&kol(1)).await.unwrap();
    in_campaign(&t, k.id).await;
    t.execute_sql(&format!(
        "INSERT INTO conversations (id, campaign_id, kol_id, channel) VALUES (1, 1, {}, 'dm')",
        k.id
    ))
    .await
    .unwrap();
    let at = |ts: &str| {
        format!(
            "INSERT INTO messages (conversation_id, direction, body, created_at) VALUES (1, 'out', 'm', '{ts}')"
        )
    };
    t.execute_sql(&at("2026-01-02T00:00:00Z")).await.unwrap();
    t.execute_sql(&at("2026-01-01T00:00:00Z")).await.unwrap(); // older, inserted late
    let newest = t
        .execute_sql(
            "SELECT 1 FROM conversations WHERE id = 1 AND last_message_at = '2026-01-02T00:00:00Z'",
        )
        .await
        .unwrap();
    assert_eq!(
        newest, 1,
        "an older message does not move last_message_at back"
    );
    t.execute_sql(&at("2026-01-03T00:00:00Z")).await.unwrap();
    let moved = t
        .execute_sql(
            "SELECT 1 FROM conversations WHERE id = 1 AND last_message_at = '2026-01-03T00:00:00Z'",
        )
        .await
        .unwrap();
    assert_eq!(moved, 1);
}

#[tokio::test]
async fn tiers_in_sql_match_kol_core() {
    use kol_core::{FollowerTier, Followers};
    let t: TestDatabase = test_db().await;
    for n in [
        0,
        9_999,
        10_000,
        99_999,
        100_000,
        499_999,
        500_000,
        999_999,
        1_000_000,
        i32::MAX as i64,
    ] {
        let tier = FollowerTier::of(Followers::new(n).unwrap());
        let hits = t
            .execute_sql(&format!("SELECT 1 WHERE kol_follower_tier({n}) = '{tier}'"))
            .await
            .unwrap();
        assert_eq!(hits, 1, "{n} followers is {tier} in both");
    }
}

#[derive(diesel::QueryableByName)]
struct Verdict {
    #[diesel(sql_type = diesel::sql_types::Text)]
    input: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    valid: bool,
}

/// A SQL string literal (standard_conforming_strings is on: only quotes are doubled).
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// What the SQL boolean expression `verdict` (of the text `v`) says of every input, in input
/// order, 10,000 inputs per query.
async fn sql_verdicts(t: &TestDatabase, verdict: &str, inputs: &[String]) -> Vec<(String, bool)> {
    let mut out = Vec::with_capacity(inputs.len());
    for chunk in inputs.chunks(10_000) {
        let list: Vec<String> = chunk.iter().map(|s| literal(s)).collect();
        let sql = format!(
            "SELECT v AS input, {verdict} AS valid \
             FROM unnest(ARRAY[{}]::text[]) WITH ORDINALITY AS u(v, n) ORDER BY n",
            list.join(",")
        );
        let rows = kol_db::testing::query_sql::<Verdict>(t.db(), &sql)
            .await
            .unwrap();
        assert_eq!(rows.len(), chunk.len());
        out.extend(rows.into_iter().map(|v| (v.input, v.valid)));
    }
    out
}

/// Asserts that the SQL function `function` accepts every one of `values` (when `accepted`) or
/// refuses every one.
async fn assert_sql(t: &TestDatabase, function: &str, values: &[String], accepted: bool) {
    for (value, valid) in sql_verdicts(t, &format!("{function}(v)"), values).await {
        assert_eq!(valid, accepted, "SQL {function} on {value:?}");
    }
}

/// One value rule on hand-picked values: kol-core stores every `good` value as written and no
/// `bad` one (`stores` gives what kol-core would store), and the SQL function `function` accepts
/// the good ones and refuses the bad ones.
async fn check_rule(
    t: &TestDatabase,
    function: &str,
    stores: impl Fn(&str) -> Option<String>,
    good: &[&str],
    bad: &[&str],
) {
    for value in good {
        assert_eq!(
            stores(value).as_deref(),
            Some(*value),
            "kol-core keeps {value:?}"
        );
    }
    for value in bad {
        assert_ne!(
            stores(value).as_deref(),
            Some(*value),
            "kol-core would not store {value:?}"
        );
    }
    let owned = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>();
    assert_sql(t, function, &owned(good), true).await;
    assert_sql(t, function, &owned(bad), false).await;
}

/// The SQL rules of migration 6 and kol-core's Rust rules give the same verdict: exactly for
/// usernames and countries (ASCII rules), and for categories and links, everything kol-core
/// stores the database accepts, and the listed bad values both refuse.
#[tokio::test]
async fn sql_rules_agree_with_kol_core() {
    use kol_core::{Category, CountryCode, Handle, Link, Platform};
    let t = test_db().await;

    // Usernames, platform by platform.
    let mut names: Vec<String> = (0x21u8..0x7f).map(|b| char::from(b).to_string()).collect();
    names.extend((1..=52).map(|n| "a".repeat(n)));
    names.extend((1..=52).map(|n| format!("a{}", ".".repeat(n - 1))));
    for p in Platform::ALL {
        names.extend(p.reserved_paths().iter().map(|r| (*r).to_owned()));
    }
    names.extend(
        [
            "",
            "porji",
            "Porji",
            "@porji",
            "two words",
            "a-b",
            "a_b",
            "a.b",
            "ก",
            "é",
            "x\u{7}",
        ]
        .map(str::to_owned),
    );
    for p in Platform::ALL {
        let verdict = format!("kol_username_valid('{p}', v)");
        for (name, valid) in sql_verdicts(&t, &verdict, &names).await {
            let rust = Handle::new(p, &name).is_ok_and(|h| h.username().as_str() == name);
            assert_eq!(
                valid, rust,
                "{p} username {name:?}: SQL {valid} Rust {rust}"
            );
        }
    }

    // Countries: every pair of letters, both cases, and a few other shapes.
    let mut codes: Vec<String> = Vec::new();
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            codes.push(String::from_utf8(vec![a, b]).unwrap());
        }
    }
    codes.extend(["th", "Th", "T", "THA", "", " TH", "T1"].map(str::to_owned));
    let mut assigned = 0;
    for (code, valid) in sql_verdicts(&t, "kol_country_valid(v)", &codes).await {
        let rust = CountryCode::new(&code).is_ok_and(|c| c.as_str() == code);
        assert_eq!(valid, rust, "country {code:?}");
        assigned += usize::from(valid);
    }
    assert_eq!(assigned, 249);

    let category = |s: &str| Category::new(s).ok().map(|c| c.as_str().to_owned());
    let (longest, too_long) = ("x".repeat(64), "x".repeat(65));
    check_rule(
        &t,
        "kol_category_valid",
        category,
        &[
            "beauty",
            "skin care",
            "ความงาม",
            "สุขภาพและความงาม",
            "k-pop",
            "café",
            "a\u{200b}b",
            &longest,
        ],
        &[
            "",
            "Beauty",
            " beauty",
            "beauty ",
            "skin  care",
            "skin\tcare",
            "a,b",
            "a{",
            "a}",
            "a\"b",
            "a\\b",
            "\u{7}",
            "a\nb",
            &too_long,
        ],
    )
    .await;

    let link = |s: &str| Link::new(s).ok().map(|l| l.as_str().to_owned());
    let too_long = format!("https://example.com/{}", "a".repeat(2048));
    check_rule(
        &t,
        "kol_link_valid",
        link,
        &[
            "https://www.tiktok.com/@porji?lang=th",
            "http://example.com",
            "https://例子.com/ภาพ",
            "https://[::1]:8080/a#b",
            "https://user:pw@example.com/",
            "https://example.com?q",
        ],
        &[
            "",
            "HTTPS://example.com",
            "https:example.com",
            "https:///example.com",
            "https://",
            "https://?q",
            "ftp://example.com",
            "https://exa mple.com",
            "https://example.com/\u{7}",
            &too_long,
        ],
    )
    .await;
}

/// Character by character over the Basic Multilingual Plane (and some emoji): whatever category
/// tag or link kol-core produces, the database's rules accept. (PostgreSQL classifies characters
/// by its own locale tables, so this is checked, not assumed.)
#[tokio::test]
async fn sql_rules_accept_everything_kol_core_stores() {
    use kol_core::{Category, Link};
    let t = test_db().await;
    let chars = (0x20u32..0xD800)
        .chain(0xE000..0xFFFE)
        .chain(0x1F300..0x1F650)
        .filter_map(char::from_u32);
    let mut tags = Vec::new();
    let mut links = Vec::new();
    for c in chars {
        if let Ok(tag) = Category::new(&format!("a{c}b")) {
            tags.push(tag.as_str().to_owned());
        }
        if let Ok(tag) = Category::new(&c.to_string()) {
            tags.push(tag.as_str().to_owned());
        }
        if let Ok(link) = Link::new(&format!("https://example.com/a{c}b?q={c}")) {
            links.push(link.as_str().to_owned());
        }
    }
    assert!(
        tags.len() > 60_000 && links.len() > 60_000,
        "{} {}",
        tags.len(),
        links.len()
    );
    assert_sql(&t, "kol_category_valid", &tags, true).await;
    assert_sql(&t, "kol_link_valid", &links, true).await;
}

/// The constraints of migration 6 fire on writes that bypass kol-core, with their names, and
/// the embedding norm range is kol-core's, value by value.
#[tokio::test]
async fn core_rules_are_enforced_on_writes() {
    use kol_core::Embedding;
    let t = test_db().await;
    let k = t.db().create_kol(&kol(1)).await.unwrap();
    let cases = [
        (
            ins("", "'x', 'way_too_long_for_x'"),
            "kols_username_platform_rules",
        ),
        (
            ins("", "'instagram', 'explore'"),
            "kols_username_platform_rules",
        ),
        (
            ins("", "'facebook', 'under_score'"),
            "kols_username_platform_rules",
        ),
        (
            ins(", country", "'tiktok', 'b', 'UK'"),
            "kols_country_assigned",
        ),
        (
            ins(", category", "'tiktok', 'b', '{a,a}'"),
            "kols_category_valid",
        ),
        (
            ins(", category", "'tiktok', 'b', '{\" a\"}'"),
            "kols_category_valid",
        ),
        (
            ins(", sample_links", "'tiktok', 'b', '{https:///a.com}'"),
            "kols_sample_links_valid",
        ),
        (
            format!("UPDATE kols SET country = 'ZZ' WHERE id = {}", k.id),
            "kols_country_assigned",
        ),
    ];
    for (sql, constraint) in cases {
        refused(&t, "kols", &sql, constraint).await;
    }
    refused(
        &t,
        "kol_media",
        &format!(
            "INSERT INTO kol_media (kol_id, kind, media_url) VALUES ({}, 'thumb', 'https:///a.jpg')",
            k.id
        ),
        "kol_media_url_valid",
    )
    .await;

    // Squared norms around both ends of the normal f32 range.
    for (value, count) in [
        (1e-20_f32, 1),
        (1e-19, 1),
        (1e-18, 1),
        (1e19, 1),
        (1.8e19, 1),
        (1.9e19, 1),
        (1e18, 512),
        (8e17, 512),
    ] {
        let mut values = vec![0.0_f32; 512];
        values[..count].fill(value);
        let rust = Embedding::new(values.clone()).is_ok();
        let vector = values.iter().map(|v| format!("{v:e}")).collect::<Vec<_>>();
        let sql = format!(
            "INSERT INTO kol_media (kol_id, kind, path, emb) VALUES ({}, 'thumb', '/n.jpg', '[{}]')",
            k.id,
            vector.join(",")
        );
        if rust {
            t.execute_sql(&sql).await.unwrap();
        } else {
            refused(&t, "kol_media", &sql, "kol_media_emb_norm_range").await;
        }
    }
}

/// A transaction that loses a race is reported as a conflict a caller may retry.
#[tokio::test]
async fn a_serialization_failure_is_a_retryable_conflict() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
    let t = test_db().await;
    let k = t.db().create_kol(&kol(1)).await.unwrap();
    let mut a = AsyncPgConnection::establish(t.url().expose())
        .await
        .unwrap();
    a.batch_execute(&format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT followers FROM kols WHERE id = {}",
        k.id
    ))
    .await
    .unwrap();
    // Another client changes the row after `a`'s snapshot was taken.
    t.execute_sql(&format!(
        "UPDATE kols SET followers = 5 WHERE id = {}",
        k.id
    ))
    .await
    .unwrap();
    let lost = diesel::sql_query(format!("UPDATE kols SET followers = 6 WHERE id = {}", k.id))
        .execute(&mut a)
        .await
        .unwrap_err();
    let err = DbError::from(lost);
    assert!(matches!(err, DbError::TransactionConflict(_)), "{err:?}");
    assert!(err.is_retryable());
    a.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(
        t.db()
            .kol(k.id)
            .await
            .unwrap()
            .profile
            .followers
            .map(|f| f.get()),
        Some(5),
        "the winner's write stands"
    );
}

/// Unicode's White_Space property (Rust's `char::is_whitespace`) and the Cc controls, plus
/// characters that look like whitespace but are not (zero-width space, word joiner, BOM,
/// Mongolian vowel separator, soft hyphen): the characters where a locale's idea of "space" and
/// kol-core's could differ.
fn spacey_chars() -> Vec<char> {
    (1u32..=0x10FFFF)
        .filter_map(char::from_u32)
        .filter(|c| c.is_whitespace() || c.is_control())
        .chain(['\u{200B}', '\u{2060}', '\u{FEFF}', '\u{180E}', '\u{AD}'])
        .collect()
}

/// Over every code point: the database's whitespace (`kol_trim`) is exactly Rust's.
#[tokio::test]
async fn sql_whitespace_is_rust_whitespace_for_every_code_point() {
    let t = test_db().await;
    let chars: Vec<char> = (1u32..=0x10FFFF).filter_map(char::from_u32).collect();
    let inputs: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
    let verdicts = sql_verdicts(&t, "kol_trim(v) = ''", &inputs).await;
    let disagree: Vec<String> = chars
        .iter()
        .zip(&verdicts)
        .filter(|(c, (_, sql))| c.is_whitespace() != *sql)
        .map(|(c, _)| format!("U+{:04X}", u32::from(*c)))
        .collect();
    assert!(disagree.is_empty(), "SQL and Rust disagree on {disagree:?}");
    assert_eq!(
        verdicts.iter().filter(|(_, sql)| *sql).count(),
        25,
        "Unicode has 25 White_Space code points"
    );
}

/// Every text rule gives the same verdict in SQL and in kol-core, exactly, on each whitespace,
/// control and lookalike character alone, leading, trailing and inside a word: the database
/// accepts a value if and only if kol-core would store it as written.
#[tokio::test]
async fn text_rules_agree_exactly_on_whitespace_and_controls() {
    use kol_core::{Category, Link, MessageBody, PlainText, PriceThb, Terms};
    let t = test_db().await;
    let mut values = Vec::new();
    for c in spacey_chars() {
        values.extend([
            c.to_string(),
            format!("a{c}"),
            format!("{c}a"),
            format!("a{c}b"),
        ]);
    }
    values.extend(["a".to_owned(), "a b".to_owned(), " a".to_owned()]);
    let price = PriceThb::new(1).unwrap();
    let link = |v: &str| format!("https://example.com/{v}");
    type Rule = (
        &'static str,
        Box<dyn Fn(&str) -> bool>,
        Box<dyn Fn(&str) -> String>,
    );
    let rules: [Rule; 6] = [
        (
            "kol_text_clean(v, 1000)",
            Box::new(|v| PlainText::new(v).is_ok_and(|p| p.as_str() == v)),
            Box::new(|v| v.to_owned()),
        ),
        (
            "kol_text_clean(v, 2000)",
            Box::new(move |v| Terms::new(v, "Dec", price).is_ok_and(|t| t.deliverables() == v)),
            Box::new(|v| v.to_owned()),
        ),
        (
            "kol_text_clean(v, 500)",
            Box::new(move |v| Terms::new("1 video", v, price).is_ok_and(|t| t.timeline() == v)),
            Box::new(|v| v.to_owned()),
        ),
        (
            "kol_trim(v) <> '' AND char_length(v) <= 10000",
            Box::new(|v| MessageBody::new(v).is_ok()),
            Box::new(|v| v.to_owned()),
        ),
        (
            "kol_category_valid(v)",
            Box::new(|v| Category::new(v).is_ok_and(|c| c.as_str() == v)),
            Box::new(|v| v.to_owned()),
        ),
        (
            "kol_link_valid(v)",
            Box::new(|v| Link::new(v).is_ok_and(|l| l.as_str() == v)),
            Box::new(move |v| link(v)),
        ),
    ];
    for (verdict, rust, input) in &rules {
        let inputs: Vec<String> = values.iter().map(|v| input(v)).collect();
        let sql = sql_verdicts(&t, verdict, &inputs).await;
        for (value, valid) in sql {
            assert_eq!(
                valid,
                rust(&value),
                "{verdict} on {:?}: SQL {valid}, kol-core the opposite",
                value.escape_unicode().to_string()
            );
        }
    }
    // The constraints use these rules: a no-break space is not a display name, terms or a body.
    let k = t.db().create_kol(&kol(1)).await.unwrap();
    refused(
        &t,
        "kols",
        &ins(", display_name", "'tiktok', 'nbsp', '\u{A0}'"),
        "kols_display_name_trimmed",
    )
    .await;
    in_campaign(&t, k.id).await;
    t.execute_sql(&format!(
        "INSERT INTO conversations (id, campaign_id, kol_id, channel) VALUES (1, 1, {}, 'dm')",
        k.id
    ))
    .await
    .unwrap();
    refused(
        &t,
        "conversations",
        "UPDATE conversations SET status = 'negotiating', proposed_deliverables = E'\\t', \
         proposed_timeline = 'Dec', proposed_price_integer = 1 WHERE id = 1",
        "conversations_terms_text",
    )
    .await;
    for body in [
        "\u{A0}",
        "\u{2007}",
        "\u{202F}",
        "\u{85}",
        "\u{3000}\u{2028}",
    ] {
        refused(
            &t,
            "messages",
            &format!(
                "INSERT INTO messages (conversation_id, direction, body) VALUES (1, 'out', '{body}')"
            ),
            "messages_body_text",
        )
        .await;
    }
}

/// Times and JSON: the database accepts exactly what kol-core reads back.
#[tokio::test]
async fn time_and_json_rules_agree_with_kol_core() {
    use chrono::{DateTime, Utc};
    use kol_core::Extra;
    let t = test_db().await;
    // Times: (SQL literal, what kol-core says; None where chrono cannot even hold it).
    let times = [
        ("0001-01-01 00:00:00+00", Some(true)),
        ("0001-12-31 23:59:59.999999+00 BC", Some(false)), // year 0
        ("2026-11-29 10:00:00+07", Some(true)),
        ("9999-12-31 23:59:59.999999+00", Some(true)),
        ("10000-01-01 00:00:00+00", Some(false)),
        ("294276-12-31 23:59:59+00", None),
        ("infinity", None),
        ("-infinity", None),
    ];
    let inputs: Vec<String> = times.iter().map(|(s, _)| (*s).to_owned()).collect();
    let sql = sql_verdicts(&t, "kol_time_valid(v::timestamptz)", &inputs).await;
    for ((literal, rust), (_, valid)) in times.iter().zip(sql) {
        let rust = rust.unwrap_or(false);
        assert_eq!(valid, rust, "{literal}");
        if let Ok(parsed) = literal.parse::<DateTime<Utc>>() {
            assert_eq!(
                kol_core::check_timestamp("t", parsed).is_ok(),
                rust,
                "{literal}"
            );
        }
    }
    // JSON: the same depth limit and number bound.
    let nested = |levels: usize, open: &str, close: &str| {
        format!(
            "{{\"a\": {}1{}}}",
            open.repeat(levels - 1),
            close.repeat(levels - 1)
        )
    };
    let docs = [
        "{}".to_owned(),
        r#"{"n": 1e308, "m": -1e308, "s": "x", "z": [true, null, 0.5]}"#.to_owned(),
        r#"{"n": 1.0000001e308}"#.to_owned(),
        r#"{"n": 1e309}"#.to_owned(),
        r#"{"n": 1e400}"#.to_owned(),
        r#"{"n": [-1e400]}"#.to_owned(),
        r#"{"n": 1e-400}"#.to_owned(),
        r#"{"n": 18446744073709551616}"#.to_owned(),
        nested(Extra::MAX_DEPTH, "[", "]"),
        nested(Extra::MAX_DEPTH + 1, "[", "]"),
        nested(Extra::MAX_DEPTH, "{\"b\": ", "}"),
        nested(Extra::MAX_DEPTH + 1, "{\"b\": ", "}"),
        nested(200, "[", "]"),
        "[1]".to_owned(),
    ];
    let sql = sql_verdicts(&t, "kol_extra_valid(v::jsonb)", &docs).await;
    let mut accepted = 0;
    for (doc, valid) in sql {
        let rust = serde_json::from_str::<serde_json::Value>(&doc)
            .ok()
            .is_some_and(|v| Extra::from_json(v).is_ok());
        assert_eq!(valid, rust, "{doc:.80}");
        accepted += usize::from(valid);
    }
    assert_eq!(accepted, 6, "the in-range documents are accepted");
}

/// Each statement a careless second client could send to rewrite outreach history is refused,
/// and the history is unchanged afterwards.
#[tokio::test]
async fn outreach_history_cannot_be_rewritten() {
    let t = test_db().await;
    let k1 = t.db().create_kol(&kol(1)).await.unwrap();
    let k2 = t.db().create_kol(&kol(2)).await.unwrap();
    let sql = |s: String| s;
    for (id, kol) in [(1, k1.id), (2, k2.id)] {
        in_campaign(&t, kol).await;
        t.execute_sql(&format!(
            "INSERT INTO conversations (id, campaign_id, kol_id, channel) VALUES ({id}, 1, {kol}, 'dm')"
        ))
        .await
        .unwrap();
        t.execute_sql(&format!(
            "INSERT INTO messages (conversation_id, direction, body) VALUES ({id}, 'out', 'hello {id}')"
        ))
        .await
        .unwrap();
    }
    let propose = "status = 'negotiating', proposed_deliverables = '1 video', \
                   proposed_timeline = 'Dec', proposed_price_integer = 100";
    let agree = "agreed_deliverables = '1 video', agreed_timeline = 'Dec', \
                 agreed_price_integer = 90";
    let snapshot = "SELECT 1 FROM conversations c JOIN messages m ON m.conversation_id = c.id";
    let before = t.execute_sql(snapshot).await.unwrap();
    // Conversation 1 stays `contacted`, conversation 2 goes to `closed` after agreeing.
    let cases = [
        (
            sql(format!("UPDATE conversations SET {agree} WHERE id = 1")),
            "conversations_agreement_by_confirmation",
        ),
        (
            sql(format!(
                "UPDATE conversations SET status = 'negotiating', proposed_deliverables = 'x', \
                 proposed_timeline = 'y', proposed_price_integer = 1, {agree} WHERE id = 1"
            )),
            "conversations_agreement_by_confirmation",
        ),
        (
            sql(format!(
                "UPDATE conversations SET status = 'closed', {agree} WHERE id = 1"
            )),
            "conversations_agreement_by_confirmation",
        ),
        (
            sql("UPDATE conversations SET status = 'negotiating' WHERE id = 1".to_owned()),
            "conversations_negotiating_has_proposal",
        ),
        (
            sql("UPDATE conversations SET last_message_at = NULL WHERE id = 1".to_owned()),
            "conversations_last_message_forward",
        ),
        (
            sql(
                "UPDATE conversations SET last_message_at = last_message_at - interval '1 second' \
                 WHERE id = 1"
                    .to_owned(),
            ),
            "conversations_last_message_forward",
        ),
        (
            sql("UPDATE conversations SET channel = 'email' WHERE id = 1".to_owned()),
            "conversations_identity_fixed",
        ),
        (
            sql("UPDATE messages SET conversation_id = 2 WHERE conversation_id = 1".to_owned()),
            "messages_append_only",
        ),
        (
            sql("UPDATE messages SET body = 'edited' WHERE conversation_id = 1".to_owned()),
            "messages_append_only",
        ),
        (
            sql("DELETE FROM messages WHERE conversation_id = 1".to_owned()),
            "messages_append_only",
        ),
        (sql("TRUNCATE messages".to_owned()), "messages_append_only"),
        (
            sql("DELETE FROM conversations WHERE id = 1".to_owned()),
            "conversations_append_only",
        ),
    ];
    for (statement, constraint) in &cases {
        refused(&t, "conversations", statement, constraint).await;
    }
    t.execute_sql(&format!("UPDATE conversations SET {propose} WHERE id = 2"))
        .await
        .unwrap();
    refused(
        &t,
        "conversations",
        "UPDATE conversations SET status = 'confirmed', agreed_deliverables = 'x', \
         agreed_timeline = 'y' WHERE id = 2",
        "conversations_agreed_terms_whole",
    )
    .await;
    t.execute_sql(&format!(
        "UPDATE conversations SET status = 'confirmed', {agree} WHERE id = 2"
    ))
    .await
    .unwrap();
    t.execute_sql("UPDATE conversations SET status = 'closed' WHERE id = 2")
        .await
        .unwrap();
    for statement in [
        "UPDATE conversations SET proposed_price_integer = 1 WHERE id = 2",
        "UPDATE conversations SET proposed_deliverables = 'more', proposed_timeline = 'Jan' \
         WHERE id = 2",
    ] {
        refused(
            &t,
            "conversations",
            statement,
            "conversations_proposal_by_negotiation",
        )
        .await;
    }
    refused(
        &t,
        "conversations",
        "UPDATE conversations SET agreed_price_integer = 1 WHERE id = 2",
        "conversations_agreed_terms_final",
    )
    .await;
    assert_eq!(t.execute_sql(snapshot).await.unwrap(), before);
    let thread = t.db().thread(kol_core::ConversationId(1)).await.unwrap();
    assert_eq!(thread.messages.len(), 1);
    assert_eq!(thread.messages[0].body.as_str(), "hello 1");
    assert_eq!(
        thread.messages[0].conversation_id,
        kol_core::ConversationId(1)
    );
}
