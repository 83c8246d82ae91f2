//! Log output of the server binaries (`ork-runtime`, `ork run`, the gateway): readable lines for people, one JSON object per line for
//! log pipelines (`--log-format json`). The level comes from `LOG_LEVEL` (debug, info, warn,
//! error; default info) and applies to ork's own events; libraries log at warn and above.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The two formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Human-readable lines (colour on a terminal without `NO_COLOR`).
    #[default]
    Text,
    /// JSON lines.
    Json,
}

fn level() -> LevelFilter {
    match std::env::var("LOG_LEVEL").unwrap_or_default().to_ascii_lowercase().as_str() {
        "debug" => LevelFilter::DEBUG,
        "trace" => LevelFilter::TRACE,
        "warn" | "warning" => LevelFilter::WARN,
        "error" => LevelFilter::ERROR,
        _ => LevelFilter::INFO,
    }
}

/// Installs the global subscriber, writing to stderr. A second call does nothing.
pub fn init(format: Format) {
    let filter = Targets::new().with_default(LevelFilter::WARN).with_target("services", level()).with_target("ork", level());
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        Format::Text => {
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
            registry.with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(ansi).with_target(false)).try_init()
        }
        Format::Json => registry.with(tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr).with_current_span(false)).try_init(),
    };
}
