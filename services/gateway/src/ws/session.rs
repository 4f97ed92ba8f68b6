//! What the visitor and manager sockets share: waiting for the next client
//! frame while forwarding the hub's events, replaying missed messages by
//! sequence number, and closing with a code that tells the client what to do.

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use uuid::Uuid;

use chat_proto::dialog::v1 as pb;

use super::close;
use super::delivery::{Delivery, Step};
use super::frames::{self, ClientFrame};
use super::watch::{self, SessionWatch};
use crate::api::MessageOut;
use crate::error::Error;
use crate::hub::{EventReceiver, HubEvent, Registration};
use crate::state::AppState;

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
    _registration: Registration,
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
        Self {
            ws,
            state,
            account_id,
            delivery,
            events,
            watch: None,
            _registration: registration,
        }
    }

    /// Closes the socket when the manager's session ends.
    pub fn watch_session(&mut self, watch: SessionWatch) {
        self.watch = Some(watch);
    }

    pub async fn send(&mut self, frame: String) -> Result<(), Closed> {
        self.ws
            .send(Message::Text(frame.into()))
            .await
            .map_err(|_| Closed)
    }

    pub async fn send_error(
        &mut self,
        error: &Error,
        client_message_id: Option<&str>,
    ) -> Result<(), Closed> {
        self.send(frames::error(
            error.code(),
            &error.public_message(),
            client_message_id,
        ))
        .await
    }

    /// Waits for the client's next frame, forwarding events meanwhile. Bad
    /// frames are answered with an error frame and the wait goes on. `None`
    /// once the socket is done (closed by either side, or shutdown).
    pub async fn next_frame(&mut self) -> Option<ClientFrame> {
        loop {
            let result = tokio::select! {
                incoming = self.ws.recv() => match incoming {
                    None | Some(Ok(Message::Close(_))) => return None,
                    Some(Err(e)) => {
                        let too_big = e.to_string().contains("too long") || e.to_string().contains("Space limit");
                        if too_big {
                            close_socket(&mut self.ws, close::TOO_BIG, "frame too large").await;
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
                    Some(Ok(_)) => Ok(()), // pings are answered by the library
                },
                event = self.events.recv() => match event {
                    Some(event) => self.forward(&event).await,
                    None => {
                        close_socket(&mut self.ws, close::LAGGING, "too slow; reconnect and resume").await;
                        return None;
                    }
                },
                _ = watch::ended(&mut self.watch, &self.state) => {
                    close_socket(&mut self.ws, close::UNAUTHORIZED, "session ended").await;
                    return None;
                }
                _ = self.state.shutdown.cancelled() => {
                    close_socket(&mut self.ws, close::GOING_AWAY, "server shutting down").await;
                    return None;
                }
            };
            if result.is_err() {
                return None;
            }
        }
    }

    async fn forward(&mut self, event: &HubEvent) -> Result<(), Closed> {
        if event.seq == 0 {
            return self.send(event.frame.clone()).await;
        }
        match self.delivery.step(event.dialog_id, event.seq) {
            Step::Skip => Ok(()),
            Step::Send => {
                self.delivery.sent(event.dialog_id, event.seq);
                self.send(event.frame.clone()).await
            }
            Step::FillFrom(after) => self.replay(event.dialog_id, after).await,
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
        self.delivery.sent(dialog_id, seq);
    }

    /// Sends every message of the dialog after `after_seq` again, whatever
    /// this socket sent before: the client asked for it.
    pub async fn resync(&mut self, dialog_id: Uuid, after_seq: i64) -> Result<(), Closed> {
        self.delivery.restart_from(dialog_id, after_seq);
        self.replay(dialog_id, after_seq).await
    }

    /// Sends every message of the dialog after `after_seq`, in order. A backend
    /// failure is told to the client as an error frame.
    pub async fn replay(&mut self, dialog_id: Uuid, mut after_seq: i64) -> Result<(), Closed> {
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
                    self.send(frames::message(&MessageOut::from(message)))
                        .await?;
                }
            }
            if !page.has_more {
                return Ok(());
            }
        }
    }

    pub async fn close(mut self, code: u16, reason: &str) {
        close_socket(&mut self.ws, code, reason).await;
    }
}

/// Closes with a code and reason, before or after a session exists.
pub async fn close_socket(ws: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.to_owned().into(),
    };
    let _ = ws.send(Message::Close(Some(frame))).await;
}

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
        | Error::MethodNotAllowed
        | Error::TooLarge
        | Error::UnsupportedMediaType => (close::BAD_REQUEST, error.to_string()),
        Error::Unavailable | Error::Database(_) | Error::Internal(_) => {
            (close::TRY_AGAIN_LATER, error.public_message())
        }
    }
}
