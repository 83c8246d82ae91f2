//! The output assertions of cli-and-workflows.md §6.2, evaluated with the comparison semantics
//! of the Katalog's `when:` conditions ([`katalog::rules::compare_text`]).

use super::Failure;
use katalog::decode::Str;
use katalog::model::condition::Operator;
use katalog::model::e2e::Assertions;
use katalog::rules::compare_text;

/// Shortens `s` for a message: at most `max` characters, with `…` when cut.
pub fn clip(s: &str, max: usize) -> String {
    let one_line = s.trim().replace('\n', "⏎");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let cut: String = one_line.chars().take(max).collect();
    format!("{cut}…")
}

/// Checks every assertion given against `output` (trimmed first). `Err` names the first one
/// that does not hold, with the output.
pub fn check(a: &Assertions, output: &str) -> Result<(), Failure> {
    let out = output.trim();
    let shown = || format!("got {:?}", clip(out, 300));
    let one = |v: &Option<Str>, op: Operator, what: &str| -> Result<(), Failure> {
        match v {
            Some(arg) if compare_text(op, out, arg.trim(), &[]) != Some(true) => Err(Failure::Check(format!("{what} {:?}: {}", arg.as_str(), shown()))),
            _ => Ok(()),
        }
    };
    one(&a.equals, Operator::Equals, "expected output equal to")?;
    one(&a.not_equals, Operator::NotEquals, "expected output other than")?;
    one(&a.output_contains, Operator::Contains, "expected output containing")?;
    one(&a.output_not_contains, Operator::NotContains, "expected output not containing")?;
    one(&a.regex, Operator::Regex, "expected output matching")?;
    one(&a.greater_than, Operator::Gt, "expected a number greater than")?;
    one(&a.less_than, Operator::Lt, "expected a number less than")?;
    one(&a.greater_than_or_equal, Operator::Gte, "expected a number at least")?;
    one(&a.less_than_or_equal, Operator::Lte, "expected a number at most")?;
    one(&a.between, Operator::Between, "expected a number in")?;
    one(&a.not_between, Operator::NotBetween, "expected a number outside")?;
    if a.exists == Some(true) && out.is_empty() {
        return Err(Failure::Check("expected output, got none".into()));
    }
    if a.not_exists == Some(true) && !out.is_empty() {
        return Err(Failure::Check(format!("expected no output, {}", shown())));
    }
    let items = |l: &[Str]| l.iter().map(|s| s.trim().to_string()).collect::<Vec<_>>();
    if !a.one_of.is_empty() && compare_text(Operator::In, out, "", &items(&a.one_of)) != Some(true) {
        return Err(Failure::Check(format!("expected one of {:?}: {}", items(&a.one_of), shown())));
    }
    if !a.not_one_of.is_empty() && compare_text(Operator::NotIn, out, "", &items(&a.not_one_of)) != Some(true) {
        return Err(Failure::Check(format!("expected none of {:?}: {}", items(&a.not_one_of), shown())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use katalog::diag::Span;

    fn s(v: &str) -> Option<Str> {
        Some(Str::new(v.to_string(), Span::default()))
    }

    #[test]
    fn every_given_assertion_must_hold() {
        let a = Assertions { equals: s("True"), ..Assertions::default() };
        assert!(check(&a, "True\n").is_ok());
        let e = check(&a, "False").unwrap_err().to_string();
        assert!(e.contains("expected output equal to \"True\"") && e.contains("got \"False\""), "{e}");

        let a = Assertions { output_contains: s("forbidden"), output_not_contains: s("panic"), ..Assertions::default() };
        assert!(check(&a, "x is forbidden").is_ok());
        assert!(check(&a, "forbidden: panic").unwrap_err().to_string().contains("not containing"));
        assert!(check(&a, "allowed").unwrap_err().to_string().contains("containing \"forbidden\""));
    }

    #[test]
    fn numbers_ranges_regex_and_lists() {
        let a = Assertions { greater_than: s("1"), less_than_or_equal: s("3"), ..Assertions::default() };
        assert!(check(&a, "2").is_ok());
        assert!(check(&a, "3").is_ok());
        assert!(check(&a, "1").is_err());
        assert!(check(&a, "4").is_err());
        assert!(check(&a, "two").is_err(), "non-numbers never compare");
        let a = Assertions { between: s("2,4"), ..Assertions::default() };
        assert!(check(&a, "2").is_ok() && check(&a, "4").is_ok() && check(&a, "5").is_err());
        let a = Assertions { not_between: s("2,4"), ..Assertions::default() };
        assert!(check(&a, "5").is_ok() && check(&a, "3").is_err());
        let a = Assertions { regex: s("^web-[0-9]+$"), ..Assertions::default() };
        assert!(check(&a, "web-12").is_ok() && check(&a, "web-x").is_err());
        let list = |v: &[&str]| v.iter().map(|x| Str::new(x.to_string(), Span::default())).collect::<Vec<_>>();
        let a = Assertions { one_of: list(&["Ready", "Available"]), ..Assertions::default() };
        assert!(check(&a, "Available").is_ok() && check(&a, "Pending").is_err());
        let a = Assertions { not_one_of: list(&["Failed"]), ..Assertions::default() };
        assert!(check(&a, "Ready").is_ok() && check(&a, "Failed").is_err());
    }

    #[test]
    fn exists_and_not_exists_look_at_the_trimmed_output() {
        let a = Assertions { exists: Some(true), ..Assertions::default() };
        assert!(check(&a, " x ").is_ok());
        assert!(check(&a, " \n ").is_err());
        let a = Assertions { not_exists: Some(true), ..Assertions::default() };
        assert!(check(&a, "\n").is_ok());
        assert!(check(&a, "deployment.apps/web").is_err());
        assert!(check(&Assertions::default(), "anything").is_ok());
    }
}
