//! The local push service the benchmark's manager subscribes at, as a
//! browser would at its vendor's: it takes each push, decrypts it with the
//! browser's keys (RFC 8291, as the browser does) and records when it came
//! and the latency stamps in its text.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use web_push_native::{Auth, p256};

use crate::mail_sink::{Arrival, Arrivals, stamps};

/// A browser's side of a subscription: its key pair and secret.
pub struct Browser {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Browser {
    pub fn new() -> anyhow::Result<Browser> {
        let random = [
            uuid::Uuid::new_v4().into_bytes(),
            uuid::Uuid::new_v4().into_bytes(),
        ]
        .concat();
        Ok(Browser {
            secret: p256::SecretKey::from_slice(&random)?,
            auth: uuid::Uuid::new_v4().into_bytes(),
        })
    }

    /// The subscription's `keys`, as `PushSubscription.toJSON()` gives them.
    pub fn keys(&self) -> serde_json::Value {
        serde_json::json!({
            "p256dh": URL_SAFE_NO_PAD.encode(self.secret.public_key().to_sec1_bytes()),
            "auth": URL_SAFE_NO_PAD.encode(self.auth),
        })
    }
}

#[derive(Clone)]
struct Service {
    browser: Arc<Browser>,
    arrivals: Arrivals,
}

/// Serves the push endpoint (`POST /push`) on `addr` for `browser`.
pub async fn start(addr: &str, browser: Browser) -> anyhow::Result<Arrivals> {
    let arrivals = Arrivals::default();
    let service = Service {
        browser: Arc::new(browser),
        arrivals: arrivals.clone(),
    };
    let app = axum::Router::new()
        .route("/push", axum::routing::post(receive))
        .with_state(service);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(arrivals)
}

async fn receive(State(service): State<Service>, body: axum::body::Bytes) -> StatusCode {
    let at = Instant::now();
    let auth = Auth::clone_from_slice(&service.browser.auth);
    let Ok(plain) = web_push_native::decrypt(body.to_vec(), &service.browser.secret, &auth) else {
        return StatusCode::BAD_REQUEST;
    };
    let payload: serde_json::Value = serde_json::from_slice(&plain).unwrap_or_default();
    service.arrivals.push(Arrival {
        at,
        to: Vec::new(),
        stamps: stamps(payload["body"].as_str().unwrap_or_default()),
    });
    StatusCode::CREATED
}
