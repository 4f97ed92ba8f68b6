//! Socket frames: what clients send, parsed strictly, and what the gateway
//! sends ([`ServerFrame`], each kind spelled here only and serialized once,
//! straight to its text).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::api::{ContactOut, DialogOut, MessageOut, NoteOut};
use crate::presence::VisitorOut;

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
        /// May be empty when it carries files.
        #[serde(default)]
        text: String,
        #[serde(default)]
        channel: Option<String>,
        /// Ids of files uploaded for the dialog, up to 10.
        #[serde(default)]
        attachments: Vec<String>,
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

/// A frame the gateway sends, by its `type`.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    /// A manager's first frame: who is signed in.
    #[serde(rename = "hello")]
    ManagerHello {
        account_id: Uuid,
        manager: HelloManager<'a>,
    },
    /// A visitor's first frame: who they are, their dialog, whether anyone
    /// answers now.
    #[serde(rename = "hello")]
    VisitorHello {
        contact_id: Uuid,
        visitor_token: &'a str,
        dialog: Option<&'a DialogOut>,
        managers_online: bool,
    },
    /// To a visitor: who they said they are was taken (`verified` by the
    /// shop's hash).
    Identified {
        contact_id: &'a str,
        verified: bool,
    },
    Message {
        message: &'a MessageOut,
    },
    /// The sender's own message, stored (or found stored before).
    Ack {
        client_message_id: &'a str,
        duplicate: bool,
        message: &'a MessageOut,
    },
    Error {
        code: &'a str,
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_message_id: Option<&'a str>,
    },
    Pong,
    DialogCreated {
        dialog: &'a DialogOut,
    },
    DialogUpdated {
        change: &'a str,
        dialog: &'a DialogOut,
    },
    MessageUpdated {
        message: &'a MessageOut,
    },
    DialogRead {
        dialog_id: &'a str,
        manager_id: &'a str,
        seq: i64,
        unread_count: i64,
    },
    Note {
        note: &'a NoteOut,
    },
    ContactUpdated {
        contact: &'a ContactOut,
    },
    /// To visitors: whether any manager is online.
    Presence {
        managers_online: bool,
    },
    /// To managers: one of them opened a first console, or closed the last.
    ManagerPresence {
        manager_id: Uuid,
        online: bool,
    },
    VisitorOnline {
        visitor: &'a VisitorOut,
    },
    VisitorOffline {
        contact_id: Uuid,
    },
    /// To a visitor: the widget's settings as they apply to their page.
    Settings {
        settings: &'a Value,
    },
    /// To managers: the widget's settings as saved.
    WidgetSettings {
        settings: &'a crate::widget::settings::SettingsOut,
    },
}

/// The manager in their hello.
#[derive(Serialize)]
pub struct HelloManager<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
}

impl ServerFrame<'_> {
    /// The frame as sent.
    pub fn text(&self) -> String {
        serde_json::to_string(self).expect("a frame serializes")
    }
}

pub fn error(code: &str, message: &str, client_message_id: Option<&str>) -> String {
    ServerFrame::Error {
        code,
        message,
        client_message_id,
    }
    .text()
}

pub fn ack(message: &MessageOut, duplicate: bool) -> String {
    ServerFrame::Ack {
        client_message_id: &message.client_message_id,
        duplicate,
        message,
    }
    .text()
}

pub fn message(message: &MessageOut) -> String {
    ServerFrame::Message { message }.text()
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
                attachments: Vec::new(),
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
    fn server_frames_carry_their_type_and_fields() {
        let pong: Value = serde_json::from_str(&ServerFrame::Pong.text()).unwrap();
        assert_eq!(pong, serde_json::json!({"type": "pong"}));
        let presence: Value = serde_json::from_str(
            &ServerFrame::Presence {
                managers_online: true,
            }
            .text(),
        )
        .unwrap();
        assert_eq!(
            presence,
            serde_json::json!({"type": "presence", "managers_online": true})
        );
        let offline = ServerFrame::VisitorOffline {
            contact_id: Uuid::nil(),
        };
        let offline: Value = serde_json::from_str(&offline.text()).unwrap();
        assert_eq!(offline["type"], "visitor_offline");
        let without_id: Value = serde_json::from_str(&error("invalid", "empty", None)).unwrap();
        assert!(without_id.get("client_message_id").is_none());
    }

    #[test]
    fn error_frames_carry_the_client_message_id() {
        let frame: Value =
            serde_json::from_str(&error("invalid", "text is empty", Some("c9"))).unwrap();
        assert_eq!(frame["client_message_id"], "c9");
        assert_eq!(frame["code"], "invalid");
    }
}
