//! `ork diff`'s report: a unified diff by meaning, its lines toned (headers strong, `+` good,
//! `-` bad, hunks accented) — printed by the CLI, shown by the workbench's `:diff`, which can
//! also lay the same diff out side by side.

use super::{Doc, Line, Tone};

/// The tone of one unified-diff line.
fn tone(line: &str) -> Tone {
    match line.as_bytes() {
        [b'+', b'+', b'+', ..] | [b'-', b'-', b'-', ..] => Tone::Strong,
        [b'+', ..] => Tone::Good,
        [b'-', ..] => Tone::Bad,
        [b'@', b'@', ..] => Tone::Accent,
        _ => Tone::Plain,
    }
}

/// A unified diff (as `katalog::authoring::diff::unified` writes it) as a report.
pub fn diff_doc(unified: &str) -> Doc {
    let mut d = Doc::new();
    for l in unified.lines() {
        d.toned(tone(l), l);
    }
    d
}

/// The same diff side by side: old on the left, new on the right, each `half` columns wide;
/// removed and added lines of a change are paired row by row.
pub fn side_by_side(unified: &str, half: usize) -> Doc {
    let mut d = Doc::new();
    let cell = |s: &str| -> String {
        let mut c: String = s.chars().take(half).collect();
        let n = c.chars().count();
        c.extend(std::iter::repeat_n(' ', half - n));
        c
    };
    let (mut left, mut right): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    let flush = |d: &mut Doc, left: &mut Vec<&str>, right: &mut Vec<&str>| {
        for i in 0..left.len().max(right.len()) {
            let mut line = Line::new();
            match left.get(i) {
                Some(l) => line.push(Tone::Bad, cell(l)),
                None => line.push(Tone::Plain, cell("")),
            }
            line.push(Tone::Dim, " │ ");
            if let Some(r) = right.get(i) {
                line.push(Tone::Good, cell(r));
            }
            d.push(line);
        }
        left.clear();
        right.clear();
    };
    for l in unified.lines() {
        if l.starts_with("+++") || l.starts_with("---") {
            continue;
        }
        if let Some(old) = l.strip_prefix('-') {
            left.push(old);
        } else if let Some(new) = l.strip_prefix('+') {
            right.push(new);
        } else {
            flush(&mut d, &mut left, &mut right);
            if l.starts_with("@@") {
                d.toned(Tone::Accent, l);
            } else {
                let text = l.strip_prefix(' ').unwrap_or(l);
                d.push(Line::plain(cell(text)).with(Tone::Dim, " │ ").with(Tone::Plain, cell(text)));
            }
        }
    }
    flush(&mut d, &mut left, &mut right);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "--- a\n+++ b\n@@ -1,3 +1,3 @@\n kind: Katalog\n-name: old\n+name: new\n+extra: 1\n";

    #[test]
    fn unified_lines_are_toned_by_their_sign() {
        let d = diff_doc(DIFF);
        let tones: Vec<Tone> = d.lines.iter().map(|l| l.pieces[0].tone).collect();
        assert_eq!(tones, [Tone::Strong, Tone::Strong, Tone::Accent, Tone::Plain, Tone::Bad, Tone::Good, Tone::Good]);
        assert_eq!(d.to_text(false), DIFF);
    }

    #[test]
    fn side_by_side_pairs_removed_and_added_lines() {
        let d = side_by_side(DIFF, 12);
        let text = d.to_text(false);
        assert_eq!(
            text,
            "@@ -1,3 +1,3 @@\nkind: Katalog │ kind: Katalog\nname: old    │ name: new   \n             │ extra: 1    \n"
                .replace("kind: Katalog │ kind: Katalog", "kind: Katalo │ kind: Katalo")
        );
    }
}
