//! Panics in a server: a hook that logs each one as an error event (location and a bounded
//! backtrace, in the chosen log format), and [`catch`], which turns a panic inside one unit of
//! work (a reconcile, a request) into an error so that the process carries on.

use std::future::Future;
use std::panic::AssertUnwindSafe;

/// The longest backtrace a panic log carries.
const BACKTRACE_LIMIT: usize = 4096;

/// A panic caught by [`catch`]: its message (the text given to `panic!`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Panicked {
    /// The panic's message, or `a non-text panic` when its payload is not text.
    pub message: String,
}

/// The text of a panic payload.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text panic".to_string())
}

/// Logs every panic as one error event with its location and backtrace (at most 4 KiB), in
/// the chosen log format. Servers catch panics inside their work and carry on (see [`catch`]);
/// this is where their backtrace is kept.
pub fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = message(info.payload());
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let mut backtrace = std::backtrace::Backtrace::force_capture().to_string();
        if backtrace.len() > BACKTRACE_LIMIT {
            let mut cut = BACKTRACE_LIMIT;
            while !backtrace.is_char_boundary(cut) {
                cut -= 1;
            }
            backtrace.truncate(cut);
            backtrace.push_str("\n…");
        }
        tracing::error!(location = %location, backtrace = %backtrace, "panic: {message}");
    }));
}

/// Runs `work` so that a panic inside it is caught and returned as [`Panicked`]. (The hook of
/// [`install_hook`] has already logged where it happened.)
pub async fn catch<F, T>(work: F) -> Result<T, Panicked>
where
    F: Future<Output = T>,
{
    use futures_util::FutureExt;
    AssertUnwindSafe(work).catch_unwind().await.map_err(|payload| Panicked { message: message(payload.as_ref()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_its_message_and_a_value_passes_through() {
        let r: Result<(), _> = catch(async { panic!("boom {}", 1) }).await;
        assert_eq!(r, Err(Panicked { message: "boom 1".into() }));
        let r: Result<(), _> = catch(async { std::panic::panic_any(7_u8) }).await;
        assert_eq!(r.map_err(|p| p.message), Err("a non-text panic".to_string()));
        assert_eq!(catch(async { 7 }).await, Ok(7));
    }
}
