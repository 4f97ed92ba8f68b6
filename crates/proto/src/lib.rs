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
