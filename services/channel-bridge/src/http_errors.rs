//! Errors of HTTP calls to the platforms, told without the address called.
//! VK's long-poll key and Facebook's and Telegram's tokens ride in URLs, and
//! reqwest names the URL in every error it prints; what the bridge stores
//! (an integration's last error, which every manager sees) or logs of such
//! an error goes through [`described`].

/// The error and its causes, without the URL.
pub fn described(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_address_called_is_left_out() {
        let secret = "KEY-that-must-not-leak";
        // Nothing listens on port 9 of the loopback here: connection refused.
        let e = reqwest::get(format!("http://127.0.0.1:9/whp/1?act=a_check&key={secret}"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains(secret), "reqwest names the URL");
        let text = described(e);
        assert!(!text.contains(secret), "{text}");
        assert!(text.starts_with("error sending request"), "{text}");
    }
}
