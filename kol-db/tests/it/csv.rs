//! CSV import in the column layout of the platform's earlier version (docs/SCHEMA.md): what a
//! file means (absent columns and empty cells keep stored values), the report of changed fields,
//! dry runs, bounded input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::common::test_db;
use kol_core::{Categories, Followers, Handle, Kol, NewKol, PlainText, Platform};
use kol_db::testing::TestDatabase;
use kol_db::{
    CsvImportOptions, CsvImportReport, Database, DbError, FieldChange, KolField, KolQuery, Page,
    SkipReason, SkippedRow,
};
use tokio::io::{AsyncRead, ReadBuf};

const CSV: &str = r#"platform,username,display_name,category,followers,country,contact,sample_links,extra
tiktok,@Porji,Porji,"{beauty,skincare}",120000,TH,https://www.tiktok.com/@Porji?lang=th,"[""https://www.tiktok.com/@porji/video/1""]","{""line_id"": ""porji""}"
instagram,kol_1,KOL_1,"food, travel",5000,th,,https://www.instagram.com/p/abc,
,,,beauty,,,https://www.tiktok.com/@from_contact,,
tiktok,https://www.tiktok.com/@FromUsernameUrl,,,,,,,
youtube,bad name,,,,,,,
tiktok,negative,,,-5,,,,
tiktok,nowhere,,,,ZZ,,,
tiktok,notjson,,,,,,,{broken
tiktok,array_extra,,,,,,,[1]
myspace,someone,,,,,,,
instagram,contact_ignored,,,,,https://www.tiktok.com/@x,,
x,https://www.tiktok.com/@other,,,,,,,
tiktok,porji,Porji (updated),{beauty},130000,TH,,,
"#;

async fn import(db: &Database, csv: &str) -> CsvImportReport {
    db.import_csv(csv.as_bytes(), &CsvImportOptions::default(), |_| {})
        .await
        .unwrap()
}

fn handle(platform: Platform, name: &str) -> Handle {
    Handle::new(platform, name).unwrap()
}

/// Every creator, by id.
async fn all_kols(db: &Database) -> Vec<Kol> {
    db.list_kols(&KolQuery::default(), Page::first(10_000))
        .await
        .unwrap()
        .kols
}

#[tokio::test]
async fn imports_upserts_and_reports_every_skipped_row() {
    let t = test_db().await;
    let db = t.db();
    let mut progress = Vec::new();
    let report = db
        .import_csv(CSV.as_bytes(), &CsvImportOptions::default(), |n| {
            progress.push(n)
        })
        .await
        .unwrap();
    assert_eq!(report.inserted, 5, "{report:?}");
    assert!(!report.dry_run);
    // porji listed twice: the second row updates what the first inserted.
    assert_eq!(report.updated.len(), 1, "{report:?}");
    let porji_update = &report.updated[0];
    assert_eq!(porji_update.line, 14);
    assert_eq!(porji_update.id, None, "created by this import");
    assert_eq!(
        porji_update.fields(),
        [
            KolField::DisplayName,
            KolField::Categories,
            KolField::Followers
        ]
    );
    assert_eq!(report.unchanged, 0);
    let lines: Vec<u64> = report.skipped.iter().map(|s: &SkippedRow| s.line).collect();
    assert_eq!(lines, [6, 7, 8, 9, 10, 11, 13], "{:#?}", report.skipped);
    let reasons: Vec<String> = report
        .skipped
        .iter()
        .map(|s| s.reason.to_string())
        .collect();
    assert!(reasons[0].starts_with("username:"), "{}", reasons[0]);
    assert!(reasons[1].starts_with("followers:"), "{}", reasons[1]);
    assert!(reasons[2].starts_with("country:"), "{}", reasons[2]);
    assert!(reasons[3].starts_with("extra: not JSON"), "{}", reasons[3]);
    assert!(
        reasons[4].contains("extra must be a JSON object"),
        "{}",
        reasons[4]
    );
    assert!(reasons[5].starts_with("platform:"), "{}", reasons[5]);
    assert!(
        reasons[6].contains("profile URL is on tiktok"),
        "{}",
        reasons[6]
    );
    assert!(matches!(
        report.skipped[1].reason,
        SkipReason::InvalidCell {
            column: "followers",
            ..
        }
    ));
    assert_eq!(*progress.last().unwrap(), 13);

    assert_eq!(t.count("kols").await.unwrap(), 5);
    let porji = db
        .kol_by_handle(&handle(Platform::Tiktok, "porji"))
        .await
        .unwrap();
    assert_eq!(
        porji.profile.display_name.unwrap().as_str(),
        "Porji (updated)"
    );
    assert_eq!(porji.profile.followers.unwrap().get(), 130_000);
    // The second row's empty contact, links and extra cells kept the first row's values.
    assert_eq!(
        porji.profile.contact.unwrap().as_str(),
        "https://www.tiktok.com/@Porji?lang=th"
    );
    assert_eq!(porji.profile.sample_links.len(), 1);
    assert_eq!(porji.profile.extra.get("line_id").unwrap(), "porji");
    let kol1 = db
        .kol_by_handle(&handle(Platform::Instagram, "kol_1"))
        .await
        .unwrap();
    assert_eq!(kol1.profile.categories.to_strings(), ["food", "travel"]);
    assert_eq!(kol1.profile.sample_links.len(), 1);
    for name in ["from_contact", "fromusernameurl"] {
        db.kol_by_handle(&handle(Platform::Tiktok, name))
            .await
            .unwrap();
    }

    // Importing the same file again: porji's two rows change it back and forth, the other
    // creators are unchanged (and not written).
    let again = import(db, CSV).await;
    assert_eq!(
        (
            again.inserted,
            again.updated.len(),
            again.unchanged,
            again.skipped.len()
        ),
        (0, 2, 4, 7)
    );
    assert_eq!(again.updated[0].id, Some(porji.id));
    assert_eq!(again.updated[0].line, 2);
    assert_eq!(t.count("kols").await.unwrap(), 5);
}

/// Creators as a file without some columns finds them: every field set.
async fn stored_creators(db: &Database) -> Vec<Kol> {
    let csv = "platform,username,display_name,category,followers,country,contact,sample_links,extra,audience_th_pct
tiktok,alice,Alice,beauty,120000,TH,line:alice,https://example.com/a,\"{\"\"k\"\": 1}\",40
tiktok,bob,Bob,food,5000,TH,bob@example.com,https://example.com/b,\"{\"\"k\"\": 2}\",70
";
    let report = import(db, csv).await;
    assert_eq!(report.inserted, 2, "{report:?}");
    all_kols(db).await
}

#[tokio::test]
async fn columns_absent_from_the_file_keep_their_stored_values() {
    let t = test_db().await;
    let db = t.db();
    let before = stored_creators(db).await;

    // No followers, no contact column (and no category, country, links, extra, share).
    let report = import(
        db,
        "platform,username,display_name\ntiktok,alice,Alice Liddell\ntiktok,bob,Bob\n",
    )
    .await;
    assert_eq!(report.inserted, 0);
    assert_eq!(report.unchanged, 1, "bob's only given field is the same");
    assert_eq!(report.updated.len(), 1);
    let after = all_kols(db).await;
    assert_eq!(after[1], before[1], "bob untouched");
    let (old, new) = (&before[0], &after[0]);
    assert_eq!(
        new.profile.display_name.as_ref().unwrap().as_str(),
        "Alice Liddell"
    );
    let mut expected = old.clone();
    expected.profile.display_name = new.profile.display_name.clone();
    assert_eq!(new, &expected, "only the display name changed");
    assert_eq!(new.profile.followers.unwrap().get(), 120_000);
    assert_eq!(new.profile.contact.as_ref().unwrap().as_str(), "line:alice");
}

#[tokio::test]
async fn empty_cells_keep_stored_values_and_explicit_empty_lists_clear() {
    let t = test_db().await;
    let db = t.db();
    let before = stored_creators(db).await;
    let report = import(
        db,
        "platform,username,display_name,category,followers,country,contact,sample_links,extra,audience_th_pct
tiktok,alice,,,,,  ,,,
tiktok,bob,,{},,,,[],{},
",
    )
    .await;
    assert_eq!(report.unchanged, 1, "alice: every cell empty");
    assert_eq!(report.updated.len(), 1);
    assert_eq!(
        report.updated[0].fields(),
        [KolField::Categories, KolField::SampleLinks, KolField::Extra]
    );
    let after = all_kols(db).await;
    assert_eq!(after[0], before[0]);
    let bob = &after[1].profile;
    assert!(bob.categories.is_empty() && bob.sample_links.is_empty() && bob.extra.is_empty());
    assert_eq!(bob.followers, before[1].profile.followers);
    assert_eq!(bob.contact, before[1].profile.contact);
}

#[tokio::test]
async fn the_report_names_each_changed_field_with_old_and_new_values() {
    let t = test_db().await;
    let db = t.db();
    let before = stored_creators(db).await;
    let report = import(
        db,
        "username,platform,followers,contact,category,country
alice,tiktok,130000,line:alice,beauty,TH
bob,tiktok,5000,line:bob,\"food, travel\",TH
carol,tiktok,10,,,
",
    )
    .await;
    assert_eq!(report.inserted, 1, "carol");
    assert_eq!(report.unchanged, 0);
    let updated: Vec<(Option<kol_core::KolId>, Vec<KolField>)> =
        report.updated.iter().map(|u| (u.id, u.fields())).collect();
    assert_eq!(
        updated,
        [
            (Some(before[0].id), vec![KolField::Followers]),
            (
                Some(before[1].id),
                vec![KolField::Categories, KolField::Contact]
            ),
        ]
    );
    assert_eq!(report.updated[0].handle, handle(Platform::Tiktok, "alice"));
    assert_eq!(report.updated[1].line, 3);
    match &report.updated[0].changes[0] {
        FieldChange::Followers(c) => {
            assert_eq!(c.old, Some(Followers::new(120_000).unwrap()));
            assert_eq!(c.new, Some(Followers::new(130_000).unwrap()));
        }
        other => panic!("{other:?}"),
    }
    match &report.updated[1].changes[..] {
        [FieldChange::Categories(cats), FieldChange::Contact(contact)] => {
            assert_eq!(cats.old, Categories::parse(["food"]).unwrap());
            assert_eq!(cats.new, Categories::parse(["food", "travel"]).unwrap());
            assert_eq!(
                contact.old,
                Some(PlainText::new("bob@example.com").unwrap())
            );
            assert_eq!(contact.new, Some(PlainText::new("line:bob").unwrap()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        report.updated[1].changes[1].to_string(),
        "contact: bob@example.com -> line:bob"
    );
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_reports_what_the_real_run_then_does() {
    let t = test_db().await;
    let db = t.db();
    stored_creators(db).await;
    let file = "platform,username,display_name,followers,contact
tiktok,alice,Alice,1,
tiktok,bob,Bob,5000,
tiktok,dave,Dave,7,line:dave
tiktok,dave,Dave D.,8,
tiktok,bad name,X,1,
tiktok,erin,,,
";
    let before = all_kols(db).await;
    let dry = db
        .import_csv(file.as_bytes(), &CsvImportOptions::dry_run(), |_| {})
        .await
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(all_kols(db).await, before, "a dry run writes nothing");
    assert_eq!(
        (
            dry.inserted,
            dry.updated.len(),
            dry.unchanged,
            dry.skipped.len()
        ),
        (2, 2, 1, 1),
        "{dry:#?}"
    );
    let real = import(db, file).await;
    assert!(!real.dry_run);
    assert_eq!(
        CsvImportReport {
            dry_run: true,
            ..real.clone()
        },
        dry
    );
    let after = all_kols(db).await;
    assert_eq!(after.len(), 4);
    assert_eq!(after[0].profile.followers.unwrap().get(), 1);
    assert_eq!(
        after[2].profile.display_name.as_ref().unwrap().as_str(),
        "Dave D."
    );
    assert_eq!(
        after[2].profile.contact.as_ref().unwrap().as_str(),
        "line:dave"
    );
    // Running it again changes only dave (his two rows disagree).
    let third = import(db, file).await;
    assert_eq!(
        (third.inserted, third.updated.len(), third.unchanged),
        (0, 2, 3)
    );
}

#[tokio::test]
async fn header_problems_are_errors_and_write_nothing() {
    let t = test_db().await;
    let db = t.db();
    for header in [
        "platform,usrname\n",
        "username,display_name\n",
        "platform,username,platform\n",
        "",
        "\n\n",
    ] {
        let input = format!("{header}tiktok,a\n");
        let input = if header.trim().is_empty() {
            header.to_owned()
        } else {
            input
        };
        let err = db
            .import_csv(input.as_bytes(), &CsvImportOptions::default(), |_| {})
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::Csv(_)), "{header:?}: {err}");
    }
    let bad_options = CsvImportOptions {
        max_field_bytes: 0,
        ..CsvImportOptions::default()
    };
    let err = db
        .import_csv(&b"platform,username\n"[..], &bad_options, |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DbError::InvalidArgument {
                name: "max_field_bytes",
                ..
            }
        ),
        "{err}"
    );
    // A row with the wrong number of cells is skipped, not fatal.
    let report = import(db, "platform,username\ntiktok,a,extra\ntiktok,b\ntiktok\n").await;
    assert_eq!(report.inserted, 1);
    assert_eq!(
        report.skipped,
        [
            SkippedRow {
                line: 2,
                reason: SkipReason::FieldCount {
                    expected: 2,
                    found: 3
                }
            },
            SkippedRow {
                line: 4,
                reason: SkipReason::FieldCount {
                    expected: 2,
                    found: 1
                }
            }
        ]
    );
    assert_eq!(t.count("kols").await.unwrap(), 1);
}

/// An async reader producing `prefix`, then `filler` bytes of `fill` (generated, never held in
/// memory), then `suffix`; or failing with an I/O error after the prefix when `fail` is set.
struct Generated {
    prefix: Vec<u8>,
    filler: u64,
    fill: u8,
    suffix: Vec<u8>,
    fail: bool,
    at: u64,
}

impl AsyncRead for Generated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let prefix = this.prefix.len() as u64;
        if this.at < prefix {
            let start = this.at as usize;
            let n = buf.remaining().min(this.prefix.len() - start);
            buf.put_slice(&this.prefix[start..start + n]);
            this.at += n as u64;
        } else if this.fail {
            return Poll::Ready(Err(std::io::Error::other("the upload was cut")));
        } else if this.at < prefix + this.filler {
            let n = buf
                .remaining()
                .min((prefix + this.filler - this.at) as usize);
            buf.put_slice(&vec![this.fill; n]);
            this.at += n as u64;
        } else {
            let start = (this.at - prefix - this.filler) as usize;
            let n = buf.remaining().min(this.suffix.len().saturating_sub(start));
            buf.put_slice(&this.suffix[start..start + n]);
            this.at += n as u64;
        }
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn over_long_rows_and_cells_are_skipped_and_the_rest_imported() {
    let t = test_db().await;
    let db = t.db();
    // A 64 MiB display name, streamed: the default limits skip the row without holding it.
    let input = Generated {
        prefix: b"platform,username,display_name\ntiktok,before,Before\ntiktok,huge,\"".to_vec(),
        filler: 64 << 20,
        fill: b'x',
        suffix: b"\"\ntiktok,after,After\n".to_vec(),
        fail: false,
        at: 0,
    };
    let report = db
        .import_csv(input, &CsvImportOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(report.inserted, 2, "{report:?}");
    assert_eq!(
        report.skipped,
        [SkippedRow {
            line: 3,
            reason: SkipReason::FieldTooLong {
                column: "display_name",
                limit: 64 << 10
            }
        }]
    );
    assert_eq!(
        report.skipped[0].reason.to_string(),
        "display_name: the cell is longer than 65536 bytes"
    );

    // Small limits: a row over the record limit, a cell over the field limit, a field beyond
    // the header, each a skipped row; rows at the limits are imported.
    let options = CsvImportOptions {
        max_record_bytes: 64,
        max_field_bytes: 20,
        ..CsvImportOptions::default()
    };
    let twenty = "x".repeat(20);
    let file = format!(
        "platform,username,display_name
tiktok,r1,{twenty}
tiktok,r2,{twenty}x
tiktok,r3,{twenty},{twenty}{twenty}
tiktok,r4,a,b,c
tiktok,r5,{twenty}
"
    );
    let report = db
        .import_csv(file.as_bytes(), &options, |_| {})
        .await
        .unwrap();
    assert_eq!(report.inserted, 2);
    let reasons: Vec<(u64, SkipReason)> = report
        .skipped
        .into_iter()
        .map(|s| (s.line, s.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                3,
                SkipReason::FieldTooLong {
                    column: "display_name",
                    limit: 20
                }
            ),
            (4, SkipReason::RecordTooLong { limit: 64 }),
            (
                5,
                SkipReason::FieldCount {
                    expected: 3,
                    found: 5
                }
            ),
        ]
    );
    // A header over the limits fails the import.
    let long_header = format!("platform,username,{}\n", "x".repeat(30));
    let err = db
        .import_csv(long_header.as_bytes(), &options, |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DbError::Csv(m) if m.contains("longer than 20 bytes")),
        "{err}"
    );
}

#[tokio::test]
async fn cells_echoed_in_reasons_are_cut_short() {
    let t = test_db().await;
    let db = t.db();
    let long_name = "ก".repeat(5_000);
    let long_number = "9".repeat(5_000);
    let file = format!(
        "platform,username,followers,country\ntiktok,{long_name},,\ntiktok,ok,{long_number},\ntiktok,ok2,,{long_name}\n"
    );
    let report = import(db, &file).await;
    assert_eq!(report.skipped.len(), 3, "{report:?}");
    for skipped in &report.skipped {
        let reason = skipped.reason.to_string();
        assert!(reason.chars().count() < 300, "{reason}");
        assert!(reason.contains("…\""), "{reason}");
    }
    let reason = report.skipped[0].reason.to_string();
    assert!(
        reason.contains(&format!(
            "\"{}…\"",
            "ก".repeat(kol_db::csv_import::ECHO_CHARS)
        )),
        "{reason}"
    );
    assert!(
        report.skipped[1]
            .reason
            .to_string()
            .starts_with("followers:")
    );
}

#[tokio::test]
async fn an_input_error_keeps_nothing() {
    let t = test_db().await;
    let db = t.db();
    let mut prefix = b"platform,username\n".to_vec();
    for i in 0..2_500 {
        prefix.extend_from_slice(format!("tiktok,user{i}\n").as_bytes());
    }
    let input = Generated {
        prefix,
        filler: 0,
        fill: 0,
        suffix: Vec::new(),
        fail: true,
        at: 0,
    };
    let mut progress = 0;
    let err = db
        .import_csv(input, &CsvImportOptions::default(), |n| progress = n)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::CsvRead(_)), "{err}");
    assert!(
        progress >= 2_000,
        "two batches were written before the error"
    );
    assert_eq!(t.count("kols").await.unwrap(), 0, "rolled back");
}

/// A creator inserted by another client while the import runs (committed after the import
/// looked for it) is updated with the row's fields, not overwritten nor duplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creator_inserted_concurrently_is_updated_not_overwritten() {
    let t: TestDatabase = test_db().await;
    let db = t.db().clone();
    let (client, connection) = tokio_postgres::connect(t.url().expose(), tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    client
        .batch_execute(
            "BEGIN; INSERT INTO kols (platform, username, followers, contact) \
             VALUES ('tiktok', 'racer', 5, 'line:racer')",
        )
        .await
        .unwrap();
    let import = tokio::spawn(async move {
        db.import_csv(
            &b"platform,username,display_name\ntiktok,racer,Racer\ntiktok,other,Other\n"[..],
            &CsvImportOptions::default(),
            |_| {},
        )
        .await
    });
    wait_for_a_blocked_backend(&t).await;
    client.batch_execute("COMMIT").await.unwrap();
    drop(client);
    let _ = driver.await;
    let report = import.await.unwrap().unwrap();
    assert_eq!(report.inserted, 1, "{report:?}");
    assert_eq!(report.updated.len(), 1);
    assert_eq!(report.updated[0].fields(), [KolField::DisplayName]);
    let racer = t
        .db()
        .kol_by_handle(&handle(Platform::Tiktok, "racer"))
        .await
        .unwrap();
    assert_eq!(report.updated[0].id, Some(racer.id));
    let mut expected = NewKol::new(handle(Platform::Tiktok, "racer"));
    expected.display_name = Some(PlainText::new("Racer").unwrap());
    expected.followers = Some(Followers::new(5).unwrap());
    expected.contact = Some(PlainText::new("line:racer").unwrap());
    assert_eq!(racer.profile, expected);
    assert_eq!(t.count("kols").await.unwrap(), 2);
}

async fn wait_for_a_blocked_backend(t: &TestDatabase) {
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        #[allow(dead_code)]
        pid: i32,
    }
    for _ in 0..400 {
        let rows: Vec<Pid> = kol_db::testing::query_sql(
            t.db(),
            &format!(
                "SELECT pid FROM pg_stat_activity WHERE datname = '{}' AND wait_event_type = 'Lock'",
                t.name()
            ),
        )
        .await
        .unwrap();
        if !rows.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the import never waited for the other client's insert");
}
