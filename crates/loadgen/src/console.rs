//! What a manager's console asks of a big shop: the dialog list of each
//! category, a dialog's history, and contact search, with 100,000 dialogs,
//! 1,000,000 messages and 1,000,000 contacts in one account.
//!
//! The data is written straight into the services' schemas with SQL
//! (`generate_series`; through the API it would take an hour), then every
//! query is asked through the REST API one at a time, as a console does.
//! Times are from sending the request to reading the whole answer over
//! loopback, so they bound the server-side time from above.

use std::time::Instant;

use hdrhistogram::Histogram;
use serde_json::Value;
use sqlx::PgPool;

use crate::Settings;

const DIALOGS: i64 = 100_000;
const MESSAGES_PER_DIALOG: i64 = 10;
const CONTACTS: i64 = 1_000_000;
/// Requests per query shape.
const ASKS: usize = 300;

pub async fn measure(settings: &Settings) -> anyhow::Result<String> {
    let pool = PgPool::connect(&settings.database_url).await?;
    let started = Instant::now();
    let (account, manager) = seed(&pool, settings).await?;
    let seeded_secs = started.elapsed().as_secs();
    pool.close().await;

    let http = reqwest::Client::new();
    let base = format!("http://{}", settings.gateway);
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": settings.email, "password": settings.password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = login["token"].as_str().unwrap_or_default().to_owned();
    let dialog = {
        let page: Value = http
            .get(format!("{base}/api/v1/dialogs?status=open&limit=1"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        page["dialogs"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let queries: Vec<(&str, String)> = vec![
        ("list: all, open", "/api/v1/dialogs?status=open".into()),
        (
            "list: mine, open",
            "/api/v1/dialogs?category=mine&status=open".into(),
        ),
        (
            "list: new, open",
            "/api/v1/dialogs?category=new&status=open".into(),
        ),
        (
            "list: one manager, open",
            format!("/api/v1/dialogs?category=manager&manager_id={manager}&status=open"),
        ),
        ("list: all, closed", "/api/v1/dialogs?status=closed".into()),
        ("counts, open", "/api/v1/dialogs/counts?status=open".into()),
        (
            "history: newest page",
            format!("/api/v1/dialogs/{dialog}/messages?before_seq=11"),
        ),
        (
            "history: scrolling back",
            format!("/api/v1/dialogs/{dialog}/messages?before_seq=6&limit=5"),
        ),
        (
            "search: a rare name part",
            "/api/v1/contacts?q=customer%20123456".into(),
        ),
        (
            "search: part of an e-mail",
            "/api/v1/contacts?q=er98765%40mail".into(),
        ),
        ("search: a common part", "/api/v1/contacts?q=mail7".into()),
        ("search: nothing matches", "/api/v1/contacts?q=zzqx".into()),
    ];
    let mut rows = String::new();
    for (what, path) in queries {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
        for i in 0..ASKS + 20 {
            let sent = Instant::now();
            let response = http
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await?;
            anyhow::ensure!(
                response.status().is_success(),
                "{what}: {}",
                response.status()
            );
            response.bytes().await?;
            if i >= 20 {
                h.record(sent.elapsed().as_micros().max(1) as u64)?;
            }
        }
        rows.push_str(&format!(
            "| {what} | {:.2} | {:.2} | {:.2} |\n",
            h.value_at_quantile(0.50) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
            h.max() as f64 / 1000.0,
        ));
    }
    Ok(format!(
        "### The console at scale\n\n\
         One account with {DIALOGS} dialogs ({MESSAGES_PER_DIALOG} messages each, so {} messages; \
         a third each the manager's, another manager's and nobody's; a tenth closed) and {CONTACTS} \
         contacts, written by SQL in {seeded_secs} s (account {account}). Each query asked {ASKS} \
         times in a row through REST, a page of 50 (search: 20); from request to the whole answer \
         over loopback, milliseconds.\n\n\
         | query | p50 | p99 | max |\n|---|---|---|---|\n{rows}",
        DIALOGS * MESSAGES_PER_DIALOG,
    ))
}

/// Writes the shop's contacts, dialogs and messages; returns the account
/// and the signed-in manager's id.
async fn seed(pool: &PgPool, settings: &Settings) -> anyhow::Result<(String, String)> {
    let (account, manager): (uuid::Uuid, uuid::Uuid) =
        sqlx::query_as("select account_id, id from gateway.manager where email = $1")
            .bind(&settings.email)
            .fetch_one(pool)
            .await?;
    let statements = [
        // Contacts: one in ten with a name and e-mail a search can find.
        format!(
            "insert into contact.contact (id, account_id, visitor_id, name, email, created_at, last_seen_at) \
             select gen_random_uuid(), '{account}', 'bench-' || n, 'Customer ' || n, \
                 'customer' || n || '@mail' || (n % 100) || '.example', \
                 now() - make_interval(secs => n), now() - make_interval(secs => n) \
             from generate_series(1, {CONTACTS}) n"
        ),
        format!(
            "insert into dialog.dialog (id, account_id, contact_id, status, manager_id, last_seq, \
                 last_message_text, last_message_at, created_at, updated_at, contact_name, inbound_count) \
             select gen_random_uuid(), '{account}', c.id, \
                 case when c.n % 10 = 0 then 'closed' else 'open' end, \
                 case c.n % 3 when 0 then '{manager}'::uuid when 1 then gen_random_uuid() else null end, \
                 {MESSAGES_PER_DIALOG}, 'The last message of dialog ' || c.n, \
                 now() - make_interval(secs => c.n), now() - make_interval(secs => c.n), \
                 now() - make_interval(secs => c.n), c.name, {MESSAGES_PER_DIALOG} / 2 \
             from (select id, name, substr(visitor_id, 7)::int as n from contact.contact \
                   where account_id = '{account}' and visitor_id like 'bench-%' \
                   order by substr(visitor_id, 7)::int limit {DIALOGS}) c"
        ),
        format!(
            "insert into dialog.message (id, account_id, dialog_id, seq, author_kind, author_id, \
                 client_message_id, text, channel, delivery_state, created_at) \
             select gen_random_uuid(), d.account_id, d.id, s, \
                 case when s % 2 = 1 then 'visitor' else 'manager' end, \
                 case when s % 2 = 1 then d.contact_id else '{manager}'::uuid end, \
                 'bench-' || s, 'Message ' || s || ' of the dialog', 'site', 'stored', \
                 d.created_at + make_interval(secs => s) \
             from dialog.dialog d, generate_series(1, {MESSAGES_PER_DIALOG}) s \
             where d.account_id = '{account}' and d.contact_id in \
                 (select id from contact.contact where account_id = '{account}' and visitor_id like 'bench-%')"
        ),
        "analyze contact.contact".to_owned(),
        "analyze dialog.dialog".to_owned(),
        "analyze dialog.message".to_owned(),
    ];
    for sql in statements {
        sqlx::query(&sql).execute(pool).await?;
    }
    Ok((account.to_string(), manager.to_string()))
}
