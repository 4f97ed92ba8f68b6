//! What a webhook POST of the Messenger Platform becomes: each person's
//! message to the page (text, with images and files as links the manager
//! can open, other attachments named), in the order they were written
//! (several entries and items per POST, not in order); echoes of the page's
//! own messages, deliveries, reads and postbacks are dropped and counted in
//! `bridge_inbound_ignored_total`.

use serde_json::Value;

/// A person's message to the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonMessage {
    /// The person's page-scoped id, which replies go to.
    pub psid: String,
    /// Facebook's id of the message (`m_...`): with the page, its key.
    pub mid: String,
    pub timestamp: i64,
    pub text: String,
}

impl PersonMessage {
    /// The message's client id in its dialog. Facebook's mids run to a
    /// hundred characters and more, over the 64 a client id may have: the
    /// first 128 bits of the mid's SHA-256 stand for it.
    pub fn key(&self, page_id: &str) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(self.mid.as_bytes());
        format!("facebook:{page_id}:{}", hex::encode(&digest[..16]))
    }
}

/// The people's messages of a POST to the page `page_id`, oldest first.
pub fn person_messages(body: &Value, page_id: &str) -> Vec<PersonMessage> {
    let mut found = Vec::new();
    let items = body["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|entry| entry["messaging"].as_array().into_iter().flatten());
    for item in items {
        match person_message(item, page_id) {
            Some(message) => found.push(message),
            None => {
                metrics::counter!("bridge_inbound_ignored_total", "channel" => super::CHANNEL)
                    .increment(1);
            }
        }
    }
    found.sort_by_key(|m| m.timestamp);
    found
}

fn person_message(item: &Value, page_id: &str) -> Option<PersonMessage> {
    let message = item.get("message")?;
    let psid = item["sender"]["id"].as_str()?;
    if message["is_echo"] == true || psid == page_id {
        return None;
    }
    Some(PersonMessage {
        psid: psid.to_owned(),
        mid: message["mid"].as_str()?.to_owned(),
        timestamp: item["timestamp"].as_i64().unwrap_or_default(),
        text: text_of(message)?,
    })
}

/// The text a manager reads: the message's text and a line per attachment.
fn text_of(message: &Value) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    if let Some(text) = message["text"].as_str().filter(|t| !t.trim().is_empty()) {
        parts.push(text.to_owned());
    }
    for attachment in message["attachments"].as_array().into_iter().flatten() {
        let kind = attachment["type"].as_str().unwrap_or("attachment");
        let url = attachment["payload"]["url"].as_str();
        let name = match kind {
            "image" => "photo",
            "file" => "document",
            "audio" => "audio",
            "video" => "video",
            "location" => "location",
            other => other,
        };
        parts.push(match url {
            Some(url) => format!("[{name}] {url}"),
            None => format!("[{name}]"),
        });
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_batch_gives_the_peoples_messages_oldest_first_without_echoes_and_receipts() {
        let body = json!({"object": "page", "entry": [
            {"id": "P", "time": 3, "messaging": [
                {"sender": {"id": "42"}, "recipient": {"id": "P"}, "timestamp": 20,
                 "message": {"mid": "m_2", "text": "второе"}},
                {"sender": {"id": "P"}, "recipient": {"id": "42"}, "timestamp": 15,
                 "message": {"mid": "m_echo", "is_echo": true, "text": "ours"}},
                {"sender": {"id": "42"}, "recipient": {"id": "P"}, "timestamp": 16,
                 "delivery": {"mids": ["m_echo"], "watermark": 16}}]},
            {"id": "P", "time": 4, "messaging": [
                {"sender": {"id": "42"}, "recipient": {"id": "P"}, "timestamp": 10,
                 "message": {"mid": "m_1", "text": "первое",
                     "attachments": [{"type": "image", "payload": {"url": "https://fb.example/1.png"}}]}},
                {"sender": {"id": "42"}, "recipient": {"id": "P"}, "timestamp": 30,
                 "read": {"watermark": 30}}]}]});
        let found = person_messages(&body, "P");
        let texts: Vec<&str> = found.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(
            texts,
            ["первое\n[photo] https://fb.example/1.png", "второе"]
        );
        let key = found[0].key("104200300400");
        assert!(
            key.starts_with("facebook:104200300400:") && key.len() <= 64,
            "{key}"
        );
        assert_ne!(key, found[1].key("104200300400"));
        assert_eq!(found[0].psid, "42");
    }

    #[test]
    fn anything_else_gives_nothing() {
        for body in [
            json!({}),
            json!("x"),
            json!({"entry": [{"messaging": [{"postback": {}}]}]}),
        ] {
            assert!(person_messages(&body, "P").is_empty(), "{body}");
        }
    }
}
