//! Mutation fuzzing of the loader: demo Katalogs with random byte, line and indentation
//! mutations must never make it panic (every outcome is a value or diagnostics).

use katalog::load::{LoadOptions, load_file};
use ork_tests::{TempDir, demo_katalogs};

use ork_tests::XorShift as Rng;

fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..1 + rng.below(4) {
        if lines.is_empty() {
            break;
        }
        let i = rng.below(lines.len());
        match rng.below(7) {
            0 => {
                lines.remove(i);
            }
            1 => {
                let l = lines[i].clone();
                lines.insert(i, l);
            }
            2 => lines[i] = format!("  {}", lines[i]),
            3 => lines[i] = lines[i].trim_start().to_string(),
            4 => {
                let mut b = lines[i].clone().into_bytes();
                if !b.is_empty() {
                    let j = rng.below(b.len());
                    b[j] = b"{}[]:-&*!|>'\"#,? x"[rng.below(18)];
                }
                lines[i] = String::from_utf8_lossy(&b).into_owned();
            }
            5 => {
                let j = rng.below(lines.len());
                lines.swap(i, j);
            }
            _ => lines[i] = lines[i].replace(':', ""),
        }
    }
    lines.join("\n")
}

#[test]
fn mutated_demos_never_panic() {
    let demos = demo_katalogs();
    assert!(!demos.is_empty());
    let t = TempDir::new("fuzz");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut cases = 0;
    for demo in &demos {
        let text = std::fs::read_to_string(demo).unwrap_or_else(|e| panic!("{e}"));
        let dir = demo.parent().unwrap_or(std::path::Path::new("."));
        for _ in 0..150 {
            let mutated = mutate(&text, &mut rng);
            // Written beside the demo's own files so relative includes and crdFiles resolve.
            let path = dir.join(format!(".fuzz-{}.yaml", std::process::id()));
            std::fs::write(&path, &mutated).unwrap_or_else(|e| panic!("{e}"));
            let result = std::panic::catch_unwind(|| load_file(&path, &LoadOptions::default()));
            let _ = std::fs::remove_file(&path);
            if result.is_err() {
                let keep = t.path().join("crash.yaml");
                let _ = std::fs::write(&keep, &mutated);
                panic!("loader panicked on a mutation of {}:\n{mutated}", demo.display());
            }
            let loaded = result.unwrap_or_else(|_| unreachable!());
            let _ = katalog::validate::validate(&loaded);
            cases += 1;
        }
    }
    assert!(cases >= 150);
}
