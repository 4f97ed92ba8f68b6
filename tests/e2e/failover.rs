//! A channel bridge killed at the worst moment loses and doubles nothing.
//! Each messenger's update is stored, then the bridge dies before its answer
//! (a webhook's 200, a long poll's confirming offset) reaches the platform:
//! the platform delivers it again, to the restarted bridge or to the replica
//! that takes over the long poll, and it is in the console once. Long polls
//! move from a dead replica to a live one within the lease's time, and what
//! people wrote meanwhile arrives once, in order.

use serde_json::json;

use crate::helpers::{Options, TestSuite, until_messages};
use chat_fakes::LostAnswers;
use chat_testkit::clients::Api;
use chat_testkit::eventually;

const BOT: &str = "777000111:failover-bot-token";
const GROUP: i64 = 219_000_777;
const VK_TOKEN: &str = "vk1.a.failover-community-token";

fn anna() -> chat_fakes::telegram::Person {
    chat_fakes::telegram::Person {
        id: 4242,
        first_name: "Анна".into(),
        last_name: None,
        username: None,
    }
}

fn olga() -> chat_fakes::vk::Person {
    chat_fakes::vk::Person {
        id: 515_151,
        first_name: "Ольга".into(),
        last_name: "Смирнова".into(),
    }
}

/// The texts in the shop's console, in the order of their dialog.
async fn texts(api: &Api, count: usize) -> Vec<String> {
    let dialogs = until_messages(api, count).await;
    assert_eq!(dialogs.len(), 1, "one person, one dialog");
    dialogs[0].1.iter().map(|(text, _)| text.clone()).collect()
}

async fn shop_api(t: &TestSuite) -> Api {
    let shop = t.shop("Tea").await;
    t.manager_api(&shop).await
}

#[tokio::test]
async fn a_bot_polled_by_a_replica_that_dies_before_confirming_moves_to_another_and_nothing_is_lost_or_doubled()
 {
    let mut t = TestSuite::start_with(Options {
        extra_bridges: 1,
        ..Default::default()
    })
    .await;
    t.telegram.make_bot(BOT, "failover_bot");
    let api = shop_api(&t).await;
    let (status, connected) = api
        .put("/api/v1/integrations/telegram", json!({"bot_token": BOT}))
        .await;
    assert_eq!(status, 200, "{connected}");
    assert_eq!(connected["mode"], "polling");
    let polling = t.poll_holder().await;

    // The update is stored; the poll that would confirm it never reaches
    // Telegram, and the replica dies while making it.
    t.telegram.lost_answers().start();
    t.telegram.person_writes(BOT, &anna(), "первое").unwrap();
    assert_eq!(texts(&api, 1).await, ["первое"]);
    eventually("the confirming poll held", || async {
        (t.telegram.lost_answers().lost() > 0).then_some(())
    })
    .await;
    t.bridges()[polling].kill().await;
    t.telegram.lost_answers().stop();

    // Written while no replica polls.
    t.telegram.person_writes(BOT, &anna(), "второе").unwrap();
    t.telegram.person_writes(BOT, &anna(), "третье").unwrap();
    assert_eq!(
        texts(&api, 3).await,
        ["первое", "второе", "третье"],
        "the first, given again to the new poller, is stored once"
    );
    let now_polling = t.poll_holder().await;
    assert_ne!(now_polling, polling, "the live replica took the bot over");
    t.stop().await;
}

#[tokio::test]
async fn a_community_long_polled_by_a_replica_that_dies_moves_to_another_and_nothing_is_lost_or_doubled()
 {
    let mut t = TestSuite::start_with(Options {
        extra_bridges: 1,
        ..Default::default()
    })
    .await;
    t.vk.make_community(GROUP, VK_TOKEN, "Чайная лавка", "c0nf1rm");
    let api = shop_api(&t).await;
    let (status, connected) = api
        .put(
            "/api/v1/integrations/vk",
            json!({"group_id": GROUP.to_string(), "access_token": VK_TOKEN}),
        )
        .await;
    assert_eq!(status, 200, "{connected}");
    assert_eq!(connected["mode"], "polling");
    let polling = t.poll_holder().await;

    t.vk.person_writes(GROUP, &olga(), "первое").unwrap();
    assert_eq!(texts(&api, 1).await, ["первое"]);
    t.bridges()[polling].kill().await;

    t.vk.person_writes(GROUP, &olga(), "второе").unwrap();
    t.vk.person_writes(GROUP, &olga(), "третье").unwrap();
    assert_eq!(texts(&api, 3).await, ["первое", "второе", "третье"]);
    let now_polling = t.poll_holder().await;
    assert_ne!(
        now_polling, polling,
        "the live replica took the community over"
    );
    t.stop().await;
}

/// A suite whose first bridge replica serves the webhooks at its public address.
async fn with_webhooks() -> TestSuite {
    TestSuite::start_with(Options {
        webhooks: true,
        ..Default::default()
    })
    .await
}

/// A person writes; the bridge stores it, but its answer never gets back to
/// the platform (`answers` lost); it is killed then, and restarted on the
/// same address; the platform delivers again, and the person writes once
/// more. Each is in the console once, and the platform counts the second
/// delivery of the first (`deliveries`: answered, and not).
async fn stored_once_though_killed_before_answering(
    t: &mut TestSuite,
    api: &Api,
    answers: LostAnswers,
    write: impl Fn(&str),
    deliveries: impl Fn() -> (u64, u64),
) {
    answers.start();
    write("первое");
    assert_eq!(texts(api, 1).await, ["первое"]);
    eventually("the answer lost", || async {
        (answers.lost() > 0).then_some(())
    })
    .await;
    t.bridges()[0].kill().await;
    answers.stop();
    t.bridges()[0].restart().await.expect("the bridge restarts");

    write("второе");
    assert_eq!(texts(api, 2).await, ["первое", "второе"]);
    // The platform counts a delivery once it reads the answer, just after.
    let failed = eventually("the first delivered again, then the second", || async {
        let (delivered, failed) = deliveries();
        (delivered == 2).then_some(failed)
    })
    .await;
    assert!(failed >= 1, "the lost answer");
}

#[tokio::test]
async fn a_telegram_webhook_update_stored_by_a_bridge_killed_before_answering_is_stored_once() {
    let mut t = with_webhooks().await;
    t.telegram.make_bot(BOT, "failover_bot");
    let api = shop_api(&t).await;
    let (status, connected) = api
        .put("/api/v1/integrations/telegram", json!({"bot_token": BOT}))
        .await;
    assert_eq!(status, 200, "{connected}");
    assert_eq!(connected["mode"], "webhook");

    let telegram = t.telegram.clone();
    stored_once_though_killed_before_answering(
        &mut t,
        &api,
        telegram.lost_answers().clone(),
        |text| {
            telegram
                .person_writes(BOT, &anna(), text)
                .expect("the fake knows it");
        },
        || telegram.deliveries(BOT),
    )
    .await;
    t.stop().await;
}

#[tokio::test]
async fn a_vk_callback_event_stored_by_a_bridge_killed_before_answering_is_stored_once() {
    let mut t = with_webhooks().await;
    t.vk.make_community(GROUP, VK_TOKEN, "Чайная лавка", "c0nf1rm");
    let api = shop_api(&t).await;
    let (status, connected) = api
        .put(
            "/api/v1/integrations/vk",
            json!({"group_id": GROUP.to_string(), "access_token": VK_TOKEN,
                   "confirmation": "c0nf1rm", "secret": "FailoverSecret1"}),
        )
        .await;
    assert_eq!(status, 200, "{connected}");
    let address = connected["address"].as_str().expect("the callback address");
    t.vk.set_callback(GROUP, address, "FailoverSecret1");
    eventually("VK confirms the server", || async {
        t.vk.callback_confirmed(GROUP).then_some(())
    })
    .await;

    let vk = t.vk.clone();
    stored_once_though_killed_before_answering(
        &mut t,
        &api,
        vk.lost_answers().clone(),
        |text| {
            vk.person_writes(GROUP, &olga(), text)
                .expect("the fake knows it");
        },
        || vk.deliveries(GROUP),
    )
    .await;
    t.stop().await;
}

#[tokio::test]
async fn a_facebook_post_stored_by_a_bridge_killed_before_answering_is_stored_once() {
    let mut t = crate::facebook::start().await;
    let api = crate::facebook::shop_with_the_page(&t).await;
    let facebook = t.facebook.clone();
    let page = crate::facebook::PAGE;
    stored_once_though_killed_before_answering(
        &mut t,
        &api,
        facebook.lost_answers().clone(),
        |text| {
            facebook
                .person_writes(page, &crate::facebook::maria(), text)
                .expect("the fake knows it");
        },
        || facebook.deliveries(page),
    )
    .await;
    t.stop().await;
}
