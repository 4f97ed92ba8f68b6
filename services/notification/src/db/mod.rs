//! SQL of the notification service, by what it keeps.
//!
//! - [`directory`]: the managers it writes to, their choices, the account's
//!   sender.
//! - [`alerts`]: dialogs' state and the visitors' messages waiting for an
//!   alert.
//! - [`replies`]: managers' replies waiting to be settled (seen, e-mailed).
//! - [`contacts`]: the contacts' names and addresses.
//! - [`email`]: the e-mail log, which is also the sender's queue.
//! - [`push`]: browser push: the VAPID key, subscriptions, the push log.
//! - [`held`]: answers by e-mail from a stranger's address, held.
//! - [`files`]: files attached to answers by e-mail.
//! - [`shop_smtp`]: shops' own SMTP servers.

pub mod alerts;
pub mod contacts;
pub mod directory;
pub mod email;
pub mod files;
pub mod held;
pub mod push;
pub mod replies;
pub mod shop_smtp;
