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

// ---------------------------------------------------------------------------------------------
// The rest of upstream's library (reference §8).

#[track_caller]
fn ok_with(data: &Value, src: &str, want: &str) {
    let t = Template::parse(src).unwrap_or_else(|e| panic!("{src}: {}", e.message));
    assert_eq!(t.render(data, &mut env()).map_err(|e| e.message), Ok(want.to_string()), "template: {src}");
}

#[test]
fn every_upstream_function_exists_or_is_refused() {
    // Reference §8 "Function domains", in its order.
    let upstream = "cronToMap cronFromMap cronFromAny cronNormalize cronDescribe cronValid cronField cronMinute cronHour cronDom cronMonth \
        cronDow cronExpr semverMajor semverMinor semverPatch semverValid semverCompare semverBump semverConstraint toLower toUpper trimSpace \
        trim trimPrefix trimSuffix hasPrefix hasSuffix contains replace split join repeat camelToKebab truncate add sub mul div mod min max \
        clamp abs ternary boolTernary boolDefault coalesce default empty notEmpty toInt toFloat toBool toString typeOf typeMap typeList \
        typeString typeNumber typeBool typeNull len Empty isScalar isComposite toBase64 fromBase64 toJSON sha256sum slugify truncateName \
        repoSlug lookup randomAlphanumeric randomHex randomBase64 timeAgo timeSince timeFormat isExpired durationSeconds durationAdd \
        durationValid timeUntil inBusinessHours cidrContains ipValid ipIsPrivate parseQuantity formatQuantity sumQuantity listHas listGet \
        listLen mapGet mapKeys mapValues mapPick mapOmit getOr getStringOr getIntOr getBoolOr asList asMap asString get meta name namespace \
        labels annotations spec status phase resourceName resourceNamespace resourceUID resourceVersion creationTimestamp ownerKind ownerName \
        hasCondition conditionReason conditionMessage resourceExists isTerminating generation observedGeneration isSynced replicasReady \
        allReplicasReady desiredReplicas readyReplicas availableReplicas updatedReplicas serviceClusterIP serviceNodePort \
        serviceLoadBalancerIP serviceLoadBalancerHost endpointsReady containerImage containerEnv containerPort containerPortByName \
        containerPorts containerCount jobSucceeded jobFailed jobActive getServeTarget getServeAlias getServeSource hasServeTarget \
        hasServeAlias hasServeSource isDirectApply getLabel getAnnotation isDNS1123Subdomain isValidLabelValue isValidLabelKey \
        isValidAnnotationKey promAboveThreshold promBelowThreshold";
    for name in upstream.split_whitespace() {
        let exists = funcs::builtin(name).is_some();
        let refused = funcs::refused(name).is_some();
        assert!(exists != refused, "{name}: must be either a builtin or refused (builtin: {exists}, refused: {refused})");
    }
    // Every signature in the table starts with the function's name (docs/templates.md lists them).
    for f in funcs::all() {
        assert!(f.signature.starts_with(f.name), "{}: signature {:?}", f.name, f.signature);
    }
}

#[test]
fn refused_functions_fail_at_parse_time_with_what_to_use() {
    parse_err("{{ lookup \"v1\" \"Secret\" \"ns\" \"x\" }}", "function `lookup` is not supported (rendering never reads the cluster)");
    parse_err("{{ lookup \"v1\" \"Secret\" \"ns\" \"x\" }}", "observe.cross");
    parse_err("{{ lookup \"v1\" \"Secret\" \"ns\" \"x\" }}", ".cross.<as>");
    parse_err("{{ promAboveThreshold \"q\" 3 }}", "not supported (rendering never queries Prometheus)");
    parse_err("{{ getServeTarget . }}", "getAnnotation");
    let e = Template::parse("x {{ isDirectApply . }}").unwrap_err();
    assert_eq!(e.offset, 5);
}

#[test]
fn semver_functions() {
    ok("{{ semverMajor \"v1.2.3\" }} {{ semverMinor \"1.2.3-rc.1+b5\" }} {{ semverPatch \"1.2\" }}", "1 2 0");
    ok("{{ semverValid \"1.2.3\" }} {{ semverValid \"v1.2.3-alpha.1\" }} {{ semverValid \"1.02.3\" }} {{ semverValid \"latest\" }}", "true true false false");
    exec_err("{{ semverMajor \"latest\" }}", "\"latest\" is not a semantic version");
    ok(
        "{{ semverCompare \"1.2.3\" \"1.10.0\" }} {{ semverCompare \"2.0.0\" \"v2.0.0\" }} {{ semverCompare \"1.0.0\" \"1.0.0-rc.1\" }} {{ semverCompare \"1.0.0-alpha.2\" \"1.0.0-alpha.10\" }} {{ semverCompare \"1.0.0-alpha\" \"1.0.0-alpha.1\" }}",
        "-1 0 1 -1 -1",
    );
    ok(
        "{{ semverBump \"major\" \"1.2.3\" }} {{ semverBump \"minor\" \"v1.2.3\" }} {{ semverBump \"patch\" \"1.2.3\" }} {{ semverBump \"patch\" \"1.2.3-rc.1\" }}",
        "2.0.0 v1.3.0 1.2.4 1.2.3",
    );
    exec_err("{{ semverBump \"huge\" \"1.2.3\" }}", "one of major, minor or patch");
    let cases = [
        (">=1.2.0, <2.0.0", "1.5.0", true),
        (">=1.2.0 <2.0.0", "2.0.0", false),
        (">= 1.2", "1.2.0", true),
        ("^1.2.3", "1.9.0", true),
        ("^1.2.3", "2.0.0", false),
        ("^0.2.3", "0.3.0", false),
        ("^0.2.3", "0.2.9", true),
        ("~1.2.3", "1.2.9", true),
        ("~1.2.3", "1.3.0", false),
        ("1.x", "1.9.9", true),
        ("1.2.*", "1.3.0", false),
        ("*", "0.0.1", true),
        ("<1.0.0 || >=3.0.0", "3.1.0", true),
        ("<1.0.0 || >=3.0.0", "2.0.0", false),
        ("!=1.2.3", "1.2.3", false),
        ("=1.2.3", "v1.2.3", true),
        (">1.2", "1.2.9", false),
        ("<=1.2", "1.2.9", true),
    ];
    for (c, v, want) in cases {
        ok(&format!("{{{{ semverConstraint \"{c}\" \"{v}\" }}}}"), &want.to_string());
    }
    exec_err("{{ semverConstraint \">>1\" \"1.0.0\" }}", "is not a version constraint");
}

#[test]
fn quantity_functions() {
    ok(
        "{{ parseQuantity \"500m\" }} {{ parseQuantity \"1Gi\" }} {{ parseQuantity \"2k\" }} {{ parseQuantity \"1.5\" }} {{ parseQuantity \"1e3\" }}",
        "0.5 1073741824 2000 1.5 1000",
    );
    ok("{{ parseQuantity \"100Mi\" }} {{ parseQuantity \"-250m\" }} {{ parseQuantity 3 }}", "104857600 -0.25 3");
    exec_err("{{ parseQuantity \"1GB\" }}", "is not a Kubernetes quantity");
    exec_err("{{ parseQuantity \"abc\" }}", "is not a Kubernetes quantity");
    ok(
        "{{ formatQuantity \"2048Mi\" }} {{ formatQuantity \"1536Mi\" }} {{ formatQuantity \"0.5\" }} {{ formatQuantity \"1500m\" }} {{ formatQuantity \"1000\" }}",
        "2Gi 1536Mi 500m 1500m 1k",
    );
    ok(
        "{{ formatQuantity \"binary\" 1073741824 }} {{ formatQuantity \"decimal\" \"1Gi\" }} {{ formatQuantity 0 }} {{ formatQuantity \"0.1m\" }}",
        "1Gi 1073741824 0 100u",
    );
    exec_err("{{ formatQuantity \"octal\" 1 }}", "is not a quantity format");
    ok("{{ sumQuantity \"500m\" \"1\" \"250m\" }} {{ sumQuantity \"1Gi\" \"512Mi\" }} {{ sumQuantity \"1Gi\" \"1Gi\" }}", "1750m 1536Mi 2Gi");
    let data = json!({"reqs": ["100m", "200m", "0.7"]});
    ok_with(&data, "{{ sumQuantity .reqs }} {{ sumQuantity .none }}", "1 0");
    // Finer than a nano rounds up, as Kubernetes does.
    ok("{{ formatQuantity \"0.0000000001\" }}", "1n");
}

#[test]
fn cron_functions() {
    ok(
        "{{ cronValid \"*/15 * * * *\" }} {{ cronValid \"@daily\" }} {{ cronValid \"0 0 * * MON-FRI\" }} {{ cronValid \"61 * * * *\" }} {{ cronValid \"* * *\" }}",
        "true true true false false",
    );
    ok("{{ cronNormalize \"@daily\" }}|{{ cronNormalize \"0  9 * jan,Jun mon-fri\" }}|{{ cronNormalize \"0 0 ? * 7\" }}", "0 0 * * *|0 9 * 1,6 1-5|0 0 * * 7");
    exec_err("{{ cronNormalize \"5-1 * * * *\" }}", "is not a five-field cron expression");
    ok("{{ $m := cronToMap \"30 2 1 * *\" }}{{ $m.minute }}/{{ $m.hour }}/{{ $m.dom }}/{{ $m.month }}/{{ $m.dow }}", "30/2/1/*/*");
    let data = json!({"sched": {"minute": "0", "hour": "*/6"}, "parts": ["5", "4", "*", "*", "sun"]});
    ok_with(
        &data,
        "{{ cronFromMap .sched }}|{{ cronFromAny .sched }}|{{ cronFromAny .parts }}|{{ cronFromAny \"@hourly\" }}",
        "0 */6 * * *|0 */6 * * *|5 4 * * 0|0 * * * *",
    );
    ok("{{ cronField \"hour\" \"0 12 * * *\" }} {{ cronField \"dow\" \"0 12 * * 1-5\" }}", "12 1-5");
    exec_err("{{ cronField \"second\" \"0 12 * * *\" }}", "is not a cron field name");
    ok(
        "{{ cronMinute \"1 2 3 4 5\" }}{{ cronHour \"1 2 3 4 5\" }}{{ cronDom \"1 2 3 4 5\" }}{{ cronMonth \"1 2 3 4 5\" }}{{ cronDow \"1 2 3 4 5\" }}",
        "12345",
    );
    ok("{{ cronExpr \"0\" \"3\" \"\" \"\" \"sat\" }}", "0 3 * * 6");
    exec_err("{{ cronExpr \"0\" \"25\" \"*\" \"*\" \"*\" }}", "is not a five-field cron expression");
    ok("{{ cronDescribe \"* * * * *\" }}", "every minute");
    ok("{{ cronDescribe \"@daily\" }}", "at 00:00 every day");
    ok("{{ cronDescribe \"*/15 * * * *\" }}", "every 15 minutes");
    ok("{{ cronDescribe \"30 9 * * 1-5\" }}", "at 09:30 on Monday to Friday");
    ok("{{ cronDescribe \"0 * * * *\" }}", "at minute 0 of every hour");
    ok("{{ cronDescribe \"0 0 1 1 *\" }}", "at 00:00 on day-of-month 1 in Jan");
}

#[test]
fn net_functions() {
    ok(
        "{{ cidrContains \"10.0.0.0/8\" \"10.2.3.4\" }} {{ cidrContains \"10.0.0.0/8\" \"11.0.0.1\" }} {{ cidrContains \"0.0.0.0/0\" \"8.8.8.8\" }}",
        "true false true",
    );
    ok(
        "{{ cidrContains \"fd00::/8\" \"fd12::1\" }} {{ cidrContains \"2001:db8::/32\" \"2001:db9::1\" }} {{ cidrContains \"10.0.0.0/8\" \"fd00::1\" }}",
        "true false false",
    );
    ok("{{ cidrContains \"192.168.1.7/32\" \"::ffff:192.168.1.7\" }}", "true");
    exec_err("{{ cidrContains \"10.0.0.0/33\" \"10.0.0.1\" }}", "is not a CIDR range");
    exec_err("{{ cidrContains \"10.0.0.0/8\" \"ten\" }}", "is not an IP address");
    ok("{{ ipValid \"10.1.2.3\" }} {{ ipValid \"::1\" }} {{ ipValid \"300.1.1.1\" }} {{ ipValid \"\" }}", "true true false false");
    ok(
        "{{ ipIsPrivate \"10.1.2.3\" }} {{ ipIsPrivate \"172.16.0.1\" }} {{ ipIsPrivate \"192.168.0.1\" }} {{ ipIsPrivate \"8.8.8.8\" }} {{ ipIsPrivate \"fd00::1\" }} {{ ipIsPrivate \"2001:db8::1\" }} {{ ipIsPrivate \"nope\" }}",
        "true true true false true false false",
    );
}

#[test]
fn validation_helpers() {
    ok("{{ isDNS1123Subdomain \"my-app.example.com\" }} {{ isDNS1123Subdomain \"My_App\" }} {{ isDNS1123Label \"a.b\" }}", "true false false");
    ok("{{ isValidLabelValue \"\" }} {{ isValidLabelValue \"team_a-1\" }} {{ isValidLabelValue \"-x\" }}", "true true false");
    ok("{{ isValidLabelKey \"platform.io/tier\" }} {{ isValidAnnotationKey \"a/b/c\" }}", "true false");
    ok("{{ isValidEmail \"ops@example.com\" }} {{ isValidEmail \"ops@localhost\" }} {{ isValidEmail \"a b@x.io\" }}", "true false false");
    ok(
        "{{ isValidGitURL \"https://github.com/org/repo.git\" }} {{ isValidGitURL \"git@github.com:org/repo.git\" }} {{ isValidGitURL \"repo\" }}",
        "true true false",
    );
    ok(
        "{{ isValidImage \"nginx\" }} {{ isValidImage \"ghcr.io/org/app:1.2\" }} {{ isValidImage \"localhost:5000/app@sha256:0123456789abcdef0123456789abcdef\" }} {{ isValidImage \"Nginx\" }} {{ isValidImage \"app:\" }}",
        "true true true false false",
    );
    ok(
        "{{ isValidPort 8080 }} {{ isValidPort \"443\" }} {{ isValidPort 0 }} {{ isValidPort 70000 }} {{ isValidPort \"http\" }}",
        "true true false false false",
    );
}

#[test]
fn more_conditional_type_and_math_functions() {
    ok("{{ boolTernary \"on\" \"off\" \"false\" }} {{ boolTernary \"on\" \"off\" true }} {{ ternary \"on\" \"off\" \"false\" }}", "off on on");
    ok(
        "{{ .spec.off | boolDefault true }} {{ .spec.missing | boolDefault true }} {{ \"no\" | boolDefault true }} {{ .spec.enabled | boolDefault false }}",
        "false true false true",
    );
    ok("{{ Empty .spec.empty }} {{ Empty .spec.name }}", "true false");
    ok("{{ clamp 1 10 0 }} {{ clamp 1 10 20 }} {{ clamp 1 10 5 }} {{ clamp 0.5 1.5 2 }}", "1 10 5 1.5");
    exec_err("{{ clamp 10 1 5 }}", "MIN ≤ MAX");
    ok(
        "{{ repoSlug \"https://github.com/orkspace/orkestra.git\" }} {{ repoSlug \"git@github.com:org/repo.git\" }} {{ repoSlug \"ssh://git@host:22/a/b/c/\" }} {{ repoSlug \"org/repo\" }}",
        "orkspace/orkestra org/repo b/c org/repo",
    );
}

#[test]
fn more_collection_access_and_coercion_functions() {
    ok(
        "{{ listGet .spec.list 1 }} {{ listGet .spec.list -1 }} [{{ listGet .spec.list 9 }}] [{{ listGet .spec.missing 0 }}] {{ listLen .spec.list }} {{ listLen .spec.missing }}",
        "b c [] [] 3 0",
    );
    exec_err("{{ listGet .spec.ports 0 }}", "listGet needs a list, got a map");
    ok("{{ mapGet .spec.ports \"mid\" }} [{{ mapGet .spec.ports \"x\" }}] {{ mapGet .spec.ports \"x\" 9 }} {{ mapValues .spec.ports }}", "3 [] 9 [2 3 1]");
    ok(
        "{{ mapPick .spec.ports \"alpha\" \"zeta\" }} {{ mapOmit .spec.ports \"alpha\" }} {{ mapPick .spec.ports .spec.list }} {{ mapOmit .spec.missing \"a\" }}",
        "map[alpha:2 zeta:1] map[mid:3 zeta:1] map[] map[]",
    );
    ok(
        "{{ getStringOr .spec \"name\" \"x\" }} {{ getStringOr .spec \"empty\" \"x\" }} {{ getStringOr .spec \"replicas\" \"x\" }} {{ getStringOr .spec \"list\" \"x\" }}",
        "web x 3 x",
    );
    ok("{{ getIntOr .spec \"replicas\" 1 }} {{ getIntOr .spec \"port\" 1 }} {{ getIntOr .spec \"name\" 1 }} {{ getIntOr .spec \"ratio\" 1 }}", "3 8080 1 1");
    ok(
        "{{ getBoolOr .spec \"enabled\" false }} {{ getBoolOr .spec \"off\" true }} {{ getBoolOr .spec \"missing\" true }} {{ getBoolOr .spec \"name\" \"no\" }}",
        "true false true false",
    );
    ok("{{ asList .spec.list }} {{ asList .spec.missing }} {{ asList .spec.name }}", "[a b c] [] [web]");
    ok("{{ asMap .spec.nested.deep }} {{ asMap .spec.name }} {{ (asMap \"{\\\"a\\\":1}\").a }}", "map[value:x] map[] 1");
    ok(
        "{{ asString .spec.list }}|{{ asString .spec.missing }}|{{ asString .spec.replicas }}|{{ asString .spec.nested }}",
        "[\"a\",\"b\",\"c\"]||3|{\"deep\":{\"value\":\"x\"}}",
    );
}

fn cluster_objects() -> Value {
    json!({
        "cr": {
            "metadata": {"name": "db", "namespace": "shop", "uid": "u-1", "resourceVersion": "42", "generation": 3,
                "creationTimestamp": "2026-11-22T09:00:00Z", "labels": {"team": "a"}, "annotations": {"note": "x"},
                "ownerReferences": [{"kind": "ReplicaSet", "name": "rs-1"}, {"kind": "Deployment", "name": "web", "controller": true}]},
            "spec": {"size": 1},
            "status": {"observedGeneration": 3}
        },
        "old": {"metadata": {"generation": 4, "deletionTimestamp": "2026-11-22T09:59:00Z"}, "status": {"observedGeneration": 3}},
        "deployments": {
            "a": {"spec": {"replicas": 2}, "status": {"readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 1}},
            "b": {"spec": {"replicas": 1}, "status": {"readyReplicas": 0}}
        },
        "ready": {"a": {"spec": {"replicas": 1}, "status": {"readyReplicas": 1}}},
        "svc": {"spec": {"clusterIP": "10.96.0.10", "ports": [{"name": "http", "port": 80, "nodePort": 30080}, {"name": "metrics", "port": 9090, "nodePort": 30090}]},
            "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}, {"ip": "203.0.113.7"}]}}},
        "eps": {"subsets": [{"addresses": [{"ip": "10.0.0.1"}]}]},
        "slices": {"s1": {"endpoints": [{"addresses": ["10.0.0.2"], "conditions": {"ready": false}}]},
                   "s2": {"endpoints": [{"addresses": ["10.0.0.3"]}]}},
        "deploy": {"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "web:1", "env": [{"name": "MODE", "value": "prod"}], "ports": [{"name": "http", "containerPort": 8080}]},
            {"name": "sidecar", "image": "proxy:2", "ports": [{"name": "admin", "containerPort": 9901}, {"containerPort": 15000}]}
        ]}}}},
        "cronjob": {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "task", "image": "busybox"}]}}}}}}
    })
}

#[test]
fn more_kubernetes_object_helpers() {
    let d = cluster_objects();
    ok_with(&d, "{{ meta .cr | mapKeys | len }} {{ spec .cr }} {{ status .cr }} {{ spec .missing }}", "9 map[size:1] map[observedGeneration:3] map[]");
    ok_with(
        &d,
        "{{ resourceName .cr }}/{{ resourceNamespace .cr }} {{ resourceUID .cr }} {{ resourceVersion .cr }} {{ creationTimestamp .cr }}",
        "db/shop u-1 42 2026-11-22T09:00:00Z",
    );
    ok_with(&d, "{{ ownerKind .cr }}/{{ ownerName .cr }} [{{ ownerKind .old }}]", "Deployment/web []");
    ok_with(&d, "{{ resourceExists .cr }} {{ resourceExists .missing }} {{ isTerminating .cr }} {{ isTerminating .old }}", "true false false true");
    ok_with(&d, "{{ generation .cr }} {{ observedGeneration .cr }} {{ isSynced .cr }} {{ isSynced .old }} {{ isSynced .missing }}", "3 3 true false false");
    ok_with(&d, "{{ getLabel .cr \"team\" }} {{ getAnnotation .cr \"note\" }} [{{ getLabel .cr \"nope\" }}] [{{ getAnnotation .missing \"x\" }}]", "a x [] []");
}

#[test]
fn replica_service_and_container_helpers() {
    let d = cluster_objects();
    ok_with(
        &d,
        "{{ allReplicasReady .deployments }} {{ allReplicasReady .ready }} {{ allReplicasReady .deployments.a }} {{ allReplicasReady .missing }}",
        "false true true false",
    );
    ok_with(&d, "{{ availableReplicas .deployments.a }} {{ updatedReplicas .deployments.a }} {{ availableReplicas .missing }}", "2 1 0");
    ok_with(
        &d,
        "{{ serviceClusterIP .svc }} {{ serviceNodePort .svc }} {{ serviceNodePort .svc \"metrics\" }} {{ serviceNodePort .svc 9090 }} [{{ serviceNodePort .missing }}]",
        "10.96.0.10 30080 30090 30090 []",
    );
    ok_with(&d, "{{ serviceLoadBalancerIP .svc }} {{ serviceLoadBalancerHost .svc }} [{{ serviceLoadBalancerIP .missing }}]", "203.0.113.7 lb.example.com []");
    ok_with(
        &d,
        "{{ endpointsReady .eps }} {{ endpointsReady .slices }} {{ endpointsReady .slices.s1 }} {{ endpointsReady .missing }}",
        "true true false false",
    );
    ok_with(
        &d,
        "{{ containerImage .deploy }} {{ containerImage .deploy \"sidecar\" }} {{ containerImage .cronjob }} [{{ containerImage .missing }}]",
        "web:1 proxy:2 busybox []",
    );
    ok_with(&d, "{{ containerEnv .deploy \"MODE\" }} [{{ containerEnv .deploy \"MODE\" \"sidecar\" }}]", "prod []");
    ok_with(
        &d,
        "{{ containerPort .deploy }} {{ containerPort .deploy \"sidecar\" }} {{ containerPortByName .deploy \"admin\" }} {{ containerPorts .deploy }}",
        "8080 9901 9901 [8080 9901 15000]",
    );
    ok_with(&d, "{{ containerCount .deploy }} {{ containerCount .cronjob }} {{ containerCount .missing }}", "2 1 0");
}

#[test]
fn more_time_functions() {
    // env(): 2026-11-22T10:00:00Z, a Sunday.
    ok(
        "{{ timeAgo \"2026-11-22T09:59:15Z\" }} {{ timeAgo \"2026-11-22T07:00:00Z\" }} {{ timeAgo \"2026-11-20T10:00:00Z\" }} {{ timeAgo .expires }}",
        "45s ago 3h ago 2d ago in 1h",
    );
    ok(
        "{{ timeFormat \"2006-01-02 15:04\" .expires }}|{{ timeFormat \"Jan 2, 2006 at 3:04PM MST\" .expires }}|{{ timeFormat \"Monday 02/01/06\" .expires }}",
        "2026-11-22 11:30|Nov 22, 2026 at 11:30AM UTC|Sunday 22/11/26",
    );
    ok(
        "{{ timeFormat \"RFC3339\" \"2026-11-22T12:30:00+01:00\" }} {{ timeFormat \"January _2\" \"2026-01-05T00:00:00Z\" }}",
        "2026-11-22T11:30:00Z January  5",
    );
    ok("{{ isExpired .expires }} {{ isExpired \"2026-11-22T09:00:00Z\" }} {{ isExpired \"\" }}", "false true false");
    ok(
        "{{ durationAdd \"1h\" \"2026-11-22T10:00:00Z\" }} {{ durationAdd \"1h\" \"30m\" }} {{ durationAdd \"-30m\" .expires }}",
        "2026-11-22T11:00:00Z 1h30m0s 2026-11-22T11:00:00Z",
    );
    ok("{{ durationValid \"1h30m\" }} {{ durationValid \"soon\" }}", "true false");
    ok("{{ inBusinessHours }}", "false");
    let monday = |t: &str| Env::new(parse_rfc3339(t).unwrap(), Rng::Seeded(7));
    let t = Template::parse("{{ inBusinessHours }} {{ inBusinessHours \"08:00\" \"09:30\" }}").unwrap();
    assert_eq!(t.render(&data(), &mut monday("2026-11-23T09:15:00Z")).unwrap(), "true true");
    assert_eq!(t.render(&data(), &mut monday("2026-11-23T17:00:00Z")).unwrap(), "false false");
    exec_err("{{ inBusinessHours \"9am\" \"5pm\" }}", "is not a time of day");
}

#[test]
fn docs_list_every_function_and_every_refusal() {
    let docs = include_str!("../../../docs/templates.md");
    let words: std::collections::HashSet<&str> = docs.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).collect();
    for f in funcs::all() {
        assert!(words.contains(f.name), "docs/templates.md does not mention `{}`", f.name);
    }
    for r in funcs::REFUSED {
        assert!(words.contains(r.name), "docs/templates.md does not list the refused `{}`", r.name);
    }
}

#[test]
fn may_read_finds_every_way_a_template_can_reach_a_top_level_key() {
    let reads = |src: &str| Template::parse(src).unwrap().may_read("children");
    for src in [
        "{{ .children.deployment.status.readyReplicas }}",
        "{{ $.children }}",
        "{{ toJSON . }}",
        "{{ $ }}",
        "{{ $all := . }}{{ $all.spec }}",
        "{{ range $k, $v := . }}{{ $k }}{{ end }}",
        "{{ if .spec.enabled }}{{ with .children }}x{{ end }}{{ end }}",
        "{{ (index . \"children\").deployment }}",
        "{{ range .spec.list }}{{ . }}{{ end }}",
        "{{ default \"a\" (.children.job.status.succeeded) }}",
    ] {
        assert!(reads(src), "{src} may read .children");
    }
    for src in ["{{ .metadata.name }}", "plain text", "{{ .spec.replicas | default 1 }}", "{{ $n := .spec.name }}{{ $n.x }}{{ printf \"%s\" $.spec.name }}"] {
        assert!(!reads(src), "{src} reads no .children");
    }
}
