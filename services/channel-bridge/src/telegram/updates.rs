//! What a Telegram update becomes: a private chat's message from a person
//! (text, or its caption and what media it sends, files linked for the
//! console) is an [`Incoming`]
//! message; anything else (groups, channels, edits, other bots, service
//! messages) is acknowledged, counted in `bridge_inbound_ignored_total` and
//! dropped.

use chat_proto::dialog::v1 as pb;
use teloxide_core::types::{FileMeta, Message, Update, UpdateKind, User};
use uuid::Uuid;

use super::files;
use crate::inbound::Incoming;

/// The message a person sent the bot of `account_id` (whose id is
/// `bot_id`), if the update is one.
/// The key is the bot, the chat and the message's number in it, which a
/// redelivery keeps (Telegram's `update_id` may start again from a random
/// number after a week without updates, so it is not used).
pub fn incoming(account_id: Uuid, bot_id: &str, update: &Update) -> Option<Incoming> {
    let incoming = person_message(update).map(|(message, from, text)| Incoming {
        account_id,
        channel: pb::Channel::Telegram,
        user_id: from.id.0.to_string(),
        name: from.full_name(),
        key: format!("telegram:{bot_id}:{}:{}", message.chat.id.0, message.id.0),
        text,
    });
    if incoming.is_none() {
        metrics::counter!("bridge_inbound_ignored_total", "channel" => super::CHANNEL).increment(1);
    }
    incoming
}

fn person_message(update: &Update) -> Option<(&Message, &User, String)> {
    let UpdateKind::Message(message) = &update.kind else {
        return None;
    };
    if !message.chat.is_private() {
        return None;
    }
    let from = message.from.as_ref().filter(|user| !user.is_bot)?;
    Some((message, from, text_of(message)?))
}

/// The text a manager reads: the message's text, or its caption and then
/// what the media is, with a link the console opens it by where it is a
/// file (the largest size of a photo). `None` for messages no person typed
/// or sent (service messages: someone joined, a payment, ...).
fn text_of(message: &Message) -> Option<String> {
    if let Some(text) = message.text() {
        return Some(text.to_owned());
    }
    let linked = |what: &str, file: &FileMeta| format!("{what} {}", files::link(&file.id.0, None));
    let named = |what: &str, file: &FileMeta, name: Option<&str>| {
        format!("{what} {}", files::link(&file.id.0, name))
    };
    let media = if let Some(sizes) = message.photo() {
        match sizes.iter().max_by_key(|size| size.width * size.height) {
            Some(largest) => linked("[photo]", &largest.file),
            None => "[photo]".to_owned(),
        }
    } else if let Some(document) = message.document() {
        let name = document.file_name.as_deref();
        named(
            &format!("[document: {}]", name.unwrap_or("unnamed")),
            &document.file,
            name,
        )
    } else if let Some(sticker) = message.sticker() {
        format!("[sticker {}]", sticker.emoji.as_deref().unwrap_or_default()).replace(" ]", "]")
    } else if let Some(voice) = message.voice() {
        linked("[voice message]", &voice.file)
    } else if let Some(note) = message.video_note() {
        linked("[video message]", &note.file)
    } else if let Some(video) = message.video() {
        named("[video]", &video.file, video.file_name.as_deref())
    } else if let Some(animation) = message.animation() {
        named("[GIF]", &animation.file, animation.file_name.as_deref())
    } else if let Some(audio) = message.audio() {
        named("[audio]", &audio.file, audio.file_name.as_deref())
    } else if message.location().is_some() {
        "[location]".to_owned()
    } else if message.contact().is_some() {
        "[contact card]".to_owned()
    } else {
        return None;
    };
    Some(match message.caption() {
        Some(caption) => format!("{caption}\n{media}"),
        None => media,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// From the bytes, as the webhook reads it (teloxide's update does not
    /// read from a `serde_json::Value`).
    fn update(value: serde_json::Value) -> Update {
        serde_json::from_str(&value.to_string()).expect("a Bot API update")
    }

    fn private_message(extra: serde_json::Value) -> serde_json::Value {
        let mut message = json!({
            "message_id": 7,
            "from": {"id": 42, "is_bot": false, "first_name": "Анна", "last_name": "Петрова"},
            "chat": {"id": 42, "type": "private", "first_name": "Анна"},
            "date": 1_764_700_000,
        });
        message
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"update_id": 1001, "message": message})
    }

    #[test]
    fn a_private_text_message_is_a_persons_message_keyed_by_bot_and_update() {
        let account = Uuid::now_v7();
        let got = incoming(
            account,
            "555",
            &update(private_message(json!({"text": "Здравствуйте"}))),
        );
        assert_eq!(
            got,
            Some(Incoming {
                account_id: account,
                channel: pb::Channel::Telegram,
                user_id: "42".into(),
                name: "Анна Петрова".into(),
                key: "telegram:555:42:7".into(),
                text: "Здравствуйте".into(),
            })
        );
    }

    #[test]
    fn media_become_their_caption_then_what_they_are_with_a_link_to_the_file() {
        let photo = private_message(json!({
            "photo": [{"file_id": "small", "file_unique_id": "u0", "width": 90, "height": 67},
                      {"file_id": "large", "file_unique_id": "u1", "width": 800, "height": 600},
                      {"file_id": "medium", "file_unique_id": "u2", "width": 320, "height": 240}],
            "caption": "this one?",
        }));
        let document = private_message(json!({
            "document": {"file_id": "f2", "file_unique_id": "u2", "file_name": "order.pdf"},
        }));
        let named = private_message(json!({
            "document": {"file_id": "f3", "file_unique_id": "u3", "file_name": "прайс & цены.pdf"},
        }));
        let unnamed = private_message(json!({
            "document": {"file_id": "f4", "file_unique_id": "u4"},
        }));
        let sticker = private_message(json!({"sticker": {
            "file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1,
            "is_animated": false, "is_video": false, "emoji": "👍"}}));
        let voice = private_message(json!({"voice": {
            "file_id": "v", "file_unique_id": "v", "duration": 3, "mime_type": "audio/ogg",
            "file_size": 4096}}));
        let text = |v| incoming(Uuid::now_v7(), "1", &update(v)).map(|i| i.text);
        assert_eq!(
            text(photo).as_deref(),
            Some("this one?\n[photo] /api/v1/files/telegram/large"),
            "the largest size"
        );
        assert_eq!(
            text(document).as_deref(),
            Some("[document: order.pdf] /api/v1/files/telegram/f2?name=order.pdf"),
            "the link carries the name the person gave, which Telegram's file server forgets"
        );
        assert_eq!(
            text(named).as_deref(),
            Some(
                "[document: прайс & цены.pdf] /api/v1/files/telegram/f3\
                 ?name=%D0%BF%D1%80%D0%B0%D0%B9%D1%81%20%26%20%D1%86%D0%B5%D0%BD%D1%8B.pdf"
            )
        );
        assert_eq!(
            text(unnamed).as_deref(),
            Some("[document: unnamed] /api/v1/files/telegram/f4")
        );
        assert_eq!(text(sticker).as_deref(), Some("[sticker 👍]"));
        assert_eq!(
            text(voice).as_deref(),
            Some("[voice message] /api/v1/files/telegram/v")
        );
    }

    #[test]
    fn groups_bots_and_edits_are_not_a_persons_message() {
        let group = json!({"update_id": 1, "message": {
            "message_id": 1, "date": 1, "text": "hi",
            "from": {"id": 42, "is_bot": false, "first_name": "A"},
            "chat": {"id": -100, "type": "group", "title": "G"}}});
        let from_bot = json!({"update_id": 2, "message": {
            "message_id": 1, "date": 1, "text": "hi",
            "from": {"id": 43, "is_bot": true, "first_name": "B"},
            "chat": {"id": 43, "type": "private", "first_name": "B"}}});
        let edited = json!({"update_id": 3, "edited_message": {
            "message_id": 1, "date": 1, "edit_date": 2, "text": "hi",
            "from": {"id": 42, "is_bot": false, "first_name": "A"},
            "chat": {"id": 42, "type": "private", "first_name": "A"}}});
        for value in [group, from_bot, edited] {
            assert_eq!(
                incoming(Uuid::now_v7(), "1", &update(value.clone())),
                None,
                "{value}"
            );
        }
    }
}
