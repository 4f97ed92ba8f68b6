//! VK through the bridge, end to end, against the fake VK: an owner connects
//! the shop's community (by long poll where the suite has no public
//! address, by the Callback API where it has one), its people's messages
//! arrive once in the console named from their profiles, photos as links,
//! and a manager's reply goes back once (VK's `random_id` from the message's
//! id) or shows why VK refused it. Bad settings and secrets change nothing.

use serde_json::{Value, json};

use crate::helpers::{TestSuite, delivered_or_failed, integrations, reply, until_messages};
use chat_fakes::vk::Person;
use chat_testkit::clients::Api;

const GROUP: i64 = 219_000_001;
const TOKEN: &str = "vk1.a.tea-shop-community-token";
const CONFIRMATION: &str = "c0nf1rm5";
const SECRET: &str = "TeaShopCallbackSecret1";

fn olga() -> Person {
    Person {
        id: 515_151,
        first_name: "Ольга".into(),
        last_name: "Смирнова".into(),
    }
}

fn vk(text: &str) -> (String, String) {
    (text.to_owned(), "vk".to_owned())
}

async fn connect(api: &Api, body: Value) -> (u16, Value) {
    api.put("/api/v1/integrations/vk", body).await
}

/// A shop with the fake's community connected by long poll, a person who
/// wrote to it, and the dialog that opened.
async fn shop_with_a_vk_person(t: &TestSuite) -> (Api, String) {
    t.vk.make_community(GROUP, TOKEN, "Чайная лавка", CONFIRMATION);
    let shop = t.shop("Tea").await;
    let api = t.manager_api(&shop).await;
    let (status, body) = connect(
        &api,
        json!({"group_id": GROUP.to_string(), "access_token": TOKEN}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    t.vk.person_writes(GROUP, &olga(), "Здравствуйте").unwrap();
    let dialogs = until_messages(&api, 1).await;
    (api, dialogs[0].0["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn an_owner_connects_a_community_and_its_people_write_through_long_polling() {
    let t = TestSuite::start().await;
    t.vk.make_community(GROUP, TOKEN, "Чайная лавка", CONFIRMATION);
    let shop = t.shop("Tea").await;
    let api = t.manager_api(&shop).await;

    let (status, connected) = connect(
        &api,
        // As copied from the browser's address bar.
        json!({"group_id": format!("https://vk.com/club{GROUP}"), "access_token": TOKEN}),
    )
    .await;
    assert_eq!(status, 200, "{connected}");
    assert_eq!(connected["channel"], "vk");
    assert_eq!(connected["name"], "Чайная лавка");
    assert_eq!(connected["mode"], "polling", "no public address");
    assert_eq!(connected["address"], Value::Null);
    assert_eq!(connected["health"]["token_valid"], true);
    assert!(!connected.to_string().contains(TOKEN), "{connected}");

    t.vk.person_writes(GROUP, &olga(), "Привет! Есть пуэр?")
        .unwrap();
    t.vk.person_sends_photo(GROUP, &olga(), "вот такой")
        .unwrap();
    let dialogs = until_messages(&api, 2).await;
    assert_eq!(dialogs.len(), 1, "one person, one dialog");
    let (dialog, messages) = &dialogs[0];
    assert_eq!(dialog["contact_name"], "Ольга Смирнова", "from users.get");
    assert_eq!(dialog["channels"], json!(["vk"]));
    assert_eq!(messages[0], vk("Привет! Есть пуэр?"));
    let (photo, channel) = &messages[1];
    assert_eq!(channel, "vk");
    let link = photo
        .strip_prefix("вот такой\n[photo] ")
        .unwrap_or_else(|| panic!("a photo as a link: {photo}"));
    let image = reqwest::get(link).await.expect("the photo opens");
    assert_eq!(image.status(), 200, "{link}");

    let listed = chat_testkit::eventually("the community receiving", || async {
        let listed = integrations(&api).await;
        (listed[0]["health"]["receiving"] == true
            && listed[0]["health"]["last_update_at"].is_string())
        .then_some(listed)
    })
    .await;
    assert_eq!(listed[0]["health"]["healthy"], true, "{listed:?}");
    t.stop().await;
}

#[tokio::test]
async fn a_reply_goes_back_through_vk_once_even_when_vk_asks_to_slow_down() {
    let t = TestSuite::start().await;
    let (api, dialog_id) = shop_with_a_vk_person(&t).await;

    let id = reply(&api, &dialog_id, "vk", "Добрый день! Пуэр есть.").await;
    let message = delivered_or_failed(&api, &dialog_id, &id).await;
    assert_eq!(message["delivery_state"], "delivered", "{message}");
    let sent = t.vk.sent(GROUP);
    assert_eq!(sent.len(), 1, "once: {sent:?}");
    assert_eq!(sent[0]["message"], "Добрый день! Пуэр есть.");
    assert_eq!(sent[0]["peer_id"], olga().id, "to her conversation");
    let message_id = uuid::Uuid::parse_str(&id).unwrap();
    assert_eq!(
        sent[0]["random_id"],
        channel_bridge::vk::random_id(message_id),
        "random_id from the message's id"
    );

    // Too many requests per second (error 6, with HTTP 200): it waits and goes once.
    let calls_before = t.vk.send_calls(GROUP);
    t.vk.throttle(GROUP, 3);
    let id = reply(&api, &dialog_id, "vk", "И улун тоже").await;
    let message = delivered_or_failed(&api, &dialog_id, &id).await;
    assert_eq!(message["delivery_state"], "delivered", "{message}");
    assert!(
        t.vk.send_calls(GROUP) >= calls_before + 2,
        "refused at first"
    );
    let texts: Vec<Value> =
        t.vk.sent(GROUP)
            .iter()
            .map(|m| m["message"].clone())
            .collect();
    assert_eq!(
        texts,
        [json!("Добрый день! Пуэр есть."), json!("И улун тоже")]
    );
    t.stop().await;
}

#[tokio::test]
async fn a_reply_vk_refuses_shows_as_failed_with_its_reason() {
    let t = TestSuite::start().await;
    let (api, dialog_id) = shop_with_a_vk_person(&t).await;
    t.vk.deny(GROUP, olga().id);

    let id = reply(&api, &dialog_id, "vk", "Вы здесь?").await;
    let message = delivered_or_failed(&api, &dialog_id, &id).await;
    assert_eq!(message["delivery_state"], "failed", "{message}");
    let reason = message["delivery_error"].as_str().unwrap_or_default();
    assert!(reason.contains("901"), "VK's reason: {message}");
    assert!(t.vk.sent(GROUP).is_empty());
    t.stop().await;
}

#[tokio::test]
async fn with_a_public_address_vk_confirms_the_callback_and_each_event_is_stored_once() {
    let t = TestSuite::start_with(crate::helpers::Options {
        webhooks: true,
        ..Default::default()
    })
    .await;
    t.vk.make_community(GROUP, TOKEN, "Чайная лавка", CONFIRMATION);
    let shop = t.shop("Tea").await;
    let api = t.manager_api(&shop).await;

    // The Callback API needs the confirmation string and the secret.
    let (status, refused) = connect(
        &api,
        json!({"group_id": GROUP.to_string(), "access_token": TOKEN}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["fields"]["confirmation"].is_string(),
        "{refused}"
    );
    assert!(
        refused["error"]["fields"]["secret"].is_string(),
        "{refused}"
    );

    let (status, connected) = connect(
        &api,
        json!({"group_id": GROUP.to_string(), "access_token": TOKEN,
               "confirmation": CONFIRMATION, "secret": SECRET}),
    )
    .await;
    assert_eq!(status, 200, "{connected}");
    assert_eq!(connected["mode"], "webhook");
    assert_eq!(
        connected["health"]["receiving"], false,
        "VK has not confirmed yet"
    );
    let address = connected["address"]
        .as_str()
        .expect("the address to give VK")
        .to_owned();
    assert!(address.ends_with(&format!(
        "/webhooks/vk/{}",
        connected["id"].as_str().unwrap()
    )));

    // The admin gives VK the address: VK confirms it.
    t.vk.set_callback(GROUP, &address, SECRET);
    chat_testkit::eventually("VK to confirm the address", || async {
        t.vk.callback_confirmed(GROUP).then_some(())
    })
    .await;

    let event =
        t.vk.person_writes(GROUP, &olga(), "через Callback API")
            .unwrap();
    until_messages(&api, 1).await;
    // The same event again (VK retries it): stored once.
    assert!(t.vk.raw_event(GROUP, event));
    chat_testkit::eventually("both deliveries answered ok", || async {
        (t.vk.deliveries(GROUP).0 >= 2).then_some(())
    })
    .await;

    // A wrong secret is 403 and stores nothing; an unreadable body is "ok".
    let forged = json!({"type": "message_new", "group_id": GROUP, "event_id": "f0rged",
        "v": "5.199", "secret": "wrong",
        "object": {"message": {"from_id": 666, "peer_id": 666, "out": 0, "id": 0,
            "conversation_message_id": 1, "text": "forged", "date": 1}}});
    let client = reqwest::Client::new();
    let answer = client.post(&address).json(&forged).send().await.unwrap();
    assert_eq!(answer.status(), 403);
    // The console shows it: most often the shop saved a wrong secret, and
    // every message of its people is refused.
    let health = integrations(&api).await[0]["health"].clone();
    assert_eq!(health["healthy"], false, "{health}");
    assert!(
        health["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("secret key does not match")),
        "{health}"
    );
    let answer = client
        .post(&address)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "ok");

    // A later message arrives after them: nothing else was stored.
    t.vk.person_writes(GROUP, &olga(), "и ещё").unwrap();
    let dialogs = until_messages(&api, 2).await;
    assert_eq!(dialogs.len(), 1, "{dialogs:?}");
    assert_eq!(dialogs[0].1, [vk("через Callback API"), vk("и ещё")]);
    // A real event after it shows the integration working again.
    let listed = chat_testkit::eventually("healthy again", || async {
        let listed = integrations(&api).await;
        (listed[0]["health"]["healthy"] == true).then_some(listed)
    })
    .await;
    assert_eq!(listed[0]["health"]["receiving"], true, "{listed:?}");

    // The same settings saved again (a new token, say): the address is the
    // same, VK still delivers there, and nothing says otherwise.
    let (status, saved) = connect(
        &api,
        json!({"group_id": GROUP.to_string(), "access_token": TOKEN,
               "confirmation": CONFIRMATION, "secret": SECRET}),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["address"], address.as_str());
    assert_eq!(saved["health"]["receiving"], true, "{saved}");
    assert!(saved["health"]["last_update_at"].is_string(), "{saved}");
    t.stop().await;
}

#[tokio::test]
async fn bad_vk_settings_are_refused_by_field_and_a_community_has_one_shop() {
    let t = TestSuite::start().await;
    t.vk.make_community(GROUP, TOKEN, "Чайная лавка", CONFIRMATION);
    t.vk.make_community(GROUP + 1, "vk1.a.another-community", "Другая", "x");
    let shop = t.shop("Tea").await;
    let api = t.manager_api(&shop).await;

    for (body, field) in [
        (
            json!({"group_id": GROUP.to_string(), "access_token": "vk1.a.unknown"}),
            "access_token",
        ),
        (
            json!({"group_id": GROUP.to_string(), "access_token": "vk1.a.another-community"}),
            "access_token",
        ),
        (
            json!({"group_id": "tea shop", "access_token": TOKEN}),
            "group_id",
        ),
        (json!({"group_id": GROUP.to_string()}), "access_token"),
    ] {
        let (status, refused) = connect(&api, body.clone()).await;
        assert_eq!(status, 422, "{body}: {refused}");
        assert!(
            refused["error"]["fields"][field].is_string(),
            "{body}: {refused}"
        );
    }
    assert!(integrations(&api).await.is_empty(), "nothing stored");

    let (status, body) = connect(
        &api,
        json!({"group_id": GROUP.to_string(), "access_token": TOKEN}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Another shop cannot take the community.
    let other = t.shop("Other").await;
    let other_api = t.manager_api(&other).await;
    let (status, refused) = connect(
        &other_api,
        json!({"group_id": GROUP.to_string(), "access_token": TOKEN}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["fields"]["group_id"].is_string(),
        "{refused}"
    );
    assert!(integrations(&other_api).await.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn the_long_poll_goes_on_after_every_failure_vk_reports() {
    let t = TestSuite::start().await;
    let (api, _) = shop_with_a_vk_person(&t).await;
    let mut expected = vec![vk("Здравствуйте")];
    // An expired key (2) or key and ts (3): what she writes meanwhile still
    // arrives, once, in order (the bridge keeps its ts for a new key).
    for failed in [2u8, 3] {
        t.vk.fail_long_poll(GROUP, failed);
        let text = format!("во время failed {failed}");
        t.vk.person_writes(GROUP, &olga(), &text).unwrap();
        expected.push(vk(&text));
        let dialogs = until_messages(&api, expected.len()).await;
        assert_eq!(dialogs[0].1, expected, "each once, in order");
    }
    // Lost history (1): VK gives a new ts, and the shop is told what may be missing.
    let polls = t.vk.long_polls(GROUP);
    t.vk.fail_long_poll(GROUP, 1);
    chat_testkit::eventually("the failed long poll", || async {
        (t.vk.long_polls(GROUP) > polls).then_some(())
    })
    .await;
    let health = chat_testkit::eventually("the lost events in the health", || async {
        let health = integrations(&api).await[0]["health"].clone();
        health["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("VK lost some"))
            .then_some(health)
    })
    .await;
    assert_eq!(health["healthy"], false, "{health}");
    t.vk.person_writes(GROUP, &olga(), "после failed 1")
        .unwrap();
    expected.push(vk("после failed 1"));
    let dialogs = until_messages(&api, expected.len()).await;
    assert_eq!(dialogs[0].1, expected, "each once, in order");

    // A new key that fails again at once: the poll goes on from VK's own
    // ts, saying so, and what she writes after arrives.
    t.vk.fail_long_poll(GROUP, 3);
    t.vk.fail_long_poll(GROUP, 3);
    let keys = chat_testkit::eventually("the poll going on from VK's ts, said", || async {
        integrations(&api).await[0]["health"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("could not go on"))
            .then(|| t.vk.long_poll_keys_given(GROUP))
    })
    .await;
    // Written once it polls with the key it asks after a pause (before,
    // VK's ts would be past her message: the error says so).
    chat_testkit::eventually("a new key", || async {
        (t.vk.long_poll_keys_given(GROUP) > keys).then_some(())
    })
    .await;
    t.vk.person_writes(GROUP, &olga(), "после двух failed 3")
        .unwrap();
    expected.push(vk("после двух failed 3"));
    let dialogs = until_messages(&api, expected.len()).await;
    assert_eq!(dialogs[0].1, expected, "each once, in order");
    t.stop().await;
}

#[tokio::test]
async fn a_community_token_vk_stops_taking_shows_as_unhealthy() {
    let t = TestSuite::start().await;
    let (api, _) = shop_with_a_vk_person(&t).await;
    t.vk.revoke(GROUP);
    // The token check and VK's reason are recorded one after the other.
    let health = chat_testkit::eventually("the refused token in the health", || async {
        let listed = integrations(&api).await;
        let health = listed[0]["health"].clone();
        (health["token_valid"] == false && health["last_error"].is_string()).then_some(health)
    })
    .await;
    assert_eq!(health["healthy"], false, "{health}");
    let error = health["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("VK"), "{health}");
    t.stop().await;
}

/// A long-poll server behind a broken proxy: the error is shown to the shop
/// and logged, and neither says the key that rides in the poll's address.
#[tokio::test]
async fn a_failing_long_poll_shows_and_logs_no_key() {
    let t = TestSuite::start().await;
    let (api, _) = shop_with_a_vk_person(&t).await;
    t.vk.break_long_poll(GROUP, 2);
    let listed = chat_testkit::eventually("the broken long poll in the health", || async {
        let listed = integrations(&api).await;
        listed[0]["health"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("error decoding response body"))
            .then_some(listed)
    })
    .await;
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let logged = chat_platform::telemetry::test_logs();
    let logged: Vec<&str> = logged
        .lines()
        .filter(|line| line.contains(&id) && line.contains("long poll failed"))
        .collect();
    assert!(!logged.is_empty(), "the failure is logged");
    let keys = t.vk.long_poll_keys(GROUP);
    assert!(!keys.is_empty());
    for key in keys {
        let shown = serde_json::to_string(&listed).unwrap();
        assert!(!shown.contains(&key), "the key is shown: {shown}");
        assert!(
            logged.iter().all(|line| !line.contains(&key)),
            "the key is logged: {logged:?}"
        );
    }
    // The poll goes on after the proxy mends.
    t.vk.person_writes(GROUP, &olga(), "снова работает")
        .unwrap();
    until_messages(&api, 2).await;
    t.stop().await;
}
