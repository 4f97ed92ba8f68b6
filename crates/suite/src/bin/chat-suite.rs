//! Runs all five services in one process, configured from the environment
//! like each service alone (see the README). `make dev` runs this.

use chat_platform::{Shutdown, config::Common, shutdown};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let common = Common::load()?;
    let configs = chat_suite::Configs::load()?;
    shutdown::run_service("chat-suite", &common, |stop| run(configs, stop)).await
}

/// `DEV_FAKES_ADDR`: where `make dev` serves the fake messengers (empty: none).
const FAKES_ADDR_VARIABLE: &str = "DEV_FAKES_ADDR";
/// `DEV_MAIL_CATCHER`: the mail catcher `make dev` runs beside the suite
/// (MailDev), which takes every e-mail the suite sends (empty: none).
const MAIL_CATCHER_VARIABLE: &str = "DEV_MAIL_CATCHER";
/// `DEV_MAIL_WEB_PORT`: where the catcher shows what it took.
const MAIL_WEB_PORT_VARIABLE: &str = "DEV_MAIL_WEB_PORT";

async fn run(mut configs: chat_suite::Configs, stop: Shutdown) -> anyhow::Result<()> {
    let fakes_addr = std::env::var(FAKES_ADDR_VARIABLE).unwrap_or_default();
    let fakes = match fakes_addr.as_str() {
        "" => None,
        addr => Some(chat_suite::demo::start_fakes(addr).await?),
    };
    if let Some(fakes) = &fakes {
        configs.bridge.telegram_api_url = fakes.url();
        configs.bridge.vk_api_url = fakes.url();
        configs.bridge.facebook_api_url = fakes.url();
    }
    let mail_catcher = start_mail_catcher(&configs.notification.smtp_url)?;
    let suite = chat_suite::Suite::start(configs.clone(), stop).await?;
    let url = format!("http://127.0.0.1:{}", suite.gateway_ports[0]);
    let demo_fakes = match (&fakes, configs.gateway.seed_demo) {
        (Some(fakes), true) => {
            chat_suite::demo::connect_messengers(
                fakes,
                &suite.gateway_pool,
                suite.bridge_grpc_port,
            )
            .await?;
            Some(fakes.url())
        }
        _ => None,
    };
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
    if let Some(fakes) = demo_fakes {
        use chat_suite::demo::{
            DEMO_BOT_TOKEN, DEMO_BOT_USERNAME, DEMO_FACEBOOK_PAGE, DEMO_VK_GROUP, DEMO_VK_NAME,
        };
        println!(
            "  Telegram (a local fake):  {fakes}/_fake/telegram/play/{DEMO_BOT_TOKEN}  (write to @{DEMO_BOT_USERNAME} as a customer)"
        );
        println!(
            "  VK (a local fake):        {fakes}/_fake/vk/play/{DEMO_VK_GROUP}  (write to {DEMO_VK_NAME} as a customer)"
        );
        if !configs.bridge.public_url.is_empty() {
            println!(
                "  Facebook (a local fake):  {fakes}/_fake/facebook/play/{DEMO_FACEBOOK_PAGE}  (write to the page as a customer)"
            );
        }
    }
    if let Some((_, web)) = &mail_catcher {
        println!("  E-mails the suite sends:  {web}  (a local mail catcher)");
    }
    let ops = format!("http://127.0.0.1:{}", suite.ops_ports.gateway);
    println!(
        "  Health, metrics:          {ops}/healthz  {ops}/readyz  {ops}/metrics  (the gateway's ops port)"
    );
    println!("  Stop with Ctrl-C.");
    println!();
    suite.wait().await
}

/// Starts the mail catcher `DEV_MAIL_CATCHER` names on the SMTP port of
/// `smtp_url` (it stops with this process); its web page's address.
fn start_mail_catcher(smtp_url: &str) -> anyhow::Result<Option<(tokio::process::Child, String)>> {
    let program = std::env::var(MAIL_CATCHER_VARIABLE).unwrap_or_default();
    if program.is_empty() {
        return Ok(None);
    }
    let smtp_port = smtp_url
        .rsplit_once(':')
        .and_then(|(_, port)| port.split(['/', '?']).next())
        .unwrap_or("1025")
        .to_owned();
    let web_port = std::env::var(MAIL_WEB_PORT_VARIABLE).unwrap_or_else(|_| "1080".into());
    let child = tokio::process::Command::new(&program)
        .args(["--ip", "127.0.0.1", "--silent"])
        .args(["--smtp", &smtp_port, "--web", &web_port])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| anyhow::anyhow!("{MAIL_CATCHER_VARIABLE}={program} does not start: {e}"))?;
    Ok(Some((child, format!("http://127.0.0.1:{web_port}/"))))
}
