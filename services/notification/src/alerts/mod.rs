//! Alerts: a manager who is away from the console gets one e-mail for the
//! visitor's messages of a short window (`NOTIFICATION_ALERT_WINDOW_SECS`),
//! leaving out what they read meanwhile on any device.
//!
//! - [`watch`]: follows the dialog service's events: messages to alert
//!   about, each dialog's manager, managers' read positions.
//! - [`digest`]: when a dialog's window ends, writes the e-mails: to its
//!   manager, or to every manager when it has none, if they are offline
//!   and want e-mail.

pub mod digest;
pub mod watch;
