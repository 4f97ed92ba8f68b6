//! gRPC plumbing shared by services: lazily connected channels to other
//! services, with the caller's trace context added to every request.

use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

/// A channel to `url` that connects on first use and reconnects by itself, so
/// services may start in any order.
pub fn lazy_channel(url: &str) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(url.to_owned())?
        .connect_timeout(std::time::Duration::from_secs(2))
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
