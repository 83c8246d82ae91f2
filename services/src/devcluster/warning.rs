//! Warnings for the client: what admission webhooks say in `response.warnings` reaches the client
//! as `Warning: 299 - "<text>"` response headers, which kubectl prints as `Warning: <text>`.
//! Recorded as kube-apiserver's warning recorder (k8s.io/apiserver/pkg/endpoints/filters/
//! warning.go) records them: empty texts and repeats are dropped, a text with a control character
//! is dropped (it cannot be a header), and once the texts exceed 4,096 characters in all, every
//! warning is cut to 256 characters and those that still do not fit are dropped.

use axum::http::{HeaderMap, HeaderValue};
use std::sync::Mutex;

/// Total characters of warning text before warnings are truncated.
const TOTAL_CHARS: usize = 4 * 1024;
/// What each warning is cut to once truncating.
const ITEM_CHARS: usize = 256;

#[derive(Debug, Default)]
struct State {
    /// Every distinct text added, in order (replayed, truncated, when the limit is reached).
    ordered: Vec<String>,
    /// The header values to send.
    headers: Vec<String>,
    /// Characters of text in `headers`.
    written: usize,
    /// The total went over [`TOTAL_CHARS`]: warnings are cut to [`ITEM_CHARS`].
    truncating: bool,
}

/// The warnings of one request. Shared by reference between the steps of a request (admission's
/// webhooks run concurrently), so adding takes `&self`.
#[derive(Debug, Default)]
pub(super) struct Warnings(Mutex<State>);

/// `299 - "<text>"`, quoting `"` and `\` (k8s.io/apimachinery/pkg/util/net.NewWarningHeader);
/// none for a text with a control character.
fn header(text: &str) -> Option<String> {
    if text.chars().any(char::is_control) {
        return None;
    }
    let mut quoted = String::with_capacity(text.len() + 8);
    quoted.push_str("299 - \"");
    for c in text.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    Some(quoted)
}

fn cut(text: &str) -> (&str, usize) {
    match text.char_indices().nth(ITEM_CHARS) {
        Some((at, _)) => (&text[..at], ITEM_CHARS),
        None => (text, text.chars().count()),
    }
}

impl Warnings {
    /// Adds one warning, as the API server's recorder does.
    pub(super) fn add(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if s.truncating && s.written >= TOTAL_CHARS {
            return;
        }
        if s.ordered.iter().any(|t| t == text) {
            return;
        }
        s.ordered.push(text.to_string());
        let (shown, chars) = if s.truncating { cut(text) } else { (text, text.chars().count()) };
        let Some(value) = header(shown) else { return };
        if s.written + chars <= TOTAL_CHARS || s.truncating {
            s.written += chars;
            s.headers.push(value);
            return;
        }
        // Over the limit: from now on every warning is cut, the earlier ones included.
        s.truncating = true;
        s.written = 0;
        s.headers.clear();
        let replay: Vec<(String, usize)> = s
            .ordered
            .iter()
            .filter_map(|t| {
                let (shown, n) = cut(t);
                header(shown).map(|h| (h, n))
            })
            .collect();
        for (value, n) in replay {
            s.written += n;
            s.headers.push(value);
        }
    }

    /// The `Warning` header values, in order.
    pub(super) fn values(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).headers.clone()
    }

    /// Adds the `Warning` headers to a response's headers.
    pub(super) fn write(&self, headers: &mut HeaderMap) {
        for v in self.values() {
            // UTF-8 beyond ASCII is sent as is (obs-text), as Go's net/http sends it.
            if let Ok(value) = HeaderValue::from_bytes(v.as_bytes()) {
                headers.append(axum::http::header::WARNING, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_quoted_deduplicated_and_those_with_control_characters_dropped() {
        let w = Warnings::default();
        w.add("plain");
        w.add("plain");
        w.add("");
        w.add(r#"say "hi" \ bye"#);
        w.add("two\nlines");
        w.add("Iñtërnâtiô");
        assert_eq!(w.values(), vec![r#"299 - "plain""#, r#"299 - "say \"hi\" \\ bye""#, r#"299 - "Iñtërnâtiô""#]);
        let mut headers = HeaderMap::new();
        w.write(&mut headers);
        assert_eq!(headers.get_all("warning").iter().count(), 3);
    }

    #[test]
    fn past_the_total_every_warning_is_cut_to_256_characters() {
        let w = Warnings::default();
        let long = |c: char| std::iter::repeat_n(c, 1000).collect::<String>();
        for c in ['a', 'b', 'c', 'd'] {
            w.add(&long(c));
        }
        assert!(w.values().iter().all(|v| v.len() > 900), "4,000 characters fit");
        w.add(&long('e'));
        let values = w.values();
        assert_eq!(values.len(), 5);
        assert!(values.iter().all(|v| v.chars().count() == 256 + "299 - \"\"".len()), "{values:?}");
        // 5 × 256 characters written; more fit until the total is reached, then none.
        for i in 0..20 {
            w.add(&format!("{}{i}", long('f')));
        }
        assert_eq!(w.values().len(), 16, "4,096 / 256 warnings at most");
    }
}
