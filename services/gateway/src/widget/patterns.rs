//! Hidden pages: the URL patterns on which the widget stays hidden, as
//! docs/widget.md describes them. A pattern that starts with `/` is matched
//! against the page's path and query; any other against the address without
//! its scheme. Shell globs (`*` spans `/` too), case ignored, the fragment
//! ignored. One implementation, here, answers both the widget and the
//! settings page's preview.

use globset::{GlobBuilder, GlobMatcher};

/// The most patterns an account may have, and the longest one.
pub const MAX_PATTERNS: usize = 50;
pub const MAX_PATTERN_CHARS: usize = 300;

/// Compiled patterns, each beside its text.
#[derive(Debug, Clone, Default)]
pub struct HiddenPages {
    patterns: Vec<(String, GlobMatcher)>,
}

impl HiddenPages {
    /// Compiles every pattern; the problems are `(index, problem)`.
    pub fn parse(patterns: &[String]) -> Result<Self, Vec<(usize, String)>> {
        let mut problems = Vec::new();
        let mut compiled = Vec::new();
        for (i, pattern) in patterns.iter().enumerate() {
            match compile(pattern) {
                Ok(matcher) => compiled.push((pattern.clone(), matcher)),
                Err(problem) => problems.push((i, problem)),
            }
        }
        match problems.is_empty() {
            true => Ok(Self { patterns: compiled }),
            false => Err(problems),
        }
    }

    /// The first pattern that hides the page at `url`, if any.
    pub fn hiding(&self, url: &str) -> Option<&str> {
        let (address, path) = split(url);
        self.patterns
            .iter()
            .find(|(pattern, matcher)| match pattern.starts_with('/') {
                true => matcher.is_match(path),
                false => matcher.is_match(address),
            })
            .map(|(pattern, _)| pattern.as_str())
    }
}

fn compile(pattern: &str) -> Result<GlobMatcher, String> {
    let length = pattern.chars().count();
    if pattern.trim().is_empty() {
        return Err("is empty".into());
    }
    if length > MAX_PATTERN_CHARS {
        return Err(format!("is longer than {MAX_PATTERN_CHARS} characters"));
    }
    if pattern.chars().any(char::is_control) {
        return Err("has a control character".into());
    }
    GlobBuilder::new(pattern.trim())
        .case_insensitive(true)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|e| format!("does not parse: {}", e.kind()))
}

/// The address without scheme and fragment, and its path and query.
fn split(url: &str) -> (&str, &str) {
    let url = url.split('#').next().unwrap_or_default();
    let address = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = match address.find(['/', '?']) {
        Some(at) => &address[at..],
        None => "/",
    };
    (address, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(patterns: &[&str]) -> HiddenPages {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        HiddenPages::parse(&patterns).expect("patterns parse")
    }

    #[test]
    fn path_patterns_match_the_path_and_query_only() {
        let hidden = pages(&["/checkout*", "/account/*/orders"]);
        assert_eq!(
            hidden.hiding("https://shop.example/checkout"),
            Some("/checkout*")
        );
        assert_eq!(
            hidden.hiding("https://shop.example/Checkout/pay?step=2"),
            Some("/checkout*")
        );
        assert_eq!(
            hidden.hiding("https://shop.example/account/7/orders#top"),
            Some("/account/*/orders")
        );
        assert_eq!(hidden.hiding("https://shop.example/"), None);
        assert_eq!(hidden.hiding("https://shop.example/blog/checkout"), None);
        assert_eq!(hidden.hiding("https://checkout.example/"), None);
    }

    #[test]
    fn other_patterns_match_the_address_without_scheme() {
        let hidden = pages(&["admin.shop.example/*", "*/{cart,basket}"]);
        assert_eq!(
            hidden.hiding("http://admin.shop.example/x"),
            Some("admin.shop.example/*")
        );
        assert_eq!(
            hidden.hiding("https://shop.example/basket"),
            Some("*/{cart,basket}")
        );
        assert_eq!(hidden.hiding("https://shop.example/cart?x=1"), None);
        assert_eq!(hidden.hiding("https://shop.example/"), None);
    }

    #[test]
    fn broken_patterns_are_named_by_index() {
        let patterns: Vec<String> = ["/ok", "/a[", "", "/{x", &"/".repeat(301)]
            .iter()
            .map(|p| p.to_string())
            .collect();
        let problems = HiddenPages::parse(&patterns).unwrap_err();
        let indexes: Vec<usize> = problems.iter().map(|(i, _)| *i).collect();
        assert_eq!(indexes, [1, 2, 3, 4]);
        assert!(problems[0].1.starts_with("does not parse"), "{problems:?}");
    }
}
