//! The e-mails' words, from the templates in `templates/` and the
//! catalogues of [`super::words`]: each e-mail has a text part and an HTML
//! part, in the reader's language, and in the HTML every string is escaped
//! (askama escapes `.html` templates), so a visitor's words never become
//! markup.

use askama::Template;
use chrono::{DateTime, Utc};

use super::words::Words;

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
    /// The manager's language.
    pub words: Words,
    pub shop: &'a str,
    pub contact: &'a str,
    pub messages: &'a [Line],
    pub dialog_url: &'a str,
    pub settings_url: &'a str,
}

#[derive(Template)]
#[template(path = "manager_alert.txt")]
struct AlertText<'a> {
    w: Words,
    subject: &'a str,
    messages: &'a [Line],
    dialog_url: &'a str,
    settings_url: &'a str,
}

#[derive(Template)]
#[template(path = "manager_alert.html")]
struct AlertHtml<'a> {
    w: Words,
    lang: &'a str,
    subject: &'a str,
    heading: &'a str,
    shop: &'a str,
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
        let w = self.words;
        let names = [("contact", self.contact), ("shop", self.shop)];
        let subject = w.count("alert.subject", self.messages.len() as u64, &names);
        let heading = w.fill("alert.heading", &names);
        let text = AlertText {
            w,
            subject: &subject,
            messages: self.messages,
            dialog_url: self.dialog_url,
            settings_url: self.settings_url,
        }
        .render()?;
        let html = AlertHtml {
            w,
            lang: w.language(),
            subject: &subject,
            heading: &heading,
            shop: self.shop,
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
    /// The shop's widget language.
    pub words: Words,
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
    w: Words,
    heading: &'a str,
    replies: &'a [Line],
    history: &'a [HistoryLine],
    shop_url: &'a str,
    answer_by_email: bool,
}

#[derive(Template)]
#[template(path = "visitor_reply.html")]
struct ReplyHtml<'a> {
    w: Words,
    lang: &'a str,
    subject: &'a str,
    heading: &'a str,
    shop: &'a str,
    replies: &'a [Line],
    history: &'a [HistoryLine],
    shop_url: &'a str,
    answer_by_email: bool,
}

impl VisitorReply<'_> {
    pub fn render(&self) -> Result<Rendered, askama::Error> {
        let w = self.words;
        let names = [("manager", self.manager), ("shop", self.shop)];
        let subject = w.fill("reply.subject", &names);
        let text = ReplyText {
            w,
            heading: &w.fill("reply.heading_text", &names),
            replies: self.replies,
            history: self.history,
            shop_url: self.shop_url,
            answer_by_email: self.answer_by_email,
        }
        .render()?;
        let html = ReplyHtml {
            w,
            lang: w.language(),
            subject: &subject,
            heading: &w.fill("reply.heading", &names),
            shop: self.shop,
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
    /// The language the gateway asked for.
    pub words: Words,
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
    hello: &'a str,
    intro: &'a str,
    action: &'a str,
    link: &'a str,
    validity: &'a str,
    note: &'a str,
}

#[derive(Template)]
#[template(path = "access.html")]
struct AccessHtml<'a> {
    lang: &'a str,
    subject: &'a str,
    shop: &'a str,
    hello: &'a str,
    intro: &'a str,
    action: &'a str,
    link: &'a str,
    validity: &'a str,
    note: &'a str,
}

impl Access<'_> {
    pub fn render(&self) -> Result<Rendered, askama::Error> {
        let w = self.words;
        let names = [("inviter", self.inviter), ("shop", self.shop)];
        let (subject, intro, action, note) = match self.kind {
            AccessKind::Invitation => (
                w.fill("access.invitation_subject", &names),
                w.fill("access.invitation_intro", &names),
                w.say("access.invitation_action"),
                "",
            ),
            AccessKind::PasswordReset => (
                w.fill("access.reset_subject", &names),
                w.fill("access.reset_intro", &names),
                w.say("access.reset_action"),
                w.say("access.reset_note"),
            ),
        };
        let time = match u64::from(self.valid_minutes) {
            m if m >= 24 * 60 && m % (24 * 60) == 0 => w.count("access.days", m / (24 * 60), &[]),
            m if m >= 60 && m % 60 == 0 => w.count("access.hours", m / 60, &[]),
            m => w.count("access.minutes", m, &[]),
        };
        let validity = w.fill("access.validity", &[("time", &time)]);
        let hello = w.fill("access.hello", &[("name", self.name)]);
        let text = AccessText {
            hello: &hello,
            intro: &intro,
            action,
            link: self.link,
            validity: &validity,
            note,
        }
        .render()?;
        let html = AccessHtml {
            lang: w.language(),
            subject: &subject,
            shop: self.shop,
            hello: &hello,
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
            words: Words::of("en"),
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
            words: Words::of("en"),
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
            words: Words::of("en"),
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

    #[test]
    fn each_email_speaks_its_readers_language() {
        let lines = [
            Line::new(DateTime::UNIX_EPOCH, "Здравствуйте!"),
            Line::new(DateTime::UNIX_EPOCH, "Есть доставка?"),
        ];
        let alert = ManagerAlert {
            words: Words::of("ru"),
            shop: "Чайная",
            contact: "Анна",
            messages: &lines,
            dialog_url: "https://chat.example/console/#/dialogs/1",
            settings_url: "https://chat.example/console/#/settings/notifications",
        }
        .render()
        .expect("renders");
        assert_eq!(alert.subject, "Анна пишет в магазин «Чайная» (2 сообщения)");
        assert!(alert.text.contains("Ответить в консоли"), "{}", alert.text);
        assert!(alert.html.contains("lang=\"ru\"") && alert.html.contains("Анна ждёт ответа"));
        assert!(!alert.text.contains("console:") && !alert.html.contains("Answer in"));
        let reset = Access {
            words: Words::of("ru"),
            kind: AccessKind::PasswordReset,
            name: "Борис",
            shop: "Чайная",
            inviter: "",
            link: "https://chat.example/console/#/reset/abc",
            valid_minutes: 30,
        }
        .render()
        .expect("renders");
        assert!(reset.text.contains("Здравствуйте, Борис!"));
        assert!(reset.text.contains("в течение 30 минут."), "{}", reset.text);
    }
}
