//! Facebook Messenger through the bridge, end to end, against the fake
//! Messenger Platform: an owner connects the shop's page (the suite has a
//! public address: Facebook has no long poll), Meta verifies the webhook
//! with the verify token, people's messages arrive once in the console in
//! the order written whatever the batching, signed with the app's secret (a
//! missing or wrong signature changes nothing), and a manager's reply goes
//! out within the 24-hour window, with the human agent tag within 7 days,
//! and fails saying why beyond.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    Options, TestSuite, delivered_or_failed, integrations, reply, until_messages,
};
use chat_fakes::facebook::{Person, Signing};
use chat_testkit::clients::Api;

pub(crate) const PAGE: &str = "104200300400";
const TOKEN: &str = "EAAB-tea-shop-page-token";
const APP_SECRET: &str = "tea-shop-app-secret";
const VERIFY: &str = "tea-shop-verify-word";

pub(crate) fn maria() -> Person {
    Person {
        psid: "6100200300".into(),
        first_name: "Мария".into(),
        last_name: "Иванова".into(),
    }
}

fn facebook(text: &str) -> (String, String) {
    (text.to_owned(), "facebook".to_owned())
}

pub(crate) async fn start() -> TestSuite {
    let t = TestSuite::start_with(Options {
        webhooks: true,
        ..Default::default()
    })
    .await;
    t.facebook
        .make_page(PAGE, TOKEN, APP_SECRET, "Чайная лавка");
    t
}

fn credentials() -> Value {
    json!({"page_id": PAGE, "page_access_token": TOKEN, "app_secret": APP_SECRET,
           "verify_token": VERIFY})
}

/// A shop with the page connected and its webhook verified by Meta.
pub(crate) async fn shop_with_the_page(t: &TestSuite) -> Api {
    let shop = t.shop("Tea").await;
    let api = t.manager_api(&shop).await;
    let (status, connected) = api
        .put("/api/v1/integrations/facebook", credentials())
        .await;
    assert_eq!(status, 200, "{connected}");
    let address = connected["address"].as_str().expect("the callback address");
    t.facebook
        .subscribe(PAGE, address, VERIFY)
        .await
        .expect("Meta verifies the webhook");
    api
}

/// A shop whose page a person wrote to, and the dialog that opened.
async fn shop_with_a_person(t: &TestSuite) -> (Api, String) {
    let api = shop_with_the_page(t).await;
    t.facebook
        .person_writes(PAGE, &maria(), "Здравствуйте")
        .unwrap();
    let dialogs = until_messages(&api, 1).await;
    (api, dialogs[0].0["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn an_owner_connects_a_page_meta_verifies_it_and_its_people_write() {
    let t = start().await;
    let shop = t.shop("Tea").await;
    let api = t.manager_api(&shop).await;

    for (body, field) in [
        (
            json!({"page_id": PAGE, "page_access_token": "EAAB-unknown", "app_secret": "s",
                "verify_token": "v"}),
            "page_access_token",
        ),
        (
            json!({"page_id": "my page", "page_access_token": TOKEN, "app_secret": "s",
                "verify_token": "v"}),
            "page_id",
        ),
        (
            json!({"page_id": PAGE, "page_access_token": TOKEN}),
            "app_secret",
        ),
    ] {
        let (status, refused) = api.put("/api/v1/integrations/facebook", body.clone()).await;
        assert_eq!(status, 422, "{body}: {refused}");
        assert!(
            refused["error"]["fields"][field].is_string(),
            "{body}: {refused}"
        );
    }
    assert!(integrations(&api).await.is_empty(), "nothing stored");

    let (status, connected) = api
        .put("/api/v1/integrations/facebook", credentials())
        .await;
    assert_eq!(status, 200, "{connected}");
    assert_eq!(connected["name"], "Чайная лавка");
    assert_eq!(connected["mode"], "webhook");
    assert_eq!(
        connected["health"]["receiving"], false,
        "Meta has not verified it yet"
    );
    for secret in [TOKEN, APP_SECRET, VERIFY] {
        assert!(!connected.to_string().contains(secret), "{connected}");
    }
    let address = connected["address"].as_str().unwrap().to_owned();

    // A wrong verify token is refused; the right one is answered with the challenge.
    assert!(t.facebook.subscribe(PAGE, &address, "guess").await.is_err());
    t.facebook
        .subscribe(PAGE, &address, VERIFY)
        .await
        .expect("verified");
    assert_eq!(integrations(&api).await[0]["health"]["receiving"], true);

    t.facebook
        .person_writes(PAGE, &maria(), "Привет! Есть ли улун? 🍵")
        .unwrap();
    t.facebook.person_sends_image(PAGE, &maria()).unwrap();
    let dialogs = until_messages(&api, 2).await;
    let (dialog, messages) = &dialogs[0];
    assert_eq!(dialog["contact_name"], "Мария Иванова", "from her profile");
    assert_eq!(messages[0], facebook("Привет! Есть ли улун? 🍵"));
    let link = messages[1]
        .0
        .strip_prefix("[photo] ")
        .unwrap_or_else(|| panic!("an image as a link: {messages:?}"));
    assert_eq!(reqwest::get(link).await.unwrap().status(), 200, "{link}");
    t.stop().await;
}

#[tokio::test]
async fn a_batch_is_stored_in_the_order_written_once_and_only_when_signed() {
    let t = start().await;
    let (api, _) = shop_with_a_person(&t).await;
    let address = integrations(&api).await[0]["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = |mid: &str, at: i64, text: &str| {
        json!({"sender": {"id": maria().psid}, "recipient": {"id": PAGE}, "timestamp": at,
               "message": {"mid": mid, "text": text}})
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let batch = json!({"object": "page", "entry": [
        {"id": PAGE, "time": now, "messaging": [
            item("m_b2", now + 2, "второе"),
            {"sender": {"id": PAGE}, "recipient": {"id": maria().psid}, "timestamp": now,
             "message": {"mid": "m_echo", "is_echo": true, "app_id": 1, "text": "наше"}},
            {"sender": {"id": maria().psid}, "recipient": {"id": PAGE}, "timestamp": now,
             "read": {"watermark": now}}]},
        {"id": PAGE, "time": now, "messaging": [item("m_b1", now + 1, "первое")]}]});

    // Unsigned, or signed with another secret: 403, nothing stored.
    let body = chat_fakes::facebook::meta_json(&batch);
    let client = reqwest::Client::new();
    for signature in [
        None,
        Some(chat_fakes::facebook::signature("not-the-secret", &body)),
    ] {
        let mut post = client
            .post(&address)
            .header("content-type", "application/json");
        if let Some(signature) = signature {
            post = post.header("X-Hub-Signature-256", signature);
        }
        let answer = post.body(body.clone()).send().await.unwrap();
        assert_eq!(answer.status(), 403);
    }
    // The console shows it: most often the shop saved a wrong app secret,
    // and every message of its people is refused.
    let health = integrations(&api).await[0]["health"].clone();
    assert_eq!(health["healthy"], false, "{health}");
    assert!(
        health["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("does not match the app secret")),
        "{health}"
    );
    // Signed, twice (Meta sends it again): each message once, in order.
    let delivered = t.facebook.deliveries(PAGE).0;
    assert!(t.facebook.raw_post(PAGE, batch.clone(), Signing::Right));
    assert!(t.facebook.raw_post(PAGE, batch, Signing::Right));
    chat_testkit::eventually("both POSTs answered", || async {
        (t.facebook.deliveries(PAGE).0 >= delivered + 2).then_some(())
    })
    .await;
    t.facebook.person_writes(PAGE, &maria(), "третье").unwrap();
    let dialogs = until_messages(&api, 4).await;
    assert_eq!(
        dialogs[0].1,
        [
            facebook("Здравствуйте"),
            facebook("первое"),
            facebook("второе"),
            facebook("третье")
        ]
    );
    // Signed deliveries after it show the page working again.
    chat_testkit::eventually("healthy again", || async {
        let listed = integrations(&api).await;
        (listed[0]["health"]["healthy"] == true).then_some(())
    })
    .await;
    t.stop().await;
}

#[tokio::test]
async fn a_reply_goes_out_within_the_window_with_the_human_agent_tag_after_a_day_and_not_after_a_week()
 {
    let t = start().await;
    let (api, dialog_id) = shop_with_a_person(&t).await;

    let id = reply(&api, &dialog_id, "facebook", "Добрый день! Улун есть.").await;
    let message = delivered_or_failed(&api, &dialog_id, &id).await;
    assert_eq!(message["delivery_state"], "delivered", "{message}");
    let sent = t.facebook.sent(PAGE);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["recipient_id"], maria().psid);
    assert_eq!(sent[0]["messaging_type"], "RESPONSE");

    // Three days on: only with the human agent tag.
    t.facebook
        .set_last_message_age(PAGE, &maria().psid, Duration::from_secs(3 * 86_400));
    let id = reply(&api, &dialog_id, "facebook", "Вы ещё здесь?").await;
    let message = delivered_or_failed(&api, &dialog_id, &id).await;
    assert_eq!(message["delivery_state"], "delivered", "{message}");
    let sent = t.facebook.sent(PAGE);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1]["messaging_type"], "MESSAGE_TAG");
    assert_eq!(sent[1]["tag"], "HUMAN_AGENT");

    // Eight days on: Facebook takes nothing, and the manager is told why.
    t.facebook
        .set_last_message_age(PAGE, &maria().psid, Duration::from_secs(8 * 86_400));
    let id = reply(&api, &dialog_id, "facebook", "Ау?").await;
    let message = delivered_or_failed(&api, &dialog_id, &id).await;
    assert_eq!(message["delivery_state"], "failed", "{message}");
    let reason = message["delivery_error"].as_str().unwrap_or_default();
    assert!(reason.contains("7 days"), "{message}");
    assert_eq!(t.facebook.sent(PAGE).len(), 2);
    t.stop().await;
}

#[tokio::test]
async fn a_throttled_reply_goes_once_and_an_unavailable_person_shows_as_failed() {
    let t = start().await;
    let (api, dialog_id) = shop_with_a_person(&t).await;

    let calls = t.facebook.send_calls(PAGE);
    t.facebook.throttle(PAGE, 2, 613);
    let id = reply(&api, &dialog_id, "facebook", "Минутку").await;
    let message = delivered_or_failed(&api, &dialog_id, &id).await;
    assert_eq!(message["delivery_state"], "delivered", "{message}");
    assert!(
        t.facebook.send_calls(PAGE) >= calls + 3,
        "refused twice first"
    );
    assert_eq!(t.facebook.sent(PAGE).len(), 1, "once");

    t.facebook.make_unavailable(PAGE, &maria().psid);
    let id = reply(&api, &dialog_id, "facebook", "Вы здесь?").await;
    let message = delivered_or_failed(&api, &dialog_id, &id).await;
    assert_eq!(message["delivery_state"], "failed", "{message}");
    assert!(
        message["delivery_error"]
            .as_str()
            .unwrap_or_default()
            .contains("551"),
        "{message}"
    );
    t.stop().await;
}

#[tokio::test]
async fn without_a_public_address_a_page_cannot_connect() {
    let t = TestSuite::start().await;
    t.facebook
        .make_page(PAGE, TOKEN, APP_SECRET, "Чайная лавка");
    let shop = t.shop("Tea").await;
    let api = t.manager_api(&shop).await;
    let (status, refused) = api
        .put("/api/v1/integrations/facebook", credentials())
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("public address"),
        "{refused}"
    );
    assert!(integrations(&api).await.is_empty());
    t.stop().await;
}
