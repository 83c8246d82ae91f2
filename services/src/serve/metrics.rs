//! Writing the Prometheus text exposition format (0.0.4) by hand: a family's HELP/TYPE header
//! and label value escaping. Each server renders its own series with these.

use std::fmt::Write as _;

/// Writes the `# HELP` and `# TYPE` lines of a metric family (the format wants one block per
/// family, before its samples).
pub fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value escaped for the exposition format (backslash, double quote, newline).
pub fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_has_help_then_type_and_labels_are_escaped() {
        let mut out = String::new();
        family(&mut out, "x_total", "counter", "Things.");
        assert_eq!(out, "# HELP x_total Things.\n# TYPE x_total counter\n");
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
