//! The manager socket: `GET /ws/manager`, signed in by the console's session
//! cookie or `Authorization: Bearer` (never a secret in the URL). The
//! credential and the `Origin` are checked before the upgrade, so a refused
//! client gets 401 or 403, not a socket. It carries the account's messages,
//! dialogs, notes and contacts live, and takes replies and resync requests.

use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse as _, Response};
use uuid::Uuid;

use super::close;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::delivery::{Delivery, Unknown};
use super::frames::ClientFrame;
use super::session::{Closed, Session};
use super::watch::SessionWatch;
use crate::auth::{self, Manager};
use crate::budgets::SocketPermit;
use crate::error::Error;
use crate::hub::Audience;
use crate::presence::Online;
use crate::replies;
use crate::state::AppState;
use crate::ws::frames::{HelloManager, ServerFrame};

pub async fn connect_manager(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    State(state): State<AppState>,
) -> Response {
    if !auth::origin_allowed(&state, &headers) {
        return Error::Csrf("the manager socket opens from the console's own origin")
            .into_response();
    }
    let Some((token, via_cookie)) = auth::credential(&headers) else {
        return Error::Unauthorized.into_response();
    };
    // Opening the socket is no activity: a console reconnects by itself.
    let manager = match auth::authenticate(&state, token, via_cookie, true).await {
        Ok(manager) => manager,
        Err(e) => return e.into_response(),
    };
    // A place of the managers' own, which visitors cannot take.
    let permit = match state.budgets.admit_manager() {
        Ok(permit) => permit,
        Err(e) => return e.into_response(),
    };
    let tasks = state.tasks.clone();
    super::with_limits(ws)
        .on_upgrade(move |socket| tasks.track_future(serve(socket, state, manager, permit)))
}

async fn serve(ws: WebSocket, state: AppState, manager: Manager, _permit: SocketPermit) {
    let registration = state.hub.register(Audience::Managers(manager.account_id));
    let mut session = Session::new(
        ws,
        state.clone(),
        manager.account_id,
        Delivery::new(Unknown::FromStartIfBornAfter(SystemTime::now())),
        registration,
    );
    session.watch_session(SessionWatch::new(&state, manager.clone()));
    let hello = ServerFrame::ManagerHello {
        account_id: manager.account_id,
        manager: HelloManager {
            id: manager.id,
            email: &manager.email,
            name: &manager.name,
            role: manager.role.as_str(),
        },
    };
    if session.send(hello.text()).await.is_err() {
        return;
    }
    // Online while the socket is open (the end of the session closes it).
    let _online = Online::manager(&state, manager.account_id, manager.id);
    // A send is the manager's activity (pings and resyncs are the console's
    // own); the session is looked up again at most this often (its end is
    // also told at once by the watch).
    let mut checked_at: Option<Instant> = None;
    while let Some(frame) = session.next_frame().await {
        let due =
            checked_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(SESSION_RECHECK_SECS));
        if matches!(frame, ClientFrame::Send { .. }) && due {
            match auth::still_signed_in(&session.state, &manager).await {
                Ok(()) => checked_at = Some(Instant::now()),
                Err(Error::Unauthorized) => {
                    return session.close(close::UNAUTHORIZED, "session ended").await;
                }
                Err(e) => {
                    // Not taken: say which message, so the console can send it again.
                    let refused = match &frame {
                        ClientFrame::Send {
                            client_message_id, ..
                        } => Some(client_message_id.as_str()),
                        _ => None,
                    };
                    if session.send_error(&e, refused).await.is_err() {
                        return;
                    }
                    continue;
                }
            }
        }
        let result = match frame {
            ClientFrame::Send {
                dialog_id,
                client_message_id,
                text,
                channel,
                attachments,
            } => {
                let to = Outgoing {
                    dialog_id: dialog_id.unwrap_or_default(),
                    client_message_id,
                    text,
                    channel,
                    attachments,
                };
                send(&mut session, &manager, to).await
            }
            ClientFrame::Sync {
                dialog_id,
                after_seq,
            } => sync(&mut session, &dialog_id, after_seq).await,
            ClientFrame::Ping => session.send(ServerFrame::Pong.text()).await,
            ClientFrame::Page { .. } | ClientFrame::Shown { .. } | ClientFrame::Identify { .. } => {
                session.send(super::frames::not_here("visitor")).await
            }
        };
        if result.is_err() {
            return;
        }
    }
}

/// How often the frames of a manager socket look the session up again.
const SESSION_RECHECK_SECS: u64 = 5;

/// A manager's `send` frame.
struct Outgoing {
    dialog_id: String,
    client_message_id: String,
    text: String,
    channel: Option<String>,
    attachments: Vec<String>,
}

async fn send(session: &mut Session, manager: &Manager, out: Outgoing) -> Result<(), Closed> {
    let request = replies::chosen_channel(out.channel.as_deref()).and_then(|channel| {
        replies::request(
            manager,
            replies::To::Dialog(&out.dialog_id),
            &out.client_message_id,
            out.text,
            out.attachments,
            channel,
        )
    });
    match request {
        Ok(request) => session.submit(out.dialog_id, request).await,
        Err(e) => session.send_error(&e, Some(&out.client_message_id)).await,
    }
}

async fn sync(session: &mut Session, dialog_id: &str, after_seq: i64) -> Result<(), Closed> {
    let Ok(dialog_id) = Uuid::parse_str(dialog_id) else {
        return session
            .send_error(&Error::Invalid("dialog_id is not a uuid".into()), None)
            .await;
    };
    if after_seq < 0 {
        return session
            .send_error(&Error::Invalid("after_seq must be 0 or more".into()), None)
            .await;
    }
    session.resync(dialog_id, after_seq).await
}
