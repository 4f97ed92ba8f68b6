//! Exactly-once, in-order delivery of messages to one socket. Live events may
//! arrive late, twice (replay and live overlap) or with gaps (a missed NATS
//! message); the socket remembers the last sequence number it sent for each
//! dialog and decides, for every message, what to do.

use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Already sent: drop it.
    Skip,
    /// The next one: send it.
    Send,
    /// Messages after this sequence number are missing: fetch and send them (this one included).
    FillFrom(i64),
}

#[derive(Debug)]
pub struct Delivery {
    last_sent: HashMap<Uuid, i64>,
    /// For a dialog the socket knows nothing of: fetch from the start (a
    /// visitor's own new dialog), or take the message as the start (a manager
    /// who has not synced that dialog).
    unknown_starts_at_zero: bool,
}

impl Delivery {
    pub fn new(unknown_starts_at_zero: bool) -> Self {
        Self {
            last_sent: HashMap::new(),
            unknown_starts_at_zero,
        }
    }

    pub fn step(&self, dialog_id: Uuid, seq: i64) -> Step {
        match self.last_sent.get(&dialog_id) {
            Some(&last) if seq <= last => Step::Skip,
            Some(&last) if seq == last + 1 => Step::Send,
            Some(&last) => Step::FillFrom(last),
            None if self.unknown_starts_at_zero && seq > 1 => Step::FillFrom(0),
            None => Step::Send,
        }
    }

    /// The client holds everything up to `seq` and nothing after (it asked
    /// to resync from there): later messages count as unsent again.
    pub fn restart_from(&mut self, dialog_id: Uuid, seq: i64) {
        self.last_sent.insert(dialog_id, seq);
    }

    /// Records that everything up to `seq` was sent.
    pub fn sent(&mut self, dialog_id: Uuid, seq: i64) {
        let last = self.last_sent.entry(dialog_id).or_insert(0);
        *last = (*last).max(seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_sent_once_in_order_and_gaps_are_filled() {
        let d = Uuid::now_v7();
        let mut delivery = Delivery::new(false);
        assert_eq!(
            delivery.step(d, 5),
            Step::Send,
            "a manager takes the first message seen as the start"
        );
        delivery.sent(d, 5);
        assert_eq!(delivery.step(d, 5), Step::Skip);
        assert_eq!(delivery.step(d, 4), Step::Skip);
        assert_eq!(delivery.step(d, 6), Step::Send);
        assert_eq!(delivery.step(d, 8), Step::FillFrom(5));
    }

    #[test]
    fn a_visitor_gets_a_new_dialog_from_its_first_message() {
        let d = Uuid::now_v7();
        let delivery = Delivery::new(true);
        assert_eq!(delivery.step(d, 1), Step::Send);
        assert_eq!(delivery.step(d, 3), Step::FillFrom(0));
    }

    #[test]
    fn a_resync_sends_again_what_comes_after_it() {
        let d = Uuid::now_v7();
        let mut delivery = Delivery::new(false);
        delivery.sent(d, 7);
        delivery.restart_from(d, 0);
        assert_eq!(delivery.step(d, 1), Step::Send);
        assert_eq!(delivery.step(d, 7), Step::FillFrom(0));
    }

    #[test]
    fn recording_an_older_sequence_does_not_go_back() {
        let d = Uuid::now_v7();
        let mut delivery = Delivery::new(false);
        delivery.sent(d, 7);
        delivery.sent(d, 3);
        assert_eq!(delivery.step(d, 7), Step::Skip);
        assert_eq!(delivery.step(d, 8), Step::Send);
    }
}
