//! Engine and function-library tests: every construct, every function, with empty, missing and
//! non-numeric edge cases.

use super::*;
use crate::time::parse_rfc3339;
use serde_json::json;

fn data() -> Value {
    json!({
        "metadata": {"name": "web", "namespace": "shop", "labels": {"tier": "front"}},
        "spec": {
            "name": "web", "replicas": 3, "port": "8080", "ratio": 1.5, "enabled": true, "off": false,
            "empty": "", "zero": 0, "list": ["a", "b", "c"], "none": [],
            "ports": {"zeta": 1, "alpha": 2, "mid": 3},
            "nested": {"deep": {"value": "x"}}
        },
        "children": {
            "deployment": {"spec": {"replicas": 2}, "status": {"readyReplicas": 2,
                "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "ok"}]}},
            "job": {"status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}},
            "failedJob": {"status": {"active": 0, "conditions": [{"type": "Failed", "status": "True"}]}}
        },
        "expires": "2026-11-22T11:30:00Z"
    })
}

fn env() -> Env<'static> {
    // 2026-11-22T10:00:00Z
    Env::new(parse_rfc3339("2026-11-22T10:00:00Z").unwrap(), Rng::Seeded(7))
}

/// Where a test template failed, shown as `parse@OFFSET: MESSAGE` or `exec@POS: MESSAGE`.
#[derive(Debug, PartialEq)]
struct Failure(String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn render(src: &str) -> Result<String, Failure> {
    let t = Template::parse(src).map_err(|e| Failure(format!("parse@{}: {}", e.offset, e.message)))?;
    t.render(&data(), &mut env()).map_err(|e| Failure(format!("exec@{}: {}", e.pos, e.message)))
}

#[track_caller]
fn ok(src: &str, want: &str) {
    assert_eq!(render(src), Ok(want.to_string()), "template: {src}");
}

#[track_caller]
fn parse_err(src: &str, needle: &str) {
    match Template::parse(src) {
        Ok(_) => panic!("expected a parse error for {src}"),
        Err(e) => assert!(e.message.contains(needle), "{src}: {:?} does not contain {needle:?}", e.message),
    }
}

#[track_caller]
fn exec_err(src: &str, needle: &str) {
    match render(src) {
        Ok(v) => panic!("expected an exec error for {src}, got {v:?}"),
        Err(Failure(e)) => assert!(e.contains(needle) && e.starts_with("exec"), "{src}: {e:?} does not contain {needle:?}"),
    }
}

#[test]
fn literals_are_never_parsed() {
    ok("plain {not a template}", "plain {not a template}");
    ok("  keeps spaces  ", "  keeps spaces  ");
    let t = Template::parse("}} stray").unwrap();
    assert_eq!(t.literal(), Some("}} stray"));
}

#[test]
fn fields_and_missing_values() {
    ok("{{ .spec.name }}-{{ .metadata.namespace }}", "web-shop");
    ok("{{ .spec.missing }}", "");
    ok("{{ .spec.missing.deeper.still }}", "");
    ok("[{{ .nothing }}]", "[]");
    ok("{{ .spec.nested.deep.value }}", "x");
    ok("{{ .spec.replicas }} {{ .spec.ratio }} {{ .spec.enabled }}", "3 1.5 true");
    ok("{{ .spec.list }}", "[a b c]");
    ok("{{ .spec.ports }}", "map[alpha:2 mid:3 zeta:1]");
    exec_err("{{ .spec.name.first }}", "can't evaluate field `first` in a string");
}

#[test]
fn output_is_trimmed() {
    ok("  {{ .spec.name }}\n", "web");
}

#[test]
fn trim_markers() {
    ok("a  {{- .spec.name -}}  b", "awebb");
    ok("a {{ .spec.name -}}\n\n b", "a webb");
    ok("{{ range .spec.list -}}\n  {{ . }}\n{{- end }}", "abc");
    ok("x {{- /* comment */ -}} y", "xy");
    ok("x{{/* a comment */}}y", "xy");
}

#[test]
fn conditionals() {
    ok("{{ if .spec.enabled }}on{{ else }}off{{ end }}", "on");
    ok("{{ if .spec.off }}on{{ else }}off{{ end }}", "off");
    ok("{{ if .spec.missing }}a{{ else if .spec.zero }}b{{ else if .spec.list }}c{{ else }}d{{ end }}", "c");
    ok("{{ if .spec.empty }}a{{ end }}", "");
    ok("{{ if not .spec.none }}empty{{ end }}", "empty");
    ok("{{ with .spec.nested.deep }}{{ .value }}{{ end }}", "x");
    ok("{{ with .spec.missing }}yes{{ else }}no{{ end }}", "no");
    ok("{{ with .spec.missing }}a{{ else with .spec.name }}{{ . }}{{ end }}", "web");
}

#[test]
fn ranges() {
    ok("{{ range .spec.list }}{{ . }},{{ end }}", "a,b,c,");
    ok("{{ range $i, $v := .spec.list }}{{ $i }}={{ $v }} {{ end }}", "0=a 1=b 2=c");
    // Map keys are visited in sorted order, always.
    ok("{{ range $k, $v := .spec.ports }}{{ $k }}={{ $v }};{{ end }}", "alpha=2;mid=3;zeta=1;");
    ok("{{ range .spec.none }}x{{ else }}none{{ end }}", "none");
    ok("{{ range .spec.missing }}x{{ else }}none{{ end }}", "none");
    ok("{{ range .spec.list }}{{ if eq . \"b\" }}{{ break }}{{ end }}{{ . }}{{ end }}", "a");
    ok("{{ range .spec.list }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ . }}{{ end }}", "ac");
    ok("{{ range 3 }}{{ . }}{{ end }}", "012");
    ok("{{ range $v := .spec.list }}{{ $v }}{{ $.spec.name }}{{ end }}", "awebbwebcweb");
    exec_err("{{ range .spec.name }}x{{ end }}", "range can't iterate over a string");
}

#[test]
fn variables() {
    ok("{{ $n := .spec.name }}{{ $n }}-{{ $n }}", "web-web");
    ok("{{ $n := 1 }}{{ if true }}{{ $n = 2 }}{{ end }}{{ $n }}", "2");
    ok("{{ $.spec.name }}", "web");
    ok("{{ with .spec.nested }}{{ $.metadata.name }}{{ end }}", "web");
    parse_err("{{ $undefined }}", "undefined variable `$undefined`");
    parse_err("{{ if true }}{{ $x := 1 }}{{ end }}{{ $x }}", "undefined variable `$x`");
}

#[test]
fn pipelines_and_parens() {
    ok("{{ .spec.name | toUpper }}", "WEB");
    ok("{{ .spec.name | printf \"%s-%s\" \"x\" }}", "x-web");
    ok("{{ (index .spec.list 1) | toUpper }}", "B");
    ok("{{ (.children.deployment).status.readyReplicas }}", "2");
    ok("{{ add (len .spec.list) 1 }}", "4");
    ok("{{ .spec.missing | default \"8080\" }}", "8080");
}

#[test]
fn comparisons_and_logic() {
    ok("{{ eq .spec.name \"web\" }} {{ eq .spec.name \"x\" \"web\" }} {{ ne .spec.replicas 3 }}", "true true false");
    ok("{{ lt 1 2 }} {{ le 2 2 }} {{ gt 1.5 1 }} {{ ge \"b\" \"a\" }}", "true true true true");
    ok("{{ eq .spec.missing \"\" }}", "true");
    ok("{{ and .spec.enabled .spec.name }} {{ and .spec.off .spec.name }}", "web false");
    ok("{{ or .spec.empty .spec.name }} {{ or .spec.empty .spec.zero }}", "web 0");
    // `and` short-circuits: the failing `index` is never evaluated.
    ok("{{ and .spec.off (index .spec.list 99) }}", "false");
    exec_err("{{ eq .spec.port 8080 }}", "incompatible types for comparison");
    exec_err("{{ lt .spec.list 1 }}", "incompatible types");
}

#[test]
fn builtins() {
    ok("{{ len .spec.list }} {{ len .spec.name }} {{ len .spec.ports }} {{ len .spec.missing }}", "3 3 3 0");
    ok("{{ index .spec.list 0 }}{{ index .spec.ports \"mid\" }}{{ index .spec \"nested\" \"deep\" \"value\" }}", "a3x");
    ok("{{ index .spec.ports \"nope\" }}", "");
    exec_err("{{ index .spec.list 5 }}", "index 5 out of range");
    ok("{{ slice .spec.list 1 }} {{ slice .spec.name 0 2 }}", "[b c] we");
    ok("{{ print \"a\" 1 2 \"b\" }}", "a1 2b");
    ok(
        "{{ printf \"%d|%5s|%-4s|%q|%v|%.2f|%x|%t|%%|%03d\" 7 \"ab\" \"cd\" \"q\" .spec.list 3.14159 255 true 5 }}",
        "7|   ab|cd  |\"q\"|[a b c]|3.14|ff|true|%|005",
    );
    ok("{{ printf \"%d\" \"abc\" }}", "%!d(string=abc)");
    ok("{{ urlquery \"a b&c\" }}", "a+b%26c");
}

#[test]
fn conditional_functions() {
    ok("{{ default \"x\" .spec.missing }} {{ default \"x\" .spec.name }} {{ default \"x\" .spec.zero }}", "x web x");
    ok("{{ default \"x\" .spec.none }} {{ default \"x\" .spec.off }}", "x x");
    ok("{{ default \"only-fallback\" }}", "only-fallback");
    ok("{{ coalesce .spec.missing .spec.empty .spec.name }}", "web");
    ok("{{ coalesce .spec.missing .spec.empty }}", "");
    ok("{{ ternary \"yes\" \"no\" .spec.enabled }} {{ ternary \"yes\" \"no\" .spec.missing }}", "yes no");
    ok("{{ empty .spec.missing }} {{ empty .spec.zero }} {{ empty .spec.list }} {{ notEmpty .spec.name }}", "true true false true");
}

#[test]
fn string_functions() {
    ok("{{ toLower \"AbC\" }} {{ toUpper \"abc\" }}", "abc ABC");
    ok("[{{ trimSpace \"  a  \" }}][{{ trim \"\\tb\\n\" }}]", "[a][b]");
    ok("{{ trimPrefix \"app-\" \"app-web\" }} {{ trimSuffix \"-svc\" \"web-svc\" }} {{ trimPrefix \"x\" \"web\" }}", "web web web");
    ok("{{ hasPrefix \"we\" .spec.name }} {{ hasSuffix \"eb\" .spec.name }} {{ contains \"e\" .spec.name }} {{ contains \"z\" \"\" }}", "true true true false");
    ok("{{ replace \".\" \"-\" \"a.b.c\" }}", "a-b-c");
    exec_err("{{ replace \"\" \"-\" \"abc\" }}", "empty");
    ok("{{ split \",\" \"a,b,,c\" }} {{ len (split \",\" \"\") }}", "[a b  c] 0");
    ok("{{ join \"-\" .spec.list }} [{{ join \"-\" .spec.missing }}]", "a-b-c []");
    exec_err("{{ join \"-\" .spec.name }}", "join needs a list");
    ok("{{ repeat 3 \"ab\" }}", "ababab");
    exec_err("{{ repeat -1 \"ab\" }}", "between 0 and");
    ok("{{ truncate 2 \"hello\" }} {{ truncate 10 \"hi\" }}", "he hi");
    ok("{{ camelToKebab \"myAppName\" }} {{ camelToKebab \"HTTPServer\" }}", "my-app-name http-server");
}

#[test]
fn type_functions() {
    ok("{{ toInt \"42\" }} {{ toInt 3.9 }} {{ toInt .spec.missing }} {{ toInt true }}", "42 3 0 1");
    exec_err("{{ toInt \"abc\" }}", "\"abc\" is not a number");
    ok("{{ toFloat \"2.5\" }} {{ toFloat 2 }}", "2.5 2");
    ok("{{ toBool \"true\" }} {{ toBool \"0\" }} {{ toBool 1 }} {{ toBool .spec.missing }} {{ toBool \"yes\" }}", "true false true false true");
    exec_err("{{ toBool \"maybe\" }}", "not a boolean");
    ok("{{ toString 12 }}{{ toString .spec.enabled }}", "12true");
    ok(
        "{{ typeOf .spec.name }} {{ typeOf .spec.replicas }} {{ typeOf .spec.ratio }} {{ typeOf .spec.list }} {{ typeOf .spec.ports }} {{ typeOf .spec.missing }} {{ typeOf .spec.off }}",
        "string int float list map nil bool",
    );
    ok(
        "{{ typeMap .spec.ports }}{{ typeList .spec.list }}{{ typeString .spec.name }}{{ typeNumber .spec.zero }}{{ typeBool .spec.off }}{{ typeNull .spec.missing }}",
        "truetruetruetruetruetrue",
    );
    ok("{{ typeMap .spec.list }} {{ isScalar .spec.name }} {{ isScalar .spec.list }} {{ isComposite .spec.ports }}", "false true false true");
}

#[test]
fn math_functions() {
    ok("{{ add 1 2 3 }} {{ add 1 1.5 }} {{ add \"2\" 3 }}", "6 2.5 5");
    ok("{{ sub 5 7 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ div 7.0 2 }} {{ mod 7 3 }}", "-2 24 3 3.5 1");
    ok("{{ min 3 1 2 }} {{ max 3 1 2 }} {{ max 1 2.5 }} {{ abs -4 }}", "1 3 2.5 4");
    ok("{{ add .spec.replicas 1 }} {{ add .spec.missing 1 }}", "4 1");
    exec_err("{{ add \"a\" 1 }}", "add: \"a\" is not a number");
    exec_err("{{ div 1 0 }}", "division by zero");
    exec_err("{{ mod 1 0 }}", "modulo by zero");
    exec_err("{{ mul 9223372036854775807 2 }}", "overflow");
    exec_err("{{ add .spec.list 1 }}", "a list is not a number");
}

#[test]
fn data_functions() {
    ok("{{ toBase64 \"hello\" }} {{ fromBase64 \"aGVsbG8=\" }}", "aGVsbG8= hello");
    exec_err("{{ fromBase64 \"%%%\" }}", "invalid base64");
    ok("{{ toJSON .spec.ports }} {{ toJSON .spec.name }} {{ toJSON .spec.missing }}", "{\"alpha\":2,\"mid\":3,\"zeta\":1} \"web\" null");
    ok("{{ sha256sum \"abc\" }}", "ba7816bf");
    ok("{{ slugify \"My App_Name!!\" }} [{{ slugify \"--\" }}]", "my-app-name []");
    ok("{{ truncateName \"short\" }}", "short");
    let long = "a".repeat(70);
    let got = render(&format!("{{{{ truncateName \"{long}\" }}}}")).unwrap();
    assert_eq!(got.len(), 63);
    assert!(got.starts_with(&"a".repeat(54)) && got.as_bytes()[54] == b'-');
    ok("{{ truncateName 12 \"abcdefghijklmnop\" }}", "abc-f39dac6c");
    exec_err("{{ truncateName 5 \"abcdefghijklmnop\" }}", "no room");
}

#[test]
fn random_functions_are_seeded_and_well_formed() {
    let t = Template::parse("{{ randomAlphanumeric 24 }}|{{ randomHex 7 }}|{{ randomBase64 6 }}").unwrap();
    let a = t.render(&data(), &mut Env::new(0, Rng::Seeded(1))).unwrap();
    let b = t.render(&data(), &mut Env::new(0, Rng::Seeded(1))).unwrap();
    let c = t.render(&data(), &mut Env::new(0, Rng::Seeded(2))).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    let parts: Vec<&str> = a.split('|').collect();
    assert_eq!(parts[0].len(), 24);
    assert!(parts[0].chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(parts[1].len(), 7);
    assert!(parts[1].chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(base64_decode(parts[2]).unwrap().len(), 6);
    let os = t.render(&data(), &mut Env::new(0, Rng::Os)).unwrap();
    assert_eq!(os.len(), a.len());
    ok("{{ randomHex 0 }}", "");
    exec_err("{{ randomHex 100000 }}", "between 0 and 4096");
}

#[test]
fn collection_functions() {
    ok("{{ listHas .spec.list \"b\" }} {{ listHas .spec.list \"z\" }} {{ listHas .spec.missing \"a\" }}", "true false false");
    ok("{{ mapKeys .spec.ports }} {{ mapKeys .spec.missing }}", "[alpha mid zeta] []");
}

#[test]
fn kubernetes_helpers() {
    ok("{{ get .children.deployment \"status.readyReplicas\" }} [{{ get .children.missing \"a.b\" }}]", "2 []");
    ok("{{ get .spec \"list.1\" }}", "b");
    ok("{{ getOr .spec \"nope\" \"fb\" }} {{ getOr .spec \"name\" \"fb\" }}", "fb web");
    ok("{{ name . }}/{{ namespace . }} {{ labels . }} {{ annotations . }}", "web/shop map[tier:front] map[]");
    ok("[{{ phase . }}]", "[]");
    ok(
        "{{ hasCondition .children.deployment \"Available\" }} {{ hasCondition .children.deployment \"Available\" \"False\" }} {{ hasCondition .children.nope \"Available\" }}",
        "true false false",
    );
    ok(
        "{{ conditionReason .children.deployment \"Available\" }}|{{ conditionMessage .children.deployment \"Available\" }}|{{ conditionReason .children.deployment \"X\" }}",
        "MinimumReplicasAvailable|ok|",
    );
    ok(
        "{{ replicasReady .children.deployment }} {{ replicasReady .children.missing }} {{ readyReplicas .children.deployment }} {{ desiredReplicas .children.deployment }} {{ desiredReplicas .children.missing }}",
        "true false 2 2 0",
    );
    ok(
        "{{ jobSucceeded .children.job }} {{ jobFailed .children.job }} {{ jobSucceeded .children.failedJob }} {{ jobFailed .children.failedJob }} {{ jobActive .children.job }} {{ jobSucceeded .children.missing }}",
        "true false false true false false",
    );
}

#[test]
fn time_functions() {
    ok("{{ timeUntil .expires }} {{ timeSince .expires }}", "1h30m0s -1h30m0s");
    exec_err("{{ timeUntil \"soon\" }}", "not an RFC 3339 time");
    ok("{{ durationSeconds \"1h30m\" }} {{ durationSeconds \"1.5s\" }}", "5400 1.5");
    exec_err("{{ durationSeconds \"later\" }}", "not a duration");
}

#[test]
fn parse_errors_are_positioned() {
    let e = Template::parse("name: {{ .spec.name").unwrap_err();
    assert_eq!(e.offset, 6);
    assert!(e.message.contains("unclosed action"));
    let e = Template::parse("x {{ toUper .spec.name }}").unwrap_err();
    assert_eq!(e.offset, 5);
    assert!(e.message.contains("function `toUper` not defined; did you mean `toUpper`?"), "{}", e.message);
    parse_err("{{ upper .x }}", "did you mean `toUpper`");
    parse_err("{{ add 1 }}", "wrong number of arguments for `add`: want at least 2, got 1");
    parse_err("{{ 1 | toUpper 2 }}", "want 1, got 2 (including the piped value)");
    parse_err("{{ if .x }}a", "missing its `{{ end }}`");
    parse_err("{{ end }}", "unexpected `{{ end }}`");
    parse_err("{{ else }}", "unexpected `{{ else }}`");
    parse_err("{{ break }}", "outside of a range");
    parse_err("{{ }}", "empty action");
    parse_err("{{ \"abc }}", "unterminated quoted string");
    parse_err("{{ (len .x }}", "unclosed `(`");
    parse_err("{{ .spec.x 1 }}", "only a function can take arguments");
    parse_err("{{ .a | .b }}", "only a function can take arguments");
    parse_err("{{ define \"x\" }}{{ end }}", "not supported");
    parse_err("{{ 1.2.3 }}", "bad number syntax");
    parse_err("{{ # }}", "unexpected character");
    parse_err("{{/* open", "unclosed comment");
}

#[test]
fn notes_functions() {
    struct Declared;
    impl Names for Declared {
        fn has(&self, n: &str) -> bool {
            matches!(n, "isProd" | "label" | "loop")
        }
    }
    let mut notes = Notes::new();
    notes.insert("isProd".into(), Template::parse_with("{{ eq .metadata.namespace \"shop\" }}", &Declared).unwrap());
    notes.insert("label".into(), Template::parse_with("{{ .spec.name }}-{{ if isProd }}prod{{ end }}", &Declared).unwrap());
    notes.insert("loop".into(), Template::parse_with("{{ loop }}", &Declared).unwrap());
    let run = |src: &str| {
        let t = Template::parse_with(src, &Declared).unwrap();
        t.render(&data(), &mut Env::new(0, Rng::Seeded(0)).with_notes(&notes))
    };
    assert_eq!(run("{{ if isProd }}yes{{ end }}").unwrap(), "yes");
    assert_eq!(run("{{ label }}").unwrap(), "web-prod");
    let e = run("{{ loop }}").unwrap_err();
    assert!(e.message.contains("nests deeper than"), "{}", e.message);
    parse_err("{{ isProd 1 }}", "not defined");
    assert!(Template::parse_with("{{ isProd 1 }}", &Declared).unwrap_err().message.contains("want 0, got 1"));
}

#[test]
fn runaway_templates_are_bounded() {
    let e = render("{{ range 2000 }}{{ range 2000 }}x{{ end }}{{ end }}").unwrap_err();
    assert!(e.0.contains("exceeded"), "{e}");
}

#[test]
fn println_joins_with_spaces_and_ends_the_line() {
    let t = Template::parse("[{{ println \"a\" 1 }}]").unwrap();
    assert_eq!(t.render(&data(), &mut env()).unwrap(), "[a 1\n]");
}
