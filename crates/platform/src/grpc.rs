//! gRPC plumbing shared by services: serving a service (with its limits and
//! the standard health service), lazily connected channels to other
//! services, with the caller's trace context added to every request.

use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

/// Longest a call may run on a server before it is answered
/// `DEADLINE_EXCEEDED` (callers set shorter deadlines of their own).
pub const SERVER_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// Most calls one connection may have in flight; more wait their turn.
pub const CALLS_PER_CONNECTION: usize = 512;

/// Serves `service` on `listener` until `shutdown`, then lets calls in
/// flight finish. Every call gets a span in the caller's trace and a timeout
/// ([`SERVER_CALL_TIMEOUT`]); each connection at most
/// [`CALLS_PER_CONNECTION`] calls at once. Beside it, the standard
/// `grpc.health.v1.Health` service answers SERVING for the service (and the
/// server, named ""), and NOT_SERVING once shutdown begins.
pub async fn serve<S>(
    listener: tokio::net::TcpListener,
    service: S,
    shutdown: crate::Shutdown,
) -> anyhow::Result<()>
where
    S: tower::Service<axum::http::Request<tonic::body::Body>, Error = std::convert::Infallible>
        + tonic::server::NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Response: axum::response::IntoResponse,
    S::Future: Send + 'static,
{
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<S>().await;
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let stopping = async move {
        shutdown.cancelled().await;
        health.set_not_serving::<S>().await;
        health
            .set_service_status("", tonic_health::ServingStatus::NotServing)
            .await;
    };
    tonic::transport::Server::builder()
        .timeout(SERVER_CALL_TIMEOUT)
        .concurrency_limit_per_connection(CALLS_PER_CONNECTION)
        .layer(server_trace_layer())
        .add_service(health_service)
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, stopping)
        .await?;
    Ok(())
}

/// A channel to `url` that connects on first use and reconnects by itself, so
/// services may start in any order. Every call on it fails with
/// `DeadlineExceeded` after `call_timeout`.
pub fn lazy_channel(url: &str, call_timeout: std::time::Duration) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(url.to_owned())?
        .connect_timeout(std::time::Duration::from_secs(2))
        .timeout(call_timeout)
        .tcp_nodelay(true);
    Ok(endpoint.connect_lazy())
}

/// Adds the W3C trace context of the current span to outgoing requests.
#[derive(Clone, Copy, Default)]
pub struct TraceContext;

impl tonic::service::Interceptor for TraceContext {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let cx = tracing_opentelemetry::OpenTelemetrySpanExt::context(&tracing::Span::current());
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(
                &cx,
                &mut crate::telemetry::MetadataInjector(request.metadata_mut()),
            )
        });
        Ok(request)
    }
}

/// A channel wrapped so that every call carries the trace context.
pub type Traced = InterceptedService<Channel, TraceContext>;

pub fn traced(channel: Channel) -> Traced {
    InterceptedService::new(channel, TraceContext)
}

/// Makes the span of one incoming call.
pub type MakeRequestSpan<B> = fn(&axum::http::Request<B>) -> tracing::Span;

/// The trace layer of a tonic server.
pub type ServerTraceLayer<B> = tower_http::trace::TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::GrpcErrorsAsFailures>,
    MakeRequestSpan<B>,
>;

/// The span layer of a tonic server: one span per call, a child of the
/// caller's trace.
pub fn server_trace_layer<B>() -> ServerTraceLayer<B> {
    tower_http::trace::TraceLayer::new_for_grpc()
        .make_span_with(crate::telemetry::request_span::<B> as MakeRequestSpan<B>)
}

/// The metadata key that carries field errors (`{"field": "problem"}` as
/// JSON) on an `invalid_argument` or `already_exists` status, so the gateway
/// can answer with the same `fields` a form shows under its inputs.
pub const FIELDS_KEY: &str = "x-fields";

/// A status for problems with named fields of the request.
pub fn status_with_fields(code: tonic::Code, problems: &[(&str, String)]) -> tonic::Status {
    let message = problems
        .iter()
        .map(|(field, problem)| format!("{field} {problem}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut status = tonic::Status::new(code, message);
    let fields: serde_json::Map<String, serde_json::Value> = problems
        .iter()
        .map(|(field, problem)| ((*field).to_owned(), problem.clone().into()))
        .collect();
    // JSON escapes everything outside ASCII, so the value is valid metadata.
    let json = serde_json::to_string(&fields).unwrap_or_default();
    let ascii: String = json
        .chars()
        .flat_map(|c| match c.is_ascii() {
            true => vec![c],
            false => format!("\\u{:04x}", c as u32).chars().collect(),
        })
        .collect();
    if let Ok(value) = ascii.parse() {
        status.metadata_mut().insert(FIELDS_KEY, value);
    }
    status
}

/// The field problems a status carries, if any.
pub fn status_fields(status: &tonic::Status) -> Vec<(String, String)> {
    status
        .metadata()
        .get(FIELDS_KEY)
        .and_then(|v| v.to_str().ok())
        .and_then(|json| {
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json).ok()
        })
        .map(|map| {
            map.into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_problems_travel_in_metadata() {
        let status = status_with_fields(
            tonic::Code::InvalidArgument,
            &[
                ("email", "is not an e-mail address".into()),
                ("name", "is «long»".into()),
            ],
        );
        assert_eq!(
            status.message(),
            "email is not an e-mail address; name is «long»"
        );
        let mut fields = status_fields(&status);
        fields.sort();
        assert_eq!(
            fields,
            vec![
                ("email".to_owned(), "is not an e-mail address".to_owned()),
                ("name".to_owned(), "is «long»".to_owned())
            ]
        );
    }
}
