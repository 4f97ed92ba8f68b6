//! Talking to the Graph API: the page behind a token (`GET /me`), a
//! person's name (`GET /<PSID>`), and the Send API (`POST /me/messages`).
//! Errors come as `{"error": {"message", "type", "code", "error_subcode"}}`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::http_errors::described;

/// The Graph API version the bridge speaks.
pub const VERSION: &str = "v21.0";
/// How long a call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// Where the Graph API is, and where Facebook reaches the bridge.
#[derive(Debug, Clone)]
pub struct FacebookApi {
    /// `https://graph.facebook.com`, or a fake's address.
    pub api_url: String,
    /// The suite's public address for webhooks; `None`: no page can connect.
    pub public_url: Option<String>,
    pub client: reqwest::Client,
}

/// Why a call to Facebook failed.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Facebook answered with an error.
    #[error("{message} (Facebook error {code})")]
    Api { code: i64, message: String },
    /// Facebook could not be reached: nothing was asked of it.
    #[error("Facebook cannot be reached now: {0}")]
    Unreachable(String),
    /// Asked, and no answer came: it may or may not have been done.
    #[error("no answer from Facebook: {0}")]
    NoAnswer(String),
}

/// Facebook's error codes the bridge acts on.
pub mod codes {
    pub const TEMPORARY: i64 = 2;
    pub const TOO_MANY_CALLS: i64 = 4;
    pub const OUTSIDE_WINDOW: i64 = 10;
    pub const BAD_TOKEN: i64 = 190;
    pub const RATE_LIMITED: i64 = 613;
    pub const TEMPORARY_SEND: i64 = 1200;
}

impl GraphError {
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub fn is_bad_token(&self) -> bool {
        self.code() == Some(codes::BAD_TOKEN)
    }

    /// Facebook asked to slow down or failed inside: nothing was sent, and
    /// the same call may be made again later.
    pub fn is_temporary(&self) -> bool {
        matches!(self, Self::Unreachable(_))
            || matches!(
                self.code(),
                Some(
                    codes::TEMPORARY
                        | codes::TOO_MANY_CALLS
                        | codes::RATE_LIMITED
                        | codes::TEMPORARY_SEND
                )
            )
    }
}

/// How a reply goes out: a response within 24 hours of the person's last
/// message, or with the human agent tag within 7 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Response,
    HumanAgent,
}

impl FacebookApi {
    pub fn new(api_url: &str, public_url: Option<String>) -> Self {
        Self {
            api_url: api_url.trim_end_matches('/').to_owned(),
            public_url,
            client: reqwest::Client::builder()
                .timeout(CALL_TIMEOUT)
                .build()
                .expect("an HTTP client"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{VERSION}/{path}", self.api_url)
    }

    async fn answer(sent: Result<reqwest::Response, reqwest::Error>) -> Result<Value, GraphError> {
        let sent = sent.map_err(|e| match e.is_connect() {
            true => GraphError::Unreachable(described(e)),
            false => GraphError::NoAnswer(described(e)),
        })?;
        let status = sent.status();
        let body: Value = sent
            .json()
            .await
            .map_err(|e| GraphError::NoAnswer(format!("HTTP {status}: {}", described(e))))?;
        match body.get("error") {
            Some(error) => Err(GraphError::Api {
                code: error["code"].as_i64().unwrap_or_default(),
                message: error["message"]
                    .as_str()
                    .unwrap_or("unknown error")
                    .to_owned(),
            }),
            None => Ok(body),
        }
    }

    /// Checks the token: the page's id and name.
    pub async fn page(&self, token: &str) -> Result<(String, String), GraphError> {
        let sent = self
            .client
            .get(self.url("me"))
            .bearer_auth(token)
            .send()
            .await;
        let page = Self::answer(sent).await?;
        Ok((
            page["id"].as_str().unwrap_or_default().to_owned(),
            page["name"].as_str().unwrap_or_default().to_owned(),
        ))
    }

    /// A person's name from their profile.
    pub async fn name(&self, token: &str, psid: &str) -> Result<String, GraphError> {
        let sent = self
            .client
            .get(self.url(psid))
            .query(&[("fields", "first_name,last_name")])
            .bearer_auth(token)
            .send()
            .await;
        let person = Self::answer(sent).await?;
        Ok([&person["first_name"], &person["last_name"]]
            .iter()
            .filter_map(|part| part.as_str())
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" "))
    }

    /// Sends `text` to the person, within the window given.
    pub async fn send(
        &self,
        token: &str,
        psid: &str,
        text: &str,
        window: Window,
    ) -> Result<(), GraphError> {
        let mut body = json!({"recipient": {"id": psid}, "message": {"text": text}});
        match window {
            Window::Response => body["messaging_type"] = json!("RESPONSE"),
            Window::HumanAgent => {
                body["messaging_type"] = json!("MESSAGE_TAG");
                body["tag"] = json!("HUMAN_AGENT");
            }
        }
        let sent = self
            .client
            .post(self.url("me/messages"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await;
        Self::answer(sent).await.map(drop)
    }

    /// The webhook address of an integration, where the suite has a public address.
    pub fn webhook_url(&self, integration_id: uuid::Uuid) -> Option<String> {
        self.public_url.as_ref().map(|base| {
            format!(
                "{}/webhooks/facebook/{integration_id}",
                base.trim_end_matches('/')
            )
        })
    }
}
