//! `ork template`: rendered children (and status) as one YAML stream, findings on stderr.

use super::*;

/// The findings of one rendered CR (mutations, violations, warnings) on stderr.
pub fn template_findings(cr: &OfflineCr) {
    let mut err = std::io::stderr().lock();
    for f in &cr.findings {
        let _ = writeln!(err, "{}: {}", f.level, f.message);
    }
}

/// The children (and with `status`, the status) of rendered CRs as one YAML stream.
pub fn template_yaml(crs: &[OfflineCr], status: bool) -> String {
    let mut out = String::new();
    for cr in crs {
        for child in &cr.children {
            out.push_str(&format!("---\n# Source: {}/{}\n", cr.crd, child.source));
            out.push_str(&katalog::yaml::emit(&child.manifest));
        }
        if status {
            out.push_str(&format!("---\n# Status of {}\n", cr.identity));
            out.push_str(&katalog::yaml::emit(&json!({"status": cr.status})));
        }
    }
    out
}
