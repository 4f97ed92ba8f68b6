//! Keyset cursors for lists sorted by `(time, id)`: the opaque string a page
//! hands out as `next_cursor`, the position in the list it names, and the
//! two steps of every paged list (reading the request's cursor, cutting the
//! extra row that tells whether another page exists).

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

/// The position a request's `cursor` field names: `None` when it is empty,
/// an invalid argument when it is not a cursor this service handed out.
pub fn from_request(value: &str) -> Result<Option<Keyset>, crate::service_error::Error> {
    match value {
        "" => Ok(None),
        c => Keyset::decode(c)
            .map(Some)
            .ok_or_else(|| crate::service_error::Error::InvalidArgument("bad cursor".into())),
    }
}

/// Cuts the extra row fetched (`limit + 1` were asked for) to tell whether
/// another page exists, and gives the cursor of that page (empty on the last).
pub fn next_page<T>(rows: &mut Vec<T>, limit: i64, key: impl Fn(&T) -> Keyset) -> String {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| key(r).encode()).unwrap_or_default()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_with_an_extra_row_names_the_next_and_the_last_names_none() {
        let at = DateTime::from_timestamp_micros(1_764_000_000_000_000).unwrap();
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let key = |id: &Uuid| Keyset { at, id: *id };
        let mut rows = ids.clone();
        let next = next_page(&mut rows, 2, key);
        assert_eq!(rows, ids[..2]);
        assert_eq!(from_request(&next).unwrap(), Some(key(&ids[1])));
        let mut last = ids[..2].to_vec();
        assert_eq!(next_page(&mut last, 2, key), "");
        assert_eq!(from_request("").unwrap(), None);
        assert!(from_request("garbage").is_err());
    }

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
