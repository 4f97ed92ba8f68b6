//! Keyset cursors for lists sorted by `(time, id)`: the opaque string a page
//! hands out as `next_cursor`, and the position in the list it names.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A position in a list: after (or before) the row with this time and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyset {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

impl Keyset {
    /// The cursor a client passes back (microseconds, as PostgreSQL keeps them).
    pub fn encode(&self) -> String {
        format!("{}_{}", self.at.timestamp_micros(), self.id)
    }

    /// `None` for anything [`Keyset::encode`] did not make.
    pub fn decode(cursor: &str) -> Option<Self> {
        let (micros, id) = cursor.split_once('_')?;
        Some(Self {
            at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: Uuid::parse_str(id).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_names_nothing() {
        let cursor = Keyset {
            at: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        assert_eq!(Keyset::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Keyset::decode("garbage"), None);
        assert_eq!(Keyset::decode("12_not-a-uuid"), None);
        assert_eq!(
            Keyset::decode("x_00000000-0000-0000-0000-000000000000"),
            None
        );
    }
}
