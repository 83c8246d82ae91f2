//! `katalog::install::gateway_plan`: which configurations a Katalog declares, with which
//! failurePolicy and cleanupOnShutdown — the one definition the gateway and its RBAC share.

use katalog::install::{WebhookConfig, gateway_plan};

fn plan(security: &str, runtime: &str) -> katalog::install::GatewayPlan {
    let dir = ork_tests::TempDir::new("gw-plan");
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: p}}\nsecurity:\n{security}\nspec:\n  crds:\n    app:\n      apiTypes: {{group: x.dev, version: v1, kind: App, plural: apps}}\n      admission:\n        validation:\n          rules: [{{field: spec.a, exists: true, message: need a}}]\n        mutation:\n          rules: [{{field: spec.b, default: x}}]\n      operatorBox:\n        runtime: {{{runtime}}}\n"
    );
    let path = dir.write("katalog.yaml", &text);
    gateway_plan(&super::valid(&path).katalog)
}

#[test]
fn failure_policies_default_per_feature_and_namespace_protection_needs_rules() {
    let p = plan(
        "  webhooks: {admission: {enabled: true}, cleanupOnShutdown: true}\n  deletionProtection: {enabled: true}\n  namespaceProtection: {enabled: true}",
        "allowedNamespaces: [team-a]",
    );
    let got: Vec<(WebhookConfig, bool, bool)> = p.configs.iter().map(|d| (d.config, d.fail, d.cleanup_on_shutdown)).collect();
    assert_eq!(
        got,
        [
            (WebhookConfig::Validation, false, true),
            (WebhookConfig::Mutation, false, true),
            (WebhookConfig::DeletionProtection, true, false),
            (WebhookConfig::NamespaceProtection, true, false),
        ]
    );
    assert_eq!(p.config(WebhookConfig::NamespaceProtection).unwrap().crds, ["app"]);

    // No namespace rules anywhere: nothing to protect, no webhook. Admission not enabled: none.
    let p = plan("  namespaceProtection: {enabled: true, failurePolicy: Ignore, cleanupOnShutdown: true}\n  deletionProtection: {failurePolicy: Ignore}", "");
    assert_eq!(p.configs.iter().map(|d| (d.config, d.fail)).collect::<Vec<_>>(), [(WebhookConfig::DeletionProtection, false)]);
    let p = plan("  namespaceProtection: {failurePolicy: Ignore, cleanupOnShutdown: true, restrictedNamespaces: [kube-system]}", "");
    assert_eq!(p.configs.iter().map(|d| (d.config, d.fail, d.cleanup_on_shutdown)).collect::<Vec<_>>(), [(WebhookConfig::NamespaceProtection, false, true)]);
    assert!(!plan("  webhooks: {failurePolicy: Fail}", "").any(), "admission webhooks must be enabled explicitly");
}
