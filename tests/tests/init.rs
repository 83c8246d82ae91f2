//! `ork init`: packs are embedded, written where asked, never overwritten without --force.

use ork_tests::{TempDir, ork};

#[test]
fn list_shows_the_packs() {
    let t = TempDir::new("list");
    let r = ork(t.path(), &["init", "--list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("beginner"), "{}", r.stdout);
}

#[test]
fn beginner_pack_is_written_and_validates() {
    let t = TempDir::new("init");
    let r = ork(t.path(), &["init", "--pack", "beginner"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ex = t.path().join("hello-website");
    for f in ["katalog.yaml", "crd.yaml", "cr.yaml", "README.md"] {
        assert!(ex.join(f).is_file(), "{f} missing");
    }
    let v = ork(&ex, &["validate"]);
    assert_eq!(v.code, 0, "{}\n{}", v.stdout, v.stderr);

    // A second run refuses to overwrite and writes nothing.
    std::fs::write(ex.join("katalog.yaml"), "edited").unwrap_or_else(|e| panic!("{e}"));
    let again = ork(t.path(), &["init", "--pack", "beginner"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exist"), "{}", again.stderr);
    assert_eq!(std::fs::read_to_string(ex.join("katalog.yaml")).unwrap_or_default(), "edited");
    // --force overwrites.
    let forced = ork(t.path(), &["init", "--pack", "beginner", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_ne!(std::fs::read_to_string(ex.join("katalog.yaml")).unwrap_or_default(), "edited");
}

#[test]
fn init_into_a_directory_and_unknown_pack() {
    let t = TempDir::new("initdir");
    let r = ork(t.path(), &["init", "--pack", "beginner", "x"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(t.path().join("x/hello-website/katalog.yaml").is_file());
    let bad = ork(t.path(), &["init", "--pack", "nosuch"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("available packs"), "{}", bad.stderr);
}
