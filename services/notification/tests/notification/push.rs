//! Browser push against a local push service that does what a real one
//! does to a request: checks its VAPID signature (RFC 8292) and, as the
//! browser would, decrypts the payload (RFC 8291). A subscription the
//! service says is gone (410) is forgotten; an endpoint that is not at a
//! push service is refused.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;
use web_push_native::jwt_simple::prelude::*;
use web_push_native::{Auth, p256};

use chat_proto::notification::v1::{
    self as pb, notification_service_client::NotificationServiceClient,
};

use crate::helpers::{Dialog, Manager, TestApp};

/// A browser's side of a subscription: its key pair and secret.
struct Browser {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Browser {
    fn new() -> Browser {
        let random = [Uuid::new_v4().into_bytes(), Uuid::new_v4().into_bytes()].concat();
        Browser {
            secret: p256::SecretKey::from_slice(&random).expect("a P-256 scalar"),
            auth: Uuid::new_v4().into_bytes(),
        }
    }

    fn p256dh(&self) -> String {
        let point = self.secret.public_key().to_sec1_bytes();
        URL_SAFE_NO_PAD.encode(point)
    }
}

/// What the local push service received and decrypted, per subscription.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, serde_json::Value)>>>);

#[derive(Clone)]
struct PushService {
    received: Received,
    browsers: Arc<Vec<(String, p256::SecretKey, [u8; 16])>>,
    vapid_public: String,
}

async fn push_endpoint(
    State(service): State<PushService>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    if id == "gone" {
        return StatusCode::GONE;
    }
    // VAPID: "vapid t=<JWT>, k=<public key>", signed by the deployment's key
    // for this origin.
    let Some(authorization) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return StatusCode::UNAUTHORIZED;
    };
    let fields: std::collections::HashMap<&str, &str> = authorization
        .trim_start_matches("vapid ")
        .split(',')
        .filter_map(|part| part.trim().split_once('='))
        .collect();
    if fields.get("k") != Some(&service.vapid_public.as_str()) {
        return StatusCode::UNAUTHORIZED;
    }
    let key_bytes = URL_SAFE_NO_PAD.decode(fields["k"]).expect("base64url");
    let public = ES256PublicKey::from_bytes(&key_bytes).expect("a P-256 key");
    // The audience is the push service's origin; web-push-native leaves out
    // the port, which real push services (on 443) do not have.
    let host = headers["host"].to_str().unwrap();
    let host = host.split(':').next().unwrap();
    let options = VerificationOptions {
        allowed_audiences: Some(HashSet::from_strings(&[format!("http://{host}")])),
        ..Default::default()
    };
    if public
        .verify_token::<NoCustomClaims>(fields["t"], Some(options))
        .is_err()
    {
        return StatusCode::FORBIDDEN;
    }
    assert_eq!(headers["content-encoding"], "aes128gcm");
    let Some((_, secret, auth)) = service.browsers.iter().find(|(b, _, _)| *b == id) else {
        return StatusCode::NOT_FOUND;
    };
    let plain = web_push_native::decrypt(body.to_vec(), secret, &Auth::clone_from_slice(auth))
        .expect("the payload decrypts with the browser's keys");
    let payload = serde_json::from_slice(&plain).expect("a JSON payload");
    service.received.0.lock().unwrap().push((id, payload));
    StatusCode::CREATED
}

async fn client(app: &TestApp) -> NotificationServiceClient<tonic::transport::Channel> {
    NotificationServiceClient::connect(format!("http://127.0.0.1:{}", app.grpc_port()))
        .await
        .expect("gRPC connects")
}

#[tokio::test]
async fn an_away_manager_gets_one_signed_encrypted_push_per_browser_and_gone_ones_are_forgotten() {
    let app = TestApp::spawn().await;
    let mut grpc = client(&app).await;
    let vapid_public = grpc
        .get_push_key(pb::GetPushKeyRequest {})
        .await
        .expect("a key")
        .into_inner()
        .public_key;
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(&vapid_public)
            .expect("base64url")
            .len(),
        65
    );

    let laptop = Browser::new();
    let received = Received::default();
    let service = PushService {
        received: received.clone(),
        browsers: Arc::new(vec![("laptop".into(), laptop.secret.clone(), laptop.auth)]),
        vapid_public,
    };
    let router = axum::Router::new()
        .route("/push/{id}", axum::routing::post(push_endpoint))
        .with_state(service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let account = Uuid::now_v7();
    let anna = Manager::new(account, "Anna");
    app.manager(&anna).await;
    app.wait_until_handled().await;
    let subscribe = |endpoint: String, browser: &Browser| pb::PushSubscription {
        account_id: account.to_string(),
        manager_id: anna.id.to_string(),
        endpoint,
        p256dh: browser.p256dh(),
        auth: URL_SAFE_NO_PAD.encode(browser.auth),
    };
    // Not a push service: refused, by field.
    let refused = grpc
        .add_push_subscription(subscribe("https://evil.example/steal".into(), &laptop))
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("endpoint"),
        "{}",
        refused.message()
    );
    grpc.add_push_subscription(subscribe(format!("{base}/push/laptop"), &laptop))
        .await
        .expect("kept");
    let old_phone = Browser::new();
    grpc.add_push_subscription(subscribe(format!("{base}/push/gone"), &old_phone))
        .await
        .expect("kept");
    // Push only: no e-mail.
    grpc.set_preferences(pb::SetPreferencesRequest {
        account_id: account.to_string(),
        manager_id: anna.id.to_string(),
        email: Some(false),
        push: Some(true),
    })
    .await
    .expect("set");

    let dialog = Dialog::new(account);
    app.dialog_created(&dialog, Some(&anna), "Boris").await;
    app.visitor_writes(&dialog, 1, "Is it <b>in stock</b>?")
        .await;
    let pushed = chat_testkit::eventually("the push at the laptop", || async {
        let got = received.0.lock().unwrap().clone();
        (!got.is_empty()).then_some(got)
    })
    .await;
    assert_eq!(pushed.len(), 1);
    let payload = &pushed[0].1;
    assert_eq!(payload["title"], "Boris wrote to Tea & Co");
    assert_eq!(payload["body"], "Is it <b>in stock</b>?");
    assert_eq!(
        payload["url"],
        format!(
            "{}#/dialogs/{}",
            crate::helpers::CONSOLE_URL,
            dialog.dialog_id
        )
    );
    // The phone's service said it is gone: its subscription is forgotten.
    chat_testkit::eventually("the gone subscription forgotten", || async {
        let left: i64 = sqlx::query_scalar("select count(*) from notification.push_subscription")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        (left == 1).then_some(())
    })
    .await;
    // No e-mail went (e-mail is off): the next alert is again a push only.
    app.visitor_writes(&dialog, 2, "Hello?").await;
    chat_testkit::eventually("the second push", || async {
        (received.0.lock().unwrap().len() == 2).then_some(())
    })
    .await;
    assert!(app.email_log().await.is_empty());
    assert!(app.mail.mails().await.is_empty());
    app.finish().await;
}
