//! Exactly-once, in-order delivery of messages to one socket. Live events may
//! arrive late, twice (replay and live overlap) or with gaps (a missed NATS
//! message); the socket remembers the last sequence number it sent for each
//! dialog and decides, for every message, what to do. Nothing is ever sent
//! twice on one socket, not even when the client asks to resync.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use uuid::Uuid;

/// How much earlier than the socket a dialog may have been opened and still
/// count as born while the socket watched (clocks of the dialog service and
/// the gateway may differ a little). Replaying such a young dialog from its
/// start costs little.
const BORN_WHILE_WATCHING_MARGIN: Duration = Duration::from_secs(5);

#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Already sent: drop it.
    Skip,
    /// The next one: send it.
    Send,
    /// Messages after this sequence number are missing: fetch and send them (this one included).
    FillFrom(i64),
}

/// Where a socket starts a dialog it has sent nothing of.
#[derive(Debug, Clone, Copy)]
pub enum Unknown {
    /// From its first message: a visitor's own dialog.
    FromStart,
    /// From its first message when it was opened while the socket watched
    /// (its id, a UUIDv7, tells when), else from the message seen: a
    /// manager's console loads older history itself and asks with `sync`.
    FromStartIfBornAfter(SystemTime),
}

#[derive(Debug)]
pub struct Delivery {
    last_sent: HashMap<Uuid, i64>,
    unknown: Unknown,
}

impl Delivery {
    pub fn new(unknown: Unknown) -> Self {
        Self {
            last_sent: HashMap::new(),
            unknown,
        }
    }

    pub fn step(&self, dialog_id: Uuid, seq: i64) -> Step {
        match self.last_sent.get(&dialog_id) {
            Some(&last) if seq <= last => Step::Skip,
            Some(&last) if seq == last + 1 => Step::Send,
            Some(&last) => Step::FillFrom(last),
            None if seq > 1 && self.starts_at_zero(dialog_id) => Step::FillFrom(0),
            None => Step::Send,
        }
    }

    fn starts_at_zero(&self, dialog_id: Uuid) -> bool {
        match self.unknown {
            Unknown::FromStart => true,
            Unknown::FromStartIfBornAfter(watching_since) => {
                let born = dialog_id.get_timestamp().map(|t| {
                    let (secs, nanos) = t.to_unix();
                    SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
                });
                // An id with no time in it: assume the worst and replay.
                born.is_none_or(|born| born + BORN_WHILE_WATCHING_MARGIN >= watching_since)
            }
        }
    }

    /// Where a `sync` from `after_seq` starts: after what the client has and
    /// after what this socket sent already, so nothing goes out twice.
    pub fn resync_from(&self, dialog_id: Uuid, after_seq: i64) -> i64 {
        self.last_sent
            .get(&dialog_id)
            .map_or(after_seq, |&sent| sent.max(after_seq))
    }

    /// Records that everything up to `seq` was sent (or is held by the client).
    pub fn sent(&mut self, dialog_id: Uuid, seq: i64) {
        let last = self.last_sent.entry(dialog_id).or_insert(0);
        *last = (*last).max(seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialog_born(at: SystemTime) -> Uuid {
        let since = at.duration_since(SystemTime::UNIX_EPOCH).unwrap();
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, since.as_secs(), since.subsec_nanos());
        Uuid::new_v7(ts)
    }

    #[test]
    fn messages_are_sent_once_in_order_and_gaps_are_filled() {
        let now = SystemTime::now();
        let old = dialog_born(now - Duration::from_secs(3600));
        let mut delivery = Delivery::new(Unknown::FromStartIfBornAfter(now));
        assert_eq!(
            delivery.step(old, 5),
            Step::Send,
            "a manager takes the first message seen of an older dialog as the start"
        );
        delivery.sent(old, 5);
        assert_eq!(delivery.step(old, 5), Step::Skip);
        assert_eq!(delivery.step(old, 4), Step::Skip);
        assert_eq!(delivery.step(old, 6), Step::Send);
        assert_eq!(delivery.step(old, 8), Step::FillFrom(5));
    }

    #[test]
    fn a_dialog_born_while_a_manager_watched_is_sent_from_its_start() {
        let connected = SystemTime::now() - Duration::from_secs(60);
        let delivery = Delivery::new(Unknown::FromStartIfBornAfter(connected));
        let young = dialog_born(SystemTime::now());
        // Its own reply (seq 3) is the first the socket sees of it.
        assert_eq!(delivery.step(young, 3), Step::FillFrom(0));
        assert_eq!(delivery.step(young, 1), Step::Send);
    }

    #[test]
    fn a_visitor_gets_a_new_dialog_from_its_first_message() {
        let d = Uuid::now_v7();
        let delivery = Delivery::new(Unknown::FromStart);
        assert_eq!(delivery.step(d, 1), Step::Send);
        assert_eq!(delivery.step(d, 3), Step::FillFrom(0));
    }

    #[test]
    fn a_resync_never_sends_again_what_was_sent() {
        let d = Uuid::now_v7();
        let mut delivery = Delivery::new(Unknown::FromStart);
        assert_eq!(delivery.resync_from(d, 4), 4);
        delivery.sent(d, 7);
        assert_eq!(delivery.resync_from(d, 0), 7);
        assert_eq!(delivery.resync_from(d, 9), 9);
    }

    #[test]
    fn recording_an_older_sequence_does_not_go_back() {
        let d = Uuid::now_v7();
        let mut delivery = Delivery::new(Unknown::FromStart);
        delivery.sent(d, 7);
        delivery.sent(d, 3);
        assert_eq!(delivery.step(d, 7), Step::Skip);
        assert_eq!(delivery.step(d, 8), Step::Send);
    }
}
