//! Operational endpoints every service serves: `/healthz` (the process is
//! alive), `/readyz` (its database and NATS answer, and its own checks) and `/metrics`
//! (Prometheus); and the middleware that counts and times HTTP requests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;

use crate::bus::Bus;

/// How long `/readyz` waits for each dependency.
const READY_TIMEOUT_MS: u64 = 1_000;

/// What `/readyz` checks: the database answers, NATS is connected, and
/// whatever else the service names (each a flag its task keeps).
#[derive(Clone)]
pub struct Readiness {
    pool: PgPool,
    bus: Bus,
    checks: Vec<(&'static str, Arc<AtomicBool>)>,
}

impl Readiness {
    pub fn new(pool: PgPool, bus: Bus) -> Self {
        Self {
            pool,
            bus,
            checks: Vec::new(),
        }
    }

    /// Not ready while `flag` is false; `/readyz` reports it as `name`.
    pub fn with_check(mut self, name: &'static str, flag: Arc<AtomicBool>) -> Self {
        self.checks.push((name, flag));
        self
    }
}

/// The metrics recorder, installed once per process (which may run all five services).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            handle
        })
        .clone()
}

/// `/healthz`, `/readyz` and `/metrics`.
pub fn router<S: Clone + Send + Sync + 'static>(readiness: Readiness) -> Router<S> {
    let handle = metrics_handle();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(move || std::future::ready(handle.render())))
        .with_state(readiness)
}

async fn readyz(State(ready): State<Readiness>) -> impl IntoResponse {
    let timeout = Duration::from_millis(READY_TIMEOUT_MS);
    let database = tokio::time::timeout(timeout, sqlx::query("select 1").execute(&ready.pool))
        .await
        .is_ok_and(|r| r.is_ok());
    let nats = ready.bus.is_connected();
    let mut body = serde_json::json!({ "database": database, "nats": nats });
    let mut all = database && nats;
    for (name, flag) in &ready.checks {
        let ok = flag.load(Ordering::Relaxed);
        body[*name] = ok.into();
        all &= ok;
    }
    let status = if all {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body))
}

/// Counts and times every HTTP request by method, route (the router's
/// pattern, so ids do not make a series each) and status:
/// `http_requests_total` and `http_request_duration_seconds`. Add it with
/// `Router::layer(axum::middleware::from_fn(ops::track_http))`.
pub async fn track_http(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |path| path.as_str())
        .to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Serves the ops router on `listener` until shutdown (for services whose
/// main port speaks gRPC).
pub async fn serve(
    listener: tokio::net::TcpListener,
    readiness: Readiness,
    shutdown: crate::Shutdown,
) -> std::io::Result<()> {
    serve_with(listener, readiness, Router::new(), shutdown).await
}

/// Serves the ops router and `routes` of the service's own (webhooks, say)
/// on `listener` until shutdown, every request counted by [`track_http`].
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    readiness: Readiness,
    routes: Router,
    shutdown: crate::Shutdown,
) -> std::io::Result<()> {
    let app = router::<()>(readiness)
        .merge(routes)
        .layer(axum::middleware::from_fn(track_http));
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
