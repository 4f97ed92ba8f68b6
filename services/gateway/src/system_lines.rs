//! What a dialog's system lines say: the record each keeps (who took,
//! assigned, closed or reopened the dialog) with the English text it is
//! stored with, and what a visitor is shown of them. The team's changes are
//! the team's: a visitor sees at most that a manager joined the
//! conversation, never who assigned whom, nor closes and reopens.

use chat_proto::dialog::v1 as pb;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::{DialogOut, MessageOut};

/// A change a manager made to a dialog, as its system line records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// The actor assigned the dialog to themself.
    Took {
        actor: &'a str,
    },
    Assigned {
        actor: &'a str,
        manager: &'a str,
    },
    /// Back to "new", assigned to nobody.
    Returned {
        actor: &'a str,
    },
    Closed {
        actor: &'a str,
    },
    /// Closed as spam.
    Spam {
        actor: &'a str,
    },
    Reopened {
        actor: &'a str,
    },
}

impl Line<'_> {
    /// The line's English text, as the history has always said it.
    pub fn text(&self) -> String {
        match *self {
            Line::Took { actor } => format!("{actor} took the dialog"),
            Line::Assigned { actor, manager } => {
                format!("{actor} assigned the dialog to {manager}")
            }
            Line::Returned { actor } => format!("{actor} returned the dialog to new"),
            Line::Closed { actor } => format!("{actor} closed the dialog"),
            Line::Spam { actor } => format!("{actor} marked the dialog as spam"),
            Line::Reopened { actor } => format!("{actor} reopened the dialog"),
        }
    }

    /// What the line records, kept beside its text by the dialog service.
    pub fn event(&self) -> pb::SystemEvent {
        let (kind, actor, manager) = match *self {
            Line::Took { actor } => ("took", actor, actor),
            Line::Assigned { actor, manager } => ("assigned", actor, manager),
            Line::Returned { actor } => ("returned", actor, ""),
            Line::Closed { actor } => ("closed", actor, ""),
            Line::Spam { actor } => ("spam", actor, ""),
            Line::Reopened { actor } => ("reopened", actor, ""),
        };
        pb::SystemEvent {
            kind: kind.to_owned(),
            actor_name: actor.to_owned(),
            manager_name: manager.to_owned(),
        }
    }
}

/// What a system line records, in the API: each reader words it in their
/// own language from this (`text` is the English line).
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = SystemLine)]
pub struct SystemOut {
    /// For managers `took`, `assigned`, `returned`, `closed`, `spam` or
    /// `reopened`; a visitor is shown only `joined`.
    pub kind: String,
    /// The manager who did it; empty in what a visitor is shown.
    pub actor_name: String,
    /// Who has the dialog now (`took`, `assigned`, `joined`); else empty.
    pub manager_name: String,
}

impl From<pb::SystemEvent> for SystemOut {
    fn from(event: pb::SystemEvent) -> Self {
        Self {
            kind: event.kind,
            actor_name: event.actor_name,
            manager_name: event.manager_name,
        }
    }
}

/// The message as its dialog's visitor is shown it: their own and the
/// managers' messages as they are; of system lines, only a manager taking
/// the dialog, as "Anna joined the conversation"; `None` for the rest (and
/// for system lines from before they kept their record).
pub fn as_visitor_sees(message: MessageOut) -> Option<MessageOut> {
    if message.author_kind != "system" {
        return Some(message);
    }
    let system = message.system.as_ref()?;
    if !matches!(system.kind.as_str(), "took" | "assigned") || system.manager_name.is_empty() {
        return None;
    }
    let manager_name = system.manager_name.clone();
    Some(MessageOut {
        text: format!("{manager_name} joined the conversation"),
        system: Some(SystemOut {
            kind: "joined".to_owned(),
            actor_name: String::new(),
            manager_name,
        }),
        ..message
    })
}

/// The dialog as its visitor is shown it: without the preview of its
/// newest message, which may be a line of the team's (their widget has the
/// messages themselves).
pub fn dialog_as_visitor_sees(dialog: DialogOut) -> DialogOut {
    DialogOut {
        last_message_text: String::new(),
        ..dialog
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system_message(line: Option<Line<'_>>) -> MessageOut {
        MessageOut {
            id: "m".into(),
            dialog_id: "d".into(),
            seq: 3,
            author_kind: "system",
            author_id: None,
            client_message_id: "c".into(),
            text: line
                .map(|l| l.text())
                .unwrap_or("Anna closed the dialog".into()),
            channel: "site",
            delivery_state: "stored",
            delivery_error: None,
            created_at: String::new(),
            system: line.map(|l| l.event().into()),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn a_visitor_sees_that_a_manager_joined_and_never_who_assigned_whom() {
        let assigned = Line::Assigned {
            actor: "Anna",
            manager: "Boris",
        };
        let shown = as_visitor_sees(system_message(Some(assigned))).unwrap();
        assert_eq!(shown.text, "Boris joined the conversation");
        let record = shown.system.unwrap();
        assert_eq!(record.kind, "joined");
        assert_eq!(record.actor_name, "", "who assigned it stays with the team");
        assert_eq!(record.manager_name, "Boris");
        let took = as_visitor_sees(system_message(Some(Line::Took { actor: "Anna" }))).unwrap();
        assert_eq!(took.text, "Anna joined the conversation");
    }

    #[test]
    fn the_teams_other_changes_and_unrecorded_lines_are_not_shown_to_a_visitor() {
        for line in [
            Line::Returned { actor: "Anna" },
            Line::Closed { actor: "Anna" },
            Line::Spam { actor: "Anna" },
            Line::Reopened { actor: "Anna" },
        ] {
            assert_eq!(
                as_visitor_sees(system_message(Some(line))),
                None,
                "{line:?}"
            );
        }
        assert_eq!(as_visitor_sees(system_message(None)), None);
    }

    #[test]
    fn a_visitors_and_a_managers_messages_are_shown_as_they_are() {
        let message = MessageOut {
            author_kind: "manager",
            system: None,
            text: "Hello".into(),
            ..system_message(None)
        };
        assert_eq!(as_visitor_sees(message.clone()), Some(message));
    }
}
