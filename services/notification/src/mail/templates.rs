//! The e-mails' words, from the templates in `templates/`: each e-mail has a
//! text part and an HTML part, and in the HTML every string is escaped
//! (askama escapes `.html` templates), so a visitor's words never become
//! markup.

use askama::Template;
use chrono::{DateTime, Utc};

/// One message as an e-mail lists it.
#[derive(Debug, Clone)]
pub struct Line {
    /// `HH:MM` (UTC).
    pub time: String,
    pub text: String,
}

impl Line {
    pub fn new(at: DateTime<Utc>, text: &str) -> Self {
        Self {
            time: at.format("%H:%M UTC").to_string(),
            text: text.to_owned(),
        }
    }
}

/// A visitor's messages a manager has not seen, and where to answer them.
pub struct ManagerAlert<'a> {
    pub shop: &'a str,
    pub contact: &'a str,
    pub messages: &'a [Line],
    pub dialog_url: &'a str,
    pub settings_url: &'a str,
}

#[derive(Template)]
#[template(path = "manager_alert.txt")]
struct AlertText<'a> {
    shop: &'a str,
    contact: &'a str,
    messages: &'a [Line],
    dialog_url: &'a str,
    settings_url: &'a str,
}

#[derive(Template)]
#[template(path = "manager_alert.html")]
struct AlertHtml<'a> {
    subject: &'a str,
    shop: &'a str,
    contact: &'a str,
    messages: &'a [Line],
    dialog_url: &'a str,
    settings_url: &'a str,
}

/// An e-mail's words: subject, text part, HTML part.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl ManagerAlert<'_> {
    pub fn render(&self) -> Result<Rendered, askama::Error> {
        let subject = match self.messages.len() {
            1 => format!("{} wrote to {}", self.contact, self.shop),
            n => format!("{} wrote to {} ({n} messages)", self.contact, self.shop),
        };
        let text = AlertText {
            shop: self.shop,
            contact: self.contact,
            messages: self.messages,
            dialog_url: self.dialog_url,
            settings_url: self.settings_url,
        }
        .render()?;
        let html = AlertHtml {
            subject: &subject,
            shop: self.shop,
            contact: self.contact,
            messages: self.messages,
            dialog_url: self.dialog_url,
            settings_url: self.settings_url,
        }
        .render()?;
        Ok(Rendered {
            subject,
            text,
            html,
        })
    }
}

/// One earlier message of the conversation, with who wrote it.
#[derive(Debug, Clone)]
pub struct HistoryLine {
    pub time: String,
    pub who: String,
    pub text: String,
}

/// A manager's replies to a visitor who was not there to read them.
pub struct VisitorReply<'a> {
    pub shop: &'a str,
    pub manager: &'a str,
    pub replies: &'a [Line],
    /// The conversation before them, oldest first.
    pub history: &'a [HistoryLine],
    /// The shop's site; empty when the owner has not set it.
    pub shop_url: &'a str,
    /// Whether answering the e-mail reaches the dialog.
    pub answer_by_email: bool,
}

#[derive(Template)]
#[template(path = "visitor_reply.txt")]
struct ReplyText<'a> {
    shop: &'a str,
    manager: &'a str,
    replies: &'a [Line],
    history: &'a [HistoryLine],
    shop_url: &'a str,
    answer_by_email: bool,
}

#[derive(Template)]
#[template(path = "visitor_reply.html")]
struct ReplyHtml<'a> {
    subject: &'a str,
    shop: &'a str,
    manager: &'a str,
    replies: &'a [Line],
    history: &'a [HistoryLine],
    shop_url: &'a str,
    answer_by_email: bool,
}

impl VisitorReply<'_> {
    pub fn render(&self) -> Result<Rendered, askama::Error> {
        let subject = format!("{} from {} answered you", self.manager, self.shop);
        let text = ReplyText {
            shop: self.shop,
            manager: self.manager,
            replies: self.replies,
            history: self.history,
            shop_url: self.shop_url,
            answer_by_email: self.answer_by_email,
        }
        .render()?;
        let html = ReplyHtml {
            subject: &subject,
            shop: self.shop,
            manager: self.manager,
            replies: self.replies,
            history: self.history,
            shop_url: self.shop_url,
            answer_by_email: self.answer_by_email,
        }
        .render()?;
        Ok(Rendered {
            subject,
            text,
            html,
        })
    }
}

/// Which access e-mail.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AccessKind {
    Invitation,
    PasswordReset,
}

/// An e-mail about a manager's access: an invitation, or a password reset.
pub struct Access<'a> {
    pub kind: AccessKind,
    pub name: &'a str,
    pub shop: &'a str,
    pub inviter: &'a str,
    pub link: &'a str,
    pub valid_minutes: u32,
}

#[derive(Template)]
#[template(path = "access.txt")]
struct AccessText<'a> {
    name: &'a str,
    intro: &'a str,
    action: &'a str,
    link: &'a str,
    validity: &'a str,
    note: &'a str,
}

#[derive(Template)]
#[template(path = "access.html")]
struct AccessHtml<'a> {
    subject: &'a str,
    shop: &'a str,
    name: &'a str,
    intro: &'a str,
    action: &'a str,
    link: &'a str,
    validity: &'a str,
    note: &'a str,
}

impl Access<'_> {
    pub fn render(&self) -> Result<Rendered, askama::Error> {
        let (subject, intro, action, note) = match self.kind {
            AccessKind::Invitation => (
                format!(
                    "{} invited you to answer {}'s chat",
                    self.inviter, self.shop
                ),
                format!(
                    "{} invited you to answer the customers of {} in the chat console. Set your password to start.",
                    self.inviter, self.shop
                ),
                "Set your password",
                "",
            ),
            AccessKind::PasswordReset => (
                format!("A new password for {}'s chat", self.shop),
                format!(
                    "Someone (we hope you) asked to set a new password for your account at {}.",
                    self.shop
                ),
                "Set a new password",
                "Setting it signs you out everywhere. If you did not ask, ignore this e-mail: your password stays as it is.",
            ),
        };
        let validity = match self.valid_minutes {
            m if m >= 24 * 60 && m % (24 * 60) == 0 => format!("{} days", m / (24 * 60)),
            m if m >= 60 && m % 60 == 0 => format!("{} hours", m / 60),
            m => format!("{m} minutes"),
        };
        let text = AccessText {
            name: self.name,
            intro: &intro,
            action,
            link: self.link,
            validity: &validity,
            note,
        }
        .render()?;
        let html = AccessHtml {
            subject: &subject,
            shop: self.shop,
            name: self.name,
            intro: &intro,
            action,
            link: self.link,
            validity: &validity,
            note,
        }
        .render()?;
        Ok(Rendered {
            subject,
            text,
            html,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(text: &str) -> Rendered {
        let lines = [Line::new(DateTime::UNIX_EPOCH, text)];
        ManagerAlert {
            shop: "Shop <b>",
            contact: "Ann \"<script>\"",
            messages: &lines,
            dialog_url: "https://chat.example/console/#/dialogs/1",
            settings_url: "https://chat.example/console/#/settings/notifications",
        }
        .render()
        .expect("renders")
    }

    #[test]
    fn a_visitors_words_are_escaped_in_html_and_kept_in_text() {
        let rendered = alert("<img src=x onerror=alert(1)> & more");
        assert!(
            rendered
                .html
                .contains("&#60;img src=x onerror=alert(1)&#62; &#38; more")
        );
        assert!(!rendered.html.contains("<img"));
        assert!(!rendered.html.contains("<script>"));
        assert!(
            rendered
                .text
                .contains("<img src=x onerror=alert(1)> & more")
        );
        assert_eq!(rendered.subject, "Ann \"<script>\" wrote to Shop <b>");
    }

    #[test]
    fn a_reply_to_a_visitor_carries_the_conversation_escaped() {
        let replies = [Line::new(DateTime::UNIX_EPOCH, "Yes, size M is in stock.")];
        let history = [HistoryLine {
            time: "12:00 UTC".into(),
            who: "You".into(),
            text: "<script>x</script> jacket?".into(),
        }];
        let rendered = VisitorReply {
            shop: "Tea & Co",
            manager: "Anna",
            replies: &replies,
            history: &history,
            shop_url: "https://tea.example/",
            answer_by_email: true,
        }
        .render()
        .expect("renders");
        assert_eq!(rendered.subject, "Anna from Tea & Co answered you");
        assert!(rendered.text.contains("Yes, size M is in stock."));
        assert!(
            rendered
                .text
                .contains("[12:00 UTC] You: <script>x</script> jacket?")
        );
        assert!(rendered.text.contains("https://tea.example/"));
        assert!(
            rendered
                .html
                .contains("&#60;script&#62;x&#60;/script&#62; jacket?")
        );
        assert!(!rendered.html.contains("<script>"));
        assert!(rendered.html.contains("href=\"https://tea.example/\""));
    }

    #[test]
    fn an_invitation_and_a_reset_carry_their_link_and_how_long_it_works() {
        let access = |kind, valid_minutes| Access {
            kind,
            name: "Boris <i>",
            shop: "Tea & Co",
            inviter: "Anna",
            link: "https://chat.example/console/#/invite/abc",
            valid_minutes,
        };
        let invitation = access(AccessKind::Invitation, 7 * 24 * 60)
            .render()
            .expect("renders");
        assert_eq!(
            invitation.subject,
            "Anna invited you to answer Tea & Co's chat"
        );
        assert!(
            invitation
                .text
                .contains("https://chat.example/console/#/invite/abc")
        );
        assert!(invitation.text.contains("for 7 days"));
        assert!(invitation.html.contains("Boris &#60;i&#62;"));
        let reset = access(AccessKind::PasswordReset, 30)
            .render()
            .expect("renders");
        assert!(reset.text.contains("for 30 minutes"));
        assert!(reset.text.contains("signs you out everywhere"));
    }

    #[test]
    fn the_alert_links_to_the_dialog() {
        let rendered = alert("hi");
        assert!(
            rendered
                .text
                .contains("https://chat.example/console/#/dialogs/1")
        );
        assert!(
            rendered
                .html
                .contains("href=\"https://chat.example/console/#/dialogs/1\"")
        );
        assert!(rendered.text.contains("[00:00 UTC] hi"));
    }
}
