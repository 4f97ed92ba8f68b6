//! The delivery log: manager replies through Telegram, VK and Facebook are
//! queued once each, however often their event arrives; site-chat, e-mail,
//! visitor and system messages are not; events sent while the bridge was down
//! are queued when it is back.

use uuid::Uuid;

use chat_proto::dialog::v1::{AuthorKind, Channel};
use chat_testkit::eventually;

use crate::helpers::{Delivery, TestBridge, in_message_order, message, reply};

#[tokio::test]
async fn manager_replies_through_messengers_are_queued_for_delivery() {
    let bridge = TestBridge::spawn().await;
    let account_id = Uuid::now_v7();
    let telegram = reply(account_id, Channel::Telegram);
    let vk = reply(account_id, Channel::Vk);
    let facebook = reply(account_id, Channel::Facebook);

    for message in [&telegram, &vk, &facebook] {
        bridge.publish(message).await;
    }
    let expected = in_message_order(vec![
        Delivery::pending(&telegram, "telegram"),
        Delivery::pending(&vk, "vk"),
        Delivery::pending(&facebook, "facebook"),
    ]);
    eventually("three queued deliveries", || async {
        (bridge.deliveries().await.len() >= 3).then_some(())
    })
    .await;
    assert_eq!(bridge.deliveries().await, expected);

    bridge.finish().await;
}

#[tokio::test]
async fn a_reply_whose_event_arrives_twice_is_queued_once() {
    let bridge = TestBridge::spawn().await;
    let telegram = reply(Uuid::now_v7(), Channel::Telegram);

    let event_id = bridge.publish(&telegram).await;
    // The same message under another event id, then the first event redelivered.
    bridge.publish(&telegram).await;
    bridge.publish_again(event_id, &telegram).await;
    let in_stream = bridge.wait_until_handled().await;

    assert_eq!(in_stream, 3, "all three copies reached the bridge");
    assert_eq!(
        bridge.deliveries().await,
        vec![Delivery::pending(&telegram, "telegram")]
    );

    bridge.finish().await;
}

#[tokio::test]
async fn site_chat_and_visitor_messages_are_not_queued() {
    let bridge = TestBridge::spawn().await;
    let account_id = Uuid::now_v7();

    bridge.publish(&reply(account_id, Channel::Site)).await;
    bridge.publish(&reply(account_id, Channel::Email)).await;
    bridge
        .publish(&message(account_id, AuthorKind::Visitor, Channel::Telegram))
        .await;
    bridge
        .publish(&message(account_id, AuthorKind::Visitor, Channel::Site))
        .await;
    bridge
        .publish(&message(account_id, AuthorKind::System, Channel::Vk))
        .await;
    let in_stream = bridge.wait_until_handled().await;

    assert_eq!(in_stream, 5);
    assert_eq!(bridge.deliveries().await, Vec::new());

    bridge.finish().await;
}

#[tokio::test]
async fn replies_published_while_the_bridge_is_down_are_queued_after_it_restarts() {
    let mut bridge = TestBridge::spawn().await;
    let account_id = Uuid::now_v7();
    let before = reply(account_id, Channel::Telegram);
    let while_down = reply(account_id, Channel::Vk);

    bridge.publish(&before).await;
    bridge.wait_until_handled().await;
    let consumer_before = bridge.consumer().await;
    bridge.stop().await;

    bridge.publish(&while_down).await;
    bridge.restart().await;
    bridge.wait_until_handled().await;

    assert_eq!(
        bridge.deliveries().await,
        in_message_order(vec![
            Delivery::pending(&before, "telegram"),
            Delivery::pending(&while_down, "vk"),
        ])
    );
    // The same durable consumer carried on: each event was delivered once.
    let consumer_after = bridge.consumer().await;
    assert_eq!(consumer_after.created, consumer_before.created);
    assert_eq!(consumer_after.delivered.consumer_sequence, 2);

    bridge.finish().await;
}
