//! Starts the dialog service on free ports for one test, with typed request helpers.

use chat_proto::dialog::v1::{self as pb, dialog_service_client::DialogServiceClient};
use chat_testkit::InProcess;
use chat_testkit::env::TestEnv;
use tonic::transport::Channel;
use uuid::Uuid;

pub struct TestDialog {
    pub env: TestEnv,
    pub client: DialogServiceClient<Channel>,
    pub grpc_port: u16,
    pub ops_port: u16,
    service: InProcess,
}

impl TestDialog {
    pub async fn start() -> TestDialog {
        TestDialog::start_in(TestEnv::create().await).await
    }

    /// The service on `env` (one with a NATS server of the test's own, say).
    pub async fn start_in(env: TestEnv) -> TestDialog {
        let config = dialog::Config {
            grpc_addr: "127.0.0.1:0".into(),
            ops_addr: "127.0.0.1:0".into(),
            common: env.common(),
            ..Default::default()
        };
        let app = dialog::Application::build(config)
            .await
            .expect("dialog starts");
        let (grpc_port, ops_port) = (app.grpc_port(), app.ops_port());
        let service = InProcess::spawn(|shutdown| app.run_until_stopped(shutdown));
        let client = DialogServiceClient::connect(format!("http://127.0.0.1:{grpc_port}"))
            .await
            .expect("gRPC reachable");
        TestDialog {
            env,
            client,
            grpc_port,
            ops_port,
            service,
        }
    }

    /// A visitor's message into their open dialog (opening one if needed).
    pub async fn visitor_says(
        &self,
        account_id: Uuid,
        contact_id: Uuid,
        client_message_id: &str,
        text: &str,
    ) -> Result<pb::PostMessageResponse, tonic::Status> {
        self.contact_writes_from(
            pb::Channel::Site,
            account_id,
            contact_id,
            client_message_id,
            text,
        )
        .await
    }

    /// A contact's message from a channel (as the gateway or the bridge posts it).
    pub async fn contact_writes_from(
        &self,
        channel: pb::Channel,
        account_id: Uuid,
        contact_id: Uuid,
        client_message_id: &str,
        text: &str,
    ) -> Result<pb::PostMessageResponse, tonic::Status> {
        let request = pb::PostMessageRequest {
            account_id: account_id.to_string(),
            contact_id: contact_id.to_string(),
            author_kind: pb::AuthorKind::Visitor as i32,
            client_message_id: client_message_id.into(),
            text: text.into(),
            channel: channel as i32,
            ..Default::default()
        };
        self.client
            .clone()
            .post_message(request)
            .await
            .map(tonic::Response::into_inner)
    }

    /// A manager's reply into a dialog, by a manager of no importance.
    pub async fn manager_says(
        &self,
        account_id: Uuid,
        dialog_id: &str,
        client_message_id: &str,
        text: &str,
    ) -> Result<pb::PostMessageResponse, tonic::Status> {
        self.reply_as(
            account_id,
            dialog_id,
            Uuid::now_v7(),
            client_message_id,
            text,
        )
        .await
    }

    /// A reply by a given manager, where the contact last wrote from.
    pub async fn reply_as(
        &self,
        account_id: Uuid,
        dialog_id: &str,
        manager_id: Uuid,
        client_message_id: &str,
        text: &str,
    ) -> Result<pb::PostMessageResponse, tonic::Status> {
        let reply = Reply {
            manager_id,
            channel: pb::Channel::Unspecified,
        };
        self.reply(account_id, dialog_id, reply, client_message_id, text)
            .await
    }

    /// A reply by a manager through a channel.
    pub async fn reply(
        &self,
        account_id: Uuid,
        dialog_id: &str,
        reply: Reply,
        client_message_id: &str,
        text: &str,
    ) -> Result<pb::PostMessageResponse, tonic::Status> {
        let request = pb::PostMessageRequest {
            account_id: account_id.to_string(),
            dialog_id: dialog_id.into(),
            author_kind: pb::AuthorKind::Manager as i32,
            author_id: reply.manager_id.to_string(),
            client_message_id: client_message_id.into(),
            text: text.into(),
            channel: reply.channel as i32,
            ..Default::default()
        };
        self.client
            .clone()
            .post_message(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn messages(
        &self,
        account_id: Uuid,
        dialog_id: &str,
        after_seq: i64,
        before_seq: i64,
        limit: u32,
    ) -> Result<pb::ListMessagesResponse, tonic::Status> {
        let request = pb::ListMessagesRequest {
            account_id: account_id.to_string(),
            dialog_id: dialog_id.into(),
            after_seq,
            before_seq,
            limit,
        };
        self.client
            .clone()
            .list_messages(request)
            .await
            .map(tonic::Response::into_inner)
    }

    /// Rows in a table of the dialog schema, counted directly.
    pub async fn count(&self, sql_from_where: &str) -> i64 {
        let pool = self.env.pool().await;
        let n = sqlx::query_scalar(&format!("select count(*) from {sql_from_where}"))
            .fetch_one(&pool)
            .await
            .expect("count");
        pool.close().await;
        n
    }

    /// Stops the service (it must stop cleanly) and removes the test's data.
    pub async fn stop(self) {
        self.stop_keeping_data().await.cleanup().await;
    }

    /// Stops the service (it must stop cleanly); the test's data stays, for
    /// the test to look at and then clean up.
    pub async fn stop_keeping_data(self) -> TestEnv {
        self.service.stop("the dialog service").await;
        self.env
    }
}

/// Who replies, and through which channel.
pub struct Reply {
    pub manager_id: Uuid,
    pub channel: pb::Channel,
}

pub fn seqs(messages: &[pb::Message]) -> Vec<i64> {
    messages.iter().map(|m| m.seq).collect()
}
