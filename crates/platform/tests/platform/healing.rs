//! Durable consumers heal themselves: when NATS forgets the consumer or the
//! whole stream, the consumer is created again and goes on; when a service
//! changes what it consumes, its consumer is brought up to date at start
//! and goes on from the first event it had not acked.

use uuid::Uuid;

use chat_platform::Shutdown;
use chat_platform::bus::{Batches, HandlerError};
use chat_proto::events::v1::Envelope;
use chat_testkit::env::TestEnv;
use chat_testkit::eventually;

use crate::helpers::{Consumer, Deliveries, EVENT_TYPE, one_by_one, settled};

/// A second event type, which only the changed consumer wants.
const OTHER_TYPE: &str = "platform.other_thing_happened";

fn recording(
    deliveries: &Deliveries,
) -> impl Fn(Envelope) -> std::future::Ready<Result<(), HandlerError>> + Clone + use<> {
    let seen = deliveries.clone();
    move |envelope: Envelope| {
        seen.record(&envelope);
        std::future::ready(Ok(()))
    }
}

#[tokio::test]
async fn a_consumer_nats_forgot_is_created_again_and_goes_on() {
    let env = TestEnv::create().await;
    let bus = env.bus().await;
    let deliveries = Deliveries::default();
    let consumer = Consumer::start(&bus, "forgotten", recording(&deliveries));
    let first = env
        .publish(&bus, Uuid::now_v7(), EVENT_TYPE, b"1".to_vec())
        .await;
    settled(&bus, "forgotten", 1).await;

    let stream = bus.jetstream.get_stream(bus.name("events")).await.unwrap();
    stream
        .delete_consumer(&bus.name("forgotten"))
        .await
        .expect("delete the consumer");
    let second = env
        .publish(&bus, Uuid::now_v7(), EVENT_TYPE, b"2".to_vec())
        .await;

    eventually("the event after the loss to be handled", || async {
        (deliveries.count(second) == 1).then_some(())
    })
    .await;
    // Created again from the stream's start: the first event comes again
    // (handlers are idempotent), nothing is skipped.
    assert!(deliveries.count(first) >= 1);
    settled(&bus, "forgotten", 2).await;
    consumer.stop().await;
    env.cleanup().await;
}

#[tokio::test]
async fn a_consumer_whose_stream_nats_forgot_creates_it_again_and_goes_on() {
    let env = TestEnv::create().await;
    let bus = env.bus().await;
    let deliveries = Deliveries::default();
    let consumer = Consumer::start(&bus, "streamless", recording(&deliveries));
    env.publish(&bus, Uuid::now_v7(), EVENT_TYPE, b"1".to_vec())
        .await;
    settled(&bus, "streamless", 1).await;

    bus.jetstream
        .delete_stream(bus.name("events"))
        .await
        .expect("delete the stream");
    // The consumer makes the stream again (no other part of this test does).
    eventually(
        "the consumer to create the stream and itself again",
        || async { chat_testkit::env::consumer_info(&bus, "streamless").await },
    )
    .await;
    let after = env
        .publish(&bus, Uuid::now_v7(), EVENT_TYPE, b"2".to_vec())
        .await;

    eventually("the event on the new stream to be handled", || async {
        (deliveries.count(after) == 1).then_some(())
    })
    .await;
    settled(&bus, "streamless", 1).await;
    consumer.stop().await;
    env.cleanup().await;
}

#[tokio::test]
async fn a_consumer_whose_service_consumes_more_is_updated_and_goes_on_from_its_first_unacked_event()
 {
    let env = TestEnv::create().await;
    let bus = env.bus().await;
    let deliveries = Deliveries::default();
    let before = Consumer::start(&bus, "widening", recording(&deliveries));
    let handled = env
        .publish(&bus, Uuid::now_v7(), EVENT_TYPE, b"1".to_vec())
        .await;
    settled(&bus, "widening", 1).await;
    before.stop().await;
    let info = chat_testkit::env::consumer_info(&bus, "widening")
        .await
        .unwrap();
    assert_eq!(info.config.filter_subject, bus.subject(EVENT_TYPE));

    // Published while the service is away: the new version must handle both.
    let missed = env
        .publish(&bus, Uuid::now_v7(), EVENT_TYPE, b"2".to_vec())
        .await;
    let other = env
        .publish(&bus, Uuid::now_v7(), OTHER_TYPE, b"3".to_vec())
        .await;
    let shutdown = Shutdown::new();
    let task = tokio::spawn({
        let (bus, shutdown, handler) = (bus.clone(), shutdown.clone(), recording(&deliveries));
        async move {
            bus.consume_batches(
                "widening",
                &[EVENT_TYPE, OTHER_TYPE],
                Batches::at_once(8),
                shutdown,
                one_by_one(handler),
            )
            .await
        }
    });

    eventually("the new type to be handled", || async {
        (deliveries.count(other) == 1).then_some(())
    })
    .await;
    assert_eq!(deliveries.count(missed), 1, "the unacked event is handled");
    assert_eq!(
        deliveries.count(handled),
        1,
        "the acked one is not handled again"
    );
    let info = chat_testkit::env::consumer_info(&bus, "widening")
        .await
        .unwrap();
    assert_eq!(
        info.config.filter_subject,
        format!("{}.events.>", bus.prefix())
    );
    shutdown.cancel();
    task.await.unwrap();
    env.cleanup().await;
}
