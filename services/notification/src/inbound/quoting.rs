//! What a person wrote in an e-mail answer, without what their mail program
//! added below it: the quoted history ("On ... wrote:" and the `>` lines,
//! Outlook's "-----Original Message-----" and "From:" blocks, Gmail's and
//! Apple Mail's attribution lines) and the signature (`-- `, "Sent from my
//! iPhone").

/// The new text of an answer, trimmed; the whole text when nothing is new
/// above the quote (someone wrote below it).
pub fn new_text(body: &str) -> String {
    let lines: Vec<&str> = body.lines().collect();
    let mut end = lines.len();
    for (index, line) in lines.iter().enumerate() {
        if ends_the_answer(line, lines.get(index + 1).copied()) {
            end = index;
            break;
        }
    }
    let kept = lines[..end].join("\n");
    let kept = kept.trim();
    match kept.is_empty() {
        true => body.trim().to_owned(),
        false => kept.to_owned(),
    }
}

fn ends_the_answer(line: &str, next: Option<&str>) -> bool {
    let trimmed = line.trim();
    let lower = trimmed.to_lowercase();
    trimmed.starts_with('>')
        || line == "-- "
        || trimmed == "--"
        || lower.starts_with("-----original message-----")
        || lower.starts_with("________________________________")
        || lower.starts_with("sent from my ")
        || attribution(&lower)
        // An attribution folded onto two lines: "On Mon, 1 Dec 2026, Anna" / "<a@b> wrote:"
        || (lower.starts_with("on ") && next.is_some_and(|n| attribution(&format!("{lower} {}", n.trim().to_lowercase()))))
        || (lower.starts_with("from:") && next.is_some_and(|n| n.trim().to_lowercase().starts_with("sent:")))
}

/// "On <date>, <someone> wrote:" and its translations the suite's users meet.
fn attribution(lower: &str) -> bool {
    (lower.starts_with("on ") && lower.ends_with("wrote:"))
        || lower.ends_with("написал:")
        || lower.ends_with("написала:")
        || lower.ends_with("написал(а):")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gmail_answer_loses_the_quote_below_it() {
        let body = "Thanks, I will take the M.\n\nOn Sat, 6 Dec 2026 at 10:00, Anna <chat@shop.example> wrote:\n> Yes, size M is in stock.\n>\n> --- Your conversation ---\n";
        assert_eq!(new_text(body), "Thanks, I will take the M.");
    }

    #[test]
    fn a_folded_attribution_a_signature_and_outlook_are_cut() {
        let folded =
            "Great!\n\nOn Sat, 6 Dec 2026 at 10:00, Anna\n<chat@shop.example> wrote:\n> hi";
        assert_eq!(new_text(folded), "Great!");
        let signed = "See you.\n-- \nBoris, Moscow";
        assert_eq!(new_text(signed), "See you.");
        let outlook = "Fine.\n\nFrom: Tea & Co <chat@shop.example>\nSent: Saturday\nTo: me\n";
        assert_eq!(new_text(outlook), "Fine.");
        let phone = "Ok\n\nSent from my iPhone";
        assert_eq!(new_text(phone), "Ok");
        let russian =
            "Спасибо!\n\n6 дек. 2026 г., в 10:00, Анна <chat@shop.example> написал(а):\n> Да";
        assert_eq!(new_text(russian), "Спасибо!");
    }

    #[test]
    fn an_answer_below_the_quote_is_kept_whole() {
        let body = "> Is it in stock?\nYes it is, sorry, wrote below.";
        assert_eq!(new_text(body), body);
    }
}
