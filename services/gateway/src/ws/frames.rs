//! Socket frames: what clients send, parsed strictly, and what the gateway sends.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::MessageOut;

/// A frame from a client.
#[derive(Debug, Deserialize, PartialEq)]
/// Unknown fields are ignored, so newer clients work with this server.
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Send a message. Visitors leave out `dialog_id`; managers name the
    /// dialog, and may choose the `channel` it goes out through.
    Send {
        #[serde(default)]
        dialog_id: Option<String>,
        client_message_id: String,
        text: String,
        #[serde(default)]
        channel: Option<String>,
    },
    /// Replay the messages of a dialog after `after_seq` (managers).
    Sync {
        dialog_id: String,
        after_seq: i64,
    },
    Ping,
    /// The visitor is on this page (visitors).
    Page {
        url: String,
        #[serde(default)]
        title: String,
        #[serde(default)]
        referrer: String,
        #[serde(default)]
        visit_started_at: Option<String>,
        #[serde(default)]
        pages_seen: Option<u32>,
        page_view_id: String,
    },
    /// The visitor opened the chat window on this page view (visitors).
    Shown {
        page_view_id: String,
    },
    /// Who the visitor says they are (visitors).
    Identify {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        phone: Option<String>,
        #[serde(default)]
        user_hash: Option<String>,
    },
}

/// Why a client frame was refused; the connection stays open.
#[derive(Debug, PartialEq)]
pub struct FrameError {
    pub code: &'static str,
    pub message: String,
}

const KNOWN_TYPES: [&str; 6] = ["send", "sync", "ping", "page", "shown", "identify"];

pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
    let value: Value = serde_json::from_str(text).map_err(|_| FrameError {
        code: "bad_frame",
        message: "frame is not JSON".into(),
    })?;
    let Some(kind) = value.get("type").and_then(Value::as_str) else {
        return Err(FrameError {
            code: "bad_frame",
            message: "frame has no \"type\"".into(),
        });
    };
    if !KNOWN_TYPES.contains(&kind) {
        return Err(FrameError {
            code: "unknown_type",
            message: format!("unknown frame type {kind:?}"),
        });
    }
    serde_json::from_value(value).map_err(|e| FrameError {
        code: "bad_frame",
        message: e.to_string(),
    })
}

/// An `unknown_type` error for a frame this socket does not take.
pub fn not_here(what: &str) -> String {
    error(
        "unknown_type",
        &format!("{what} frames are for the other socket"),
        None,
    )
}

pub fn error(code: &str, message: &str, client_message_id: Option<&str>) -> String {
    let mut frame = json!({ "type": "error", "code": code, "message": message });
    if let Some(id) = client_message_id {
        frame["client_message_id"] = json!(id);
    }
    frame.to_string()
}

pub fn ack(message: &MessageOut, duplicate: bool) -> String {
    json!({
        "type": "ack",
        "client_message_id": message.client_message_id,
        "duplicate": duplicate,
        "message": message,
    })
    .to_string()
}

pub fn message(message: &MessageOut) -> String {
    json!({ "type": "message", "message": message }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_frame_parses() {
        let frame = parse(r#"{"type":"send","client_message_id":"c1","text":"hi"}"#).unwrap();
        assert_eq!(
            frame,
            ClientFrame::Send {
                dialog_id: None,
                client_message_id: "c1".into(),
                text: "hi".into(),
                channel: None,
            }
        );
    }

    #[test]
    fn bad_frames_are_told_apart() {
        assert_eq!(parse("hello").unwrap_err().code, "bad_frame");
        assert_eq!(parse("{}").unwrap_err().code, "bad_frame");
        assert_eq!(
            parse(r#"{"type":"dance"}"#).unwrap_err().code,
            "unknown_type"
        );
        assert_eq!(
            parse(r#"{"type":"send","text":"no id"}"#).unwrap_err().code,
            "bad_frame"
        );
        let wrong_type = r#"{"type":"send","client_message_id":1,"text":"x"}"#;
        assert_eq!(parse(wrong_type).unwrap_err().code, "bad_frame");
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let newer_client = r#"{"type":"ping","sent_at":"now"}"#;
        assert_eq!(parse(newer_client).unwrap(), ClientFrame::Ping);
    }

    #[test]
    fn error_frames_carry_the_client_message_id() {
        let frame: Value =
            serde_json::from_str(&error("invalid", "text is empty", Some("c9"))).unwrap();
        assert_eq!(frame["client_message_id"], "c9");
        assert_eq!(frame["code"], "invalid");
    }
}
