//! Collects the `reasons` and `warnings` of a decision while it is made.
//!
//! Every module that chooses something says why here, in one line; every
//! conflict becomes a warning with a stable code. This module only collects
//! and words nothing itself.

use autodeploy_core::{Origin, Reason, Warning};

#[derive(Debug, Default, Clone)]
pub(crate) struct Notes {
    pub reasons: Vec<Reason>,
    pub warnings: Vec<Warning>,
}

impl Notes {
    /// Record why `about` was chosen. A later call with the same `about` replaces
    /// the line (a budget step rewording an earlier size choice).
    pub fn reason(&mut self, about: impl Into<String>, origin: Origin, text: impl Into<String>) {
        let about = about.into();
        let text = text.into();
        if let Some(r) = self.reasons.iter_mut().find(|r| r.about == about) {
            r.origin = origin;
            r.text = text;
        } else {
            self.reasons.push(Reason {
                about,
                origin,
                text,
            });
        }
    }

    /// Record a conflict or something to act on (deduplicated by code, service and message).
    pub fn warn(&mut self, code: &str, service: Option<&str>, message: impl Into<String>) {
        let w = Warning {
            code: code.to_string(),
            service: service.map(str::to_string),
            message: message.into(),
        };
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    #[cfg(test)]
    pub fn has_warning(&self, code: &str) -> bool {
        self.warnings.iter().any(|w| w.code == code)
    }
}

/// `$12.34` for people.
pub(crate) fn usd(v: f64) -> String {
    if v >= 100.0 {
        format!("${v:.0}")
    } else {
        format!("${v:.2}")
    }
}

/// `a, b and c`.
pub(crate) fn join_and(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_replace_by_topic_and_warnings_dedupe() {
        let mut n = Notes::default();
        n.reason("size", Origin::Default, "t3.small");
        n.reason("size", Origin::Budget, "t3.micro");
        assert_eq!(n.reasons.len(), 1);
        assert_eq!(n.reasons[0].text, "t3.micro");
        assert_eq!(n.reasons[0].origin, Origin::Budget);
        n.warn("x", None, "m");
        n.warn("x", None, "m");
        assert_eq!(n.warnings.len(), 1);
    }

    #[test]
    fn formatting_helpers() {
        let cases: &[(&[&str], &str)] = &[
            (&[], ""),
            (&["a"], "a"),
            (&["a", "b"], "a and b"),
            (&["a", "b", "c"], "a, b and c"),
        ];
        for (items, want) in cases {
            let v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
            assert_eq!(join_and(&v), *want);
        }
        assert_eq!(usd(3.5), "$3.50");
        assert_eq!(usd(123.4), "$123");
    }
}
