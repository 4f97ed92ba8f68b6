//! The console and the widget in a real browser: runs the browser tests in `tests/browser`
//! (node's test runner driving Debian's Chromium through playwright-core)
//! against the whole suite, started here on the test's own database and
//! NATS prefix, with a shop of an owner and a second manager, and two mail
//! catchers: the deployment's SMTP server, and one playing a shop's own.
//!
//! The inactivity test needs a short idle limit, which would end the other
//! tests' sessions while they wait on each other, so it has a suite of its own.
//!
//! `BROWSER_TESTS=<pattern>` runs only the browser tests whose names match
//! it (node's `--test-name-pattern`), when trying one out.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use chat_testkit::mail::MailCatcher;

use crate::helpers::{Options, TestSuite};

/// The idle limit of the suite the inactivity test runs against.
const SHORT_IDLE_SECS: i64 = 6;
/// The longest a run of the browser tests may take.
const BROWSER_RUN: Duration = Duration::from_secs(600);
/// Who may send through the catcher playing the shop's own server.
const SHOP_SMTP_USER: &str = "browser-shop";
const SHOP_SMTP_PASSWORD: &str = "shop-smtp-pass";
/// The inactivity test's name, as node's `--test-name-pattern` matches it.
const INACTIVITY_TEST: &str = "the session ends after the inactivity limit";

fn browser_tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser")
}

async fn run_browser_tests(idle_secs: i64, name_pattern: &str) {
    let dir = browser_tests_dir();
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "tests/browser has no node_modules: run deploy/dev/ensure-deps.sh (it runs npm ci there)"
    );
    let mail = MailCatcher::start().await;
    let shop_mail = MailCatcher::start_with_login(SHOP_SMTP_USER, SHOP_SMTP_PASSWORD).await;
    let t = TestSuite::start_with(Options {
        gateway: gateway::Config {
            session_idle_secs: idle_secs,
            // Every visitor of every test comes from 127.0.0.1, one after
            // another: the per-address budgets (tested in budgets.rs) would
            // count fifty people as one.
            new_visitors_per_minute_per_address: 1_000,
            first_messages_per_minute_per_address: 1_000,
            ..Default::default()
        },
        smtp_url: Some(mail.smtp_url()),
        ..Options::default()
    })
    .await;
    let shop = t.shop("Browser Shop").await;
    let colleague = t.colleague(&shop, "Boris Colleague", "manager").await;
    let log_path = std::env::temp_dir().join(format!("browser-tests-{}.log", uuid::Uuid::new_v4()));
    let log = std::fs::File::create(&log_path).expect("a log file");
    let mut command = tokio::process::Command::new("node");
    command
        .current_dir(&dir)
        .args(["--test", "--test-concurrency=1"])
        .arg(format!("--test-name-pattern={name_pattern}"))
        .env("BASE_URL", format!("http://127.0.0.1:{}", t.port))
        .env("SITE_KEY", &shop.site_key)
        .env("OWNER_EMAIL", &shop.email)
        .env("OWNER_PASSWORD", &shop.password)
        .env("MANAGER_EMAIL", &colleague)
        .env("MANAGER_PASSWORD", &shop.password)
        .env("IDLE_SECS", idle_secs.to_string())
        .env("TELEGRAM_URL", t.telegram_url())
        .env(
            "INBOUND_WEBHOOK_URL",
            format!(
                "http://127.0.0.1:{}/inbound/postmark",
                t.suite().inbound_webhook_port
            ),
        )
        .env(
            "INBOUND_WEBHOOK_TOKEN",
            crate::helpers::INBOUND_WEBHOOK_TOKEN,
        )
        .env("INBOUND_DOMAIN", crate::helpers::INBOUND_DOMAIN)
        .env("INBOUND_SECRET", crate::helpers::INBOUND_SECRET)
        .env("MAIL_WEB_URL", mail.web_url())
        .env("SHOP_MAIL_WEB_URL", shop_mail.web_url())
        .env("SHOP_SMTP_PORT", shop_mail.smtp_port.to_string())
        .env("SHOP_SMTP_USER", SHOP_SMTP_USER)
        .env("SHOP_SMTP_PASSWORD", SHOP_SMTP_PASSWORD)
        .stdout(Stdio::from(log.try_clone().expect("log")))
        .stderr(Stdio::from(log))
        // Its own process group, so the test runner's children and the
        // browsers end with it.
        .process_group(0);
    let mut run = command
        .spawn()
        .expect("node runs (run deploy/dev/ensure-deps.sh)");
    let finished = tokio::time::timeout(BROWSER_RUN, run.wait()).await;
    if finished.is_err()
        && let Some(pid) = run.id()
    {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .status();
    }
    let stdout = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    t.stop().await;
    let status = finished
        .unwrap_or_else(|_| panic!("the browser tests did not finish in time:\n{stdout}"))
        .expect("node ran");
    assert!(status.success(), "browser tests failed:\n{stdout}");
    // A pattern that matched nothing runs no test and still succeeds.
    assert!(
        stdout.contains("# pass ") && !stdout.contains("# pass 0"),
        "no browser test ran:\n{stdout}"
    );
    println!("{stdout}");
}

#[tokio::test]
async fn the_console_and_the_widget_work_in_a_real_browser() {
    let everything_else = format!("^(?!{INACTIVITY_TEST})");
    let pattern = std::env::var("BROWSER_TESTS").unwrap_or(everything_else);
    run_browser_tests(30 * 60, &pattern).await;
}

#[tokio::test]
async fn the_console_ends_the_session_after_inactivity_on_every_device() {
    run_browser_tests(SHORT_IDLE_SECS, INACTIVITY_TEST).await;
}
