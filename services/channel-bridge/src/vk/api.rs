//! Talking to VK's API: a method is a form POST to `<api>/method/<name>`
//! with the token and version; the answer is `{"response": ...}` or, with
//! HTTP 200 too, `{"error": {"error_code", "error_msg"}}`. Bots Long Poll's
//! check is a GET to the server `groups.getLongPollServer` names.

use std::time::Duration;

use serde_json::Value;

use crate::http_errors::described;

/// The API version the bridge speaks.
pub const VERSION: &str = "5.199";
/// How long a method call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// Where VK's API is, and where VK reaches the bridge.
#[derive(Debug, Clone)]
pub struct VkApi {
    /// `https://api.vk.com`, or a fake's address.
    pub api_url: String,
    /// The suite's public address for the Callback API; `None`: long polling.
    pub public_url: Option<String>,
    pub client: reqwest::Client,
}

/// Why a call to VK failed.
#[derive(Debug, thiserror::Error)]
pub enum VkError {
    /// VK answered with an error.
    #[error("{message} (VK error {code})")]
    Api { code: i64, message: String },
    /// VK could not be reached: nothing was asked of it.
    #[error("VK cannot be reached now: {0}")]
    Unreachable(String),
    /// Asked, and no answer came: it may or may not have been done.
    #[error("no answer from VK: {0}")]
    NoAnswer(String),
}

/// VK's error codes the bridge acts on.
pub mod codes {
    pub const AUTH_FAILED: i64 = 5;
    pub const TOO_MANY_PER_SECOND: i64 = 6;
    pub const FLOOD_CONTROL: i64 = 9;
    pub const INTERNAL: i64 = 10;
}

impl VkError {
    /// VK no longer takes the token.
    pub fn is_bad_token(&self) -> bool {
        matches!(self, Self::Api { code, .. } if *code == codes::AUTH_FAILED)
    }

    /// VK asked to wait (too many calls) or failed inside: the same call may
    /// be made again later.
    pub fn is_temporary(&self) -> bool {
        match self {
            Self::Api { code, .. } => matches!(
                *code,
                codes::TOO_MANY_PER_SECOND | codes::FLOOD_CONTROL | codes::INTERNAL
            ),
            Self::Unreachable(_) => true,
            Self::NoAnswer(_) => false,
        }
    }
}

/// A community, as `groups.getById` tells it.
#[derive(Debug, Clone)]
pub struct Community {
    pub id: i64,
    pub name: String,
}

/// Where and how to long poll a community's events.
#[derive(Debug, Clone)]
pub struct LongPollServer {
    pub server: String,
    pub key: String,
    pub ts: String,
}

impl VkApi {
    pub fn new(api_url: &str, public_url: Option<String>) -> Self {
        Self {
            api_url: api_url.trim_end_matches('/').to_owned(),
            public_url,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("an HTTP client"),
        }
    }

    /// Calls a method with the community's token.
    pub async fn call(
        &self,
        token: &str,
        method: &str,
        params: &[(&str, String)],
    ) -> Result<Value, VkError> {
        let mut form: Vec<(&str, String)> = params.to_vec();
        form.push(("v", VERSION.to_owned()));
        let sent = self
            .client
            .post(format!("{}/method/{method}", self.api_url))
            .bearer_auth(token)
            .form(&form)
            .timeout(CALL_TIMEOUT)
            .send()
            .await
            .map_err(|e| match e.is_connect() {
                true => VkError::Unreachable(described(e)),
                false => VkError::NoAnswer(described(e)),
            })?;
        let status = sent.status();
        let body: Value = sent
            .json()
            .await
            .map_err(|e| VkError::NoAnswer(format!("HTTP {status}: {}", described(e))))?;
        answer(body)
    }

    /// Checks the token: the community it belongs to.
    pub async fn community(&self, token: &str) -> Result<Community, VkError> {
        let answer = self.call(token, "groups.getById", &[]).await?;
        // 5.199 answers {"groups": [...]}; older versions a bare list.
        let group = answer["groups"]
            .get(0)
            .or_else(|| answer.get(0))
            .cloned()
            .unwrap_or_default();
        Ok(Community {
            id: group["id"].as_i64().unwrap_or_default(),
            name: group["name"].as_str().unwrap_or_default().to_owned(),
        })
    }

    /// The community's Bots Long Poll server.
    pub async fn long_poll_server(
        &self,
        token: &str,
        group_id: i64,
    ) -> Result<LongPollServer, VkError> {
        let answer = self
            .call(
                token,
                "groups.getLongPollServer",
                &[("group_id", group_id.to_string())],
            )
            .await?;
        Ok(LongPollServer {
            server: answer["server"].as_str().unwrap_or_default().to_owned(),
            key: answer["key"].as_str().unwrap_or_default().to_owned(),
            ts: text_of(&answer["ts"]),
        })
    }

    /// Waits up to `wait` seconds for the events from `ts` on.
    pub async fn check(&self, server: &LongPollServer, wait: u64) -> Result<Value, VkError> {
        let answer = self
            .client
            .get(&server.server)
            .query(&[
                ("act", "a_check"),
                ("key", server.key.as_str()),
                ("ts", server.ts.as_str()),
                ("wait", &wait.to_string()),
            ])
            .timeout(Duration::from_secs(wait + 10))
            .send()
            .await
            .map_err(|e| VkError::Unreachable(described(e)))?;
        let status = answer.status();
        answer
            .json()
            .await
            .map_err(|e| VkError::Unreachable(format!("HTTP {status}: {}", described(e))))
    }

    /// Sends `text` to the person; the same `random_id` again sends nothing new.
    pub async fn send(
        &self,
        token: &str,
        peer_id: i64,
        random_id: i32,
        text: &str,
    ) -> Result<i64, VkError> {
        let answer = self
            .call(
                token,
                "messages.send",
                &[
                    ("peer_id", peer_id.to_string()),
                    ("random_id", random_id.to_string()),
                    ("message", text.to_owned()),
                ],
            )
            .await?;
        Ok(answer.as_i64().unwrap_or_default())
    }

    /// A person's name from their profile.
    pub async fn user_name(&self, token: &str, user_id: i64) -> Result<String, VkError> {
        let answer = self
            .call(token, "users.get", &[("user_ids", user_id.to_string())])
            .await?;
        let user = &answer[0];
        let name = [&user["first_name"], &user["last_name"]]
            .iter()
            .filter_map(|part| part.as_str())
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(name)
    }

    /// The Callback API address of an integration, where the suite has a
    /// public address.
    pub fn callback_url(&self, integration_id: uuid::Uuid) -> Option<String> {
        self.public_url.as_ref().map(|base| {
            format!(
                "{}/webhooks/vk/{integration_id}",
                base.trim_end_matches('/')
            )
        })
    }
}

/// A method's answer: its response, or its error.
fn answer(body: Value) -> Result<Value, VkError> {
    if let Some(error) = body.get("error") {
        return Err(VkError::Api {
            code: error["error_code"].as_i64().unwrap_or_default(),
            message: error["error_msg"]
                .as_str()
                .unwrap_or("unknown error")
                .to_owned(),
        });
    }
    match body.get("response") {
        Some(response) => Ok(response.clone()),
        None => Err(VkError::NoAnswer(format!(
            "an answer without a response: {body}"
        ))),
    }
}

/// `ts` and ids come as a string or a number.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_error_answered_with_status_200_is_an_error() {
        let error = answer(
            json!({"error": {"error_code": 6, "error_msg": "Too many requests per second",
            "request_params": []}}),
        )
        .unwrap_err();
        assert!(error.is_temporary());
        assert!(!error.is_bad_token());
        assert_eq!(
            error.to_string(),
            "Too many requests per second (VK error 6)"
        );
        let bad_token =
            answer(json!({"error": {"error_code": 5, "error_msg": "User authorization failed"}}))
                .unwrap_err();
        assert!(bad_token.is_bad_token() && !bad_token.is_temporary());
        assert_eq!(answer(json!({"response": 17})).unwrap(), json!(17));
    }

    #[test]
    fn ts_reads_as_text_from_a_string_or_a_number() {
        assert_eq!(text_of(&json!("4")), "4");
        assert_eq!(text_of(&json!(4)), "4");
    }
}
