//! Runs all five services in one process, configured from the environment
//! like each service alone (see the README). `make dev` runs this.

use chat_platform::{Shutdown, config::Common, shutdown};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let common = Common::load()?;
    let configs = chat_suite::Configs::load()?;
    shutdown::run_service("chat-suite", &common, |stop| run(configs, stop)).await
}

async fn run(configs: chat_suite::Configs, stop: Shutdown) -> anyhow::Result<()> {
    let suite = chat_suite::Suite::start(configs.clone(), stop).await?;
    let url = format!("http://127.0.0.1:{}", suite.gateway_ports[0]);
    println!();
    println!("  The chat suite is running.");
    println!("  Gateway (REST, sockets):  {url}");
    println!("  Managers' console:        {url}/console/");
    if configs.gateway.dev_page {
        if configs.gateway.seed_demo {
            println!("  Console as the demo:      {url}/dev/console  (signs the demo manager in)");
        }
        println!("  Dev chat page:            {url}/dev");
        if !configs.gateway.demo_shop_addr.is_empty() {
            println!(
                "  Demo shop (the widget):   http://{}/",
                configs.gateway.demo_shop_addr
            );
        }
    }
    if configs.gateway.seed_demo {
        println!(
            "  Demo site key:            {}",
            gateway::admin::DEMO_SITE_KEY
        );
        println!(
            "  Demo manager:             {} / {}",
            gateway::admin::DEMO_EMAIL,
            gateway::admin::DEMO_PASSWORD
        );
    }
    println!("  Health, metrics:          {url}/healthz  {url}/readyz  {url}/metrics");
    println!("  Stop with Ctrl-C.");
    println!();
    suite.wait().await
}
