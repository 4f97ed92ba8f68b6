//! A contact's timeline as managers see it: what the contact service keeps
//! (page visits, widgets shown, orders, mailings) and the messages of the
//! contact's dialog, which the dialog service keeps, merged newest first.
//!
//! Messages are not copied onto the contact service's timeline: that was a
//! row written for every message, and the message table already holds them.
//! Each source pages on its own key (the contact service by time and id, the
//! dialog by `seq`), so one cursor carries a position in each; an entry is
//! never shown twice nor skipped, whatever the clocks say.

use chat_platform::cursor::Keyset;
use chat_proto::contact::v1 as contact_pb;
use chat_proto::dialog::v1 as dialog_pb;
use chat_proto::time::from_proto;
use uuid::Uuid;

use crate::api::{TimelineEventOut, rfc3339};
use crate::error::{Error, Result};
use crate::state::AppState;

/// The kind of the entries that are the dialog's messages.
pub const MESSAGE: &str = "message";
/// Every kind, the messages' first.
pub const KINDS: [&str; 5] = [MESSAGE, "order", "mailing", "page_visit", "widget_shown"];
/// Longest summary of a message, in characters.
const SUMMARY_CHARS: usize = 200;
/// Entries a page has when the request does not say.
pub const DEFAULT_PAGE: u32 = 50;

/// Where one source of the timeline stands between pages.
#[derive(Debug, Clone, PartialEq)]
enum Place<P> {
    /// Nothing read from it yet: its newest entries come next.
    Start,
    /// Its entries older than this come next.
    After(P),
    /// Nothing older is left.
    Done,
}

/// A page's position in both sources: the contact service's entries (by
/// time and id) and the dialog's messages (by `seq`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    entries: Place<Keyset>,
    messages: Place<i64>,
}

impl Cursor {
    const START: Cursor = Cursor {
        entries: Place::Start,
        messages: Place::Start,
    };

    /// `e<entries>.m<messages>`, each `s` (start), `d` (done), or the
    /// position: `<microseconds>_<id>` for entries, the `seq` for messages.
    pub fn encode(&self) -> String {
        let entries = match &self.entries {
            Place::Start => "s".to_owned(),
            Place::After(keyset) => keyset.encode(),
            Place::Done => "d".to_owned(),
        };
        let messages = match self.messages {
            Place::Start => "s".to_owned(),
            Place::After(seq) => seq.to_string(),
            Place::Done => "d".to_owned(),
        };
        format!("e{entries}.m{messages}")
    }

    /// `None` for anything [`Cursor::encode`] did not make (the same
    /// position written otherwise included), or for one with nothing left.
    pub fn decode(cursor: &str) -> Option<Cursor> {
        let read = Cursor::read(cursor)?;
        let nothing_left = read.entries == Place::Done && read.messages == Place::Done;
        (read.encode() == cursor && !nothing_left).then_some(read)
    }

    fn read(cursor: &str) -> Option<Cursor> {
        let (entries, messages) = cursor.strip_prefix('e')?.split_once(".m")?;
        Some(Cursor {
            entries: match entries {
                "s" => Place::Start,
                "d" => Place::Done,
                keyset => Place::After(Keyset::decode(keyset)?),
            },
            messages: match messages {
                "s" => Place::Start,
                "d" => Place::Done,
                seq => Place::After(seq.parse().ok().filter(|s: &i64| *s > 0)?),
            },
        })
    }
}

/// One page of a contact's timeline, newest first.
pub struct Page {
    pub events: Vec<TimelineEventOut>,
    pub next_cursor: Option<String>,
}

/// What a page asks for.
pub struct Request<'a> {
    pub account_id: Uuid,
    pub contact_id: Uuid,
    /// `None`: every kind.
    pub kind: Option<&'a str>,
    /// 1 to the API's page limit.
    pub limit: u32,
    /// `None`: the first page.
    pub cursor: Option<&'a str>,
}

/// One page of the contact's timeline: 404 for a contact the account does
/// not have, 422 for an unknown kind or a cursor this did not hand out.
pub async fn page(state: &AppState, request: Request<'_>) -> Result<Page> {
    let mut cursor = match request.cursor {
        None => Cursor::START,
        Some(c) => Cursor::decode(c)
            .ok_or_else(|| Error::field("cursor", "is not one this API handed out"))?,
    };
    match request.kind {
        None => {}
        Some(MESSAGE) => cursor.entries = Place::Done,
        Some(kind) if KINDS.contains(&kind) => cursor.messages = Place::Done,
        Some(_) => {
            return Err(Error::field(
                "kind",
                format!("must be one of {}", KINDS.join(", ")),
            ));
        }
    }
    let limit = request.limit;
    let (entries, messages) = tokio::try_join!(
        contact_entries(state, &request, &cursor.entries, limit),
        dialog_messages(state, &request, &cursor.messages, limit),
    )?;
    Ok(merge(cursor, entries, messages, limit as usize))
}

/// An entry of either source, with its position in it.
struct Fetched<P> {
    /// Newest first.
    events: Vec<(P, TimelineEventOut)>,
    /// Whether the source has entries older than the last of these.
    more: bool,
}

/// The contact service's entries after `place`; it also says whether the
/// contact is the account's (even when no entry of its own is asked for).
async fn contact_entries(
    state: &AppState,
    request: &Request<'_>,
    place: &Place<Keyset>,
    limit: u32,
) -> Result<Fetched<Keyset>> {
    let contacts = state.contacts.clone();
    let cursor = match place {
        Place::Start => String::new(),
        Place::After(keyset) => keyset.encode(),
        Place::Done => {
            // Nothing of this source is read, but the wall holds.
            contacts
                .clone()
                .get_contact(contact_pb::GetContactRequest {
                    account_id: request.account_id.to_string(),
                    contact_id: request.contact_id.to_string(),
                })
                .await?;
            return Ok(Fetched {
                events: Vec::new(),
                more: false,
            });
        }
    };
    let page = contacts
        .clone()
        .list_timeline(contact_pb::ListTimelineRequest {
            account_id: request.account_id.to_string(),
            contact_id: request.contact_id.to_string(),
            limit,
            cursor,
            kind: request.kind.unwrap_or_default().to_owned(),
        })
        .await?
        .into_inner();
    let events = page
        .events
        .into_iter()
        .map(|e| {
            let keyset = Keyset {
                at: e.occurred_at.as_ref().map(from_proto).unwrap_or_default(),
                id: e.id.parse().unwrap_or_default(),
            };
            (keyset, TimelineEventOut::from(e))
        })
        .collect();
    Ok(Fetched {
        events,
        more: !page.next_cursor.is_empty(),
    })
}

/// The messages of the contact's dialog older than `place`, newest first.
async fn dialog_messages(
    state: &AppState,
    request: &Request<'_>,
    place: &Place<i64>,
    limit: u32,
) -> Result<Fetched<i64>> {
    let before_seq = match *place {
        Place::Start => i64::MAX,
        Place::After(seq) => seq,
        Place::Done => {
            return Ok(Fetched {
                events: Vec::new(),
                more: false,
            });
        }
    };
    let mut dialogs = state.dialogs.clone();
    let found = dialogs
        .find_contact_dialog(dialog_pb::FindContactDialogRequest {
            account_id: request.account_id.to_string(),
            contact_id: request.contact_id.to_string(),
        })
        .await?
        .into_inner();
    let Some(dialog) = found.dialog else {
        return Ok(Fetched {
            events: Vec::new(),
            more: false,
        });
    };
    let page = dialogs
        .list_messages(dialog_pb::ListMessagesRequest {
            account_id: request.account_id.to_string(),
            dialog_id: dialog.id,
            before_seq,
            limit,
            ..Default::default()
        })
        .await?
        .into_inner();
    let events = page
        .messages
        .into_iter()
        .rev()
        .map(|m| (m.seq, message_entry(m)))
        .collect();
    Ok(Fetched {
        events,
        more: page.has_more,
    })
}

/// A message as a timeline entry: its id, and its text's start.
fn message_entry(message: dialog_pb::Message) -> TimelineEventOut {
    TimelineEventOut {
        kind: MESSAGE.to_owned(),
        ref_id: message.id.clone(),
        id: message.id,
        summary: message.text.chars().take(SUMMARY_CHARS).collect(),
        occurred_at: rfc3339(message.created_at.as_ref()),
    }
}

/// The newest `limit` of both sources, and where each goes on from.
fn merge(
    mut cursor: Cursor,
    entries: Fetched<Keyset>,
    messages: Fetched<i64>,
    limit: usize,
) -> Page {
    let (entries_fetched, messages_fetched) = (entries.events.len(), messages.events.len());
    let entries_newest = entries.events.first().map(|(keyset, _)| *keyset);
    let messages_newest = messages.events.first().map(|(seq, _)| *seq);
    let mut entries_left = entries.events.into_iter().peekable();
    let mut messages_left = messages.events.into_iter().peekable();
    let mut events = Vec::with_capacity(limit);
    let (mut entries_taken, mut messages_taken) = (0, 0);
    while events.len() < limit {
        // Each source is newest first: the newer head goes first, a message
        // before an entry of the same moment.
        let take_message = match (entries_left.peek(), messages_left.peek()) {
            (None, None) => break,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (Some((_, entry)), Some((_, message))) => message.occurred_at >= entry.occurred_at,
        };
        if take_message {
            let (seq, event) = messages_left.next().expect("peeked");
            cursor.messages = Place::After(seq);
            messages_taken += 1;
            events.push(event);
        } else {
            let (keyset, event) = entries_left.next().expect("peeked");
            cursor.entries = Place::After(keyset);
            entries_taken += 1;
            events.push(event);
        }
    }
    // A source read from but not taken from goes on from just above the
    // newest it gave: what arrives meanwhile is for a new first page.
    if entries_taken == 0
        && let Some(newest) = entries_newest
    {
        cursor.entries = Place::After(Keyset {
            at: newest.at + chrono::Duration::microseconds(1),
            id: Uuid::nil(),
        });
    }
    if messages_taken == 0
        && let Some(newest) = messages_newest
    {
        cursor.messages = Place::After(newest + 1);
    }
    if entries_taken == entries_fetched && !entries.more {
        cursor.entries = Place::Done;
    }
    if messages_taken == messages_fetched && !messages.more {
        cursor.messages = Place::Done;
    }
    let next_cursor =
        (cursor.entries != Place::Done || cursor.messages != Place::Done).then(|| cursor.encode());
    Page {
        events,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(1_700_000_000 + second, 0).unwrap()
    }

    fn entry(second: i64) -> (Keyset, TimelineEventOut) {
        let keyset = Keyset {
            at: at(second),
            id: Uuid::from_u128(second as u128),
        };
        let event = TimelineEventOut {
            id: keyset.id.to_string(),
            kind: "page_visit".into(),
            ref_id: String::new(),
            summary: format!("page at {second}"),
            occurred_at: Some(crate::api::time(at(second))),
        };
        (keyset, event)
    }

    fn message(seq: i64, second: i64) -> (i64, TimelineEventOut) {
        let event = TimelineEventOut {
            id: Uuid::from_u128(1000 + seq as u128).to_string(),
            kind: MESSAGE.into(),
            ref_id: String::new(),
            summary: format!("message {seq}"),
            occurred_at: Some(crate::api::time(at(second))),
        };
        (seq, event)
    }

    fn summaries(page: &Page) -> Vec<&str> {
        page.events.iter().map(|e| e.summary.as_str()).collect()
    }

    #[test]
    fn both_sources_interleave_newest_first_and_each_goes_on_from_its_own_place() {
        let entries = Fetched {
            events: vec![entry(50), entry(30), entry(10)],
            more: true,
        };
        let messages = Fetched {
            events: vec![message(3, 40), message(2, 20)],
            more: true,
        };
        let page = merge(Cursor::START, entries, messages, 3);
        assert_eq!(summaries(&page), ["page at 50", "message 3", "page at 30"]);
        let next = Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap();
        assert_eq!(next.entries, Place::After(entry(30).0));
        assert_eq!(next.messages, Place::After(3));
    }

    #[test]
    fn a_source_read_to_its_end_is_done_and_the_last_page_has_no_cursor() {
        let entries = Fetched {
            events: vec![entry(5)],
            more: false,
        };
        let messages = Fetched {
            events: vec![message(1, 5)],
            more: false,
        };
        let page = merge(Cursor::START, entries, messages, 10);
        // A message and an entry of the same moment: the message first.
        assert_eq!(summaries(&page), ["message 1", "page at 5"]);
        assert_eq!(page.next_cursor, None);
    }

    #[test]
    fn a_source_read_from_but_not_taken_from_goes_on_from_just_above_its_newest() {
        let entries = Fetched {
            events: vec![entry(1)],
            more: false,
        };
        let messages = Fetched {
            events: vec![message(9, 90), message(8, 80)],
            more: true,
        };
        let page = merge(Cursor::START, entries, messages, 2);
        let next = Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap();
        // The entry at 1 comes next; one newer, written meanwhile, does not.
        let Place::After(place) = &next.entries else {
            panic!("{next:?}");
        };
        assert!((place.at, place.id) > (entry(1).0.at, entry(1).0.id));
        assert!(place.at < at(2));
        assert_eq!(next.messages, Place::After(8));

        // A source that gave nothing is done.
        let none = Fetched {
            events: Vec::new(),
            more: false,
        };
        let messages = Fetched {
            events: vec![message(9, 90), message(8, 80)],
            more: true,
        };
        let page = merge(Cursor::START, none, messages, 1);
        let next = Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap();
        assert_eq!(
            (next.entries, next.messages),
            (Place::Done, Place::After(9))
        );
    }

    #[test]
    fn cursors_read_back_as_written_and_nothing_else_reads() {
        for cursor in [
            Cursor::START,
            Cursor {
                entries: Place::After(entry(7).0),
                messages: Place::Done,
            },
            Cursor {
                entries: Place::Done,
                messages: Place::After(42),
            },
        ] {
            assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        }
        let keyset = Keyset {
            at: at(7),
            id: Uuid::from_u128(0xabcdef),
        }
        .encode();
        for bad in [
            "",
            "es",
            "es.m0",
            "es.m-1",
            "es.m05",
            "es.m+5",
            "ex.ms",
            "1700000000000000_x.ms",
            "es.ms.",
            "es.m1x",
            "ed.md",
            &format!("e+{keyset}.ms"),
            &format!("e{}.ms", keyset.to_uppercase()),
            &format!("e{}.ms", keyset.replace('-', "")),
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad:?} read");
        }
    }
}
