//! The visitor socket: `GET /ws/visitor?site_key=…&visitor_id=…[&after_seq=N]`.
//! The widget connects with the shop's public site key and the browser's
//! anonymous visitor id; the first message opens a dialog.

use std::collections::HashMap;

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse as _, Response};
use serde_json::json;
use uuid::Uuid;

use chat_proto::contact::v1 as contact_pb;
use chat_proto::dialog::v1 as pb;

use super::close;
use super::delivery::{Delivery, Unknown};
use super::frames::{self, ClientFrame};
use super::session::{Session, close_for, close_socket};
use crate::api::DialogOut;
use crate::db;
use crate::error::Error;
use crate::hub::Audience;
use crate::state::AppState;

pub async fn connect_visitor(
    ws: WebSocketUpgrade,
    Query(params): Query<HashMap<String, String>>,
    State(state): State<AppState>,
) -> Response {
    if let Err(e) = super::admit(&state) {
        return e.into_response();
    }
    super::with_limits(ws).on_upgrade(move |socket| serve(socket, state, params))
}

async fn serve(mut ws: WebSocket, state: AppState, params: HashMap<String, String>) {
    let site_key = params
        .get("site_key")
        .map(String::as_str)
        .unwrap_or_default();
    let visitor_id = params
        .get("visitor_id")
        .map(String::as_str)
        .unwrap_or_default();
    let after_seq = match params.get("after_seq").map(|s| s.parse::<i64>()) {
        None => None,
        Some(Ok(n)) if n >= 0 => Some(n),
        Some(_) => {
            return close_socket(
                &mut ws,
                close::BAD_REQUEST,
                "after_seq must be a number, 0 or more",
            )
            .await;
        }
    };
    let account = match db::account_by_site_key(&state.pool, site_key).await {
        Ok(Some(account)) => account,
        Ok(None) => {
            return close_socket(&mut ws, close::UNKNOWN_SITE_KEY, "unknown site key").await;
        }
        Err(e) => {
            let (code, reason) = close_for(&Error::from(e));
            return close_socket(&mut ws, code, &reason).await;
        }
    };
    let request = contact_pb::ResolveVisitorRequest {
        account_id: account.id.to_string(),
        visitor_id: visitor_id.to_owned(),
    };
    let contact = match state.contacts.clone().resolve_visitor(request).await {
        Ok(contact) => contact.into_inner(),
        Err(status) => {
            let (code, reason) = close_for(&Error::from(status));
            return close_socket(&mut ws, code, &reason).await;
        }
    };
    let Ok(contact_id) = Uuid::parse_str(&contact.id) else {
        return;
    };
    // Register before looking at the dialog, so nothing written meanwhile is missed.
    let registration = state.hub.register(Audience::Visitor {
        account_id: account.id,
        contact_id,
    });
    let mut session = Session::new(
        ws,
        state.clone(),
        account.id,
        Delivery::new(Unknown::FromStart),
        registration,
    );

    let current = state
        .dialogs
        .clone()
        .find_contact_dialog(pb::FindContactDialogRequest {
            account_id: account.id.to_string(),
            contact_id: contact.id.clone(),
        })
        .await;
    let dialog = match current {
        Ok(found) => found.into_inner().dialog,
        Err(status) => {
            let (code, reason) = close_for(&Error::from(status));
            return session.close(code, &reason).await;
        }
    };
    let hello = json!({
        "type": "hello",
        "contact_id": contact.id,
        "dialog": dialog.clone().map(DialogOut::from),
    });
    if session.send(hello.to_string()).await.is_err() {
        return;
    }
    if let Some(dialog) = dialog.and_then(|d| Some((Uuid::parse_str(&d.id).ok()?, d.last_seq))) {
        let (dialog_id, last_seq) = dialog;
        match after_seq {
            Some(after) => {
                if session.replay(dialog_id, after).await.is_err() {
                    return;
                }
            }
            None => session.seen(dialog_id, last_seq),
        }
    }

    while let Some(frame) = session.next_frame().await {
        let result = match frame {
            ClientFrame::Send {
                client_message_id,
                text,
                ..
            } => send(&mut session, contact_id, client_message_id, text).await,
            ClientFrame::Ping => session.send(json!({"type": "pong"}).to_string()).await,
            ClientFrame::Sync { .. } => {
                let error = frames::error(
                    "unknown_type",
                    "visitors resume with after_seq when connecting",
                    None,
                );
                session.send(error).await
            }
        };
        if result.is_err() {
            return;
        }
    }
}

async fn send(
    session: &mut Session,
    contact_id: Uuid,
    client_message_id: String,
    text: String,
) -> Result<(), super::session::Closed> {
    let request = pb::PostMessageRequest {
        account_id: session.account_id.to_string(),
        dialog_id: String::new(),
        contact_id: contact_id.to_string(),
        author_kind: pb::AuthorKind::Visitor as i32,
        author_id: contact_id.to_string(),
        client_message_id,
        text,
        channel: pb::Channel::Site as i32,
    };
    // A visitor writes into one dialog: one lane.
    session.submit(String::new(), request).await
}
