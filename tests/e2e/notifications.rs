//! E-mail across the suite, into a real SMTP server (MailDev): the gateway
//! tells the notification service who its managers are, a visitor's message
//! to a manager without an open console becomes an e-mail, Settings →
//! Notifications turns it off and on, owners sign the shop's e-mails, one
//! shop never reaches another's settings; and a manager's reply reaches a
//! visitor who left by e-mail (or by choice), and says so on the message.

use serde_json::{Value, json};

use chat_testkit::clients::{Api, Socket};
use chat_testkit::mail::MailCatcher;

use crate::helpers::{Options, TestSuite, client_id, reply, until_messages, widget_settings};

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

/// The address between the angle brackets of a `List-Unsubscribe` header.
fn unsubscribe_link(header: &str) -> String {
    header
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

#[tokio::test]
async fn one_click_unsubscribe_turns_off_that_managers_alert_emails_only() {
    let (suite, mail) = suite_with_mail().await;
    let shop = suite.shop("One Click").await;
    let api = suite.manager_api(&shop).await;
    let colleague_email = suite.colleague(&shop, "Pavel", "manager").await;
    let colleague = Api::login(suite.port, &colleague_email, &shop.password).await;

    visitor_says(&suite, &shop.site_key, "visitor-7", "first").await;
    let mails = mail.wait_for(2).await;
    let to_owner = mails
        .iter()
        .find(|m| m.to == vec![shop.email.clone()])
        .expect("the owner's alert");
    assert_eq!(
        to_owner.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    let link = unsubscribe_link(to_owner.header("List-Unsubscribe").expect("a link"));
    let base = format!("http://127.0.0.1:{}/api/v1/unsubscribe/", suite.port);
    assert!(link.starts_with(&base), "{link}");

    // Opening it changes nothing: it leads to the console's page, which asks.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let opened = http.get(&link).send().await.expect("the link answers");
    assert_eq!(opened.status(), 303);
    let token = link.trim_start_matches(&base);
    assert_eq!(
        opened.headers()["location"],
        format!("../../../console/#/unsubscribe/{token}").as_str()
    );
    let (_, still) = api.get("/api/v1/me/notifications").await;
    assert_eq!(still["email"], true, "a GET unsubscribes nobody");

    // A made-up token, or none at all, is not found and changes nothing.
    for wrong in [
        format!("{base}{}", uuid::Uuid::new_v4()),
        format!("{base}not-a-token"),
    ] {
        let answer = http.post(&wrong).send().await.expect("an answer");
        assert_eq!(answer.status(), 404, "{wrong}");
    }

    // The mail program's one-click POST, without any session.
    let posted = http
        .post(&link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("the unsubscribe answers");
    assert_eq!(posted.status(), 200);
    let body: Value = posted.json().await.expect("json");
    assert_eq!(body["email_address"], shop.email.as_str());
    let (_, off) = api.get("/api/v1/me/notifications").await;
    assert_eq!((&off["email"], &off["push"]), (&json!(false), &json!(true)));
    let (_, theirs) = colleague.get("/api/v1/me/notifications").await;
    assert_eq!(theirs["email"], true, "the colleague's alerts stay on");

    // The next messages are e-mailed to the colleague alone: by the time
    // the later one has come, the owner's would have.
    visitor_says(&suite, &shop.site_key, "visitor-8", "second").await;
    chat_testkit::eventually("the colleague's alert of the second", || async {
        let theirs = mail.mails_to(&colleague_email).await;
        theirs
            .iter()
            .any(|m| m.text.contains("second"))
            .then_some(())
    })
    .await;
    visitor_says(&suite, &shop.site_key, "visitor-9", "third").await;
    chat_testkit::eventually("the colleague's alert of the third", || async {
        let theirs = mail.mails_to(&colleague_email).await;
        theirs
            .iter()
            .any(|m| m.text.contains("third"))
            .then_some(())
    })
    .await;
    assert_eq!(mail.mails_to(&shop.email).await.len(), 1, "only the first");
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
    assert_eq!(
        unchanged,
        json!({"sender_name": "", "reply_to": "", "shop_url": ""})
    );

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
        (
            200,
            json!({"sender_name": "", "reply_to": "", "shop_url": ""})
        )
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

/// A visitor on a page of the shop (as the widget says first on every
/// page), who said who they are (name, e-mail) and wrote; their socket,
/// still open.
pub(crate) async fn identified_visitor(
    suite: &TestSuite,
    site_key: &str,
    email: &str,
    text: &str,
) -> Socket {
    let mut socket = Socket::visitor(suite.port, site_key, &client_id(), None).await;
    socket
        .send_json(
            json!({"type": "page", "url": "https://shop.example/jackets", "title": "Jackets",
            "referrer": "", "visit_started_at": "2026-12-06T10:00:00Z", "pages_seen": 1,
            "page_view_id": client_id()}),
        )
        .await;
    socket
        .send_json(json!({"type": "identify", "name": "Olga", "email": email}))
        .await;
    socket.wait_for_type("identified").await;
    socket
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": text}))
        .await;
    socket.wait_for_type("ack").await;
    socket
}

/// The message's delivery state once it is `wanted`.
pub(crate) async fn delivery_becomes(
    api: &Api,
    dialog_id: &str,
    message_id: &str,
    wanted: &str,
) -> Value {
    chat_testkit::eventually(&format!("the reply {wanted}"), || async {
        let (_, page) = api
            .get(&format!("/api/v1/dialogs/{dialog_id}/messages?limit=50"))
            .await;
        let message = page["messages"]
            .as_array()?
            .iter()
            .find(|m| m["id"] == message_id)?
            .clone();
        (message["delivery_state"] == wanted).then_some(message)
    })
    .await
}

#[tokio::test]
async fn a_shop_whose_widget_speaks_russian_emails_its_visitors_in_russian() {
    let (suite, mail) = suite_with_mail().await;
    let shop = suite.shop("Чайная").await;
    let api = suite.manager_api(&shop).await;
    let mut russian = widget_settings(&api).await;
    russian["language"] = "ru".into();
    let (status, saved) = api.put("/api/v1/widget/settings", russian).await;
    assert_eq!(
        (status, saved["language"].as_str()),
        (200, Some("ru")),
        "{saved}"
    );

    let visitor = identified_visitor(
        &suite,
        &shop.site_key,
        "olga@buyer.example",
        "Есть размер M?",
    )
    .await;
    until_messages(&api, 1).await;
    let dialog_id = suite.only_dialog(&api).await;
    drop(visitor);
    // The shop's language reaches the notification service with the managers' announcements.
    let emailed = reply(&api, &dialog_id, "site", "Да, есть.").await;
    delivery_becomes(&api, &dialog_id, &emailed, "emailed").await;
    let to_her = mail.mails_to("olga@buyer.example").await;
    assert_eq!(
        to_her[0].subject, "Manager из магазина «Чайная» ответил(а) вам",
        "{:?}",
        to_her[0]
    );
    assert!(
        to_her[0].text.contains("Вы: Есть размер M?"),
        "{}",
        to_her[0].text
    );
    suite.stop().await;
}

#[tokio::test]
async fn a_visitor_who_left_gets_the_reply_by_email_and_one_who_stayed_sees_it() {
    let (suite, mail) = suite_with_mail().await;
    let shop = suite.shop("Jacket Shop").await;
    let api = suite.manager_api(&shop).await;
    let (status, _) = api
        .patch(
            "/api/v1/account/mail",
            json!({"shop_url": "https://jackets.example/"}),
        )
        .await;
    assert_eq!(status, 200);

    // She stays: the reply is delivered in the chat, and nobody e-mails her.
    let mut staying =
        identified_visitor(&suite, &shop.site_key, "olga@buyer.example", "Size M?").await;
    until_messages(&api, 1).await;
    let dialog_id = suite.only_dialog(&api).await;
    let seen = reply(&api, &dialog_id, "site", "Yes, M is in stock.").await;
    staying.wait_for_type("message").await;
    delivery_becomes(&api, &dialog_id, &seen, "delivered").await;

    // She leaves: the next reply goes to her by e-mail, with the conversation.
    drop(staying);
    let emailed = reply(
        &api,
        &dialog_id,
        "site",
        "We can also <b>hold</b> it for you.",
    )
    .await;
    let message = delivery_becomes(&api, &dialog_id, &emailed, "emailed").await;
    assert_eq!(message["channel"], "site");
    let to_her = mail.mails_to("olga@buyer.example").await;
    assert_eq!(
        to_her.len(),
        1,
        "one e-mail, and none for the reply she saw: {to_her:?}"
    );
    let email = &to_her[0];
    assert_eq!(email.subject, "Manager from Jacket Shop answered you");
    assert!(email.text.contains("We can also <b>hold</b> it for you."));
    assert!(email.text.contains("You: Size M?"), "{}", email.text);
    assert!(
        email.text.contains("Manager: Yes, M is in stock."),
        "{}",
        email.text
    );
    assert!(email.text.contains("https://jackets.example/"));
    assert!(email.html.contains("&#60;b&#62;hold&#60;/b&#62;"));
    assert!(!email.html.contains("<b>hold</b>"));

    // A second reply later answers the first e-mail (one thread in her mail).
    let again = reply(&api, &dialog_id, "site", "It is held until Friday.").await;
    delivery_becomes(&api, &dialog_id, &again, "emailed").await;
    let to_her = mail.mails_to("olga@buyer.example").await;
    assert_eq!(to_her.len(), 2);
    let first_id = to_her[0]
        .header("Message-ID")
        .expect("a Message-ID")
        .to_owned();
    assert_eq!(to_her[1].header("In-Reply-To"), Some(first_id.as_str()));
    let (news, history) = to_her[1]
        .text
        .split_once("--- Your conversation ---")
        .expect("the conversation below the reply");
    assert!(news.contains("It is held until Friday."), "{news}");
    assert!(
        !news.contains("We can also"),
        "only the new reply on top: {news}"
    );
    assert!(
        history.contains("We can also <b>hold</b> it for you."),
        "{history}"
    );
    suite.stop().await;
}

#[tokio::test]
async fn email_is_a_reply_channel_while_the_contacts_address_is_known() {
    let (suite, mail) = suite_with_mail().await;
    let shop = suite.shop("Mail Channel").await;
    let api = suite.manager_api(&shop).await;

    // No address yet: e-mail is not offered, and choosing it is refused.
    visitor_says(&suite, &shop.site_key, "anonymous", "hello").await;
    let anonymous_dialog = suite.only_dialog(&api).await;
    let (_, dialog) = api
        .get(&format!("/api/v1/dialogs/{anonymous_dialog}"))
        .await;
    assert_eq!(dialog["channels"], json!(["site"]), "{dialog}");
    let (status, body) = api
        .post(
            &format!("/api/v1/dialogs/{anonymous_dialog}/messages"),
            json!({"client_message_id": client_id(), "text": "by mail?", "channel": "email"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");

    // With an address, a manager answers by e-mail though she is online.
    let _online =
        identified_visitor(&suite, &shop.site_key, "pavel@buyer.example", "mail me").await;
    let dialog_id = chat_testkit::eventually("her dialog with e-mail offered", || async {
        let (_, page) = api.get("/api/v1/dialogs").await;
        page["dialogs"].as_array()?.iter().find_map(|d| {
            (d["id"] != anonymous_dialog.as_str() && d["channels"] == json!(["site", "email"]))
                .then(|| d["id"].as_str().map(str::to_owned))
                .flatten()
        })
    })
    .await;
    let by_mail = reply_through(
        &api,
        &dialog_id,
        "email",
        "The invoice is attached in spirit.",
    )
    .await;
    let message = delivery_becomes(&api, &dialog_id, &by_mail, "delivered").await;
    assert_eq!(message["channel"], "email");
    let to_him = mail.mails_to("pavel@buyer.example").await;
    assert_eq!(to_him.len(), 1);
    assert!(
        to_him[0]
            .text
            .contains("The invoice is attached in spirit.")
    );
    suite.stop().await;
}

/// A manager's reply through the channel they chose; its id.
async fn reply_through(api: &Api, dialog_id: &str, channel: &str, text: &str) -> String {
    let (status, posted) = api
        .post(
            &format!("/api/v1/dialogs/{dialog_id}/messages"),
            json!({"client_message_id": client_id(), "text": text, "channel": channel}),
        )
        .await;
    assert_eq!(status, 201, "{posted}");
    assert_eq!(posted["message"]["channel"], channel, "{posted}");
    posted["message"]["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn an_invited_manager_gets_the_link_by_email() {
    let (suite, mail) = suite_with_mail().await;
    let shop = suite.shop("Invite Shop").await;
    let owner = suite.manager_api(&shop).await;
    let (status, added) = owner
        .post(
            "/api/v1/managers",
            json!({"email": "newbie@invite.example", "name": "Newbie", "role": "manager"}),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["invitation_emailed"], true);
    let link = added["invitation_url"].as_str().expect("a link").to_owned();
    let mails = mail.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["newbie@invite.example".to_owned()]);
    assert_eq!(
        mails[0].subject,
        "Manager invited you to answer Invite Shop's chat"
    );
    assert!(mails[0].text.contains(&link), "{}", mails[0].text);
    suite.stop().await;
}

/// The token of the link in an e-mail (`.../#/reset/<token>`).
fn reset_token(text: &str) -> String {
    let start = text.find("#/reset/").expect("a reset link") + "#/reset/".len();
    text[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

#[tokio::test]
async fn forgot_password_emails_a_one_time_link_that_ends_every_session() {
    let (suite, mail) = suite_with_mail().await;
    let shop = suite.shop("Reset Shop").await;
    let signed_in = suite.manager_api(&shop).await;
    let anonymous = Api::new(suite.port);

    // Known or not, the answer is the same.
    let (known_status, known) = anonymous
        .post(
            "/api/v1/auth/password-reset",
            json!({"email": shop.email.to_uppercase()}),
        )
        .await;
    let (unknown_status, unknown) = anonymous
        .post(
            "/api/v1/auth/password-reset",
            json!({"email": "nobody@reset.example"}),
        )
        .await;
    assert_eq!((known_status, &known), (unknown_status, &unknown));
    assert_eq!(known_status, 202);
    let mails = mail.wait_for(1).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, vec![shop.email.clone()]);
    assert_eq!(mails[0].subject, "A new password for Reset Shop's chat");
    let token = reset_token(&mails[0].text);
    assert_eq!(token.len(), 64, "{}", mails[0].text);

    let (status, body) = anonymous
        .post(
            "/api/v1/auth/password-reset/confirm",
            json!({"token": token, "password": "short"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = anonymous
        .post(
            "/api/v1/auth/password-reset/confirm",
            json!({"token": "0".repeat(64), "password": "a brand new password"}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("not_found")),
        "{body}"
    );

    let (status, body) = anonymous
        .post(
            "/api/v1/auth/password-reset/confirm",
            json!({"token": token, "password": "a brand new password"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    // Every session ended; the new password signs in; the link is spent.
    let (status, _) = signed_in.get("/api/v1/me").await;
    assert_eq!(status, 401);
    let again = Api::login(suite.port, &shop.email, "a brand new password").await;
    let (status, _) = again.get("/api/v1/me").await;
    assert_eq!(status, 200);
    let (status, _) = anonymous
        .post(
            "/api/v1/auth/password-reset/confirm",
            json!({"token": token, "password": "yet another password"}),
        )
        .await;
    assert_eq!(status, 404);
    suite.stop().await;
}

#[tokio::test]
async fn files_attached_to_an_answer_open_in_the_console_of_that_shop_only() {
    let (suite, mail) = suite_with_mail().await;
    let shop = suite.shop("Photo Shop").await;
    let api = suite.manager_api(&shop).await;
    let visitor = identified_visitor(
        &suite,
        &shop.site_key,
        "ivan@buyer.example",
        "The lamp came broken.",
    )
    .await;
    until_messages(&api, 1).await;
    let dialog_id = suite.only_dialog(&api).await;
    drop(visitor);
    let emailed = reply(&api, &dialog_id, "site", "Sorry! Send a photo?").await;
    delivery_becomes(&api, &dialog_id, &emailed, "emailed").await;
    let reply_address = mail.mails_to("ivan@buyer.example").await[0]
        .header("Reply-To")
        .expect("a Reply-To")
        .trim_matches(['<', '>'])
        .to_owned();

    // A photo and a receipt, beside a line of text.
    let photo: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&photo);
    let answer = format!(
        "From: Ivan <ivan@buyer.example>\r\nTo: {reply_address}\r\nSubject: Re: photo\r\n\
         Message-ID: <photo-1@buyer.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"M\"\r\n\r\n\
         --M\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere it is.\r\n\
         --M\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"lamp photo.png\"\r\n\r\n{encoded}\r\n\
         --M\r\nContent-Type: application/pdf\r\n\
         Content-Disposition: attachment; filename=\"receipt.pdf\"\r\n\r\n%PDF-1.4 receipt\r\n\
         --M--\r\n"
    );
    smtp_deliver(&suite, "ivan@buyer.example", &reply_address, &answer)
        .await
        .expect("taken");
    let posted = chat_testkit::eventually("his answer with its files", || async {
        let (messages, _) = thread(&api, &dialog_id).await;
        messages
            .into_iter()
            .find(|m| m["channel"] == "email" && m["author_kind"] == "visitor")
    })
    .await;
    let text = posted["text"].as_str().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], "Here it is.");
    let link = |line: &str| {
        line.strip_prefix("[file] ")
            .expect("a file line")
            .to_owned()
    };
    let (photo_link, receipt_link) = (link(lines[1]), link(lines[2]));
    assert!(
        photo_link.starts_with("/api/v1/files/email/"),
        "{photo_link}"
    );
    assert!(
        photo_link.ends_with("?name=lamp%20photo.png"),
        "{photo_link}"
    );

    let (status, headers, bytes) = api.get_bytes(&photo_link).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, photo);
    assert_eq!(headers["content-type"], "image/png");
    let (status, headers, bytes) = api.get_bytes(&receipt_link).await;
    assert_eq!(
        (status, bytes.as_slice()),
        (200, b"%PDF-1.4 receipt".as_slice())
    );
    assert_eq!(
        headers["content-type"], "application/octet-stream",
        "saved, never shown"
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );

    // Another shop's manager, holding the link, gets nothing.
    let other_shop = suite.shop("Other Photo Shop").await;
    let other = suite.manager_api(&other_shop).await;
    let (status, _, _) = other.get_bytes(&photo_link).await;
    assert_eq!(status, 404);
    // The same e-mail delivered again keeps its files once: the same links.
    smtp_deliver(&suite, "ivan@buyer.example", &reply_address, &answer)
        .await
        .expect("taken");
    let (messages, _) = thread(&api, &dialog_id).await;
    let from_him: Vec<_> = messages
        .iter()
        .filter(|m| m["channel"] == "email" && m["author_kind"] == "visitor")
        .collect();
    assert_eq!(from_him.len(), 1, "{messages:?}");
    suite.stop().await;
}

#[tokio::test]
async fn a_bounce_fails_the_reply_its_email_carried() {
    let (suite, mail) = suite_with_mail().await;
    let shop = suite.shop("Bounce Shop").await;
    let api = suite.manager_api(&shop).await;
    let visitor = identified_visitor(&suite, &shop.site_key, "gone@buyer.example", "Hello?").await;
    until_messages(&api, 1).await;
    let dialog_id = suite.only_dialog(&api).await;
    drop(visitor);
    let emailed = reply(&api, &dialog_id, "site", "Hello! How can I help?").await;
    delivery_becomes(&api, &dialog_id, &emailed, "emailed").await;
    let to_her = mail.mails_to("gone@buyer.example").await;
    let bounce_address = to_her[0].envelope_from.clone();
    assert!(
        bounce_address.starts_with("bounce+")
            && bounce_address.ends_with(&format!("@{}", crate::helpers::INBOUND_DOMAIN)),
        "the envelope sender is the e-mail's bounce address: {bounce_address}"
    );
    let subject = to_her[0].subject.clone();

    // Her mail server delays first (nothing changes), then gives up.
    for (action, status) in [("delayed", "4.4.1"), ("failed", "5.1.1")] {
        let report = format!(
            "From: Mail Delivery System <mailer-daemon@mx.buyer.example>\r\nTo: {bounce_address}\r\n\
             Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-{action}@mx.buyer.example>\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"R\"\r\n\r\n\
             --R\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n\
             --R\r\nContent-Type: message/delivery-status\r\n\r\n\
             Reporting-MTA: dns; mx.buyer.example\r\n\r\n\
             Final-Recipient: rfc822; gone@buyer.example\r\nAction: {action}\r\nStatus: {status}\r\n\
             Diagnostic-Code: smtp; 550 5.1.1 <gone@buyer.example>: User unknown\r\n\r\n\
             --R\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: {subject}\r\n--R--\r\n"
        );
        smtp_deliver(
            &suite,
            "mailer-daemon@mx.buyer.example",
            &bounce_address,
            &report,
        )
        .await
        .expect("the report is taken");
    }
    let failed = delivery_becomes(&api, &dialog_id, &emailed, "failed").await;
    assert_eq!(
        failed["delivery_error"],
        "5.1.1 smtp; 550 5.1.1 <gone@buyer.example>: User unknown"
    );
    // A made-up bounce address is refused at RCPT: nothing else changes.
    let forged = bounce_address.replacen("bounce+0", "bounce+1", 1);
    assert!(
        smtp_deliver(
            &suite,
            "mailer-daemon@mx.buyer.example",
            &forged,
            "Subject: x\r\n\r\nx\r\n"
        )
        .await
        .is_err(),
        "{forged} is no address of ours"
    );
    suite.stop().await;
}

/// Sends `raw` (an RFC 5322 message) to the suite's SMTP listener for
/// answers, from `from` to `to`, as a mail server would.
async fn smtp_deliver(suite: &TestSuite, from: &str, to: &str, raw: &str) -> Result<(), String> {
    use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor, address::Envelope};
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(suite.suite().inbound_smtp_port)
        .build();
    let envelope = Envelope::new(
        Some(from.parse().expect("a from address")),
        vec![to.parse().expect("a to address")],
    )
    .expect("an envelope");
    transport
        .send_raw(&envelope, raw.as_bytes())
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A dialog's messages and notes, as the console reads them.
async fn thread(api: &Api, dialog_id: &str) -> (Vec<Value>, Vec<Value>) {
    let (_, messages) = api
        .get(&format!("/api/v1/dialogs/{dialog_id}/messages?limit=50"))
        .await;
    let (_, notes) = api.get(&format!("/api/v1/dialogs/{dialog_id}/notes")).await;
    (
        messages["messages"].as_array().cloned().unwrap_or_default(),
        notes["notes"].as_array().cloned().unwrap_or_default(),
    )
}

#[tokio::test]
async fn an_answer_by_email_comes_back_into_the_dialog_and_a_strangers_is_held() {
    let (suite, mail) = suite_with_mail().await;
    let shop = suite.shop("Answer Shop").await;
    let api = suite.manager_api(&shop).await;
    let visitor = identified_visitor(
        &suite,
        &shop.site_key,
        "vera@buyer.example",
        "Do you gift-wrap?",
    )
    .await;
    until_messages(&api, 1).await;
    let dialog_id = suite.only_dialog(&api).await;
    drop(visitor);
    let emailed = reply(&api, &dialog_id, "site", "Yes, for free.").await;
    delivery_becomes(&api, &dialog_id, &emailed, "emailed").await;
    let to_her = mail.mails_to("vera@buyer.example").await;
    let reply_address = to_her[0]
        .header("Reply-To")
        .expect("a Reply-To")
        .trim_matches(['<', '>'])
        .to_owned();
    assert!(reply_address.starts_with("reply+"), "{reply_address}");
    assert!(reply_address.ends_with(&format!("@{}", crate::helpers::INBOUND_DOMAIN)));
    assert!(to_her[0].text.contains("Answer this e-mail"));
    let first_id = to_her[0]
        .header("Message-ID")
        .expect("a Message-ID")
        .to_owned();

    // She answers from her mail program: only her new words come in.
    let answer = format!(
        "From: Vera <vera@buyer.example>\r\nTo: {reply_address}\r\nSubject: Re: Manager from Answer Shop answered you\r\n\
         Message-ID: <answer-1@buyer.example>\r\nIn-Reply-To: {first_id}\r\n\r\n\
         Lovely, please wrap it in red.\r\n\r\nOn Sat, 6 Dec 2026 at 10:00, Manager <chat@localhost> wrote:\r\n> Yes, for free.\r\n"
    );
    smtp_deliver(&suite, "vera@buyer.example", &reply_address, &answer)
        .await
        .expect("taken");
    let posted = chat_testkit::eventually("her answer in the dialog", || async {
        let (messages, _) = thread(&api, &dialog_id).await;
        messages
            .into_iter()
            .find(|m| m["channel"] == "email" && m["author_kind"] == "visitor")
    })
    .await;
    assert_eq!(posted["text"], "Lovely, please wrap it in red.");
    // The same e-mail delivered again stores nothing new.
    smtp_deliver(&suite, "vera@buyer.example", &reply_address, &answer)
        .await
        .expect("taken");

    // Someone else answers through the host's webhook: held as a note.
    let webhook = format!(
        "http://127.0.0.1:{}/inbound/postmark",
        suite.suite().inbound_webhook_port
    );
    let stranger = json!({
        "FromFull": {"Email": "mallory@evil.example", "Name": "Mallory"},
        "ToFull": [{"Email": reply_address}],
        "OriginalRecipient": reply_address,
        "MessageID": "stranger-1",
        "TextBody": "Send it to my address instead.",
        "Attachments": [{"Name": "address.txt", "Content": "TGVuaW5hIDE=", "ContentType": "text/plain"}]
    });
    let http = reqwest::Client::new();
    let refused = http
        .post(&webhook)
        .basic_auth("inbound", Some("a wrong token"))
        .json(&stranger)
        .send()
        .await
        .expect("the webhook answers");
    assert_eq!(refused.status(), 401);
    let mut broken = stranger.clone();
    broken["Attachments"][0]["Content"] = json!("not base64!");
    let refused = http
        .post(&webhook)
        .basic_auth("inbound", Some(crate::helpers::INBOUND_WEBHOOK_TOKEN))
        .json(&broken)
        .send()
        .await
        .expect("the webhook answers");
    assert_eq!(refused.status(), 422);
    let taken = http
        .post(&webhook)
        .basic_auth("inbound", Some(crate::helpers::INBOUND_WEBHOOK_TOKEN))
        .json(&stranger)
        .send()
        .await
        .expect("the webhook answers");
    assert_eq!(taken.status(), 200);
    let note = chat_testkit::eventually("the stranger's answer held as a note", || async {
        let (_, notes) = thread(&api, &dialog_id).await;
        notes.into_iter().find(|n| {
            n["text"]
                .as_str()
                .is_some_and(|t| t.contains("mallory@evil.example"))
        })
    })
    .await;
    assert!(
        note["text"]
            .as_str()
            .unwrap()
            .contains("Send it to my address instead.")
    );
    let (messages, _) = thread(&api, &dialog_id).await;
    let from_her = messages
        .iter()
        .filter(|m| m["channel"] == "email" && m["author_kind"] == "visitor")
        .count();
    assert_eq!(
        from_her, 1,
        "her answer once, the stranger's not as hers: {messages:?}"
    );

    // A manager who knows the sender accepts it: it becomes the contact's
    // message, once however often it is accepted. Another shop sees none of it.
    let held_path = format!("/api/v1/dialogs/{dialog_id}/held-answers");
    let (status, held) = api.get(&held_path).await;
    assert_eq!(status, 200, "{held}");
    let answers = held["answers"].as_array().expect("answers");
    assert_eq!(answers.len(), 1, "{held}");
    assert_eq!(answers[0]["from_address"], "mallory@evil.example");
    let held_text = answers[0]["text"].as_str().unwrap().to_owned();
    let (words, file) = held_text.split_once('\n').expect("words, then the file");
    assert_eq!(words, "Send it to my address instead.");
    let file_link = file.strip_prefix("[file] ").expect("a file line");
    assert!(file_link.ends_with("?name=address.txt"), "{file_link}");
    let (status, _, bytes) = api.get_bytes(file_link).await;
    assert_eq!((status, bytes.as_slice()), (200, b"Lenina 1".as_slice()));
    assert_eq!(answers[0]["message_id"], Value::Null);
    let held_id = answers[0]["id"].as_str().unwrap().to_owned();
    let other_shop = suite.shop("Other Shop").await;
    let other = suite.manager_api(&other_shop).await;
    let (status, _) = other.get(&held_path).await;
    assert_eq!(status, 404, "another shop's dialog");
    let accept_path = format!("/api/v1/held-answers/{held_id}/accept");
    let (status, _) = other.post(&accept_path, json!({})).await;
    assert_eq!(status, 404, "another shop's held answer");
    let (status, _) = api
        .post("/api/v1/held-answers/not-an-id/accept", json!({}))
        .await;
    assert_eq!(status, 404, "not an id: no such answer");
    let (status, accepted) = api.post(&accept_path, json!({})).await;
    assert_eq!(status, 200, "{accepted}");
    let message_id = accepted["message_id"]
        .as_str()
        .expect("a message")
        .to_owned();
    assert!(accepted["accepted_by"].is_string(), "{accepted}");
    let (status, again) = api.post(&accept_path, json!({})).await;
    assert_eq!(
        (status, &again["message_id"]),
        (200, &accepted["message_id"])
    );
    let (messages, _) = thread(&api, &dialog_id).await;
    let posted: Vec<_> = messages
        .iter()
        .filter(|m| m["text"] == held_text.as_str())
        .collect();
    assert_eq!(posted.len(), 1, "{messages:?}");
    assert_eq!(posted[0]["id"], message_id.as_str());
    assert_eq!(
        (&posted[0]["author_kind"], &posted[0]["channel"]),
        (&json!("visitor"), &json!("email"))
    );

    // A made-up or altered reply address takes nothing.
    let (local, domain) = reply_address.split_once('@').expect("an address");
    let flipped = if local.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{flipped}@{domain}", &local[..local.len() - 1]);
    let made_up = format!("nobody@{}", crate::helpers::INBOUND_DOMAIN);
    for address in [forged, made_up] {
        let refused = smtp_deliver(&suite, "vera@buyer.example", &address, &answer).await;
        assert!(refused.is_err(), "{address}: {refused:?}");
    }
    suite.stop().await;
}
