//! A shop's own SMTP server (Settings → Notifications → Sending server):
//! only owners set it, it is checked by signing in before it is kept, its
//! password never comes back, the shop's e-mails to contacts leave by it
//! (while its managers' alerts keep to the deployment's), its failures show
//! and retry, and another shop is untouched.

use serde_json::json;

use chat_testkit::mail::MailCatcher;

use crate::helpers::{Options, TestSuite, reply, until_messages};
use crate::notifications::{delivery_becomes, identified_visitor};

#[tokio::test]
async fn a_shop_sends_to_its_contacts_through_its_own_smtp_server() {
    let deployments = MailCatcher::start().await;
    let mut shops = MailCatcher::start_with_login("jackets", "s3cret-pass").await;
    let suite = TestSuite::start_with(Options {
        smtp_url: Some(deployments.smtp_url()),
        ..Options::default()
    })
    .await;
    let shop = suite.shop("Own Server Shop").await;
    let owner = suite.manager_api(&shop).await;
    let colleague_email = suite.colleague(&shop, "Pavel", "manager").await;
    let colleague =
        chat_testkit::clients::Api::login(suite.port, &colleague_email, &shop.password).await;
    let settings = |password: Option<&str>| {
        let mut body = json!({
            "host": "127.0.0.1", "port": shops.smtp_port, "security": "none",
            "username": "jackets", "from_address": "support@jackets.example",
        });
        if let Some(password) = password {
            body["password"] = json!(password);
        }
        body
    };

    let (status, none) = owner.get("/api/v1/account/smtp").await;
    assert_eq!(
        (status, &none["configured"]),
        (200, &json!(false)),
        "{none}"
    );
    for (status, body) in [
        colleague.get("/api/v1/account/smtp").await,
        colleague
            .put("/api/v1/account/smtp", settings(Some("s3cret-pass")))
            .await,
        colleague.delete("/api/v1/account/smtp").await,
    ] {
        assert_eq!(
            (status, &body["error"]["code"]),
            (403, &json!("forbidden")),
            "{body}"
        );
    }

    // Bad values, a refused sign-in, a user without a password: 422 by
    // field, and nothing kept.
    let (status, body) = owner
        .put(
            "/api/v1/account/smtp",
            json!({"host": "smtp shop", "port": 0, "security": "ssl", "username": "a\nb",
                   "password": "x", "from_address": "nobody"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    for field in ["host", "port", "security", "username", "from_address"] {
        assert!(
            body["error"]["fields"][field].is_string(),
            "{field}: {body}"
        );
    }
    let (status, body) = owner
        .put("/api/v1/account/smtp", settings(Some("wrong")))
        .await;
    assert_eq!(status, 422, "{body}");
    let refusal = body["error"]["fields"]["username"]
        .as_str()
        .unwrap_or_default();
    assert!(refusal.contains("refused the sign-in"), "{body}");
    let (status, body) = owner.put("/api/v1/account/smtp", settings(None)).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["password"].is_string(), "{body}");
    let (_, still_none) = owner.get("/api/v1/account/smtp").await;
    assert_eq!(still_none["configured"], false, "{still_none}");

    // Right: kept, and the password is never given back.
    let (status, kept) = owner
        .put("/api/v1/account/smtp", settings(Some("s3cret-pass")))
        .await;
    assert_eq!(status, 200, "{kept}");
    assert_eq!(
        (
            &kept["configured"],
            &kept["password_set"],
            &kept["username"],
            &kept["security"]
        ),
        (
            &json!(true),
            &json!(true),
            &json!("jackets"),
            &json!("none")
        )
    );
    assert!(!kept.to_string().contains("s3cret-pass"), "{kept}");
    let (key_id, sealed): (String, Vec<u8>) =
        sqlx::query_as("select password_key_id, password_sealed from notification.account_smtp")
            .fetch_one(&suite.suite().gateway_pool)
            .await
            .expect("the kept server");
    assert_eq!(key_id, "ephemeral", "sealed under the run's key");
    assert!(
        !sealed.windows(b"s3cret".len()).any(|w| w == b"s3cret"),
        "the password is not kept in the clear"
    );
    // Saving again without the password keeps it; another host must give it.
    let (status, again) = owner.put("/api/v1/account/smtp", settings(None)).await;
    assert_eq!(status, 200, "{again}");
    let mut elsewhere = settings(None);
    elsewhere["host"] = json!("localhost");
    let (status, body) = owner.put("/api/v1/account/smtp", elsewhere).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["password"].is_string(), "{body}");

    // Another shop sees none of it, and removing its own changes nothing here.
    let other = suite.shop("Other Shop").await;
    let other_owner = suite.manager_api(&other).await;
    let (status, theirs) = other_owner.get("/api/v1/account/smtp").await;
    assert_eq!(
        (status, &theirs["configured"]),
        (200, &json!(false)),
        "{theirs}"
    );
    let (status, _) = other_owner.delete("/api/v1/account/smtp").await;
    assert_eq!(status, 204);
    let (_, mine) = owner.get("/api/v1/account/smtp").await;
    assert_eq!(mine["configured"], true, "{mine}");

    // A visitor who left gets the reply from the shop's own server and
    // address; the manager's alert of her message keeps to the deployment's.
    let visitor = identified_visitor(&suite, &shop.site_key, "olga@buyer.example", "Size M?").await;
    until_messages(&owner, 1).await;
    let alerts = deployments.wait_for(2).await;
    let mut alerted: Vec<&str> = alerts.iter().map(|m| m.to[0].as_str()).collect();
    alerted.sort_unstable();
    let mut managers = [shop.email.as_str(), colleague_email.as_str()];
    managers.sort_unstable();
    assert_eq!(
        alerted, managers,
        "the managers' alerts by the deployment's server"
    );
    let dialog_id = suite.only_dialog(&owner).await;
    drop(visitor);
    let answer = reply(&owner, &dialog_id, "site", "Yes, M is in stock.").await;
    delivery_becomes(&owner, &dialog_id, &answer, "emailed").await;
    let to_her = shops.mails_to("olga@buyer.example").await;
    assert_eq!(to_her.len(), 1, "{to_her:?}");
    let from = to_her[0].header("From").expect("a From");
    assert!(from.contains("<support@jackets.example>"), "{from}");
    assert_eq!(to_her[0].envelope_from, "support@jackets.example");
    let reply_to = to_her[0]
        .header("Reply-To")
        .expect("the dialog's reply address");
    assert!(
        reply_to.contains(crate::helpers::INBOUND_DOMAIN),
        "{reply_to}"
    );
    assert!(deployments.mails_to("olga@buyer.example").await.is_empty());
    assert_eq!(shops.mails().await.len(), 1, "only the reply to her");

    // The shop's server is down: the reply waits, the owner sees why, and
    // once it is back the reply goes, once, and the failure clears.
    shops.stop().await;
    let waiting = reply(&owner, &dialog_id, "site", "It is held until Friday.").await;
    let failing = chat_testkit::eventually("the failure shown", || async {
        let (_, server) = owner.get("/api/v1/account/smtp").await;
        (server["last_error"] != "").then_some(server)
    })
    .await;
    assert!(failing["last_error_at"].is_string(), "{failing}");
    shops.resume().await;
    delivery_becomes(&owner, &dialog_id, &waiting, "emailed").await;
    let to_her = shops.mails_to("olga@buyer.example").await;
    assert_eq!(to_her.len(), 1, "{to_her:?}");
    assert!(to_her[0].text.contains("It is held until Friday."));
    let (_, recovered) = owner.get("/api/v1/account/smtp").await;
    assert_eq!(recovered["last_error"], "", "{recovered}");

    // Back to the deployment's server.
    let (status, _) = owner.delete("/api/v1/account/smtp").await;
    assert_eq!(status, 204);
    let (_, gone) = owner.get("/api/v1/account/smtp").await;
    assert_eq!(gone["configured"], false, "{gone}");
    let last = reply(&owner, &dialog_id, "site", "See you on Friday.").await;
    delivery_becomes(&owner, &dialog_id, &last, "emailed").await;
    let by_deployment = deployments.mails_to("olga@buyer.example").await;
    assert_eq!(by_deployment.len(), 1, "{by_deployment:?}");
    assert!(by_deployment[0].text.contains("See you on Friday."));
    suite.stop().await;
}
