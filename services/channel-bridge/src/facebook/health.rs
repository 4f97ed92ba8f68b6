//! Checks every Facebook page now and then: that Facebook still takes its
//! token (`GET /me`; an expired or revoked token is `token_valid: false`,
//! with the reason). Whether Facebook reaches the webhook shows by its
//! verification and POSTs ([`super::webhook`]).

use std::future::Future;
use std::pin::Pin;

use sqlx::PgPool;

use super::api::FacebookApi;
use super::{CHANNEL, PAGE_TOKEN};
use crate::health::Checker;
use crate::integrations::{self, Integration};

/// Checks Facebook pages.
pub struct FacebookChecks {
    pub pool: PgPool,
    pub api: FacebookApi,
}

impl Checker for FacebookChecks {
    fn channel(&self) -> &'static str {
        CHANNEL
    }

    fn check<'a>(
        &'a self,
        integration: &'a Integration,
    ) -> Pin<Box<dyn Future<Output = sqlx::Result<()>> + Send + 'a>> {
        Box::pin(async move {
            match self.api.page(integration.secret(PAGE_TOKEN)).await {
                Ok(_) => integrations::record_token_check(&self.pool, integration.id, true).await,
                Err(e) if e.is_bad_token() => {
                    let why =
                        format!("Facebook no longer takes the page's token ({e}): connect it anew");
                    integrations::record_token_refused(&self.pool, integration.id, &why).await
                }
                // Facebook away: nothing learnt about the page.
                Err(_) => Ok(()),
            }
        })
    }
}
