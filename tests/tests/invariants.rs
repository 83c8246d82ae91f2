//! The code map's invariants (docs/architecture.md) that can be read off the source tree, checked
//! on every run: the layering of `katalog`, typed errors in the libraries, printing only in the
//! binaries, no import cycles between modules, no unused dependencies.
//!
//! These read the sources as text. They are deliberately simple (no parser of Rust): what they
//! look for — `crate::` paths, `Result<_, String>`, `println!` — has one spelling in this tree,
//! and a false alarm names the file and line so it can be looked at.

use ork_tests::root;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// The source with comments blanked (line comments and doc comments), so doc links and prose
/// do not count as uses. Line structure is kept for line numbers.
fn code_only(src: &str) -> String {
    src.lines()
        .map(|l| match l.find("//") {
            // `"https://…"` inside a string literal is cut too; no check below looks past it.
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The source up to its unit-test module (`#[cfg(test)]` followed by `mod`): tests may reach
/// anywhere; the rules are about the code that ships.
fn shipped(src: &str) -> &str {
    let mut from = 0;
    while let Some(i) = src[from..].find("#[cfg(test)]") {
        let at = from + i;
        if src[at + "#[cfg(test)]".len()..].trim_start().starts_with("mod ") {
            return &src[..at];
        }
        from = at + 1;
    }
    src
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

/// The library crates whose code must return typed errors and must not print.
const LIBRARIES: [&str; 3] = ["katalog/src", "oci/src", "services/src"];

#[test]
fn libraries_return_typed_errors_not_strings() {
    let mut found = Vec::new();
    for lib in LIBRARIES {
        for f in rust_files(&root().join(lib)) {
            let src = read(&f);
            for (i, line) in code_only(&src).lines().enumerate() {
                let squashed: String = line.split_whitespace().collect();
                if string_errors(&squashed) {
                    found.push(format!("{}:{}: {}", rel(&f), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "library functions return `Result<_, String>`; give them a thiserror enum:\n{}", found.join("\n"));
}

/// Whether `code` (whitespace removed) names a `Result` whose error type is `String`, however
/// nested its success type is (`Result<Option<Vec<u8>>,String>`).
fn string_errors(code: &str) -> bool {
    let mut from = 0;
    while let Some(at) = code[from..].find("Result<") {
        let start = from + at + "Result<".len();
        let (mut depth, mut comma) = (1usize, None);
        for (j, c) in code[start..].char_indices() {
            match c {
                '<' | '(' | '[' => depth += 1,
                '>' | ')' | ']' => {
                    depth -= 1;
                    if depth == 0 {
                        if comma.is_some_and(|k: usize| &code[start + k + 1..start + j] == "String") {
                            return true;
                        }
                        break;
                    }
                }
                ',' if depth == 1 => comma = Some(j),
                _ => {}
            }
        }
        from = start;
    }
    false
}

#[test]
fn the_string_error_finder_sees_nested_types() {
    assert!(string_errors("fnf()->Result<Option<Vec<u8>>,String>{"));
    assert!(string_errors("typeR=Result<(),String>;"));
    assert!(!string_errors("fnf()->Result<String,Error>{"));
    assert!(!string_errors("fnf()->Result<Vec<String>,E>{"));
    assert!(!string_errors("fnf()->Result<String>{"));
}

#[test]
fn only_binaries_print() {
    let mut found = Vec::new();
    for lib in LIBRARIES {
        for f in rust_files(&root().join(lib)) {
            let src = read(&f);
            for (i, line) in code_only(shipped(&src)).lines().enumerate() {
                if ["println!", "eprintln!", "print!(", "eprint!(", "dbg!("].iter().any(|m| line.contains(m)) {
                    found.push(format!("{}:{}: {}", rel(&f), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "library code prints; return a report or an error and let the binary print it:\n{}", found.join("\n"));
}

/// `katalog` is the pure layer: no network, no Kubernetes client, no async runtime.
#[test]
fn katalog_does_no_network_io() {
    let manifest = read(&root().join("katalog/Cargo.toml"));
    let deps = dependencies(&manifest, false);
    for forbidden in ["tokio", "hyper", "hyper-util", "kube", "k8s-openapi", "axum", "rustls", "tokio-rustls", "reqwest", "services"] {
        assert!(!deps.contains(forbidden), "katalog depends on `{forbidden}`; it must do no network I/O (docs/architecture.md)");
    }
    let mut found = Vec::new();
    for f in rust_files(&root().join("katalog/src")) {
        let src = read(&f);
        for (i, line) in code_only(&src).lines().enumerate() {
            // Address types are values (the template library parses IPs and CIDRs); sockets,
            // listeners and name resolution are I/O.
            let io = ["TcpStream", "TcpListener", "UdpSocket", "ToSocketAddrs", "to_socket_addrs", "unix::net"].iter().any(|t| line.contains(t));
            let other_net = line.split("std::net::").skip(1).any(|rest| {
                let names = rest.split([';', '}']).next().unwrap_or_default();
                names.split(|c: char| !c.is_alphanumeric() && c != '_').filter(|n| !n.is_empty()).any(|n| !matches!(n, "IpAddr" | "Ipv4Addr" | "Ipv6Addr"))
            });
            if io || other_net || line.trim_end().ends_with("std::net") {
                found.push(format!("{}:{}: {}", rel(&f), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "katalog opens sockets:\n{}", found.join("\n"));
}

/// Dependency names of a manifest: `[dependencies]` (and `[dev-dependencies]`,
/// `[build-dependencies]` when `all`), as written (`kube`, `k8s-openapi`).
fn dependencies(manifest: &str, all: bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut section = String::new();
    for line in manifest.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            section = t.to_string();
            continue;
        }
        let wanted = section == "[dependencies]" || (all && (section == "[dev-dependencies]" || section == "[build-dependencies]"));
        if !wanted || t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some(name) = t.split(['=', '.', ' ']).next().filter(|n| !n.is_empty()) {
            out.insert(name.to_string());
        }
    }
    out
}

/// Names listed in `[package.metadata.cargo-machete] ignored = [...]` (the same key cargo-machete
/// reads): dependencies present for their features or for a build step, not named in code.
fn ignored_dependencies(manifest: &str) -> BTreeSet<String> {
    let Some(at) = manifest.find("[package.metadata.cargo-machete]") else { return BTreeSet::new() };
    let rest = &manifest[at..];
    let Some(open) = rest.find('[').and_then(|_| rest.find("ignored")).and_then(|i| rest[i..].find('[').map(|j| i + j)) else {
        return BTreeSet::new();
    };
    let close = rest[open..].find(']').map_or(rest.len(), |j| open + j);
    rest[open + 1..close].split(',').map(|s| s.trim().trim_matches('"').to_string()).filter(|s| !s.is_empty()).collect()
}

#[test]
fn no_unused_dependencies() {
    let crates = ["katalog", "katalog/derive", "services", "services/ork-runtime", "tui", "tests"];
    let mut unused = Vec::new();
    for dir in crates {
        let base = root().join(dir);
        let manifest = read(&base.join("Cargo.toml"));
        let ignored = ignored_dependencies(&manifest);
        let mut code = String::new();
        for sub in ["src", "tests", "benches", "support", "build.rs"] {
            let p = base.join(sub);
            let files = if p.is_file() { vec![p] } else { rust_files(&p) };
            for f in files {
                // A nested crate's sources belong to that crate.
                if crates.iter().any(|c| *c != dir && f.starts_with(root().join(c)) && c.starts_with(dir)) {
                    continue;
                }
                code.push_str(&code_only(&read(&f)));
                code.push('\n');
            }
        }
        for dep in dependencies(&manifest, true) {
            if ignored.contains(&dep) {
                continue;
            }
            let ident = dep.replace('-', "_");
            let used = [format!("{ident}::"), format!("use {ident}"), format!("extern crate {ident}"), format!("{ident}!")]
                .iter()
                .any(|p| code.match_indices(p.as_str()).any(|(i, _)| !code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')));
            if !used {
                unused.push(format!("{dir}/Cargo.toml: `{dep}`"));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "dependencies no code names (remove them, or list them under [package.metadata.cargo-machete] ignored with a comment):\n{}",
        unused.join("\n")
    );
}

/// A crate's modules, as paths from the crate root (`["runtime", "queue"]`), from its file
/// layout. Unit-test modules (`tests`) are left out.
fn modules(src_dir: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut out = BTreeMap::new();
    for f in rust_files(src_dir) {
        let rel = f.strip_prefix(src_dir).unwrap_or(&f).with_extension("");
        let mut path: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
        if matches!(path.last().map(String::as_str), Some("mod" | "lib" | "main")) {
            path.pop();
        }
        if path.iter().any(|p| p == "tests" || p == "bin") {
            continue;
        }
        out.insert(path, f);
    }
    out
}

/// The module paths a source refers to through `crate::…`, `super::…` and `self::…`, with
/// `use` groups (`crate::{a, b::{c, d}}`) expanded. Each path is as long as written; callers
/// cut it to the modules that exist.
fn referenced_paths(src: &str, me: &[String], is_mod_file: bool) -> Vec<Vec<String>> {
    let bytes: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_' || bytes[i - 1] == ':');
        if !starts_word {
            i += 1;
            continue;
        }
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let (base, skip): (Vec<String>, usize) = if rest.starts_with("crate::") {
            (Vec::new(), 7)
        } else if rest.starts_with("super::") || rest.starts_with("self::") {
            // `super` of a `mod.rs`/file module is its parent; `self` is the module itself.
            let mut base = me.to_vec();
            let mut j = i;
            loop {
                let r: String = bytes[j..bytes.len().min(j + 7)].iter().collect();
                if r.starts_with("super::") {
                    base.pop();
                    j += 7;
                } else if r.starts_with("self::") {
                    j += 6;
                } else {
                    break;
                }
            }
            let _ = is_mod_file;
            (base, j - i)
        } else {
            i += 1;
            continue;
        };
        let mut j = i + skip;
        parse_tree(&bytes, &mut j, base, &mut out);
        i = j.max(i + 1);
    }
    out
}

/// Parses a use tree at `*j` (`a::b`, `a::{b, c::d}`, `*`) under `prefix`, pushing every leaf path.
fn parse_tree(s: &[char], j: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let skip_ws = |j: &mut usize| {
        while *j < s.len() && s[*j].is_whitespace() {
            *j += 1;
        }
    };
    skip_ws(j);
    if *j < s.len() && s[*j] == '{' {
        *j += 1;
        loop {
            skip_ws(j);
            if *j >= s.len() {
                return;
            }
            if s[*j] == '}' {
                *j += 1;
                return;
            }
            if s[*j] == ',' {
                *j += 1;
                continue;
            }
            let before = *j;
            parse_tree(s, j, prefix.clone(), out);
            if *j == before {
                *j += 1;
            }
        }
    }
    let start = *j;
    while *j < s.len() && (s[*j].is_alphanumeric() || s[*j] == '_') {
        *j += 1;
    }
    if *j == start {
        out.push(prefix);
        return;
    }
    let mut path = prefix;
    let ident: String = s[start..*j].iter().collect();
    if ident != "self" {
        path.push(ident);
    }
    if s.get(*j) == Some(&':') && s.get(*j + 1) == Some(&':') {
        *j += 2;
        parse_tree(s, j, path, out);
    } else {
        out.push(path);
    }
}

/// The longest prefix of `path` that is a module.
fn module_prefix(mods: &BTreeMap<Vec<String>, PathBuf>, path: &[String]) -> Vec<String> {
    let mut t = path.to_vec();
    while !t.is_empty() && !mods.contains_key(&t) {
        t.pop();
    }
    t
}

/// The module that defines what `path` names, following re-exports (`pub use child::Item;`
/// makes `module::Item` a name of `module::child`).
fn defining_module(mods: &BTreeMap<Vec<String>, PathBuf>, exports: &BTreeMap<(Vec<String>, String), Vec<String>>, mut path: Vec<String>) -> Vec<String> {
    for _ in 0..8 {
        let t = module_prefix(mods, &path);
        let Some(name) = path.get(t.len()) else { return t };
        match exports.get(&(t.clone(), name.clone())) {
            Some(source) => path = [source.clone(), path[t.len() + 1..].to_vec()].concat(),
            None => return t,
        }
    }
    module_prefix(mods, &path)
}

/// Every `pub use` / `pub(crate) use` of a module that names an item of this crate:
/// (module, exported name) → the full path of the item.
fn re_exports(mods: &BTreeMap<Vec<String>, PathBuf>) -> BTreeMap<(Vec<String>, String), Vec<String>> {
    let mut out = BTreeMap::new();
    for (me, file) in mods {
        let src = code_only(shipped(&read(file)));
        let chars: Vec<char> = src.chars().collect();
        for marker in ["pub use ", "pub(crate) use ", "pub(super) use "] {
            for (at, _) in src.match_indices(marker) {
                let mut j = src[..at + marker.len()].chars().count();
                let mut leaves = Vec::new();
                parse_tree(&chars, &mut j, Vec::new(), &mut leaves);
                for leaf in leaves {
                    let absolute = match leaf.first().map(String::as_str) {
                        Some("crate") => leaf[1..].to_vec(),
                        Some("super") => [me[..me.len().saturating_sub(1)].to_vec(), leaf[1..].to_vec()].concat(),
                        Some(first) if mods.contains_key(&[me.clone(), vec![first.to_string()]].concat()) => [me.clone(), leaf.clone()].concat(),
                        _ => continue,
                    };
                    if let Some(name) = absolute.last() {
                        out.insert((me.clone(), name.clone()), absolute.clone());
                    }
                }
            }
        }
    }
    out
}

/// Cycles among the children of each module: an edge `a → b` when code in `a` (or below it)
/// names something in sibling `b` (or below it). A child using its parent's items is the
/// normal shape of Rust modules and is not an edge.
fn module_cycles(src_dir: &Path) -> Vec<String> {
    let mods = modules(src_dir);
    let exports = re_exports(&mods);
    let mut edges: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (me, file) in &mods {
        let is_mod_file = file.file_stem().is_some_and(|s| s == "mod" || s == "lib" || s == "main");
        let text = read(file);
        for target in referenced_paths(&code_only(shipped(&text)), me, is_mod_file) {
            let t = defining_module(&mods, &exports, target);
            let common = me.iter().zip(&t).take_while(|(a, b)| a == b).count();
            if common < me.len() && common < t.len() {
                edges.entry(me[..common].to_vec()).or_default().entry(me[common].clone()).or_default().insert(t[common].clone());
            }
        }
    }
    let mut cycles = Vec::new();
    for (parent, graph) in &edges {
        for component in strongly_connected(graph) {
            let at = if parent.is_empty() { "crate".to_string() } else { parent.join("::") };
            let detail: Vec<String> = component
                .iter()
                .map(|a| {
                    format!(
                        "{a} → {}",
                        graph.get(a).map(|s| s.iter().filter(|b| component.contains(*b)).cloned().collect::<Vec<_>>().join(", ")).unwrap_or_default()
                    )
                })
                .collect();
            cycles.push(format!("{}: in {at}: {}", rel(src_dir), detail.join("; ")));
        }
    }
    cycles
}

/// Strongly connected components with more than one node (Tarjan).
fn strongly_connected(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        next: usize,
        out: Vec<BTreeSet<String>>,
    }
    fn visit(s: &mut State, v: &str) {
        s.index.insert(v.to_string(), s.next);
        s.low.insert(v.to_string(), s.next);
        s.next += 1;
        s.stack.push(v.to_string());
        let targets: Vec<String> = s.graph.get(v).map(|t| t.iter().cloned().collect()).unwrap_or_default();
        for w in targets {
            if !s.index.contains_key(&w) {
                visit(s, &w);
                let lw = s.low[&w];
                let lv = s.low.get_mut(v).map(|l| {
                    *l = (*l).min(lw);
                    *l
                });
                let _ = lv;
            } else if s.stack.contains(&w) {
                let iw = s.index[&w];
                if let Some(l) = s.low.get_mut(v) {
                    *l = (*l).min(iw);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                let done = w == v;
                component.insert(w);
                if done {
                    break;
                }
            }
            if component.len() > 1 {
                s.out.push(component);
            }
        }
    }
    let mut s = State { graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), next: 0, out: Vec::new() };
    for v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn no_import_cycles_between_modules() {
    let mut cycles = Vec::new();
    for src in ["katalog/src", "oci/src", "services/src", "tui/src"] {
        // Inside the template interpreter, parser, evaluator and function library refer to one
        // another by design (a function can call back into the evaluator).
        cycles.extend(module_cycles(&root().join(src)).into_iter().filter(|c| !c.contains(": in template:")));
    }
    assert!(cycles.is_empty(), "modules import each other in a cycle (move the shared piece to a module both can use):\n{}", cycles.join("\n"));
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let dir = ork_tests::TempDir::new("invariants-cycles");
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("a")).unwrap_or_default();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\nmod c;\n").unwrap_or_default();
    std::fs::write(src.join("a/mod.rs"), "mod inner;\nuse crate::{b::{self, X}, c};\n").unwrap_or_default();
    std::fs::write(src.join("a/inner.rs"), "use super::super::c::Y; // crate::b in a comment does not count\n").unwrap_or_default();
    std::fs::write(src.join("b.rs"), "pub struct X;\nfn f() { crate::a::g(); }\n#[cfg(test)]\nmod tests { use crate::c::Z; }\n").unwrap_or_default();
    std::fs::write(src.join("c.rs"), "pub struct Y;\n").unwrap_or_default();
    let cycles = module_cycles(&src);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(cycles[0].ends_with("in crate: a → b; b → a"), "{cycles:?}");
    assert!(!cycles[0].contains("c →"), "c takes part in no cycle: {cycles:?}");
}

/// The files (relative to the workspace) whose shipped code contains `needle`.
fn files_naming(dirs: &[&str], needle: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for dir in dirs {
        for f in rust_files(&root().join(dir)) {
            if code_only(shipped(&read(&f))).contains(needle) {
                out.insert(rel(&f));
            }
        }
    }
    out
}

const SHIPPED: [&str; 5] = ["katalog/src", "oci/src", "services/src", "services/ork-runtime/src", "tui/src"];

/// simulate, the runtime (`ork run`, `ork-runtime`, e2e's in-process runtime) run one
/// reconciler: it is defined once and only the runtime's OperatorBox and simulate build one.
#[test]
fn one_reconciler() {
    assert_eq!(files_naming(&SHIPPED, "pub struct Reconciler<"), BTreeSet::from(["services/src/reconcile/mod.rs".to_string()]));
    assert_eq!(
        files_naming(&SHIPPED, "Reconciler::new("),
        BTreeSet::from(["services/src/runtime/operator.rs".to_string(), "services/src/simulate.rs".to_string()]),
        "a new place that reconciles must use the runtime or simulate, not build its own reconciler"
    );
}

/// One verdict: the gateway's webhooks, `ork gate` and the workbench's Preview answer from
/// `katalog::admission::Gate` (the latter two through `review_documents`), and
/// only that module evaluates rules for admission — so `ork gate` previews exactly what the
/// cluster will answer.
#[test]
fn one_admission_verdict() {
    assert_eq!(
        files_naming(&SHIPPED, "Phase::Admission"),
        BTreeSet::from(["katalog/src/admission/mod.rs".to_string()]),
        "admission rules are evaluated by katalog::admission::Gate only"
    );
    // A module's `tests.rs` is its unit tests, not shipped code.
    let mut gates = files_naming(&SHIPPED, "Gate::new(");
    gates.retain(|f| !f.ends_with("/tests.rs"));
    assert_eq!(
        gates,
        BTreeSet::from(["katalog/src/admission/mod.rs".to_string(), "services/src/gateway/mod.rs".to_string()]),
        "the gateway and katalog::admission::review_documents (ork gate, the workbench's Preview) build the one Gate; a new place that judges admission must use them"
    );
}

/// Every command, simulate, e2e and the runtime get a Katalog from `katalog::valid::load_valid`
/// (or `load_checked` for any document kind). `load_file` (no validation) is for the loader
/// itself, `ork validate` (which reports on invalid files too), the workbench's live validation
/// (`ork validate` after every save: it shows invalid files too, and builds its `Valid` from the
/// same report with `valid_from`) and discovery's peek at whether a document is a suite.
#[test]
fn one_loader() {
    let callers = files_naming(&SHIPPED, "load_file(");
    let allowed: BTreeSet<String> = [
        "katalog/src/load.rs",
        "katalog/src/valid.rs",
        "tui/src/cli/validate.rs",
        "tui/src/workbench/analysis.rs",
        "services/src/simulate.rs",
        "services/src/e2e/mod.rs",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let extra: Vec<&String> = callers.difference(&allowed).collect();
    assert!(extra.is_empty(), "these load a Katalog without validating it; use katalog::valid::load_valid: {extra:?}");
    for f in ["services/src/simulate.rs", "services/src/e2e/mod.rs"] {
        let src = code_only(shipped(&read(&root().join(f))));
        let uses = src.matches("load_file(").count();
        assert!(uses <= 1, "{f}: load_file is for the is_suite peek only ({uses} uses)");
    }
}

/// `services::serve` is the plumbing the gateway will share with the runtime and the dev
/// cluster: it must not reach into either, nor into the reconciler or the runners (feature
/// `serve` compiles without them; this keeps it so when all features are on).
#[test]
fn serve_depends_on_no_other_service() {
    let mut found = Vec::new();
    for f in rust_files(&root().join("services/src/serve")) {
        let src = read(&f);
        for (i, line) in code_only(shipped(&src)).lines().enumerate() {
            for m in ["crate::runtime", "crate::devcluster", "crate::reconcile", "crate::simulate", "crate::e2e", "crate::run::", "katalog::authoring"] {
                if line.contains(m) {
                    found.push(format!("{}:{}: {}", rel(&f), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "services::serve uses another service:\n{}", found.join("\n"));
}

/// Files are read in one place, the loader, under its limits and the pattern root: the checks
/// of `ork validate` and the renderer work on what was loaded.
#[test]
fn only_the_loader_reads_files() {
    let mut found = Vec::new();
    for dir in ["katalog/src/validate", "katalog/src/render", "katalog/src/rules.rs", "katalog/src/decode.rs"] {
        let p = root().join(dir);
        let files = if p.is_file() { vec![p] } else { rust_files(&p) };
        for f in files {
            let src = read(&f);
            for (i, line) in code_only(shipped(&src)).lines().enumerate() {
                if ["std::fs", "read_yaml_file", "read_bounded", "File::open"].iter().any(|m| line.contains(m)) {
                    found.push(format!("{}:{}: {}", rel(&f), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "files read outside katalog::load:\n{}", found.join("\n"));
}

#[test]
fn the_cycle_finder_sees_through_re_exports() {
    let dir = ork_tests::TempDir::new("invariants-reexports");
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("d")).unwrap_or_default();
    std::fs::write(src.join("lib.rs"), "mod d;\n").unwrap_or_default();
    // `d::x` names `d::Z`, which `d` only re-exports from its child `inner`; `inner` uses `x`:
    // a cycle between the siblings `x` and `inner` that the path `crate::d::Z` hides.
    std::fs::write(src.join("d/mod.rs"), "mod inner;\nmod x;\npub use inner::Z;\n").unwrap_or_default();
    std::fs::write(src.join("d/x.rs"), "pub fn g() -> crate::d::Z { crate::d::Z }\n").unwrap_or_default();
    std::fs::write(src.join("d/inner.rs"), "pub struct Z;\nfn h() { super::x::g(); }\n").unwrap_or_default();
    let cycles = module_cycles(&src);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(cycles[0].ends_with("in d: inner → x; x → inner"), "{cycles:?}");
}

// ---- No silent field (issue 19 item 6) ----
//
// Every field of the Katalog model reachable from a Katalog, Motif or Komposer document is either
// marked `unsupported` (so `ork validate` reports it as `warning[not-supported-yet]`) or read by
// an executing path. "Read by an executing path" is decided mechanically: the field's Rust ident
// appears as a field access `.ident` (not followed by an identifier character) in the shipped code
// (comments and the `#[cfg(test)]` module cut) of a source file outside the model, the decoder,
// the derive and the validator — reading a field only to check it does not execute it. The check
// cannot tell two structs' fields of the same name apart (`.name` read anywhere counts for every
// `name`); it is a floor, not a proof. Fields that only carry information for people are on
// `NOT_EXECUTED_BY_DESIGN` with the reason.

/// Source trees whose reads count as execution.
const EXECUTING_DIRS: [&str; 6] = ["katalog/src", "services/src", "services/ork-runtime/src", "services/ork-gateway/src", "tui/src", "oci/src"];

/// Paths (relative to the root) whose reads do not count: the model itself, decoding, validation.
const NOT_EXECUTING: [&str; 5] = ["katalog/src/model/", "katalog/src/decode", "katalog/src/validate", "katalog/derive/", "katalog/src/yaml/"];

/// `(type name, field ident, why)`: fields that are read by no executing path, by design.
const NOT_EXECUTED_BY_DESIGN: &[(&str, &str, &str)] = &[
    ("Metadata", "cluster_name", "information for people and tooling; ork acts on no metadata beyond name, namespace and version"),
    ("Metadata", "created_by", "a UI persona hint for upstream's tooling"),
    ("Metadata", "projects", "opaque tooling data, carried as written"),
    ("CrdEntry", "katalog_name", "informational: upstream's loader stamps the owning Katalog here; ork knows each entry's Katalog itself"),
    ("CrdEntry", "katalog_namespace", "informational, as katalogName"),
    ("CrdEntry", "katalog_description", "informational, as katalogName"),
    ("CrdEntry", "katalog_version", "informational, as katalogName"),
    ("EnvAuth", "from_env", "credentials of registry and https imports, which are themselves reported not-supported-yet (they need `ork pull`)"),
    ("EnvAuth", "username_from_env", "as fromEnv"),
    ("EnvAuth", "password_from_env", "as fromEnv"),
    ("RegistryImportDetails", "use_komposer", "part of a registry import, which is itself reported not-supported-yet"),
    ("ApiTypes", "api_path", "ork derives `/api` (core, empty group) or `/apis` from the group; the field restates it"),
    ("Gateway", "standalone", "it only lets a gateway-only Katalog have no CRDs (a load-time rule); there is nothing to run"),
];

/// `(type name, field ident, who)`: fields another part of issue 19 is implementing right now and
/// that are neither read nor marked on this branch. Each entry must go when its implementation
/// lands (the test below fails once the field is read, to keep this list from going stale).
/// (Empty now: `forceConflict`, the last entry, became executed with server-side apply.)
const BEING_IMPLEMENTED: &[(&str, &str, &str)] = &[];

/// Every `.ident` field access in the shipped, non-test code of the executing trees.
fn executed_idents() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for dir in EXECUTING_DIRS {
        for f in rust_files(&root().join(dir)) {
            let r = rel(&f);
            if NOT_EXECUTING.iter().any(|p| r.starts_with(p)) || r.ends_with("/tests.rs") || r.contains("/tests/") {
                continue;
            }
            let src = read(&f);
            out.extend(field_accesses(shipped(&code_only(&src))));
        }
    }
    out
}

/// The identifiers `x` of every `.x` in `code` (`..` ranges and numeric fields excluded).
fn field_accesses(code: &str) -> BTreeSet<String> {
    let b = code.as_bytes();
    let mut out = BTreeSet::new();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'.' && (i == 0 || b[i - 1] != b'.') && b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') {
            let start = i + 1;
            let mut end = start;
            while end < b.len() && ident(b[end]) {
                end += 1;
            }
            out.insert(code[start..end].to_string());
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// `type::field (yaml key)` of every reachable field that is neither unsupported, nor read by an
/// executing path, nor on the allow-list.
fn silent_fields(types: &[(&str, &[katalog::decode::FieldInfo])], executed: &BTreeSet<String>, allowed: &[(&str, &str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    for (ty, fields) in types {
        let short = ty.rsplit("::").next().unwrap_or(ty);
        for f in fields.iter() {
            if f.unsupported || executed.contains(f.ident) || allowed.iter().any(|(t, i, _)| *t == short && *i == f.ident) {
                continue;
            }
            out.push(format!("{short}::{} (`{}`)", f.ident, f.yaml));
        }
    }
    out
}

fn document_types() -> Vec<(&'static str, &'static [katalog::decode::FieldInfo])> {
    use katalog::decode::{Reach, Walk};
    use katalog::model::{Katalog, Komposer, Motif};
    let mut r = Reach::default();
    <Katalog as Walk>::reach(&mut r);
    <Motif as Walk>::reach(&mut r);
    <Komposer as Walk>::reach(&mut r);
    r.types
}

#[test]
fn every_model_field_is_executed_or_reported_unsupported() {
    let types = document_types();
    assert!(types.len() > 40, "the walk reached only {} structs", types.len());
    let executed = executed_idents();
    let allowed: Vec<(&str, &str, &str)> = NOT_EXECUTED_BY_DESIGN.iter().chain(BEING_IMPLEMENTED).copied().collect();
    let silent = silent_fields(&types, &executed, &allowed);
    assert!(
        silent.is_empty(),
        "these Katalog fields are parsed but read by no executing path and not marked \
         `#[decode(unsupported = \"…\")]` (which `ork validate` reports); execute them, mark them, or \
         (for information-only fields) list them in NOT_EXECUTED_BY_DESIGN with the reason:\n{}",
        silent.join("\n")
    );
    // The allow-list stays honest: every entry names a reachable, supported field.
    for (t, i, _) in NOT_EXECUTED_BY_DESIGN {
        let found = types.iter().any(|(ty, fs)| ty.rsplit("::").next() == Some(t) && fs.iter().any(|f| f.ident == *i && !f.unsupported));
        assert!(found, "NOT_EXECUTED_BY_DESIGN names {t}::{i}, which is not a reachable supported field");
    }
    for (t, i, who) in BEING_IMPLEMENTED {
        assert!(!executed.contains(*i), "{t}::{i} is read now ({who}): remove it from BEING_IMPLEMENTED");
    }
}

#[test]
fn the_field_coverage_check_reports_a_silent_field() {
    use katalog::decode::FieldInfo;
    static FIELDS: [FieldInfo; 3] = [
        FieldInfo { yaml: "read", ident: "read_somewhere", unsupported: false, flatten: false },
        FieldInfo { yaml: "marked", ident: "marked_field", unsupported: true, flatten: false },
        FieldInfo { yaml: "nobodyReadsMe", ident: "nobody_reads_me", unsupported: false, flatten: false },
    ];
    let types: Vec<(&str, &[FieldInfo])> = vec![("x::Synthetic", &FIELDS)];
    let executed = field_accesses("fn f(s: &S) -> bool { s.read_somewhere.is_some() && (0..2).len() > 1 }");
    assert!(executed.contains("read_somewhere") && !executed.contains("nobody_reads_me"));
    assert_eq!(silent_fields(&types, &executed, &[]), vec!["Synthetic::nobody_reads_me (`nobodyReadsMe`)".to_string()]);
    assert!(silent_fields(&types, &executed, &[("Synthetic", "nobody_reads_me", "test")]).is_empty());
    // The real walk reaches nested structs and the decoder's unsupported markers.
    let real = document_types();
    let names: Vec<&str> = real.iter().map(|(t, _)| t.rsplit("::").next().unwrap_or(t)).collect();
    for t in ["Katalog", "Motif", "Komposer", "CrdEntry", "Queue", "Secret", "EntryCommon"] {
        assert!(names.contains(&t), "{t} not reached: {names:?}");
    }
    let queue = real.iter().find(|(t, _)| t.ends_with("::Queue")).map(|(_, f)| *f).unwrap_or(&[]);
    assert!(queue.iter().any(|f| f.yaml == "shared" && f.unsupported));
    // A field only the validator reads does not count.
    let only_validated =
        field_accesses(shipped(&code_only("// s.in_comment\nfn g(s: &S) { s.used; }\n#[cfg(test)]\nmod tests { fn t(s: &S) { s.in_test; } }")));
    assert!(only_validated.contains("used") && !only_validated.contains("in_comment") && !only_validated.contains("in_test"));
}
