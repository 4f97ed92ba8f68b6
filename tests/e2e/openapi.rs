//! The OpenAPI document: served by the gateway, and every operation in it is
//! a route the gateway serves (guarded, where the document says so).

use serde_json::json;

use chat_testkit::clients::Api;

use crate::helpers::TestSuite;

#[tokio::test]
async fn every_documented_operation_is_served_and_guarded_as_documented() {
    let t = TestSuite::start().await;
    let anonymous = Api::new(t.port);
    let (status, doc) = anonymous.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let concrete = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let (status, body) = match method.as_str() {
                "get" => anonymous.get(&concrete).await,
                "post" => anonymous.post(&concrete, json!({})).await,
                "patch" => anonymous.patch(&concrete, json!({})).await,
                "put" => anonymous.put(&concrete, json!({})).await,
                "delete" => anonymous.delete(&concrete).await,
                other => panic!("undocumented method {other} in the test"),
            };
            let code = body["error"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(
                code != "method_not_allowed"
                    && !(code == "not_found" && body["error"]["message"] == "route not found"),
                "{method} {path} is documented but not served: {status} {body}"
            );
            let guarded = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            if guarded {
                assert_eq!(
                    (status, code.as_str()),
                    (401, "unauthorized"),
                    "{method} {path}"
                );
            }
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| r.contains_key(&status.to_string())),
                "{method} {path} answered {status}, which its responses do not list: {}",
                operation["responses"]
            );
        }
    }
    assert_eq!(
        operations, 64,
        "auth 7, dialogs 13 (with files), notes 2 (and held answers 2), templates 4, contacts 5, managers 3, sessions 3, widget 5 (with onboarding), \
         visitors 1, integrations 4 (with files), blocks 3, notifications 12 (with the shop's SMTP server and one-click unsubscribe)"
    );
    t.stop().await;
}

/// The REST routes the gateway's source declares (`.route("/api/v1/…", …)`
/// in `services/gateway/src/http`), with their methods.
fn declared_routes() -> Vec<(String, Vec<String>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../services/gateway/src/http");
    let mut routes = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the gateway's http folder") {
        let source = std::fs::read_to_string(entry.expect("entry").path()).expect("source");
        let mut rest = source.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let Some(open) = rest.find('"') else { break };
            let after = &rest[open + 1..];
            let Some(close) = after.find('"') else { break };
            let path = &after[..close];
            // The handlers named up to the closing bracket: get(…).post(…) …
            let call_end = after
                .find("\n        .route(")
                .or_else(|| after.find("\n}"))
                .unwrap_or(after.len());
            let methods = ["get", "post", "patch", "delete", "put"]
                .into_iter()
                .filter(|m| {
                    let call = &after[close..call_end];
                    call.contains(&format!(" {m}("))
                        || call.contains(&format!(".{m}("))
                        || call.contains(&format!("({m}("))
                })
                .map(str::to_owned)
                .collect();
            if path.starts_with("/api/v1/") && path != "/api/v1/openapi.json" {
                routes.push((path.to_owned(), methods));
            }
            rest = after;
        }
    }
    routes
}

#[tokio::test]
async fn every_route_the_gateway_declares_is_in_the_document() {
    let t = TestSuite::start().await;
    let (_, doc) = Api::new(t.port).get("/api/v1/openapi.json").await;
    t.stop().await;
    let routes = declared_routes();
    assert!(routes.len() >= 20, "the scan found the routes: {routes:?}");
    for (path, methods) in routes {
        assert!(!methods.is_empty(), "no method found for {path}");
        for method in methods {
            assert!(
                doc["paths"][&path][&method].is_object(),
                "{method} {path} is served but not in the OpenAPI document"
            );
        }
    }
}
