//! What the visitor and manager sockets share: waiting for the next client
//! frame while forwarding the hub's events and acking sends as they are
//! stored, replaying missed messages by sequence number, keeping the
//! connection honest (server pings, a close after silence, a time limit on
//! every write, a rate limit on sends), and closing with a code that tells
//! the client what to do.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use tokio::time::{Instant, Interval, MissedTickBehavior};
use uuid::Uuid;

use chat_proto::dialog::v1 as pb;

use super::close;
use super::delivery::{Delivery, Step};
use super::frames::{self, ClientFrame};
use super::pipeline::{Done, Pipeline};
use super::watch::{self, SessionWatch};
use crate::api::MessageOut;
use crate::error::Error;
use crate::hub::{Audience, EventReceiver, HubEvent, Registration};
use crate::limits::SendLimit;
use crate::state::AppState;
use crate::system_lines;
use crate::ws::frames::ServerFrame;

/// Visitors' `page`, `shown` and `identify` frames a socket may send per
/// second (bursts of twice that).
const ACTIVITY_FRAMES_PER_SEC: u32 = 5;

/// Messages fetched per page when replaying.
const REPLAY_PAGE: u32 = 200;

/// One connected socket, registered in the hub.
pub struct Session {
    ws: WebSocket,
    pub state: AppState,
    pub account_id: Uuid,
    delivery: Delivery,
    events: EventReceiver,
    /// A manager's session, whose end closes the socket; `None` for visitors.
    watch: Option<SessionWatch>,
    /// Sends being stored; made at the first send (an idle socket has none).
    pipeline: Option<Box<Pipeline>>,
    send_limit: SendLimit,
    /// Visitors' `page`, `shown` and `identify` frames: each costs a write.
    activity_limit: SendLimit,
    /// When the client last sent anything (a frame, a pong).
    last_heard: Instant,
    pings: Interval,
    /// The page a visitor's socket is on (its `page` frames), for the
    /// settings that depend on it.
    pub page_url: String,
    /// The `Origin` a visitor's page sent, for the allowed sites saved later.
    pub origin: Option<String>,
    registration: Registration,
}

/// The next send of the pipeline to finish. Its wait is boxed and made only
/// while sends are in flight, so what a socket keeps while it waits for a
/// frame holds a pointer for it, not the wait itself.
async fn next_stored(pipeline: &mut Option<Box<Pipeline>>) -> Done {
    match pipeline {
        Some(pipeline) => Box::pin(pipeline.next()).await,
        None => std::future::pending().await,
    }
}

/// The socket is gone or closing; stop serving it.
#[derive(Debug)]
pub struct Closed;

impl Session {
    pub fn new(
        ws: WebSocket,
        state: AppState,
        account_id: Uuid,
        delivery: Delivery,
        (registration, events): (Registration, EventReceiver),
    ) -> Self {
        let period = Duration::from_secs(state.config.ws_ping_secs.max(1));
        let mut pings = tokio::time::interval_at(Instant::now() + period, period);
        pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            pipeline: None,
            send_limit: SendLimit::new(state.config.socket_sends_per_sec),
            activity_limit: SendLimit::new(ACTIVITY_FRAMES_PER_SEC),
            last_heard: Instant::now(),
            pings,
            ws,
            state,
            account_id,
            delivery,
            events,
            watch: None,
            page_url: String::new(),
            origin: None,
            registration,
        }
    }

    /// Whether one more `page`, `shown` or `identify` frame is within the
    /// socket's limit; if not, the client is told and the frame is dropped.
    pub async fn activity_allowed(&mut self) -> Result<bool, Closed> {
        if self.activity_limit.allows() {
            return Ok(true);
        }
        let problem = "too many page, shown or identify frames; send it again in a moment";
        self.send(frames::error("rate_limited", problem, None))
            .await?;
        Ok(false)
    }

    /// Stores a message the client sent, after the ones before it in its
    /// lane (its dialog); the ack follows when it is stored. Over the
    /// socket's rate limit it is refused at once and nothing is stored.
    pub async fn submit(
        &mut self,
        lane: String,
        request: pb::PostMessageRequest,
    ) -> Result<(), Closed> {
        if !self.send_limit.allows() {
            let frame = frames::error(
                "rate_limited",
                "too many messages at once; send this one again in a moment",
                Some(&request.client_message_id),
            );
            return self.send(frame).await;
        }
        let (dialogs, config) = (&self.state.dialogs, &self.state.config);
        self.pipeline
            .get_or_insert_with(|| {
                let max_wait = Duration::from_millis(config.send_max_wait_ms);
                Box::new(Pipeline::new(dialogs.clone(), max_wait))
            })
            .submit(lane, request);
        Ok(())
    }

    async fn finish(&mut self, done: Done) -> Result<(), Closed> {
        if self.pipeline.as_ref().is_some_and(|p| p.is_empty()) {
            self.pipeline = None; // a socket with nothing to store keeps none
        }
        match done.result {
            Ok(posted) => {
                let Some(message) = posted.message.map(MessageOut::from) else {
                    return Ok(());
                };
                self.send(frames::ack(&message, posted.duplicate)).await?;
                self.deliver(&message).await
            }
            Err(status) => {
                self.send_error(&Error::from(status), Some(&done.client_message_id))
                    .await
            }
        }
    }

    /// Closes the socket when the manager's session ends.
    pub fn watch_session(&mut self, watch: SessionWatch) {
        self.watch = Some(watch);
    }

    /// Sends a frame; a client that does not take it within
    /// `GATEWAY_WS_SEND_TIMEOUT_SECS` has stopped reading, and is let go.
    pub async fn send(&mut self, frame: String) -> Result<(), Closed> {
        self.write(Message::Text(frame.into())).await
    }

    async fn write(&mut self, message: Message) -> Result<(), Closed> {
        let limit = Duration::from_secs(self.state.config.ws_send_timeout_secs.max(1));
        match tokio::time::timeout(limit, self.ws.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Closed),
            Err(_) => {
                tracing::debug!("a socket stopped reading; closing it");
                metrics::counter!("gateway_sockets_closed_total", "reason" => "send_timeout")
                    .increment(1);
                Err(Closed)
            }
        }
    }

    pub async fn send_error(
        &mut self,
        error: &Error,
        client_message_id: Option<&str>,
    ) -> Result<(), Closed> {
        let mut frame = frames::error(error.code(), &error.public_message(), client_message_id);
        if let Error::InvalidFields(fields) = error {
            // Field problems, as a form shows them (the widget's e-mail field).
            let mut value: serde_json::Value = serde_json::from_str(&frame).unwrap_or_default();
            let fields: serde_json::Map<String, serde_json::Value> = fields
                .iter()
                .map(|(field, problem)| (field.clone(), problem.clone().into()))
                .collect();
            value["fields"] = fields.into();
            frame = value.to_string();
        }
        self.send(frame).await
    }

    /// Waits for the client's next frame, forwarding events meanwhile.
    /// What it does on an event or a stored send is boxed: an idle socket
    /// waits here, and its task keeps only what waiting takes, not the
    /// state of the largest call it could make (a replay, a gRPC answer). Bad
    /// frames are answered with an error frame and the wait goes on. `None`
    /// once the socket is done (closed by either side, or shutdown).
    pub async fn next_frame(&mut self) -> Option<ClientFrame> {
        loop {
            let has_room = self.pipeline.as_ref().is_none_or(|p| p.has_room());
            let storing = self.pipeline.as_ref().is_some_and(|p| !p.is_empty());
            let result = tokio::select! {
                incoming = self.ws.recv(), if has_room => {
                    self.last_heard = Instant::now();
                    match incoming {
                    None | Some(Ok(Message::Close(_))) => return None,
                    Some(Err(e)) => {
                        let too_big = e.to_string().contains("too long") || e.to_string().contains("Space limit");
                        if too_big {
                            self.close_now(close::TOO_BIG, "frame too large").await;
                        }
                        return None;
                    }
                    Some(Ok(Message::Text(text))) => match frames::parse(&text) {
                        Ok(frame) => return Some(frame),
                        Err(e) => self.send(frames::error(e.code, &e.message, None)).await,
                    },
                    Some(Ok(Message::Binary(_))) => {
                        self.send(frames::error("bad_frame", "binary frames are not accepted", None)).await
                    }
                    Some(Ok(_)) => Ok(()), // pongs; pings are answered by the library
                }},
                done = next_stored(&mut self.pipeline), if storing => Box::pin(self.finish(done)).await,
                _ = self.pings.tick() => {
                    let idle = Duration::from_secs(self.state.config.ws_idle_secs);
                    if self.last_heard.elapsed() > idle {
                        metrics::counter!("gateway_sockets_closed_total", "reason" => "silent")
                            .increment(1);
                        self.close_now(close::SILENT, "no answer to pings").await;
                        return None;
                    }
                    self.write(Message::Ping(Default::default())).await
                }
                event = self.events.recv() => match event {
                    Some(event) => Box::pin(self.forward(&event)).await,
                    None => {
                        self.close_now(close::LAGGING, "too slow; reconnect and resume").await;
                        return None;
                    }
                },
                _ = watch::ended(&mut self.watch, &self.state) => {
                    self.close_now(close::UNAUTHORIZED, "session ended").await;
                    return None;
                }
                _ = self.state.shutdown.cancelled() => {
                    self.close_now(close::GOING_AWAY, "server shutting down").await;
                    return None;
                }
            };
            if result.is_err() {
                return None;
            }
        }
    }

    async fn forward(&mut self, event: &HubEvent) -> Result<(), Closed> {
        let visitor = matches!(self.registration.audience(), Audience::Visitor { .. });
        if let (Some(settings), true) = (&event.widget, visitor) {
            // A visitor's widget: the settings as they apply to its page;
            // with the chat turned off, the socket closes after them, and a
            // page of a site no longer allowed is closed without them.
            if !settings.allows_origin(self.origin.as_deref()) {
                self.close_now(
                    close::UNKNOWN_SITE_KEY,
                    "this site may not embed the widget",
                )
                .await;
                return Err(Closed);
            }
            let online = self.state.presence.managers_online(self.account_id);
            let config = crate::widget::config(settings, &self.page_url, online);
            let frame = ServerFrame::Settings { settings: &config };
            self.send(frame.text()).await?;
            if !settings.enabled {
                self.close_now(close::CHAT_OFF, "the chat is off").await;
                return Err(Closed);
            }
            return Ok(());
        }
        if event.seq == 0 {
            // Outside any dialog's sequence; a visitor gets their own frame
            // where the event has one (a new dialog without its preview).
            return match event.frame_for(visitor) {
                Some(frame) => self.send(frame.to_owned()).await,
                None => Ok(()),
            };
        }
        match self.delivery.step(event.dialog_id, event.seq) {
            Step::Skip => Ok(()),
            Step::Send => {
                self.delivery.sent(event.dialog_id, event.seq);
                match event.frame_for(visitor) {
                    Some(frame) => self.send(frame.to_owned()).await,
                    None => Ok(()),
                }
            }
            Step::FillFrom(after) => self.replay(event.dialog_id, after).await,
        }
    }

    /// The frame of a stored message as this socket's client is shown it;
    /// `None` for a system line of the team's on a visitor's socket.
    fn message_frame(&self, message: pb::Message) -> Option<String> {
        let message = MessageOut::from(message);
        match self.registration.audience() {
            Audience::Visitor { .. } => system_lines::as_visitor_sees(message)
                .as_ref()
                .map(frames::message),
            Audience::Managers(_) => Some(frames::message(&message)),
        }
    }

    /// Delivers a message this socket just posted, through the same rules as live events.
    pub async fn deliver(&mut self, message: &MessageOut) -> Result<(), Closed> {
        let Ok(dialog_id) = Uuid::parse_str(&message.dialog_id) else {
            return Ok(());
        };
        match self.delivery.step(dialog_id, message.seq) {
            Step::Skip => Ok(()),
            Step::Send => {
                self.delivery.sent(dialog_id, message.seq);
                self.send(frames::message(message)).await
            }
            Step::FillFrom(after) => self.replay(dialog_id, after).await,
        }
    }

    /// Marks everything up to `seq` of a dialog as already seen by the client.
    pub fn seen(&mut self, dialog_id: Uuid, seq: i64) {
        self.delivery.held_through(dialog_id, seq);
    }

    /// Sends the messages of the dialog after `after_seq` that this socket
    /// has not sent yet: the client asked for them (after a reconnect, say),
    /// and a socket never sends one message twice. Those before the first
    /// message this socket sent of the dialog (live messages may come before
    /// the client's `sync`) go first, the newest page first, each page in
    /// order; then everything after what was sent.
    pub async fn resync(&mut self, dialog_id: Uuid, after_seq: i64) -> Result<(), Closed> {
        while let Some(first_sent) = self.delivery.hole_below(dialog_id, after_seq) {
            let request = pb::ListMessagesRequest {
                account_id: self.account_id.to_string(),
                dialog_id: dialog_id.to_string(),
                after_seq,
                before_seq: first_sent,
                limit: REPLAY_PAGE,
            };
            let page = match self.state.dialogs.clone().list_messages(request).await {
                Ok(page) => page.into_inner(),
                Err(status) => return self.send_error(&Error::from(status), None).await,
            };
            let sent_from = match page.messages.first() {
                Some(oldest) if page.has_more => oldest.seq,
                _ => after_seq + 1,
            };
            for message in page.messages {
                if let Some(frame) = self.message_frame(message) {
                    self.send(frame).await?;
                }
            }
            self.delivery.held_from(dialog_id, sent_from);
        }
        // The client holds everything up to `after_seq`.
        self.delivery.held_through(dialog_id, after_seq);
        let from = self.delivery.resync_from(dialog_id, after_seq);
        self.replay(dialog_id, from).await
    }

    /// Sends every message of the dialog after `after_seq`, in order; the
    /// client holds everything up to it, so later live messages follow on
    /// from there. A backend failure is told to the client as an error frame.
    pub async fn replay(&mut self, dialog_id: Uuid, mut after_seq: i64) -> Result<(), Closed> {
        self.delivery.sending_after(dialog_id, after_seq);
        loop {
            let request = pb::ListMessagesRequest {
                account_id: self.account_id.to_string(),
                dialog_id: dialog_id.to_string(),
                after_seq,
                before_seq: 0,
                limit: REPLAY_PAGE,
            };
            let page = match self.state.dialogs.clone().list_messages(request).await {
                Ok(page) => page.into_inner(),
                Err(status) => return self.send_error(&Error::from(status), None).await,
            };
            for message in page.messages {
                after_seq = message.seq;
                if self.delivery.step(dialog_id, message.seq) != Step::Skip {
                    self.delivery.sent(dialog_id, message.seq);
                    if let Some(frame) = self.message_frame(message) {
                        self.send(frame).await?;
                    }
                }
            }
            if !page.has_more {
                return Ok(());
            }
        }
    }

    pub async fn close(mut self, code: u16, reason: &str) {
        self.close_now(code, reason).await;
    }

    pub async fn close_now(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code,
            reason: reason.to_owned().into(),
        };
        let _ = self.write(Message::Close(Some(frame))).await;
    }
}

/// Closes with a code and reason before a session exists.
pub async fn close_socket(ws: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.to_owned().into(),
    };
    let _ = tokio::time::timeout(
        Duration::from_secs(CLOSE_WRITE_SECS),
        ws.send(Message::Close(Some(frame))),
    )
    .await;
}

/// How long a close frame before a session may take to write.
const CLOSE_WRITE_SECS: u64 = 5;

/// The close that tells the client why a backend call at connect time failed.
pub fn close_for(error: &Error) -> (u16, String) {
    match error {
        Error::Invalid(m) => (close::BAD_REQUEST, m.clone()),
        Error::Unauthorized => (close::UNAUTHORIZED, "unauthorized".into()),
        Error::BadRequest(_)
        | Error::InvalidFields(_)
        | Error::Conflict(_)
        | Error::Forbidden(_)
        | Error::Csrf(_)
        | Error::RateLimited(_)
        | Error::NotFound(_)
        | Error::BadCredentials
        | Error::AccountChoice(_)
        | Error::MethodNotAllowed
        | Error::TooLarge
        | Error::UnsupportedMediaType => (close::BAD_REQUEST, error.to_string()),
        Error::Unavailable | Error::Database(_) | Error::Internal(_) => {
            (close::TRY_AGAIN_LATER, error.public_message())
        }
    }
}
