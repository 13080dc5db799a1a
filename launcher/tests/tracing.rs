//! Trace propagation, end to end: one request through the real gateway
//! into the real products service and its database, with spans exported
//! over OTLP/HTTP to a receiver in this test (decoding with the
//! OpenTelemetry protobuf types). Its own test binary: it installs the
//! process's one tracing subscriber.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use common::config::LogFormat;
use common::telemetry::otlp::Export;
use launcher::{System, SystemOptions};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message;

/// One received span, flattened.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    name: String,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
    parent_span_id: Vec<u8>,
    attributes: Vec<(String, String)>,
}

impl Received {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

type Inbox = Arc<Mutex<Vec<Received>>>;

/// An OTLP/HTTP traces receiver on loopback: `POST /v1/traces`, protobuf.
async fn receiver() -> (SocketAddr, Inbox) {
    async fn traces(State(inbox): State<Inbox>, body: Bytes) -> Vec<u8> {
        let request = ExportTraceServiceRequest::decode(body).expect("an OTLP trace export");
        let mut inbox = inbox.lock().expect("inbox");
        for resource_spans in request.resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref()?.value.clone())
                .map(|v| match v {
                    Value::StringValue(s) => s,
                    other => format!("{other:?}"),
                })
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    let attributes = span
                        .attributes
                        .iter()
                        .map(|kv| {
                            let value = match kv.value.as_ref().and_then(|v| v.value.clone()) {
                                Some(Value::StringValue(s)) => s,
                                Some(Value::IntValue(i)) => i.to_string(),
                                Some(other) => format!("{other:?}"),
                                None => String::new(),
                            };
                            (kv.key.clone(), value)
                        })
                        .collect();
                    inbox.push(Received {
                        service: service.clone(),
                        name: span.name,
                        trace_id: span.trace_id,
                        span_id: span.span_id,
                        parent_span_id: span.parent_span_id,
                        attributes,
                    });
                }
            }
        }
        ExportTraceServiceResponse::default().encode_to_vec()
    }
    let inbox = Inbox::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let addr = listener.local_addr().expect("addr");
    let app = Router::new()
        .route("/v1/traces", post(traces))
        .with_state(inbox.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, inbox)
}

const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// Multi-threaded: flushing blocks while the receiver answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn one_request_is_one_trace_from_gateway_to_service_to_database() {
    let (addr, inbox) = receiver().await;
    let url = format!("http://{addr}/v1/traces");
    let telemetry = common::telemetry::init_with_export(
        LogFormat::Pretty,
        "warn",
        Some(&Export::to(url.clone(), "services")),
    )
    .expect("export configured");
    assert!(telemetry.exporting());

    let data = tempfile::tempdir().expect("data dir");
    let mut options = SystemOptions::ephemeral(data.path());
    options.gateway_trace_export = Some(Export::to(url, "gateway"));
    let system = System::start(options).await.expect("system starts");

    let response = reqwest::Client::new()
        .get(format!("{}/products/999", system.base_url()))
        .header("traceparent", format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 404);

    // Stopping the system ends the gateway's exporter (which sends what is
    // queued); the services' spans are sent by a flush.
    system.stop().await.expect("system stops");
    tokio::task::spawn_blocking(move || telemetry.flush())
        .await
        .expect("flush");

    let spans = wait_for_spans(&inbox).await;
    // The client is no trusted proxy (the launcher trusts none): its trace
    // is re-rooted, the gateway's span starts a new one.
    let gateway = spans
        .iter()
        .find(|s| s.service == "gateway" && s.name == "GET /products/")
        .unwrap_or_else(|| panic!("a gateway span in {spans:#?}"));
    assert_ne!(hex(&gateway.trace_id), CLIENT_TRACE, "a new trace");
    assert!(
        gateway.parent_span_id.is_empty() || hex(&gateway.parent_span_id) != CLIENT_SPAN,
        "the client's span is not its parent"
    );
    let in_trace: Vec<&Received> = spans
        .iter()
        .filter(|s| s.trace_id == gateway.trace_id)
        .collect();
    assert_eq!(gateway.attribute("http.response.status_code"), Some("404"));

    let handler = in_trace
        .iter()
        .find(|s| s.service == "services" && s.attribute("http.route").is_some())
        .unwrap_or_else(|| panic!("a service span in {spans:#?}"));
    assert_eq!(handler.name, "GET /{id}");
    assert_eq!(handler.attribute("http.route"), Some("/{id}"));
    assert_eq!(
        handler.parent_span_id, gateway.span_id,
        "the gateway's span is its parent"
    );

    let query = in_trace
        .iter()
        .find(|s| s.name.starts_with("sea_orm."))
        .unwrap_or_else(|| panic!("a database span in {spans:#?}"));
    assert_eq!(
        query.parent_span_id, handler.span_id,
        "the handler's span is its parent"
    );
    assert_eq!(query.attribute("db.system"), Some("sqlite"));
    assert_eq!(query.attribute("db.operation"), Some("SELECT"));
    assert!(
        query
            .attribute("db.statement")
            .is_some_and(|s| s.contains("products")),
        "{query:?}"
    );
}

/// The spans received, once a gateway span and a database span are in
/// (bounded: 10 s).
async fn wait_for_spans(inbox: &Inbox) -> Vec<Received> {
    for _ in 0..100 {
        {
            let spans = inbox.lock().expect("inbox");
            if spans.iter().any(|s| s.service == "gateway")
                && spans.iter().any(|s| s.name.starts_with("sea_orm."))
            {
                return spans.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    inbox.lock().expect("inbox").clone()
}
