//! CSV import in the column layout of the platform's earlier version (docs/SCHEMA.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::test_db;
use kol_core::{Handle, Platform};
use kol_db::{DbError, SkippedRow};

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

#[tokio::test]
async fn imports_upserts_and_reports_every_skipped_row() {
    let t = test_db().await;
    let db = t.db();
    let mut progress = Vec::new();
    let report = db
        .import_csv(CSV.as_bytes(), |n| progress.push(n))
        .await
        .unwrap();
    assert_eq!(report.inserted, 5, "{report:?}");
    assert_eq!(
        report.updated, 1,
        "porji listed twice: the second row updates"
    );
    let lines: Vec<u64> = report.skipped.iter().map(|s: &SkippedRow| s.line).collect();
    assert_eq!(lines, [6, 7, 8, 9, 10, 11, 13], "{:#?}", report.skipped);
    let reasons: Vec<&str> = report.skipped.iter().map(|s| s.reason.as_str()).collect();
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
    assert_eq!(*progress.last().unwrap(), 13);

    assert_eq!(t.count("kols").await.unwrap(), 5);
    let porji = db
        .kol_by_handle(&Handle::new(Platform::Tiktok, "porji").unwrap())
        .await
        .unwrap();
    assert_eq!(
        porji.profile.display_name.unwrap().as_str(),
        "Porji (updated)"
    );
    assert_eq!(porji.profile.followers.unwrap().get(), 130_000);
    let kol1 = db
        .kol_by_handle(&Handle::new(Platform::Instagram, "kol_1").unwrap())
        .await
        .unwrap();
    assert_eq!(kol1.profile.categories.to_strings(), ["food", "travel"]);
    assert_eq!(kol1.profile.sample_links.len(), 1);
    for name in ["from_contact", "fromusernameurl"] {
        db.kol_by_handle(&Handle::new(Platform::Tiktok, name).unwrap())
            .await
            .unwrap();
    }

    // Importing the same file again only updates.
    let again = db.import_csv(CSV.as_bytes(), |_| {}).await.unwrap();
    assert_eq!(
        (again.inserted, again.updated, again.skipped.len()),
        (0, 6, 7)
    );
    assert_eq!(t.count("kols").await.unwrap(), 5);
}

#[tokio::test]
async fn header_problems_are_errors_and_write_nothing() {
    let t = test_db().await;
    let db = t.db();
    for header in [
        "platform,usrname\n",
        "username,display_name\n",
        "platform,username,platform\n",
    ] {
        let input = format!("{header}tiktok,a\n");
        let err = db.import_csv(input.as_bytes(), |_| {}).await.unwrap_err();
        assert!(matches!(err, DbError::Csv(_)), "{header}: {err}");
    }
    // A row with the wrong number of cells is skipped, not fatal.
    let report = db
        .import_csv(
            "platform,username\ntiktok,a,extra\ntiktok,b\n".as_bytes(),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(report.inserted, 1);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].line, 2);
    assert_eq!(t.count("kols").await.unwrap(), 1);
}
