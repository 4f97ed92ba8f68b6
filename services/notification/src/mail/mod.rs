//! E-mail: what the service writes (from templates), and the sender that
//! takes recorded e-mails to the SMTP server.
//!
//! - [`templates`]: the e-mails' text and HTML, every visitor's word escaped
//!   in the HTML.
//! - [`sender`]: the SMTP connection pool and the loop that sends what the
//!   log holds, with retries and backoff.
//! - [`shop_server`]: shops' own SMTP servers, which their e-mails to
//!   contacts leave by: the rules, the check, the connections.
//! - [`public_host`]: which hosts a shop may have the service connect to.

pub mod public_host;
pub mod sender;
pub mod shop_server;
pub mod templates;
pub mod words;

use std::sync::Arc;

use tokio::sync::Notify;
use uuid::Uuid;

use crate::db::email::{self, NewEmail};

/// Records e-mails and wakes the sender; cheap to clone.
#[derive(Clone)]
pub struct Postbox {
    wake: Arc<Notify>,
    /// The domain of the sender address, for Message-IDs.
    domain: Arc<str>,
}

impl Postbox {
    pub fn new(from_address: &str) -> Self {
        let domain = from_address
            .rsplit_once('@')
            .map_or("localhost", |(_, domain)| domain);
        Self {
            wake: Arc::new(Notify::new()),
            domain: domain.into(),
        }
    }

    /// Records `email` in the transaction `conn` is in; its Message-ID, or
    /// `None` when it was recorded before (the same event and recipient).
    /// Call [`Postbox::posted`] once the transaction commits.
    pub async fn record(
        &self,
        conn: &mut sqlx::PgConnection,
        email: &NewEmail,
    ) -> sqlx::Result<Option<String>> {
        let id = Uuid::now_v7();
        let message_id = format!("<{id}@{}>", self.domain);
        let recorded = email::record(conn, id, &message_id, email).await?;
        Ok(recorded.then_some(message_id))
    }

    /// Tells the sender that e-mails were committed.
    pub fn posted(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn woken(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}
