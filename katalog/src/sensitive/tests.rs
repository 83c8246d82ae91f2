//! The sensitivity decision and the redactor, case by case.

use super::*;
use serde_json::json;

#[test]
fn names_split_into_words_at_every_boundary() {
    assert_eq!(name_words("apiKey"), ["api", "key"]);
    assert_eq!(name_words("APIKey"), ["api", "key"]);
    assert_eq!(name_words("SSHPrivateKey"), ["ssh", "private", "key"]);
    assert_eq!(name_words("oauth2Token"), ["oauth2", "token"]);
    assert_eq!(name_words("db_password-hash"), ["db", "password", "hash"]);
    assert_eq!(name_words("tls.key"), ["tls", "key"]);
    assert!(name_words("").is_empty());
}

#[test]
fn secret_names_are_recognised_on_word_boundaries() {
    for name in [
        "password",
        "Password",
        "adminPassword",
        "db_passwd",
        "passphrase",
        "apiToken",
        "API_TOKEN",
        "apiKey",
        "apikey",
        "privateKey",
        "ssh-privatekey",
        "sshKey",
        "clientSecret",
        "secret",
        "credentials",
        "awsCreds",
        "dbpassword",
        "connectionString",
        "tls.key",
        "pwd",
    ] {
        assert!(sensitive_name(name), "{name} names a secret");
    }
    for name in ["replicas", "image", "keyboard", "monkey", "passenger", "compass", "author", "tokenizerless"] {
        // `tokenizerless` contains `token`: over-redacting is the accepted side.
        assert_eq!(sensitive_name(name), name == "tokenizerless", "{name}");
    }
}

#[test]
fn the_fast_path_decides_as_the_words_do() {
    let long = "x".repeat(70);
    let names = [
        "spec",
        "metadata",
        "name",
        "names",
        "namespace",
        "apiVersion",
        "kind",
        "replicas",
        "image",
        "labels",
        "app.kubernetes.io/name",
        "sec_ret",
        "na_me",
        "connection_string",
        "API_KEY",
        "secretName",
        "configMapRef",
        "podSelector",
        "tokenTtl",
        "password",
        "Straße",
        "ключ",
        "x1",
        "",
        &long,
    ];
    for n in names {
        assert_eq!(classify(n), classify_words(n), "{n:?}");
    }
    assert_eq!(classify("sec_ret"), Segment::Secret, "a separator inside a word does not hide it");
    assert_eq!(classify("configMapRef"), Segment::Reference);
}

#[test]
fn names_that_refer_to_a_secret_do_not_hold_one() {
    for name in ["secretName", "tokenTtl", "passwordLength", "secretKeyRef", "keyPath", "credentialsFile", "secretNamespace", "tokenType"] {
        assert!(!sensitive_name(name), "{name} refers to a secret");
    }
    // ... and nothing below a reference does: `key` there names an entry of the Secret.
    assert!(!sensitive_segments(&["spec", "env", "valueFrom", "secretKeyRef", "key"]));
    assert!(!sensitive_segments(&["spec", "tokenSecretRef", "name"]));
    // A secret above the reference still counts.
    assert!(sensitive_segments(&["spec", "credentials", "userRef", "name"]));
    assert!(sensitive_segments(&["spec", "db", "password"]));
    assert!(sensitive_segments(&["spec", "auth", "token", "value"]));
    assert!(!sensitive_segments(&["spec", "replicas"]));
}

/// A crdFile schema with sensitive fields at every kind of position (property, array item,
/// additionalProperties, anyOf) and one look-alike that is not (`format: date-time`).
pub(crate) fn schema() -> Value {
    json!({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "unlockCode": {"type": "string", "format": "password"},
            "users": {"type": "array", "items": {"type": "object", "properties": {"pin": {"type": "string", "format": "password"}, "login": {"type": "string"}}}},
            "extra": {"type": "object", "additionalProperties": {"type": "string", "format": "password"}},
            "either": {"anyOf": [{"type": "object", "properties": {"code": {"type": "string", "format": "password"}}}]},
            "plain": {"type": "string", "format": "date-time"},
        }},
    }})
}

#[test]
fn the_schema_marks_format_password_paths() {
    let s = Sensitivity::from_schema(&schema());
    assert_eq!(s.schema_paths(), ["spec.either.code", "spec.extra.*", "spec.unlockCode", "spec.users.*.pin"]);
    assert!(s.field("spec.unlockCode"));
    assert!(s.field(".spec.unlockCode"));
    assert!(s.field("spec.users.0.pin"));
    assert!(s.field("spec.extra.anything"));
    assert!(s.field("spec.either.code"));
    assert!(!s.field("spec.users.0.login"));
    assert!(!s.field("spec.plain"));
    // A rule on an object reports what it holds.
    assert!(s.field("spec"));
    assert!(s.field("spec.users"));
    // Without the schema only names count.
    assert!(!Sensitivity::default().field("spec.unlockCode"));
    assert!(Sensitivity::default().field("spec.password"));
}

#[test]
fn template_fields_are_judged_by_every_path_they_mention() {
    let s = Sensitivity::from_schema(&schema());
    assert!(s.field("{{ .spec.unlockCode }}"));
    assert!(s.field("{{ .spec.apiToken | default \"x\" }}"));
    assert!(s.field("{{ .children.secret.data.tls }}"), "anything read from an observed Secret");
    assert!(s.field("{{ get .children \"secrets.db.data.x\" }}"));
    assert!(s.field("{{ index .spec \"password\" }}"));
    assert!(!s.field("{{ replicasReady .children.deployment }}"));
    assert!(!s.field("{{ .spec.replicas }}"));
}

#[test]
fn pointers_from_mutations_are_judged_like_paths() {
    let s = Sensitivity::from_schema(&schema());
    assert!(s.pointer("/spec/password"));
    assert!(s.pointer("/spec/unlockCode"));
    assert!(s.pointer("/spec/users/3/pin"));
    assert!(!s.pointer("/spec/replicas"));
}
