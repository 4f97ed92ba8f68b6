//! What a VK event becomes: a person's new message to the community (text,
//! with photos and documents as links the manager can open, other
//! attachments named) is a [`PersonMessage`]; anything else (our own
//! replies echoed back as `message_reply`, edits, typing, permission
//! changes, chats of several people) is acknowledged, counted in
//! `bridge_inbound_ignored_total` and dropped.

use serde_json::Value;

/// VK's peer ids from this number on are chats of several people.
const FIRST_CHAT_PEER: i64 = 2_000_000_000;

/// A person's message to the community, as an event carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonMessage {
    /// The person (their private conversation with the community has the
    /// same id).
    pub from_id: i64,
    /// Unique in the conversation; with the community and the person, the
    /// message's key, the same however the event arrives (callback or long
    /// poll, or again).
    pub conversation_message_id: i64,
    pub text: String,
}

impl PersonMessage {
    /// The message's client id in its dialog.
    pub fn key(&self, group_id: i64) -> String {
        format!(
            "vk:{group_id}:{}:{}",
            self.from_id, self.conversation_message_id
        )
    }
}

/// The person's message an event carries, if it is one.
pub fn person_message(event: &Value) -> Option<PersonMessage> {
    let message = if event["type"] == "message_new" {
        // 5.199: {"message": {...}, "client_info": {...}}; before 5.103 the message itself.
        let object = &event["object"];
        object.get("message").unwrap_or(object)
    } else {
        &Value::Null
    };
    let from_id = message["from_id"].as_i64().unwrap_or_default();
    let peer_id = message["peer_id"].as_i64().unwrap_or(from_id);
    let found =
        (from_id > 0 && peer_id == from_id && peer_id < FIRST_CHAT_PEER && message["out"] != 1)
            .then(|| {
                Some(PersonMessage {
                    from_id,
                    conversation_message_id: message["conversation_message_id"].as_i64()?,
                    text: text_of(message)?,
                })
            })
            .flatten();
    if found.is_none() {
        metrics::counter!("bridge_inbound_ignored_total", "channel" => super::CHANNEL).increment(1);
    }
    found
}

/// The text a manager reads: the message's text and a line for each
/// attachment (photos and documents with their address). `None` for a
/// message with neither.
fn text_of(message: &Value) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    if let Some(text) = message["text"].as_str().filter(|t| !t.trim().is_empty()) {
        parts.push(text.to_owned());
    }
    for attachment in message["attachments"].as_array().into_iter().flatten() {
        parts.push(describe(attachment));
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}

fn describe(attachment: &Value) -> String {
    let kind = attachment["type"].as_str().unwrap_or("attachment");
    let body = &attachment[kind];
    match kind {
        "photo" => {
            // The largest size: sizes come smallest first, but not always.
            let largest = body["sizes"]
                .as_array()
                .into_iter()
                .flatten()
                .max_by_key(|size| {
                    size["width"].as_i64().unwrap_or(0) * size["height"].as_i64().unwrap_or(0)
                });
            match largest.and_then(|size| size["url"].as_str()) {
                Some(url) => format!("[photo] {url}"),
                None => "[photo]".to_owned(),
            }
        }
        "doc" => {
            let title = body["title"].as_str().unwrap_or("unnamed");
            match body["url"].as_str() {
                Some(url) => format!("[document: {title}] {url}"),
                None => format!("[document: {title}]"),
            }
        }
        "sticker" => "[sticker]".to_owned(),
        "audio_message" => "[voice message]".to_owned(),
        "video" => "[video]".to_owned(),
        "audio" => "[audio]".to_owned(),
        "wall" => "[wall post]".to_owned(),
        "link" => match body["url"].as_str() {
            Some(url) => format!("[link] {url}"),
            None => "[link]".to_owned(),
        },
        other => format!("[{other}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message_new(message: Value) -> Value {
        json!({"type": "message_new", "object": {"message": message, "client_info": {}},
               "group_id": 7, "event_id": "abc", "v": "5.199"})
    }

    #[test]
    fn a_persons_text_is_their_message_keyed_by_community_person_and_number() {
        let event = message_new(json!({"id": 0, "date": 1, "from_id": 42, "peer_id": 42,
            "out": 0, "text": "Здравствуйте", "conversation_message_id": 5, "attachments": []}));
        let message = person_message(&event).unwrap();
        assert_eq!(message.text, "Здравствуйте");
        assert_eq!(message.key(7), "vk:7:42:5");
    }

    #[test]
    fn photos_and_documents_come_as_links_and_other_attachments_by_name() {
        let event = message_new(
            json!({"from_id": 42, "peer_id": 42, "out": 0, "text": "this one?",
            "conversation_message_id": 6, "attachments": [
                {"type": "photo", "photo": {"sizes": [
                    {"type": "x", "url": "https://vk.example/big.jpg", "width": 604, "height": 400},
                    {"type": "s", "url": "https://vk.example/small.jpg", "width": 75, "height": 50}]}},
                {"type": "doc", "doc": {"title": "order.pdf", "url": "https://vk.example/order.pdf"}},
                {"type": "sticker", "sticker": {}}]}),
        );
        assert_eq!(
            person_message(&event).unwrap().text,
            "this one?\n[photo] https://vk.example/big.jpg\n\
             [document: order.pdf] https://vk.example/order.pdf\n[sticker]"
        );
    }

    #[test]
    fn our_replies_chats_and_other_events_are_not_a_persons_message() {
        let ours = json!({"type": "message_reply", "object": {"from_id": -7, "peer_id": 42,
            "out": 1, "text": "hi", "conversation_message_id": 7}});
        let chat = message_new(
            json!({"from_id": 42, "peer_id": 2_000_000_001_i64, "out": 0,
            "text": "hi all", "conversation_message_id": 8}),
        );
        let typing = json!({"type": "message_typing_state", "object": {"state": "typing",
            "from_id": 42, "to_id": -7}});
        let empty = message_new(json!({"from_id": 42, "peer_id": 42, "out": 0, "text": "",
            "conversation_message_id": 9}));
        for event in [ours, chat, typing, empty, json!("garbage")] {
            assert_eq!(person_message(&event), None, "{event}");
        }
    }
}
