//! E-mail to managers who are away, across the suite: the gateway tells the
//! notification service who its managers are, a visitor's message to a
//! manager without an open console becomes an e-mail in a real SMTP server
//! (MailDev), Settings → Notifications turns it off and on, owners sign the
//! shop's e-mails, and one shop never reaches another's settings.

use serde_json::json;

use chat_testkit::clients::{Api, Socket};
use chat_testkit::mail::MailCatcher;

use crate::helpers::{Options, TestSuite, client_id};

async fn suite_with_mail() -> (TestSuite, MailCatcher) {
    let mail = MailCatcher::start().await;
    let suite = TestSuite::start_with(Options {
        smtp_url: Some(mail.smtp_url()),
        ..Options::default()
    })
    .await;
    (suite, mail)
}

async fn visitor_says(suite: &TestSuite, site_key: &str, visitor: &str, text: &str) {
    let mut socket = Socket::visitor(suite.port, site_key, visitor, None).await;
    socket
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": text}))
        .await;
    socket.wait_for_type("ack").await;
}

#[tokio::test]
async fn a_manager_without_the_console_open_gets_the_visitors_message_by_email() {
    let (suite, mail) = suite_with_mail().await;
    let shop = suite.shop("Tea House").await;
    let api = suite.manager_api(&shop).await;
    let (status, preferences) = api.get("/api/v1/me/notifications").await;
    assert_eq!(status, 200, "{preferences}");
    assert_eq!(preferences["email"], true);
    assert_eq!(preferences["push"], true);

    visitor_says(&suite, &shop.site_key, "visitor-1", "Do you ship to Kazan?").await;
    let mails = mail.wait_for(1).await;
    assert_eq!(mails[0].to, vec![shop.email.clone()]);
    assert!(
        mails[0].subject.ends_with("wrote to Tea House"),
        "{}",
        mails[0].subject
    );
    assert!(mails[0].text.contains("Do you ship to Kazan?"));
    let dialog_id = suite.only_dialog(&api).await;
    let link = format!(
        "http://127.0.0.1:{}/console/#/dialogs/{dialog_id}",
        suite.port
    );
    assert!(mails[0].text.contains(&link), "{}", mails[0].text);
    // The settings now know where e-mails go.
    let (_, preferences) = api.get("/api/v1/me/notifications").await;
    assert_eq!(preferences["email_address"], shop.email.as_str());

    // Off: the next message is not e-mailed; on again: the one after is,
    // alone (had the first gone, it would have come before it).
    let (status, off) = api
        .patch("/api/v1/me/notifications", json!({"email": false}))
        .await;
    assert_eq!(
        (status, &off["email"], &off["push"]),
        (200, &json!(false), &json!(true))
    );
    visitor_says(&suite, &shop.site_key, "visitor-1", "while e-mail is off").await;
    let settled = async {
        // The window (1 s) and a sweep pass before it is switched back on.
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    };
    settled.await;
    let (status, _) = api
        .patch("/api/v1/me/notifications", json!({"email": true}))
        .await;
    assert_eq!(status, 200);
    visitor_says(&suite, &shop.site_key, "visitor-1", "and now?").await;
    let mails = mail.wait_for(2).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails[1].text.contains("and now?"));
    assert!(!mails[1].text.contains("while e-mail is off"));
    suite.stop().await;
}

#[tokio::test]
async fn a_manager_with_the_console_open_gets_no_email() {
    let (suite, mail) = suite_with_mail().await;
    let shop = suite.shop("Open Console").await;
    let api = suite.manager_api(&shop).await;
    let token = api.token.clone().expect("a bearer token");
    let mut console = Socket::manager(suite.port, &token).await;
    console.wait_for_type("hello").await;
    visitor_says(&suite, &shop.site_key, "visitor-2", "seen live").await;
    console.wait_for_type("message").await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    drop(console);
    // Away now: the next message is e-mailed, and it is the only e-mail.
    visitor_says(&suite, &shop.site_key, "visitor-2", "after closing").await;
    let mails = mail.wait_for(1).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].text.contains("after closing"));
    assert!(!mails[0].text.contains("seen live"));
    suite.stop().await;
}

#[tokio::test]
async fn owners_sign_the_shops_emails_and_nobody_else_may() {
    let (suite, mail) = suite_with_mail().await;
    let shop = suite.shop("Signed Shop").await;
    let owner = suite.manager_api(&shop).await;
    let colleague_email = suite.colleague(&shop, "Pavel", "manager").await;
    let colleague = Api::login(suite.port, &colleague_email, &shop.password).await;

    let (status, body) = colleague.get("/api/v1/account/mail").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("forbidden")),
        "{body}"
    );
    let (status, _) = colleague
        .patch("/api/v1/account/mail", json!({"sender_name": "Hijack"}))
        .await;
    assert_eq!(status, 403);

    let (status, body) = owner
        .patch(
            "/api/v1/account/mail",
            json!({"sender_name": "Line\r\nBcc: x@y.example", "reply_to": "not an address"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["sender_name"].is_string(), "{body}");
    assert!(body["error"]["fields"]["reply_to"].is_string(), "{body}");
    let (_, unchanged) = owner.get("/api/v1/account/mail").await;
    assert_eq!(unchanged, json!({"sender_name": "", "reply_to": ""}));

    let (status, body) = owner
        .patch(
            "/api/v1/account/mail",
            json!({"sender_name": "Signed Shop support", "reply_to": "help@signed.example"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sender_name"], "Signed Shop support");

    // Another shop's owner sees their own, untouched by this one.
    let other = suite.shop("Other Shop").await;
    let other_owner = suite.manager_api(&other).await;
    let (status, theirs) = other_owner.get("/api/v1/account/mail").await;
    assert_eq!(
        (status, theirs),
        (200, json!({"sender_name": "", "reply_to": ""}))
    );
    let (_, off) = other_owner
        .patch("/api/v1/me/notifications", json!({"email": false}))
        .await;
    assert_eq!(off["email"], false);
    let (_, mine) = owner.get("/api/v1/me/notifications").await;
    assert_eq!(mine["email"], true);

    // The alert to the colleague... is to every manager: the dialog has none.
    visitor_says(&suite, &shop.site_key, "visitor-3", "who signs this?").await;
    let mails = mail.wait_for(2).await;
    let from = mails[0].header("From").expect("a From header");
    assert!(from.contains("Signed Shop support"), "{from}");
    let mut to: Vec<String> = mails.iter().map(|m| m.to[0].clone()).collect();
    to.sort();
    let mut managers = vec![shop.email.clone(), colleague_email.clone()];
    managers.sort();
    assert_eq!(to, managers);

    let (status, body) = owner
        .patch("/api/v1/me/notifications", json!({"email": "yes"}))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("invalid")),
        "{body}"
    );
    suite.stop().await;
}
