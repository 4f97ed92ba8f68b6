//! `Bus::consume_batches`, one event at a time and in batches: a transient
//! failure is redelivered and acked once handled, a permanent one and an
//! undecodable payload are terminated, and a stopped durable consumer
//! resumes where it left off.

use uuid::Uuid;

use chat_platform::bus::HandlerError;
use chat_proto::events::v1::Envelope;
use chat_testkit::env::TestEnv;
use chat_testkit::eventually;
use prost::Message as _;

use crate::helpers::{Consumer, Deliveries, EVENT_TYPE, settled};

/// A payload the handlers of these tests refuse for good.
const POISON: &[u8] = b"poison";

#[tokio::test]
async fn a_transient_failure_is_redelivered_and_acked_once_handled() {
    let env = TestEnv::create().await;
    let bus = env.bus().await;
    let deliveries = Deliveries::default();
    let seen = deliveries.clone();
    let consumer = Consumer::start(&bus, "transient", move |envelope: Envelope| {
        let seen = seen.clone();
        async move {
            match seen.record(&envelope) {
                1 => Err(HandlerError::Transient(anyhow::anyhow!("database away"))),
                _ => Ok(()),
            }
        }
    });

    let event_id = env
        .publish(&bus, Uuid::now_v7(), EVENT_TYPE, b"x".to_vec())
        .await;
    eventually("the event to be delivered again", || async {
        (deliveries.count(event_id) >= 2).then_some(())
    })
    .await;
    let info = settled(&bus, "transient", 1).await;
    consumer.stop().await;

    assert_eq!(
        deliveries.count(event_id),
        2,
        "acked after the second delivery"
    );
    assert_eq!(info.delivered.consumer_sequence, 2);
    assert_eq!(info.num_pending, 0);
    env.cleanup().await;
}

#[tokio::test]
async fn a_permanent_failure_is_terminated_not_redelivered() {
    let env = TestEnv::create().await;
    let bus = env.bus().await;
    let deliveries = Deliveries::default();
    let seen = deliveries.clone();
    let consumer = Consumer::start(&bus, "permanent", move |envelope: Envelope| {
        let seen = seen.clone();
        async move {
            seen.record(&envelope);
            if envelope.payload == POISON {
                Err(HandlerError::Permanent(anyhow::anyhow!(
                    "never going to work"
                )))
            } else {
                Ok(())
            }
        }
    });

    let poison = env
        .publish(&bus, Uuid::now_v7(), EVENT_TYPE, POISON.to_vec())
        .await;
    let fine = env
        .publish(&bus, Uuid::now_v7(), EVENT_TYPE, b"fine".to_vec())
        .await;
    // A nak'd event would hold the ack floor below its sequence for ever.
    let info = settled(&bus, "permanent", 2).await;
    consumer.stop().await;

    assert_eq!(deliveries.count(poison), 1);
    assert_eq!(deliveries.count(fine), 1);
    assert_eq!(
        info.delivered.consumer_sequence, 2,
        "nothing was redelivered"
    );
    env.cleanup().await;
}

#[tokio::test]
async fn an_undecodable_event_is_terminated() {
    let env = TestEnv::create().await;
    let bus = env.bus().await;
    let deliveries = Deliveries::default();
    let seen = deliveries.clone();
    let consumer = Consumer::start(&bus, "undecodable", move |envelope: Envelope| {
        let seen = seen.clone();
        async move {
            seen.record(&envelope);
            Ok(())
        }
    });

    // Field 1 with wire type 7, which does not exist.
    let garbage = vec![0x0f, 0xff, 0xff];
    assert!(Envelope::decode(garbage.as_slice()).is_err());
    bus.jetstream
        .publish(bus.subject(EVENT_TYPE), garbage.into())
        .await
        .expect("publish")
        .await
        .expect("publish ack");
    let fine = env
        .publish(&bus, Uuid::now_v7(), EVENT_TYPE, b"fine".to_vec())
        .await;
    let info = settled(&bus, "undecodable", 2).await;
    consumer.stop().await;

    assert_eq!(deliveries.all(), vec![fine.to_string()]);
    assert_eq!(
        info.delivered.consumer_sequence, 2,
        "the garbage was not redelivered"
    );
    env.cleanup().await;
}

#[tokio::test]
async fn a_restarted_durable_consumer_resumes_where_it_left_off() {
    let env = TestEnv::create().await;
    let bus = env.bus().await;
    let account_id = Uuid::now_v7();
    let deliveries = Deliveries::default();
    let handler = {
        let seen = deliveries.clone();
        move |envelope: Envelope| {
            let seen = seen.clone();
            async move {
                seen.record(&envelope);
                Ok(())
            }
        }
    };

    let consumer = Consumer::start(&bus, "durable", handler.clone());
    let mut before = Vec::new();
    for _ in 0..2 {
        before.push(
            env.publish(&bus, account_id, EVENT_TYPE, b"before".to_vec())
                .await,
        );
    }
    settled(&bus, "durable", 2).await;
    consumer.stop().await;

    let mut while_stopped = Vec::new();
    for _ in 0..2 {
        while_stopped.push(
            env.publish(&bus, account_id, EVENT_TYPE, b"stopped".to_vec())
                .await,
        );
    }
    let consumer = Consumer::start(&bus, "durable", handler);
    let info = settled(&bus, "durable", 4).await;
    consumer.stop().await;

    for id in before.iter().chain(&while_stopped) {
        assert_eq!(deliveries.count(*id), 1, "event {id} handled once");
    }
    assert_eq!(deliveries.all().len(), 4);
    assert_eq!(info.delivered.consumer_sequence, 4);
    env.cleanup().await;
}

#[tokio::test]
async fn a_batch_that_fails_for_good_is_handled_one_by_one_so_only_the_bad_event_is_terminated() {
    let env = TestEnv::create().await;
    let bus = env.bus().await;
    let account_id = Uuid::now_v7();
    // Published before the consumer starts, so they are ready together.
    let mut fine = Vec::new();
    for i in 0..4 {
        fine.push(
            env.publish(
                &bus,
                account_id,
                EVENT_TYPE,
                format!("fine {i}").into_bytes(),
            )
            .await,
        );
    }
    let poison = env
        .publish(&bus, account_id, EVENT_TYPE, POISON.to_vec())
        .await;

    let batches = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Vec<String>>::new()));
    let seen = batches.clone();
    let consumer = Consumer::start_batches(&bus, "batches", move |envelopes: Vec<Envelope>| {
        let seen = seen.clone();
        async move {
            let ids = envelopes.iter().map(|e| e.event_id.clone()).collect();
            seen.lock().unwrap().push(ids);
            match envelopes.iter().any(|e| e.payload == POISON) {
                true => Err(HandlerError::Permanent(anyhow::anyhow!(
                    "poison in the batch"
                ))),
                false => Ok(()),
            }
        }
    });
    let info = settled(&bus, "batches", 5).await;
    consumer.stop().await;

    let batches = batches.lock().unwrap().clone();
    assert!(
        batches.iter().any(|b| b.len() > 1),
        "ready events come together: {batches:?}"
    );
    // The batch with the poison failed (the events before it may have come
    // in a batch of their own, which succeeded): each of its events is then
    // handled on its own.
    let poison_id = poison.to_string();
    let failed: Vec<&String> = batches
        .iter()
        .filter(|b| b.len() > 1 && b.contains(&poison_id))
        .flatten()
        .collect();
    let alone: Vec<&String> = batches
        .iter()
        .filter(|b| b.len() == 1)
        .map(|b| &b[0])
        .collect();
    assert!(
        alone.contains(&&poison_id),
        "the poison was tried on its own: {batches:?}"
    );
    for id in &failed {
        assert!(
            alone.contains(id),
            "{id} was handled on its own after the batch failed: {batches:?}"
        );
    }
    for id in &fine {
        let id = id.to_string();
        assert!(
            batches.iter().any(|b| b.contains(&id)),
            "{id} was handled: {batches:?}"
        );
    }
    assert_eq!(
        info.delivered.consumer_sequence, 5,
        "NATS delivered each once"
    );
    assert_eq!(info.num_pending, 0);
    env.cleanup().await;
}

#[tokio::test]
async fn a_batch_that_fails_for_now_is_redelivered_whole() {
    let env = TestEnv::create().await;
    let bus = env.bus().await;
    let account_id = Uuid::now_v7();
    let first = env
        .publish(&bus, account_id, EVENT_TYPE, b"a".to_vec())
        .await;
    let second = env
        .publish(&bus, account_id, EVENT_TYPE, b"b".to_vec())
        .await;
    let deliveries = Deliveries::default();
    let seen = deliveries.clone();
    let consumer = Consumer::start_batches(&bus, "retried", move |envelopes: Vec<Envelope>| {
        let seen = seen.clone();
        async move {
            let attempts: Vec<usize> = envelopes.iter().map(|e| seen.record(e)).collect();
            match attempts.contains(&1) {
                true => Err(HandlerError::Transient(anyhow::anyhow!("database away"))),
                false => Ok(()),
            }
        }
    });
    settled(&bus, "retried", 2).await;
    consumer.stop().await;
    assert_eq!(deliveries.count(first), 2);
    assert_eq!(deliveries.count(second), 2);
    env.cleanup().await;
}
