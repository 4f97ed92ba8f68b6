//! The manager socket: `GET /ws/manager?token=…` (or `Authorization: Bearer`).
//! It carries every message and new dialog of the manager's account live, and
//! takes replies and resync requests.

use std::collections::HashMap;

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;
use uuid::Uuid;

use super::close;
use super::delivery::Delivery;
use super::frames::{self, ClientFrame};
use super::session::{Closed, Session, close_for, close_socket};
use super::watch::SessionWatch;
use crate::auth::{self, Manager};
use crate::error::Error;
use crate::hub::Audience;
use crate::replies;
use crate::state::AppState;

pub async fn connect_manager(
    ws: WebSocketUpgrade,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    State(state): State<AppState>,
) -> Response {
    let header_token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let token = params
        .get("token")
        .cloned()
        .or(header_token)
        .unwrap_or_default();
    super::with_limits(ws).on_upgrade(move |socket| serve(socket, state, token))
}

async fn serve(mut ws: WebSocket, state: AppState, token: String) {
    let manager = match auth::authenticate(&state, &token).await {
        Ok(manager) => manager,
        Err(Error::Unauthorized) => {
            return close_socket(&mut ws, close::UNAUTHORIZED, "unauthorized").await;
        }
        Err(e) => {
            let (code, reason) = close_for(&e);
            return close_socket(&mut ws, code, &reason).await;
        }
    };
    let registration = state.hub.register(Audience::Managers(manager.account_id));
    let mut session = Session::new(
        ws,
        state.clone(),
        manager.account_id,
        Delivery::new(false),
        registration,
    );
    session.watch_session(SessionWatch::new(&state, manager.clone()));
    let hello = json!({
        "type": "hello",
        "account_id": manager.account_id,
        "manager": { "id": manager.id, "email": manager.email, "name": manager.name },
    });
    if session.send(hello.to_string()).await.is_err() {
        return;
    }
    while let Some(frame) = session.next_frame().await {
        // Every frame is activity, and is taken only while the session lives.
        match auth::still_signed_in(&session.state, &manager).await {
            Ok(()) => {}
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
        let result = match frame {
            ClientFrame::Send {
                dialog_id,
                client_message_id,
                text,
            } => send(&mut session, &manager, dialog_id, client_message_id, text).await,
            ClientFrame::Sync {
                dialog_id,
                after_seq,
            } => sync(&mut session, &dialog_id, after_seq).await,
            ClientFrame::Ping => session.send(json!({"type": "pong"}).to_string()).await,
        };
        if result.is_err() {
            return;
        }
    }
}

async fn send(
    session: &mut Session,
    manager: &Manager,
    dialog_id: Option<String>,
    client_message_id: String,
    text: String,
) -> Result<(), Closed> {
    let posted = replies::post_as_manager(
        &session.state,
        manager,
        dialog_id.as_deref().unwrap_or_default(),
        &client_message_id,
        text,
    )
    .await;
    match posted {
        Ok((message, duplicate)) => {
            session.send(frames::ack(&message, duplicate)).await?;
            session.deliver(&message).await
        }
        Err(e) => session.send_error(&e, Some(&client_message_id)).await,
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
