//! The transactional outbox: only committed events are published, each once,
//! under `<prefix>.events.<type>` with `Nats-Msg-Id` set to the event id; while
//! NATS is away they wait in the table, and are published once it is back.
//! A row may name its subject instead of carrying the event, which the
//! service's resolver builds when the sweep takes it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chat_platform::outbox::{BuiltEvents, Outbox, ReferencedEvent, Resolve};
use futures::future::BoxFuture;

use uuid::Uuid;

use chat_testkit::env::{StoredEvent, TestEnv};
use chat_testkit::eventually;
use chat_testkit::nats::NatsServer;

use crate::helpers::{EVENT_TYPE, Relay, commit_event, event, outbox_len, pool};

async fn published(
    env: &TestEnv,
    bus: &chat_platform::bus::Bus,
    at_least: usize,
) -> Vec<StoredEvent> {
    eventually(&format!("{at_least} published events"), || async {
        let events = env.events(bus).await;
        (events.len() >= at_least).then_some(events)
    })
    .await
}

/// How often relays of this process failed to publish (`outbox_publish_failures_total`).
fn publish_failures(metrics: &metrics_exporter_prometheus::PrometheusHandle) -> u64 {
    metrics
        .render()
        .lines()
        .find_map(|line| line.strip_prefix("outbox_publish_failures_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

async fn outbox_emptied(pool: &sqlx::PgPool) {
    eventually("an empty outbox", || async {
        (outbox_len(pool).await == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_rolled_back_event_is_never_published() {
    let env = TestEnv::create().await;
    let bus = env.bus().await;
    let pool = pool(&env).await;
    let relay = Relay::start(&pool, &bus);
    let account_id = Uuid::now_v7();

    let mut tx = pool.begin().await.expect("begin");
    let rolled_back = relay
        .outbox
        .enqueue(&mut tx, event(account_id, b"rolled back"))
        .await
        .expect("enqueue")
        .ids()[0];
    tx.rollback().await.expect("rollback");
    // Once this later event is out and the outbox empty, the relay has seen all there was.
    let committed = commit_event(&pool, &relay.outbox, account_id, b"committed").await;
    outbox_emptied(&pool).await;
    relay.stop().await;

    let ids: Vec<String> = env
        .events(&bus)
        .await
        .into_iter()
        .map(|e| e.envelope.event_id)
        .collect();
    assert_eq!(ids, vec![committed.to_string()]);
    assert!(!ids.contains(&rolled_back.to_string()));

    pool.close().await;
    env.cleanup().await;
}

#[tokio::test]
async fn a_committed_event_is_published_once_with_its_id_as_nats_msg_id() {
    let env = TestEnv::create().await;
    let bus = env.bus().await;
    let pool = pool(&env).await;
    let relay = Relay::start(&pool, &bus);
    let account_id = Uuid::now_v7();

    let event_id = commit_event(&pool, &relay.outbox, account_id, b"hello").await;
    published(&env, &bus, 1).await;
    outbox_emptied(&pool).await;
    relay.stop().await;

    let events = env.events(&bus).await;
    assert_eq!(events.len(), 1, "published exactly once: {events:?}");
    let stored = &events[0];
    assert_eq!(
        stored.subject,
        format!("{}.events.{EVENT_TYPE}", env.prefix)
    );
    assert_eq!(
        stored.headers.get("Nats-Msg-Id").map(|v| v.as_str()),
        Some(event_id.to_string().as_str())
    );
    assert_eq!(stored.envelope.event_id, event_id.to_string());
    assert_eq!(stored.envelope.account_id, account_id.to_string());
    assert_eq!(stored.envelope.r#type, EVENT_TYPE);
    assert_eq!(stored.envelope.payload, b"hello");
    assert_eq!(outbox_len(&pool).await, 0);

    pool.close().await;
    env.cleanup().await;
}

#[tokio::test]
async fn events_committed_while_nats_is_down_are_published_once_it_is_back() {
    let mut nats = NatsServer::start().await;
    let env = TestEnv::with_nats(nats.url()).await;
    let bus = env.bus().await;
    let pool = pool(&env).await;
    let relay = Relay::start(&pool, &bus);
    let account_id = Uuid::now_v7();
    let metrics = chat_platform::ops::metrics_handle();
    let failures_before = publish_failures(&metrics);

    nats.stop().await;
    eventually("the bus to notice NATS is gone", || async {
        (!bus.is_connected()).then_some(())
    })
    .await;
    let mut committed = BTreeSet::new();
    for i in 0..5u8 {
        committed.insert(
            commit_event(&pool, &relay.outbox, account_id, &[i])
                .await
                .to_string(),
        );
    }
    // Once the relay has tried and failed, the events are still there.
    eventually("the relay to fail to publish", || async {
        (publish_failures(&metrics) > failures_before).then_some(())
    })
    .await;
    assert_eq!(
        outbox_len(&pool).await,
        5,
        "events wait in the outbox while NATS is down"
    );

    nats.resume().await;
    outbox_emptied(&pool).await;
    relay.stop().await;

    let events = env.events(&bus).await;
    let ids: Vec<String> = events.iter().map(|e| e.envelope.event_id.clone()).collect();
    assert_eq!(ids.len(), 5, "each event published exactly once: {ids:?}");
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), committed);

    pool.close().await;
    env.cleanup().await;
}

/// Builds the events of rows naming a "thing": its account and `built <id>`.
struct Things(Uuid);

impl Resolve for Things {
    fn resolve<'c>(
        &'c self,
        _conn: &'c mut sqlx::PgConnection,
        ref_ids: &'c [Uuid],
    ) -> BoxFuture<'c, sqlx::Result<BuiltEvents>> {
        Box::pin(async move {
            Ok(ref_ids
                .iter()
                .map(|id| (*id, (self.0, format!("built {id}").into_bytes())))
                .collect())
        })
    }
}

/// Writes a row that names `thing`, as a service's own statement would.
async fn name_thing(pool: &sqlx::PgPool, thing: Uuid) -> (i64, Uuid) {
    let event_id = Uuid::now_v7();
    let seq = sqlx::query_scalar(
        "insert into outbox (event_id, subject, ref_id) values ($1, $2, $3) returning seq",
    )
    .bind(event_id)
    .bind(EVENT_TYPE)
    .bind(thing)
    .fetch_one(pool)
    .await
    .expect("a row naming its subject");
    (seq, event_id)
}

#[tokio::test]
async fn rows_naming_their_subject_are_built_by_the_resolver_and_published_once() {
    let env = TestEnv::create().await;
    let bus = env.bus().await;
    let pool = pool(&env).await;
    let account_id = Uuid::now_v7();
    // Left behind by a writer that died before handing it over: the sweep
    // at the relay's start takes it.
    let left = Uuid::now_v7();
    let (_, left_event) = name_thing(&pool, left).await;
    let relay = Relay::start_with(
        &pool,
        &bus,
        Outbox::with_resolver(Arc::new(Things(account_id))),
    );
    outbox_emptied(&pool).await;
    // Handed over at once by the writer, with the event it built.
    let handed = Uuid::now_v7();
    let (seq, handed_event) = name_thing(&pool, handed).await;
    relay.outbox.committed_referenced(vec![ReferencedEvent {
        seq,
        event_id: handed_event,
        event: event(account_id, b"handed over"),
    }]);
    published(&env, &bus, 2).await;
    outbox_emptied(&pool).await;
    relay.stop().await;

    let events = env.events(&bus).await;
    assert_eq!(events.len(), 2, "each published once");
    let mut seen: HashMap<String, Vec<u8>> = HashMap::new();
    for e in &events {
        assert_eq!(e.envelope.account_id, account_id.to_string());
        assert_eq!(e.envelope.r#type, EVENT_TYPE);
        seen.insert(e.envelope.event_id.clone(), e.envelope.payload.clone());
    }
    assert_eq!(
        seen,
        HashMap::from([
            (left_event.to_string(), format!("built {left}").into_bytes()),
            (handed_event.to_string(), b"handed over".to_vec()),
        ])
    );
    pool.close().await;
    env.cleanup().await;
}
