//! The reference service over real HTTP against a test database: CSV import and listing, a plan
//! from a brief, a campaign's negotiation from first message to report, 50 concurrent opens for
//! one creator (one 201, 49 x 409), bad bodies refused with problem documents and nothing
//! changed, the OpenAPI document, the probes, and a graceful shutdown that lets a request in
//! flight finish and closes the pool.

use std::time::Duration;

use kol_db::ImportOptions;
use kol_db::testing::TestDatabase;
use kol_examples::catalogue::{CatalogueSpec, brief_for_category};
use kol_examples::lifecycle::post_url;
use kol_examples::service::{AppState, Limits, Problem, serve};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running service on 127.0.0.1:0.
struct Running {
    base: String,
    addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    http: Client,
}

impl Running {
    async fn start(t: &TestDatabase, limits: Limits) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let state = AppState {
            limits,
            ..AppState::new(t.db().clone())
        };
        let task = tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        Self {
            base: format!("http://{addr}"),
            addr,
            stop: Some(stop),
            task: Some(task),
            http: Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> Response {
        self.http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

/// The body as JSON, after checking the status.
async fn ok_json(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The problem document of an error response, after checking its status and media type.
async fn problem(response: Response, status: StatusCode) -> Problem {
    let got = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    assert_eq!(
        content_type.as_deref(),
        Some("application/problem+json"),
        "body: {text}"
    );
    let p: Problem = serde_json::from_str(&text).unwrap();
    assert_eq!(p.status, status.as_u16());
    assert!(!p.detail.is_empty());
    p
}

const CSV: &str = "platform,username,display_name,category,followers,country,audience_th_pct\n\
tiktok,ploy.eats,Ploy Eats,\"food, travel\",120000,TH,85\n\
instagram,mint_glow,Mint Glow,beauty,45000,TH,90\n\
tiktok,bad user name!,Nope,food,10,TH,50\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_import_listing_and_lookup() {
    let t = TestDatabase::new().await.unwrap();
    let s = Running::start(&t, Limits::default()).await;

    // A dry run reports and keeps nothing.
    let dry = ok_json(
        s.post_raw("/kols/import?dry_run=true", "text/csv", CSV)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["inserted"], 2);
    assert_eq!(t.count("kols").await.unwrap(), 0);

    let report = ok_json(
        s.post_raw("/kols/import", "text/csv", CSV).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(report["inserted"], 2);
    assert_eq!(report["skipped"].as_array().unwrap().len(), 1);
    assert_eq!(report["skipped"][0]["line"], 4);
    assert_eq!(t.count("kols").await.unwrap(), 2);
    // Importing again with a change reports it.
    let changed = CSV.replace("45000", "46000");
    let again = ok_json(
        s.post_raw("/kols/import", "text/csv", changed).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["unchanged"], 1);
    assert_eq!(again["updated"][0]["handle"], "instagram:@mint_glow");

    // Keyset pages.
    let first = ok_json(s.get("/kols?limit=1").await, StatusCode::OK).await;
    assert_eq!(first["kols"].as_array().unwrap().len(), 1);
    let after = first["next_after"].as_i64().unwrap();
    let second = ok_json(
        s.get(&format!("/kols?limit=1&after={after}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(second["kols"].as_array().unwrap().len(), 1);
    assert!(second["next_after"].is_null());
    // Filters.
    let food = ok_json(
        s.get("/kols?categories=food&platforms=tiktok").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(food["kols"].as_array().unwrap().len(), 1);
    assert_eq!(food["kols"][0]["username"], "ploy.eats");
    let big = ok_json(s.get("/kols?min_followers=100000").await, StatusCode::OK).await;
    assert_eq!(big["kols"].as_array().unwrap().len(), 1);
    let named = ok_json(s.get("/kols?name=glow").await, StatusCode::OK).await;
    assert_eq!(named["kols"][0]["username"], "mint_glow");

    // One creator; unknown ids and bad parameters.
    let id = first["kols"][0]["id"].as_i64().unwrap();
    let one = ok_json(s.get(&format!("/kols/{id}")).await, StatusCode::OK).await;
    assert_eq!(one["id"], id);
    let p = problem(s.get("/kols/999999").await, StatusCode::NOT_FOUND).await;
    assert!(p.problem_type.ends_with("not-found"));
    let p = problem(s.get("/kols/abc").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p.field.as_deref(), Some("id"));
    let p = problem(
        s.get("/kols?limit=0").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p.field.as_deref(), Some("limit"));
    let p = problem(
        s.get("/kols?platforms=myspace").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p.field.as_deref(), Some("platforms"));
    let p = problem(
        s.get("/kols?min_followers=-5").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p.field.as_deref(), Some("min_followers"));
    problem(
        s.get("/kols?colour=red").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(s.get("/nowhere").await, StatusCode::NOT_FOUND).await;
    // A CSV without the required columns: 422 on the body, nothing kept.
    let p = problem(
        s.post_raw("/kols/import", "text/csv", "name,followers\nx,1\n")
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p.field.as_deref(), Some("body"));
    assert_eq!(t.count("kols").await.unwrap(), 2);
    s.shutdown().await;
}

/// A catalogue of `n` generated creators (profiles, pictures, rate cards).
async fn catalogue(t: &TestDatabase, n: usize) {
    let spec = CatalogueSpec {
        seed: 11,
        ..CatalogueSpec::with_creators(n)
    };
    t.db()
        .import_catalogue(spec.generate(), &ImportOptions::default(), |_| {})
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_from_a_brief_then_a_negotiation_to_the_report() {
    let t = TestDatabase::new().await.unwrap();
    catalogue(&t, 400).await;
    let s = Running::start(&t, Limits::default()).await;

    // A plan from a category, and the same from its vector.
    let body = json!({
        "brief": {"category": "beauty"},
        "budget": 150000,
        "filter": {"countries": ["TH"]},
        "candidates": 60
    });
    let plan = ok_json(s.post("/plans", body).await, StatusCode::OK).await;
    let explanations = plan["plan"]["explanations"].as_array().unwrap();
    assert!(!explanations.is_empty());
    assert_eq!(
        plan["reasons"].as_array().unwrap().len(),
        explanations.len()
    );
    assert!(plan["reasons"][0].as_str().unwrap().contains("relevance"));
    let spend: u64 = explanations
        .iter()
        .map(|e| e["price"].as_u64().unwrap())
        .sum();
    assert!(spend > 0 && spend <= 150_000);
    let vector: Vec<f32> = brief_for_category("beauty", 0).as_slice().to_vec();
    let by_vector = ok_json(
        s.post(
            "/plans",
            json!({"brief": {"vector": vector}, "budget": 150000, "filter": {"countries": ["TH"]}, "candidates": 60}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        by_vector["plan"], plan["plan"],
        "a category is its centre vector"
    );
    let exact = ok_json(
        s.post(
            "/plans",
            json!({"brief": {"category": "food"}, "budget": 80000, "method": "exact"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(exact["method"], "exact");
    // Text needs a model; unknown categories and short vectors name their field.
    let p = problem(
        s.post(
            "/plans",
            json!({"brief": {"text": "serum"}, "budget": 1000}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p.field.as_deref(), Some("brief.text"));
    let p = problem(
        s.post(
            "/plans",
            json!({"brief": {"category": "astrology"}, "budget": 1000}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p.field.as_deref(), Some("brief.category"));
    let p = problem(
        s.post(
            "/plans",
            json!({"brief": {"vector": [1.0, 2.0]}, "budget": 1000}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p.field.as_deref(), Some("brief.vector"));

    // A campaign planned from its own brief.
    let campaign = ok_json(
        s.post(
            "/campaigns",
            json!({
                "name": "Glow serum launch",
                "client": "Glow Lab",
                "brief": "A serum for sensitive skin",
                "brief_embedding": {"category": "beauty"},
                "budget": 150000,
                "starts_on": "2026-10-01",
                "ends_on": "2026-10-31"
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let cid = campaign["id"].as_i64().unwrap();
    let saved = ok_json(
        s.post(
            &format!("/campaigns/{cid}/plan"),
            json!({"budget": 150000, "filter": {"countries": ["TH"]}, "candidates": 60}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let planned = &saved["planned"]["plan"]["explanations"];
    assert_eq!(
        planned, &plan["plan"]["explanations"],
        "the campaign's brief is the category's"
    );
    let kol_id = planned[0]["kol_id"].as_i64().unwrap();
    let item = planned[0]["item"].as_str().unwrap().to_owned();
    let price = planned[0]["price"].as_i64().unwrap();
    ok_json(
        s.post(
            &format!("/campaigns/{cid}/status"),
            json!({"status": "running"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // Outreach: open, a second open is 409, a reply, a proposal, an agreement.
    let open = json!({"kol_id": kol_id, "channel": "line", "message": "Hi! Interested in a serum campaign?"});
    let opened = ok_json(
        s.post(&format!("/campaigns/{cid}/conversations"), open.clone())
            .await,
        StatusCode::CREATED,
    )
    .await;
    let conv = opened["thread"]["conversation"]["id"].as_i64().unwrap();
    assert_eq!(opened["campaign_kol"]["status"], "contacted");
    let p = problem(
        s.post(&format!("/campaigns/{cid}/conversations"), open)
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(p.detail.contains(&conv.to_string()), "{}", p.detail);
    ok_json(
        s.post(
            &format!("/conversations/{conv}/messages"),
            json!({"direction": "in", "body": "Yes, tell me more"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let terms = json!({"deliverables": format!("2 posts: {item}"), "timeline": "10 and 24 October", "price": price});
    let proposed = ok_json(
        s.post(
            &format!("/conversations/{conv}/propose"),
            json!({"terms": terms, "expected_status": "contacted"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(proposed["conversation"]["status"], "negotiating");
    // A stale expectation is a conflict.
    problem(
        s.post(
            &format!("/conversations/{conv}/propose"),
            json!({"terms": terms, "expected_status": "contacted"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let agreed = ok_json(
        s.post(
            &format!("/conversations/{conv}/agree"),
            json!({"terms": terms, "deliverables": [
                {"item": item, "due_on": "2026-10-10"},
                {"item": item, "due_on": "2026-10-24"}
            ]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(agreed["conversation"]["status"], "confirmed");
    assert_eq!(agreed["campaign_kol"]["status"], "confirmed");
    assert_eq!(agreed["deliverables"].as_array().unwrap().len(), 2);
    let thread = ok_json(
        s.get(&format!("/conversations/{conv}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(thread["messages"].as_array().unwrap().len(), 4);
    let pipeline = ok_json(
        s.get(&format!("/pipeline?campaign={cid}&status=confirmed"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(pipeline.as_array().unwrap().len(), 1);
    problem(s.get("/conversations/424242").await, StatusCode::NOT_FOUND).await;

    // A post and its snapshots, then the report.
    let kol = ok_json(s.get(&format!("/kols/{kol_id}")).await, StatusCode::OK).await;
    let platform: kol_core::Platform = kol["platform"].as_str().unwrap().parse().unwrap();
    let url = post_url(
        platform,
        kol["username"].as_str().unwrap(),
        7_300_000_000_000_000_001,
    );
    let deliverable = agreed["deliverables"][0]["id"].as_i64().unwrap();
    let posted = ok_json(
        s.post(
            &format!("/deliverables/{deliverable}/post"),
            json!({"url": url, "posted_at": "2026-10-09T11:00:00Z"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(posted["status"], "posted");
    let snap = json!({"captured_at": "2026-10-10T11:00:00Z", "metrics": {"views": 12000, "likes": 700, "comments": 40, "shares": 10, "saves": 20, "reach": null}});
    let first = ok_json(
        s.post(
            &format!("/deliverables/{deliverable}/snapshots"),
            snap.clone(),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["new"], true);
    let again = ok_json(
        s.post(&format!("/deliverables/{deliverable}/snapshots"), snap)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["new"], false);
    let list = ok_json(
        s.get(&format!("/campaigns/{cid}/deliverables")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let report = ok_json(
        s.get(&format!(
            "/campaigns/{cid}/report?as_of=2026-11-05T00:00:00Z"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(report["totals"]["views"], 12000);
    assert_eq!(report["totals"]["spend"], price);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_opens_one_created_the_rest_conflict() {
    let t = TestDatabase::new().await.unwrap();
    catalogue(&t, 20).await;
    let s = Running::start(&t, Limits::default()).await;
    let campaign = ok_json(
        s.post(
            "/campaigns",
            json!({"name": "Race", "client": "Racer", "budget": 100000, "starts_on": "2026-10-01", "ends_on": "2026-10-31"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let cid = campaign["id"].as_i64().unwrap();
    let kols = ok_json(s.get("/kols?limit=1").await, StatusCode::OK).await;
    let kol_id = kols["kols"][0]["id"].as_i64().unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..50 {
        let http = s.http.clone();
        let url = s.url(&format!("/campaigns/{cid}/conversations"));
        tasks.spawn(async move {
            let r = http
                .post(url)
                .json(
                    &json!({"kol_id": kol_id, "channel": "line", "message": format!("Hello #{n}")}),
                )
                .send()
                .await
                .unwrap();
            let status = r.status();
            let content_type = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, content_type, r.text().await.unwrap())
        });
    }
    let (mut created, mut conflicts) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        let (status, content_type, body) = done.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                assert_eq!(content_type.as_deref(), Some("application/problem+json"));
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((created, conflicts), (1, 49));
    assert_eq!(t.count("conversations").await.unwrap(), 1);
    assert_eq!(t.count("messages").await.unwrap(), 1);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_get_problems_and_change_nothing() {
    let t = TestDatabase::new().await.unwrap();
    catalogue(&t, 10).await;
    let limits = Limits {
        csv_body: 4 << 10,
        ..Limits::default()
    };
    let s = Running::start(&t, limits).await;
    let campaign = ok_json(
        s.post(
            "/campaigns",
            json!({"name": "Base", "client": "Brand", "budget": 100000, "starts_on": "2026-10-01", "ends_on": "2026-10-31"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let cid = campaign["id"].as_i64().unwrap();
    let kol_id = ok_json(s.get("/kols?limit=1").await, StatusCode::OK).await["kols"][0]["id"]
        .as_i64()
        .unwrap();
    let opened = ok_json(
        s.post(
            &format!("/campaigns/{cid}/conversations"),
            json!({"kol_id": kol_id, "channel": "email", "message": "Hi"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let conv = opened["thread"]["conversation"]["id"].as_i64().unwrap();
    let tables = [
        "kols",
        "campaigns",
        "campaign_kols",
        "conversations",
        "messages",
    ];
    let mut before = Vec::new();
    for table in tables {
        before.push(t.count(table).await.unwrap());
    }
    let good = json!({"name": "X", "client": "Y", "budget": 1000, "starts_on": "2026-10-01", "ends_on": "2026-10-31"});

    // Malformed JSON: 400.
    let p = problem(
        s.post_raw("/campaigns", "application/json", "{\"name\": \"X\",")
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(p.detail.contains("malformed JSON"), "{}", p.detail);
    problem(
        s.post_raw("/campaigns", "application/json", "{} trailing")
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Not JSON at all: 415.
    problem(
        s.post_raw("/campaigns", "text/plain", good.to_string())
            .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    // Wrong types and refused values: 422 naming the field.
    let mut wrong = good.clone();
    wrong["budget"] = json!("lots");
    let p = problem(
        s.post("/campaigns", wrong).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p.field.as_deref(), Some("budget"));
    let mut wrong = good.clone();
    wrong["budget"] = json!(-5);
    let p = problem(
        s.post("/campaigns", wrong).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p.field.as_deref(), Some("budget"));
    let mut wrong = good.clone();
    wrong["ends_on"] = json!("2026-09-01");
    let p = problem(
        s.post("/campaigns", wrong).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p.field.as_deref(), Some("ends_on"));
    let p = problem(
        s.post(
            &format!("/campaigns/{cid}/conversations"),
            json!({"kol_id": kol_id, "channel": "pigeon", "message": "Hi"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p.field.as_deref(), Some("channel"));
    let p = problem(
        s.post(
            &format!("/conversations/{conv}/messages"),
            json!({"direction": "in", "body": "   "}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p.field.as_deref(), Some("body"));
    // Unknown fields, at the top and nested: 422.
    let mut unknown = good.clone();
    unknown["colour"] = json!("red");
    problem(
        s.post("/campaigns", unknown).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let p = problem(
        s.post(
            &format!("/conversations/{conv}/propose"),
            json!({"terms": {"deliverables": "1 video", "timeline": "soon", "price": 100, "bonus": 1}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p.field.as_deref(), Some("terms.bonus"));
    let p = problem(
        s.post(
            "/plans",
            json!({"brief": {"category": "food"}, "budget": 1000, "filter": {"countrys": ["TH"]}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p.field.as_deref(), Some("filter.countrys"));
    // A huge JSON body: 413.
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 << 20));
    problem(
        s.post_raw("/campaigns", "application/json", huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    // A CSV over the import limit: 413, declared or streamed (chunked, no length).
    let mut csv = String::from("platform,username,followers\n");
    for i in 0..400 {
        csv.push_str(&format!("tiktok,creator_{i},1000\n"));
    }
    problem(
        s.post_raw("/kols/import", "text/csv", csv.clone()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    let chunks: Vec<Result<String, std::io::Error>> =
        csv.lines().map(|l| Ok(format!("{l}\n"))).collect();
    let streamed = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    problem(
        s.post_raw("/kols/import", "text/csv", streamed).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    // Unknown ids: 404.
    problem(
        s.post("/campaigns/999999/status", json!({"status": "running"}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // A move the state machine refuses: 409.
    problem(
        s.post(
            &format!("/campaigns/{cid}/status"),
            json!({"status": "done"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;

    let mut after = Vec::new();
    for table in tables {
        after.push(t.count(table).await.unwrap());
    }
    assert_eq!(before, after, "{tables:?}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_probes_and_graceful_shutdown() {
    let t = TestDatabase::new().await.unwrap();
    let s = Running::start(&t, Limits::default()).await;
    let doc = ok_json(s.get("/openapi.json").await, StatusCode::OK).await;
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/plans",
        "/kols",
        "/kols/{id}",
        "/kols/import",
        "/campaigns/{id}/conversations",
        "/conversations/{id}/agree",
        "/readyz",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    assert!(doc["components"]["schemas"].get("PlanBody").is_some());
    assert_eq!(
        ok_json(s.get("/healthz").await, StatusCode::OK).await["status"],
        "ok"
    );
    assert_eq!(
        ok_json(s.get("/readyz").await, StatusCode::OK).await["status"],
        "ready"
    );

    // A request in flight when shutdown starts still gets its answer.
    let csv = "platform,username,followers\ntiktok,late_one,1000\n";
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /kols/import HTTP/1.1\r\nhost: test\r\ncontent-type: text/csv\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        csv.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&csv.as_bytes()[..20]).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let db = t.db().clone();
    let Running { stop, task, .. } = s;
    stop.unwrap().send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stream.write_all(&csv.as_bytes()[20..]).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"inserted\":1"), "{response}");
    task.unwrap().await.unwrap().unwrap();
    // The pool is closed: the service's handle (and its clones) refuse further work.
    assert!(db.count_kols().await.is_err());
}
