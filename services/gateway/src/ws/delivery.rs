//! Exactly-once delivery of messages to one socket. Live events may arrive
//! late, twice (replay and live overlap) or with gaps (a missed NATS
//! message); the socket remembers, for each dialog, the run of sequence
//! numbers it has sent (or the client said it holds) and decides, for every
//! message, what to do. Nothing is ever sent twice on one socket, not even
//! when the client asks to resync, and a resync fills what the client lacks
//! below that run as well as after it.

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

/// The messages of one dialog this socket has sent, or that its client said
/// it holds: every sequence number from `first` to `last`. Below `first` is
/// what a manager socket that took a live message as the dialog's start
/// never sent; only a `sync` asks for that.
#[derive(Debug, Clone, Copy)]
struct Held {
    first: i64,
    last: i64,
}

#[derive(Debug)]
pub struct Delivery {
    held: HashMap<Uuid, Held>,
    unknown: Unknown,
}

impl Delivery {
    pub fn new(unknown: Unknown) -> Self {
        Self {
            held: HashMap::new(),
            unknown,
        }
    }

    pub fn step(&self, dialog_id: Uuid, seq: i64) -> Step {
        match self.held.get(&dialog_id) {
            Some(held) if seq <= held.last => Step::Skip,
            Some(held) if seq == held.last + 1 => Step::Send,
            Some(held) => Step::FillFrom(held.last),
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

    /// For a `sync` from `after_seq`: the first message this socket sent of
    /// the dialog, when the client lacks messages before it (it took a live
    /// message as the start, and the client holds only up to `after_seq`).
    /// Those, after `after_seq` and before the returned number, are sent
    /// first; [`Delivery::held_from`] records each page of them.
    pub fn hole_below(&self, dialog_id: Uuid, after_seq: i64) -> Option<i64> {
        self.held
            .get(&dialog_id)
            .filter(|held| after_seq + 1 < held.first)
            .map(|held| held.first)
    }

    /// Records that the messages from `seq` up to the run already held
    /// were sent (a page of the hole below it).
    pub fn held_from(&mut self, dialog_id: Uuid, seq: i64) {
        if let Some(held) = self.held.get_mut(&dialog_id) {
            held.first = held.first.min(seq.max(1));
        }
    }

    /// Where a `sync` from `after_seq` goes on after the hole below is
    /// filled: after what the client has and after what this socket sent
    /// already, so nothing goes out twice.
    pub fn resync_from(&self, dialog_id: Uuid, after_seq: i64) -> i64 {
        self.held
            .get(&dialog_id)
            .map_or(after_seq, |held| held.last.max(after_seq))
    }

    /// Records that the client holds every message up to `seq`: it said so,
    /// or the socket is about to send on from there.
    pub fn held_through(&mut self, dialog_id: Uuid, seq: i64) {
        let held = self.held.entry(dialog_id).or_insert(Held {
            first: 1,
            last: seq,
        });
        if seq + 1 >= held.first {
            held.first = 1;
        }
        held.last = held.last.max(seq);
    }

    /// Records that the socket is about to send on after `seq`, having sent
    /// everything of the run up to it: a gap after the run is filled. What
    /// is missing below the run stays missing (only the client's `sync`
    /// says what it holds there); a dialog with no run yet starts one from
    /// its first message, as the client holds everything up to `seq`.
    pub fn sending_after(&mut self, dialog_id: Uuid, seq: i64) {
        let held = self.held.entry(dialog_id).or_insert(Held {
            first: 1,
            last: seq,
        });
        held.last = held.last.max(seq);
    }

    /// Records that the message `seq` was sent: the next of the run, or the
    /// first a manager socket sees of an older dialog (the run starts there).
    pub fn sent(&mut self, dialog_id: Uuid, seq: i64) {
        let held = self.held.entry(dialog_id).or_insert(Held {
            first: seq,
            last: seq,
        });
        held.last = held.last.max(seq);
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
        delivery.held_through(d, 0);
        delivery.sent(d, 7);
        assert_eq!(delivery.hole_below(d, 0), None);
        assert_eq!(delivery.resync_from(d, 0), 7);
        assert_eq!(delivery.resync_from(d, 9), 9);
    }

    #[test]
    fn a_sync_fills_what_came_before_the_first_live_message() {
        let now = SystemTime::now();
        let old = dialog_born(now - Duration::from_secs(3600));
        let mut delivery = Delivery::new(Unknown::FromStartIfBornAfter(now));
        // N+5 arrives live before the client's sync(after_seq = N).
        assert_eq!(delivery.step(old, 15), Step::Send);
        delivery.sent(old, 15);
        assert_eq!(
            delivery.hole_below(old, 10),
            Some(15),
            "11..14 were never sent"
        );
        assert_eq!(
            delivery.hole_below(old, 14),
            None,
            "the client holds up to 14"
        );
        // The hole is filled a page at a time, newest page first.
        delivery.held_from(old, 13);
        assert_eq!(delivery.hole_below(old, 10), Some(13));
        delivery.held_from(old, 11);
        assert_eq!(delivery.hole_below(old, 10), None);
        assert_eq!(
            delivery.resync_from(old, 10),
            15,
            "then on after what was sent"
        );
        assert_eq!(delivery.step(old, 12), Step::Skip);
    }

    #[test]
    fn filling_a_gap_after_the_run_keeps_what_is_missing_below_it() {
        let now = SystemTime::now();
        let old = dialog_born(now - Duration::from_secs(3600));
        let mut delivery = Delivery::new(Unknown::FromStartIfBornAfter(now));
        // 15 live, then 17 before 16: the gap after 15 is filled.
        delivery.sent(old, 15);
        assert_eq!(delivery.step(old, 17), Step::FillFrom(15));
        delivery.sending_after(old, 15);
        delivery.sent(old, 16);
        delivery.sent(old, 17);
        assert_eq!(
            delivery.hole_below(old, 10),
            Some(15),
            "11..14 still to be sent when the client syncs from 10"
        );
    }

    #[test]
    fn what_the_client_holds_joins_the_run_sent() {
        let now = SystemTime::now();
        let old = dialog_born(now - Duration::from_secs(3600));
        let mut delivery = Delivery::new(Unknown::FromStartIfBornAfter(now));
        delivery.sent(old, 15);
        delivery.held_through(old, 9);
        assert_eq!(
            delivery.hole_below(old, 9),
            Some(15),
            "10..14 still missing"
        );
        delivery.held_through(old, 14);
        assert_eq!(delivery.hole_below(old, 0), None);
        assert_eq!(delivery.step(old, 15), Step::Skip);
        assert_eq!(delivery.step(old, 16), Step::Send);
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
