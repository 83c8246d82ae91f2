//! The patch schema the dev cluster embeds (services/src/cluster/patch-schema.json) is generated
//! from the Kubernetes OpenAPI definitions of the pinned kubernetes-validate package: regenerate it
//! with scripts/gen-patch-schema.py and compare, so the committed file cannot drift from its
//! source or be edited by hand.

use ork_tests::root;
use std::process::Command;

#[test]
fn patch_schema_is_what_the_generator_writes() {
    let python = root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run ./scripts/test.sh, which installs kubernetes-validate (the source of the patch schema) into .venv/",
        python.display()
    );
    let out = Command::new(&python)
        .arg(root().join("scripts/gen-patch-schema.py"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} scripts/gen-patch-schema.py: {e}", python.display()));
    assert!(out.status.success(), "scripts/gen-patch-schema.py failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let generated = String::from_utf8_lossy(&out.stdout);
    let path = root().join("services/src/cluster/patch-schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(
        generated == committed,
        "{} differs from what scripts/gen-patch-schema.py writes: regenerate it with\n  .venv/bin/python scripts/gen-patch-schema.py > services/src/cluster/patch-schema.json",
        path.display()
    );
    // The schema says what the dev cluster needs: containers merge by name.
    assert!(committed.contains(r#""containers":{"listMapKeys":["name"],"listType":"map","patchMergeKey":"name","patchStrategy":"merge""#));
}
