//! Checks every VK community now and then: that VK still takes its token
//! (`groups.getById`; a token the community's admin removed is
//! `token_valid: false`, with the reason). Whether VK reaches the Callback
//! API address shows by its confirmation and events ([`super::callback`]).

use std::future::Future;
use std::pin::Pin;

use sqlx::PgPool;

use super::api::VkApi;
use super::{ACCESS_TOKEN, CHANNEL};
use crate::health::Checker;
use crate::integrations::{self, Integration};

/// Checks VK communities.
pub struct VkChecks {
    pub pool: PgPool,
    pub api: VkApi,
}

impl Checker for VkChecks {
    fn channel(&self) -> &'static str {
        CHANNEL
    }

    fn check<'a>(
        &'a self,
        integration: &'a Integration,
    ) -> Pin<Box<dyn Future<Output = sqlx::Result<()>> + Send + 'a>> {
        Box::pin(self.check_community(integration))
    }
}

impl VkChecks {
    async fn check_community(&self, integration: &Integration) -> sqlx::Result<()> {
        match self.api.community(integration.secret(ACCESS_TOKEN)).await {
            Ok(_) => integrations::record_token_check(&self.pool, integration.id, true).await,
            Err(e) if e.is_bad_token() => {
                let why =
                    format!("VK no longer takes the community's token ({e}): connect it anew");
                integrations::record_token_refused(&self.pool, integration.id, &why).await
            }
            // VK away: nothing learnt about the community.
            Err(_) => Ok(()),
        }
    }
}
