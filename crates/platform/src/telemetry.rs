//! Logs and traces: a `tracing` subscriber (pretty or JSON), OpenTelemetry
//! traces exported by OTLP when an endpoint is set, and the W3C trace context
//! carried across HTTP/gRPC headers and NATS headers.

use std::collections::HashMap;
use std::sync::OnceLock;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, Layer as _, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::Common;

static PROVIDER: OnceLock<Option<SdkTracerProvider>> = OnceLock::new();

/// Sets up logging and tracing once per process (one process may run all five
/// services). Later calls do nothing. `RUST_LOG` filters, default `info`.
pub fn init(process_name: &str, config: &Common) {
    PROVIDER.get_or_init(|| {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        let provider =
            (!config.otlp_endpoint.is_empty()).then(|| otlp_provider(process_name, config));
        let otel = provider
            .as_ref()
            .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer(process_name.to_owned())));
        let registry = tracing_subscriber::registry().with(filter).with(otel);
        let result = if config.log_format == "json" {
            registry
                .with(tracing_subscriber::fmt::layer().json())
                .try_init()
        } else {
            registry.with(tracing_subscriber::fmt::layer()).try_init()
        };
        if let Err(e) = result {
            eprintln!("tracing already set up: {e}");
        }
        provider
    });
}

fn otlp_provider(process_name: &str, config: &Common) -> SdkTracerProvider {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(config.otlp_endpoint.clone())
        .build()
        .expect("OTLP exporter");
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(process_name.to_owned())
                .build(),
        )
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    provider
}

/// Flushes traces not yet exported; call once before the process exits.
pub fn flush() {
    if let Some(Some(provider)) = PROVIDER.get() {
        let _ = provider.shutdown();
    }
}

/// Sets up logging for tests once: warnings and errors are kept in memory
/// for [`test_logs`] (a test checks what the services logged), and
/// everything is printed when `TEST_LOG` is set.
pub fn init_for_tests() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let kept = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(|| KeptLogs)
            .with_filter(tracing_subscriber::filter::LevelFilter::WARN);
        let printed = std::env::var_os("TEST_LOG").is_some().then(|| {
            let filter =
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
            tracing_subscriber::fmt::layer()
                .with_test_writer()
                .with_filter(filter)
        });
        let _ = tracing_subscriber::registry()
            .with(kept)
            .with(printed)
            .try_init();
    });
}

/// The warnings and errors logged in this test process so far (the newest
/// few MiB), as printed.
pub fn test_logs() -> String {
    String::from_utf8_lossy(&KEPT_LOGS.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

/// How much of the newest test logs is kept.
const KEPT_LOG_BYTES: usize = 8 << 20;
static KEPT_LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

/// Writes log lines into [`KEPT_LOGS`], dropping the oldest half when full.
struct KeptLogs;

impl std::io::Write for KeptLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut kept = KEPT_LOGS.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() + bytes.len() > KEPT_LOG_BYTES {
            let drop = kept.len() / 2;
            kept.drain(..drop);
        }
        kept.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The current span's trace context as W3C headers (`traceparent`, ...).
pub fn current_context_headers() -> HashMap<String, String> {
    let mut headers = HashMap::new();
    let cx = Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut headers));
    headers
}

/// Makes `span` a child of the trace described by `headers`, when they carry one.
pub fn set_parent_from<'a>(span: &Span, headers: impl Iterator<Item = (&'a str, &'a str)>) {
    let map: HashMap<String, String> = headers
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&MapExtractor(&map)));
    let _ = span.set_parent(cx);
}

/// The span of an incoming HTTP or gRPC request, a child of the caller's trace.
pub fn request_span<B>(request: &axum::http::Request<B>) -> Span {
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
    );
    set_parent_from(
        &span,
        request
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))),
    );
    span
}

/// Adds the current trace context to outgoing NATS headers.
pub fn inject_nats(headers: &mut async_nats::HeaderMap) {
    for (k, v) in current_context_headers() {
        headers.insert(k.as_str(), v.as_str());
    }
}

/// Makes `span` a child of the trace carried by a NATS message's headers.
pub fn set_parent_from_nats(span: &Span, headers: Option<&async_nats::HeaderMap>) {
    let Some(headers) = headers else { return };
    let pairs: Vec<(String, String)> = ["traceparent", "tracestate"]
        .into_iter()
        .filter_map(|k| Some((k.to_owned(), headers.get(k)?.as_str().to_owned())))
        .collect();
    set_parent_from(span, pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
}

struct MapExtractor<'a>(&'a HashMap<String, String>);

impl Extractor for MapExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Writes trace context into gRPC metadata of an outgoing request.
pub struct MetadataInjector<'a>(pub &'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TraceContextExt;

    /// Runs `f` with spans that have OpenTelemetry trace ids (no exporter).
    fn with_traces(f: impl FnOnce()) {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, f);
    }

    fn trace_id(span: &Span) -> String {
        span.context().span().span_context().trace_id().to_string()
    }

    #[test]
    fn a_consumer_continues_the_trace_carried_in_nats_headers() {
        with_traces(|| {
            let publisher = tracing::info_span!("publish");
            let mut headers = async_nats::HeaderMap::new();
            publisher.in_scope(|| inject_nats(&mut headers));
            assert!(
                headers.get("traceparent").is_some(),
                "the context is written"
            );

            let consumer = tracing::info_span!("consume");
            set_parent_from_nats(&consumer, Some(&headers));
            assert_eq!(trace_id(&consumer), trace_id(&publisher));
            assert_ne!(trace_id(&publisher), "00000000000000000000000000000000");
        });
    }

    #[test]
    fn a_grpc_server_continues_the_trace_its_caller_put_in_the_metadata() {
        with_traces(|| {
            let caller = tracing::info_span!("call");
            let mut metadata = tonic::metadata::MetadataMap::new();
            caller.in_scope(|| {
                let cx = Span::current().context();
                opentelemetry::global::get_text_map_propagator(|p| {
                    p.inject_context(&cx, &mut MetadataInjector(&mut metadata))
                });
            });
            let mut request = axum::http::Request::new(());
            *request.headers_mut() = metadata.into_headers();
            let server = request_span(&request);
            assert_eq!(trace_id(&server), trace_id(&caller));
        });
    }

    #[test]
    fn without_a_context_a_span_starts_its_own_trace() {
        with_traces(|| {
            let consumer = tracing::info_span!("consume");
            set_parent_from_nats(&consumer, Some(&async_nats::HeaderMap::new()));
            let other = tracing::info_span!("other");
            assert_ne!(trace_id(&consumer), trace_id(&other));
        });
    }
}
