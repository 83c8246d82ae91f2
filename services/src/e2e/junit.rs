//! `ork e2e --report FILE`: the results as JUnit XML, the format CI systems (GitLab, Jenkins,
//! GitHub test reporters) read. One `<testsuite>` per E2E document, one `<testcase>` per
//! expectation; a failed expectation has a `<failure>`, one that could not run (the document's
//! setup failed) an `<error>`. No timestamps: the same results give the same bytes.

use super::{CaseResult, DocRun};
use std::fmt::Write as _;
use std::path::Path;

/// `s` escaped for XML text and attribute values. Characters XML 1.0 cannot carry (most
/// control characters) become U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn secs(s: f64) -> String {
    format!("{s:.3}")
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

fn case(out: &mut String, suite: &str, c: &CaseResult) {
    let _ = write!(out, "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"", escape(&c.name), escape(suite), secs(c.elapsed_secs));
    if !c.file.is_empty() {
        let _ = write!(out, " file=\"{}\"", escape(&c.file));
    }
    match (&c.error, c.passed, c.not_run) {
        (_, true, _) => out.push_str("/>\n"),
        (Some(e), false, true) => {
            let _ = writeln!(out, ">\n      <error message=\"{}\" type=\"not-run\">{}</error>\n    </testcase>", escape(first_line(e)), escape(e));
        }
        (e, false, _) => {
            let e = e.as_deref().unwrap_or("failed");
            let _ = writeln!(out, ">\n      <failure message=\"{}\" type=\"expectation\">{}</failure>\n    </testcase>", escape(first_line(e)), escape(e));
        }
    }
}

/// The XML document for `runs`.
pub fn render(runs: &[DocRun]) -> String {
    let total: usize = runs.iter().map(|r| r.cases.len()).sum();
    let failures: usize = runs.iter().flat_map(|r| &r.cases).filter(|c| !c.passed && !c.not_run).count();
    let errors: usize = runs.iter().flat_map(|r| &r.cases).filter(|c| !c.passed && c.not_run).count();
    let time: f64 = runs.iter().map(|r| r.elapsed_secs).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"ork e2e\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{}\">", secs(time));
    for r in runs {
        let f = r.cases.iter().filter(|c| !c.passed && !c.not_run).count();
        let e = r.cases.iter().filter(|c| !c.passed && c.not_run).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\" skipped=\"0\" time=\"{}\" file=\"{}\">",
            escape(&r.name),
            r.cases.len(),
            secs(r.elapsed_secs),
            escape(&r.file)
        );
        if let Some(err) = &r.error {
            let _ = writeln!(out, "    <system-err>{}</system-err>", escape(err));
        }
        for c in &r.cases {
            case(&mut out, &r.name, c);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Writes the report for `runs` to `path`: into a temporary file next to it, then renamed, so
/// a reader never sees half a report.
pub fn write(path: &Path, runs: &[DocRun]) -> std::io::Result<()> {
    crate::files::write_atomic(path, render(runs).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, passed: bool, error: Option<&str>) -> CaseResult {
        CaseResult {
            name: name.into(),
            after: "cr-applied".into(),
            file: "e2e.yaml".into(),
            passed,
            not_run: false,
            elapsed_secs: 1.5,
            error: error.map(str::to_string),
        }
    }

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(escape("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;");
        assert_eq!(escape("ok\n\tyes\u{1b}[31m"), "ok\n\tyes\u{FFFD}[31m");
    }

    #[test]
    fn one_suite_per_document_one_case_per_expectation() {
        let runs = vec![DocRun {
            file: "demos/x/e2e.yaml".into(),
            name: "x-e2e".into(),
            description: None,
            cluster: "dev".into(),
            elapsed_secs: 3.0,
            error: None,
            cases: vec![case("children <exist>", true, None), case("status", false, Some("timeout after 30s: expected \"True\"\n  runtime: 403"))],
        }];
        let xml = render(&runs);
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ork e2e\" tests=\"2\" failures=\"1\" errors=\"0\" time=\"3.000\">"),
            "{xml}"
        );
        assert!(
            xml.contains("<testsuite name=\"x-e2e\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" time=\"3.000\" file=\"demos/x/e2e.yaml\">"),
            "{xml}"
        );
        assert!(xml.contains("<testcase name=\"children &lt;exist&gt;\" classname=\"x-e2e\" time=\"1.500\" file=\"e2e.yaml\"/>"), "{xml}");
        assert!(xml.contains("<failure message=\"timeout after 30s: expected &quot;True&quot;\" type=\"expectation\">timeout after 30s: expected &quot;True&quot;\n  runtime: 403</failure>"), "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), 2);
        assert!(xml.ends_with("</testsuite>\n</testsuites>\n"));
    }

    #[test]
    fn cases_that_could_not_run_are_errors() {
        let mut c = case("status", false, Some("not run: applying the CRDs failed"));
        c.not_run = true;
        let runs = vec![DocRun {
            file: "e.yaml".into(),
            name: "n".into(),
            description: None,
            cluster: "dev".into(),
            elapsed_secs: 0.2,
            error: Some("applying the CRDs failed".into()),
            cases: vec![c],
        }];
        let xml = render(&runs);
        assert!(xml.contains("errors=\"1\""), "{xml}");
        assert!(xml.contains("<error message=\"not run: applying the CRDs failed\" type=\"not-run\">"), "{xml}");
        assert!(xml.contains("<system-err>applying the CRDs failed</system-err>"), "{xml}");
    }

    #[test]
    fn written_atomically() {
        let dir = std::env::temp_dir().join(format!("ork-junit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let path = dir.join("report.xml");
        write(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(text.contains("<testsuites name=\"ork e2e\" tests=\"0\""), "{text}");
        let leftovers: Vec<_> =
            std::fs::read_dir(&dir).into_iter().flatten().filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().ends_with(".tmp")).collect();
        assert!(leftovers.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
