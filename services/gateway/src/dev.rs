//! What `make dev` serves for trying the suite by hand (only with
//! `GATEWAY_DEV_PAGE=true`): the dev page (`/dev`), where one can chat as a
//! visitor until the widget lands, and `/dev/console`, which signs the demo
//! manager in and opens the console, so `make dev` leads straight into it.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::admin::{DEMO_EMAIL, DEMO_PASSWORD};
use crate::auth;
use crate::credentials::Device;
use crate::error::Result;
use crate::state::AppState;

const PAGE: &str = include_str!("../static/dev.html");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dev", get(|| async { Html(PAGE) }))
        .route("/dev/console", get(open_console_as_demo))
}

/// Signs the demo manager in (a cookie session, as the console's own login
/// makes) and opens the console. The demo's password is public anyway.
async fn open_console_as_demo(State(state): State<AppState>) -> Result<Response> {
    let device = Device {
        user_agent: "make dev".into(),
        ip: "127.0.0.1".into(),
    };
    // The demo shop's manager, even where the address manages other shops too.
    let demo_shop = crate::db::account_by_site_key(&state.pool, crate::admin::DEMO_SITE_KEY)
        .await?
        .map(|account| account.id);
    let (token, _) = auth::login(&state, DEMO_EMAIL, DEMO_PASSWORD, demo_shop, &device).await?;
    let cookie = auth::session_cookie_header(&state, &token);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/console/")).into_response())
}

/// The demo shop's pages (`static/demo-shop/`), embedded like the console.
#[derive(rust_embed::Embed)]
#[folder = "static/demo-shop/"]
struct DemoShopFiles;

/// The demo shop, bound to its own address: another origin than the
/// gateway's, as a real shop is.
pub struct DemoShop {
    listener: tokio::net::TcpListener,
    gateway: String,
}

/// Binds the demo shop; its pages load the widget from `gateway`.
pub async fn demo_shop(addr: &str, gateway: String) -> anyhow::Result<DemoShop> {
    use anyhow::Context as _;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("while binding the demo shop on {addr}"))?;
    Ok(DemoShop { listener, gateway })
}

impl DemoShop {
    pub async fn run(self, shutdown: chat_platform::Shutdown) -> anyhow::Result<()> {
        tracing::info!(
            "the demo shop is at http://{}/",
            self.listener.local_addr()?
        );
        let gateway = self.gateway;
        let app = Router::new().fallback(get(move |uri: axum::http::Uri| {
            let gateway = gateway.clone();
            async move { shop_page(uri.path(), &gateway) }
        }));
        axum::serve(self.listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await?;
        Ok(())
    }
}

/// A page of the demo shop, its snippet pointed at this gateway and the demo site key.
fn shop_page(path: &str, gateway: &str) -> Response {
    let path = match path.trim_start_matches('/') {
        "" => "index.html",
        path => path,
    };
    let Some(file) = DemoShopFiles::get(path) else {
        return (
            axum::http::StatusCode::NOT_FOUND,
            "no such page in the demo shop",
        )
            .into_response();
    };
    let content_type = crate::http::console::content_type(path);
    let body = match path.ends_with(".html") {
        true => String::from_utf8_lossy(&file.data)
            .replace("{{GATEWAY_ORIGIN}}", gateway)
            .replace("{{SITE_KEY}}", crate::admin::DEMO_SITE_KEY)
            .into_bytes(),
        false => file.data.into_owned(),
    };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}
