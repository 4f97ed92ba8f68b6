//! The two WebSockets: visitors (the widget) and managers (the console).
//! Both speak JSON text frames, documented in `docs/api.md`.
//!
//! - [`frames`]: parsing client frames and building server frames.
//! - [`delivery`]: exactly-once, in-order delivery of messages to one socket.
//! - [`session`]: what both sockets share: the loop, replay, pings, closing.
//! - [`pipeline`]: sends in flight together, in order per dialog.
//! - [`visitor`], [`manager`]: each socket's own rules.
//! - [`watch`]: the end of a manager's session closes its sockets.

pub mod delivery;
pub mod frames;
pub mod manager;
pub mod pipeline;
pub mod session;
pub mod visitor;
pub mod watch;

use axum::extract::ws::WebSocketUpgrade;

/// Largest frame and message a client may send. A chat message is at most
/// 4096 characters (16 KiB in UTF-8); the rest is room for the JSON around it.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Read buffer per socket, allocated for every socket: small, so idle
/// sockets stay cheap (a larger frame grows it while it is read).
pub const READ_BUFFER_BYTES: usize = 1024;
/// Most bytes queued for one slow client before writes fail.
pub const MAX_WRITE_BUFFER_BYTES: usize = 1024 * 1024;

/// Close codes the sockets use besides the standard ones.
pub mod close {
    /// Going away: the gateway is shutting down; reconnect.
    pub const GOING_AWAY: u16 = 1001;
    /// A frame larger than [`super::MAX_FRAME_BYTES`].
    pub const TOO_BIG: u16 = 1009;
    /// A backend failed; reconnect later.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// Too slow to read its events: reconnect and resume from the last sequence.
    pub const LAGGING: u16 = 4008;
    /// Nothing from the client (not even a pong) for `GATEWAY_WS_IDLE_SECS`:
    /// the connection is presumed dead; reconnect and resume.
    pub const SILENT: u16 = 4408;
    /// Bad connection parameters (e.g. a malformed visitor id).
    pub const BAD_REQUEST: u16 = 4400;
    /// No token, a wrong token, or a session that has ended; for visitors, a
    /// visitor token the account did not issue.
    pub const UNAUTHORIZED: u16 = 4401;
    /// The site key belongs to no account.
    pub const UNKNOWN_SITE_KEY: u16 = 4403;
    /// The account turned its chat off.
    pub const CHAT_OFF: u16 = 4404;
    /// A verified identification moved the visitor to another contact:
    /// reconnect and load that contact's conversation.
    pub const IDENTITY_CHANGED: u16 = 4409;
}

/// The upgrade with the suite's limits, set on purpose rather than left at
/// the library defaults.
pub fn with_limits(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_frame_size(MAX_FRAME_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
}
