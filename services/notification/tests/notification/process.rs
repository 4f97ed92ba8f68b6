//! The service as its own process, as in production: it starts from its
//! configuration in the environment, becomes ready, and stops cleanly on SIGTERM.

use chat_testkit::env::TestEnv;
use chat_testkit::nats::free_port;
use chat_testkit::process::ServiceProcess;

#[tokio::test]
async fn the_process_becomes_ready_and_stops_cleanly_on_sigterm() {
    let env = TestEnv::create().await;
    let ops_port = free_port();
    let settings = [
        (
            "NOTIFICATION_GRPC_ADDR",
            format!("127.0.0.1:{}", free_port()),
        ),
        ("NOTIFICATION_OPS_ADDR", format!("127.0.0.1:{ops_port}")),
    ];
    let service = ServiceProcess::start(
        env!("CARGO_BIN_EXE_notification"),
        &env,
        &settings,
        ops_port,
    )
    .await;
    assert!(service.terminate().await, "exit status 0 after SIGTERM");
    env.cleanup().await;
}
