//! Delivery status notifications (RFC 3464): a mail server's report that an
//! e-mail could not be delivered, sent to the e-mail's envelope sender (its
//! bounce address). The report's `message/delivery-status` part says, per
//! recipient, what happened (`Action`), a status code (`Status`) and the
//! receiving server's words (`Diagnostic-Code`). Only permanent failures
//! count (`failed` with a 5.x.x status): a `delayed` report is the
//! remote server still trying, not a failure.

use mail_parser::MimeHeaders as _;

/// The permanent failure a report tells of, in the server's words
/// (`5.1.1 smtp; 550 5.1.1 <anna@example.com>: user unknown`); `None` for
/// a report of delay or success, or a message that is no report.
pub fn permanent_failure(raw: &[u8]) -> Option<String> {
    let message = mail_parser::MessageParser::default().parse(raw)?;
    let status = message.parts.iter().find(|part| {
        part.content_type().is_some_and(|kind| {
            kind.ctype().eq_ignore_ascii_case("message")
                && kind
                    .subtype()
                    .is_some_and(|sub| sub.eq_ignore_ascii_case("delivery-status"))
        })
    })?;
    failure_in(&String::from_utf8_lossy(status.contents()))
}

/// Reads the per-recipient fields of a `message/delivery-status` body: the
/// first recipient that failed for good (an e-mail of ours has one).
fn failure_in(body: &str) -> Option<String> {
    let body = body.replace("\r\n", "\n");
    body.split("\n\n").find_map(|block| {
        let mut action = None;
        let mut status = None;
        let mut diagnostic = None;
        for (name, value) in unfolded(block) {
            match name.to_ascii_lowercase().as_str() {
                "action" => action = Some(value.to_ascii_lowercase()),
                "status" => status = Some(value),
                "diagnostic-code" => diagnostic = Some(value),
                _ => {}
            }
        }
        let status = status.filter(|s| s.starts_with('5'))?;
        (action.as_deref() == Some("failed")).then(|| match diagnostic {
            Some(words) => format!("{status} {words}"),
            None => status,
        })
    })
}

/// `Name: value` fields, continuation lines joined to their field.
fn unfolded(text: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Postfix bounce, as it sends one.
    fn report(action: &str, status: &str) -> String {
        format!(
            "From: MAILER-DAEMON@mx.shop.example (Mail Delivery System)\r\n\
             To: bounce+0193@reply.shop.example\r\n\
             Subject: Undelivered Mail Returned to Sender\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\
             \r\n\
             --B\r\n\
             Content-Type: text/plain; charset=us-ascii\r\n\
             \r\n\
             I'm sorry to have to inform you that your message could not\r\n\
             be delivered to one or more recipients.\r\n\
             \r\n\
             --B\r\n\
             Content-Type: message/delivery-status\r\n\
             \r\n\
             Reporting-MTA: dns; mx.shop.example\r\n\
             Arrival-Date: Sun,  6 Dec 2026 12:00:00 +0000 (UTC)\r\n\
             \r\n\
             Final-Recipient: rfc822; olga@buyer.example\r\n\
             Action: {action}\r\n\
             Status: {status}\r\n\
             Diagnostic-Code: smtp; 550 5.1.1 <olga@buyer.example>: Recipient\r\n\
             \x20   address rejected: User unknown\r\n\
             \r\n\
             --B\r\n\
             Content-Type: text/rfc822-headers\r\n\
             \r\n\
             Subject: Manager from Jacket Shop answered you\r\n\
             --B--\r\n"
        )
    }

    #[test]
    fn a_permanent_failure_is_read_with_the_servers_words() {
        assert_eq!(
            permanent_failure(report("failed", "5.1.1").as_bytes()).as_deref(),
            Some(
                "5.1.1 smtp; 550 5.1.1 <olga@buyer.example>: Recipient address rejected: User unknown"
            )
        );
    }

    #[test]
    fn delays_transient_statuses_and_ordinary_mail_are_no_failure() {
        assert_eq!(
            permanent_failure(report("delayed", "4.4.1").as_bytes()),
            None
        );
        assert_eq!(
            permanent_failure(report("failed", "4.2.2").as_bytes()),
            None
        );
        let vacation = "From: olga@buyer.example\r\nSubject: Away\r\n\r\nI am on holiday.\r\n";
        assert_eq!(permanent_failure(vacation.as_bytes()), None);
    }
}
