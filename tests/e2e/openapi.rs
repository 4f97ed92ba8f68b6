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
        operations, 30,
        "auth 4, dialogs 9, notes 2, templates 4, contacts 5, managers 3, sessions 3"
    );
    t.stop().await;
}
