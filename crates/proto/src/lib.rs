//! The suite's protocols, compiled once from `proto/`: gRPC clients and servers
//! for each service, and the event envelope with its payloads.

pub mod dialog {
    pub mod v1 {
        tonic::include_proto!("chat.dialog.v1");
    }
}

pub mod contact {
    pub mod v1 {
        tonic::include_proto!("chat.contact.v1");
    }
}

pub mod bridge {
    pub mod v1 {
        tonic::include_proto!("chat.bridge.v1");
    }
}

pub mod notification {
    pub mod v1 {
        tonic::include_proto!("chat.notification.v1");
    }
}

pub mod events {
    pub mod v1 {
        tonic::include_proto!("chat.events.v1");
    }
}

/// Converts between protobuf timestamps and chrono, which the services store.
pub mod time {
    pub use prost_types::Timestamp;

    pub fn to_proto(t: chrono::DateTime<chrono::Utc>) -> Timestamp {
        Timestamp {
            seconds: t.timestamp(),
            nanos: t.timestamp_subsec_nanos() as i32,
        }
    }

    pub fn from_proto(t: &Timestamp) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32).unwrap_or_default()
    }
}

/// A message as plain text where only text can go (an e-mail, a push): its
/// words, then a line per file it carries (`📎 name`), which the reader
/// opens in the chat.
pub mod plain {
    use crate::dialog::v1::Message;

    impl Message {
        pub fn text_with_files(&self) -> String {
            let mut lines: Vec<String> = Vec::with_capacity(1 + self.attachments.len());
            if !self.text.trim().is_empty() {
                lines.push(self.text.clone());
            }
            lines.extend(self.attachments.iter().map(|a| format!("📎 {}", a.name)));
            lines.join("\n")
        }
    }

    #[cfg(test)]
    mod tests {
        use crate::dialog::v1::{Attachment, Message};

        #[test]
        fn files_are_named_after_the_words() {
            let file = |name: &str| Attachment {
                name: name.into(),
                ..Default::default()
            };
            let message = Message {
                text: "Here you are".into(),
                attachments: vec![file("a.pdf"), file("b.png")],
                ..Default::default()
            };
            assert_eq!(
                message.text_with_files(),
                "Here you are\n📎 a.pdf\n📎 b.png"
            );
            let alone = Message {
                attachments: vec![file("a.pdf")],
                ..Default::default()
            };
            assert_eq!(alone.text_with_files(), "📎 a.pdf");
        }
    }
}

/// The words the suite uses for a message's author, channel and delivery
/// state: in the database, in the REST API and in socket frames (the
/// protobuf enums' own names are for the wire only).
pub mod vocabulary {
    use crate::dialog::v1::{AuthorKind, Channel, DeliveryState};

    impl AuthorKind {
        /// `visitor`, `manager` or `system`; `None` when unspecified.
        pub fn word(self) -> Option<&'static str> {
            match self {
                AuthorKind::Visitor => Some("visitor"),
                AuthorKind::Manager => Some("manager"),
                AuthorKind::System => Some("system"),
                AuthorKind::Unspecified => None,
            }
        }

        /// The author a stored word names (anything else is the system).
        pub fn from_word(word: &str) -> Self {
            match word {
                "visitor" => AuthorKind::Visitor,
                "manager" => AuthorKind::Manager,
                _ => AuthorKind::System,
            }
        }
    }

    impl Channel {
        /// `site`, `email`, `telegram`, `vk` or `facebook` (unspecified is the site).
        pub fn word(self) -> &'static str {
            match self {
                Channel::Unspecified | Channel::Site => "site",
                Channel::Email => "email",
                Channel::Telegram => "telegram",
                Channel::Vk => "vk",
                Channel::Facebook => "facebook",
            }
        }

        pub fn from_word(word: &str) -> Self {
            match word {
                "email" => Channel::Email,
                "telegram" => Channel::Telegram,
                "vk" => Channel::Vk,
                "facebook" => Channel::Facebook,
                _ => Channel::Site,
            }
        }

        /// Whether messages of this channel leave through a messenger.
        pub fn is_messenger(self) -> bool {
            matches!(self, Channel::Telegram | Channel::Vk | Channel::Facebook)
        }
    }

    impl DeliveryState {
        /// `stored`, `delivered`, `emailed` or `failed`.
        pub fn word(self) -> &'static str {
            match self {
                DeliveryState::Delivered => "delivered",
                DeliveryState::Emailed => "emailed",
                DeliveryState::Failed => "failed",
                _ => "stored",
            }
        }

        pub fn from_word(word: &str) -> Self {
            match word {
                "delivered" => DeliveryState::Delivered,
                "emailed" => DeliveryState::Emailed,
                "failed" => DeliveryState::Failed,
                _ => DeliveryState::Stored,
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn every_word_reads_back_as_what_wrote_it() {
            for kind in [AuthorKind::Visitor, AuthorKind::Manager, AuthorKind::System] {
                assert_eq!(AuthorKind::from_word(kind.word().unwrap()), kind);
            }
            for channel in [
                Channel::Site,
                Channel::Email,
                Channel::Telegram,
                Channel::Vk,
                Channel::Facebook,
            ] {
                assert_eq!(Channel::from_word(channel.word()), channel);
            }
            for state in [
                DeliveryState::Stored,
                DeliveryState::Delivered,
                DeliveryState::Emailed,
                DeliveryState::Failed,
            ] {
                assert_eq!(DeliveryState::from_word(state.word()), state);
            }
        }
    }
}
