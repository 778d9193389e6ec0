//! A tracing layer that renders events as Airbyte `LOG` messages through [`Output`],
//! so logs share stdout's single writer and never break a line. The level comes from
//! `LOG_LEVEL` (error, warn, info, debug, trace; default info); dependencies log at warn.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::output::Output;
use crate::protocol::{LogLevel, Message};

/// Renders events as LOG messages.
pub(crate) struct AirbyteLogLayer {
    output: Output,
}

impl AirbyteLogLayer {
    pub(crate) fn new(output: Output) -> Self {
        AirbyteLogLayer { output }
    }
}

#[derive(Default)]
struct MessageVisitor {
    message: String,
    fields: String,
}

impl Visit for MessageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }
}

fn airbyte_level(level: &Level) -> LogLevel {
    match *level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        Level::TRACE => LogLevel::Trace,
    }
}

impl<S: Subscriber> Layer<S> for AirbyteLogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut v = MessageVisitor::default();
        event.record(&mut v);
        let text = format!("{}{}", v.message, v.fields);
        // A failed log write can't be reported anywhere; the next real message will fail too.
        let _ = self
            .output
            .emit(&Message::log(airbyte_level(event.metadata().level()), text));
    }
}

/// The filter directive for a `LOG_LEVEL` value; `None` if the value isn't a level.
pub(crate) fn filter_directive(log_level: Option<&str>) -> Option<String> {
    let level = match log_level.map(|s| s.trim().to_ascii_lowercase()) {
        None => "info".to_string(),
        Some(s) if s.is_empty() => "info".to_string(),
        Some(s) => match s.as_str() {
            "error" | "warn" | "info" | "debug" | "trace" => s,
            "warning" => "warn".to_string(),
            "fatal" => "error".to_string(),
            _ => return None,
        },
    };
    Some(format!(
        "warn,source_intercom={level},fake_intercom={level}"
    ))
}

/// Install the global subscriber. Call once, from `main`.
pub fn init(output: Output) {
    let raw = std::env::var("LOG_LEVEL").ok();
    let directive = filter_directive(raw.as_deref());
    let filter = EnvFilter::try_new(directive.as_deref().unwrap_or("warn,source_intercom=info"))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(AirbyteLogLayer::new(output))
        .try_init();
    if directive.is_none() {
        tracing::warn!(
            "LOG_LEVEL={:?} is not one of error, warn, info, debug, trace; using info",
            raw.unwrap_or_default()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Captured;

    #[test]
    fn events_become_log_messages() {
        let cap = Captured::default();
        let out = Output::to_writer(cap.clone());
        let subscriber = tracing_subscriber::registry().with(AirbyteLogLayer::new(out.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(stream = "admins", "something odd");
        });
        out.flush().unwrap();
        let msgs = cap.messages();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0]["type"], "LOG");
        assert_eq!(msgs[0]["log"]["level"], "WARN");
        assert_eq!(msgs[0]["log"]["message"], "something odd stream=admins");
    }

    #[test]
    fn log_level_values() {
        assert!(filter_directive(None)
            .unwrap()
            .contains("source_intercom=info"));
        assert!(filter_directive(Some("DEBUG"))
            .unwrap()
            .contains("source_intercom=debug"));
        assert!(filter_directive(Some("loud")).is_none());
    }
}
