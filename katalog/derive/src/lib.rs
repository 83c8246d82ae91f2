//! `#[derive(Decode)]` for the Katalog model.
//!
//! Generates strict, error-collecting decoders from a span-preserving YAML tree. Serde's derive
//! stops at the first error; Katalog authors want every mistake in one run, each with
//! file:line:col, the YAML path and a suggestion. So each struct decodes field by field: a field
//! that fails records a diagnostic and keeps its default, and decoding goes on.
//!
//! Field names are the camelCase form of the Rust field name unless `#[decode(rename = "..")]`.
//! Field attributes: `rename = ".."`, `flatten` (fields of another `DecodeFields` struct appear
//! inline), `required`, `with = path` (a `fn(&Node, &mut Cx) -> Option<T>`), `unsupported = ".."`
//! (parsed, then reported as "parsed but not supported yet"), `rejected = ".."` (parsed, then an
//! `unsupported` error: for documents whose meaning would change if the field were skipped, such
//! as an E2E test's cluster provider), `span` (receives the node's span),
//! `skip` (not read from YAML). Struct attribute: `include = "key1, key2"` — the block accepts
//! `include: FILE` whose top-level keys are those listed; they are merged under the inline ones.
//!
//! Besides the decoder, each struct lists its fields (`DecodeFields::FIELDS`: YAML key, Rust
//! ident, whether it is `unsupported`/`rejected`) and `Walk::reach` registers that list and the
//! lists of every struct reachable through its executed fields — what the field-coverage test
//! (`tests/tests/invariants.rs`) walks from the Katalog, Motif and Komposer documents.

use proc_macro::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr, parse_macro_input};

/// Derives `katalog::decode::Decode` and `katalog::decode::DecodeFields` for a struct with named
/// fields. See the crate documentation for the attributes.
#[proc_macro_derive(Decode, attributes(decode))]
pub fn derive_decode(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

#[derive(Default)]
struct FieldAttrs {
    rename: Option<String>,
    flatten: bool,
    required: bool,
    with: Option<syn::Path>,
    unsupported: Option<String>,
    rejected: Option<String>,
    span: bool,
    skip: bool,
}

fn camel_case(ident: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in ident.trim_start_matches("r#").chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn field_attrs(field: &syn::Field) -> syn::Result<FieldAttrs> {
    let mut fa = FieldAttrs::default();
    for attr in &field.attrs {
        if !attr.path().is_ident("decode") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                fa.rename = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("flatten") {
                fa.flatten = true;
            } else if meta.path.is_ident("required") {
                fa.required = true;
            } else if meta.path.is_ident("with") {
                fa.with = Some(meta.value()?.parse::<syn::Path>()?);
            } else if meta.path.is_ident("unsupported") {
                fa.unsupported = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("rejected") {
                fa.rejected = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("span") {
                fa.span = true;
            } else if meta.path.is_ident("skip") {
                fa.skip = true;
            } else {
                return Err(meta.error("unknown decode attribute"));
            }
            Ok(())
        })?;
    }
    Ok(fa)
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let mut include_keys: Vec<String> = Vec::new();
    for attr in &input.attrs {
        if !attr.path().is_ident("decode") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("include") {
                let keys = meta.value()?.parse::<LitStr>()?.value();
                include_keys = keys.split(',').map(|k| k.trim().to_string()).collect();
                Ok(())
            } else {
                Err(meta.error("unknown decode attribute"))
            }
        })?;
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(name, "Decode can only be derived for structs"));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(name, "Decode needs named fields"));
    };

    let mut names = Vec::new();
    let mut arms = Vec::new();
    let mut flattens = Vec::new();
    let mut required = Vec::new();
    let mut span_fields = Vec::new();
    let mut flatten_finish = Vec::new();
    let mut walks = Vec::new();
    let mut infos = Vec::new();
    let mut reaches = Vec::new();
    for field in &fields.named {
        let Some(ident) = field.ident.as_ref() else { continue };
        let fa = field_attrs(field)?;
        if fa.skip {
            continue;
        }
        if fa.span {
            span_fields.push(quote! { self.#ident = node.span; });
            continue;
        }
        let ty = &field.ty;
        let not_executed = fa.unsupported.is_some() || fa.rejected.is_some();
        if !not_executed {
            walks.push(quote! { ::katalog::decode::Walk::walk(&self.#ident, f); });
            reaches.push(quote! { <#ty as ::katalog::decode::Walk>::reach(r); });
        }
        let ident_text = ident.to_string().trim_start_matches("r#").to_string();
        let yaml_text = if fa.flatten { String::new() } else { fa.rename.clone().unwrap_or_else(|| camel_case(&ident.to_string())) };
        let flatten = fa.flatten;
        infos.push(quote! {
            ::katalog::decode::FieldInfo { yaml: #yaml_text, ident: #ident_text, unsupported: #not_executed, flatten: #flatten }
        });
        if fa.flatten {
            let ty = &field.ty;
            names.push(quote! { <#ty as ::katalog::decode::DecodeFields>::field_names(out); });
            flattens.push(quote! {
                if ::katalog::decode::DecodeFields::decode_field(&mut self.#ident, key, value, cx) {
                    return true;
                }
            });
            flatten_finish.push(quote! {
                ::katalog::decode::DecodeFields::finish(&mut self.#ident, node, present, cx);
            });
            continue;
        }
        let key = fa.rename.clone().unwrap_or_else(|| camel_case(&ident.to_string()));
        names.push(quote! { out.push(#key); });
        let decode = match &fa.with {
            Some(path) => quote! { #path(value, cx) },
            None => quote! { ::katalog::decode::Decode::decode(value, cx) },
        };
        let unsupported = match (&fa.unsupported, &fa.rejected) {
            (Some(reason), _) => Some(quote! { cx.unsupported(value, #reason); }),
            (None, Some(reason)) => Some(quote! { cx.rejected(value, #reason); }),
            (None, None) => None,
        };
        arms.push(quote! {
            #key => {
                if let ::core::option::Option::Some(v) = #decode {
                    self.#ident = v;
                }
                #unsupported
                true
            }
        });
        if fa.required {
            required.push(quote! {
                if !present.contains(&#key) {
                    cx.missing_field(node, #key);
                }
            });
        }
    }
    let includes = include_keys.iter().map(|k| quote! { #k });
    let type_name = name.to_string();

    Ok(quote! {
        impl ::katalog::decode::DecodeFields for #name {
            const TYPE_NAME: &'static str = #type_name;
            const INCLUDE_KEYS: &'static [&'static str] = &[#(#includes),*];
            const FIELDS: &'static [::katalog::decode::FieldInfo] = &[#(#infos),*];
            fn field_names(out: &mut ::std::vec::Vec<&'static str>) {
                #(#names)*
            }
            fn decode_field(
                &mut self,
                key: &str,
                value: &::katalog::yaml::Node,
                cx: &mut ::katalog::decode::Cx,
            ) -> bool {
                match key {
                    #(#arms)*
                    _ => {
                        #(#flattens)*
                        false
                    }
                }
            }
            fn finish(
                &mut self,
                node: &::katalog::yaml::Node,
                present: &[&str],
                cx: &mut ::katalog::decode::Cx,
            ) {
                let _ = (&node, &present, &cx);
                #(#span_fields)*
                #(#required)*
                #(#flatten_finish)*
            }
        }
        impl ::katalog::decode::Walk for #name {
            fn walk(&self, f: &mut dyn FnMut(&str, ::katalog::diag::Span)) {
                let _ = &f;
                #(#walks)*
            }
            fn reach(r: &mut ::katalog::decode::Reach) {
                let key = ::core::concat!(::core::module_path!(), "::", #type_name);
                if r.enter(key, <Self as ::katalog::decode::DecodeFields>::FIELDS) {
                    #(#reaches)*
                }
            }
        }
        impl ::katalog::decode::Decode for #name {
            fn decode(
                node: &::katalog::yaml::Node,
                cx: &mut ::katalog::decode::Cx,
            ) -> ::core::option::Option<Self> {
                ::katalog::decode::decode_struct::<Self>(node, cx)
            }
        }
    })
}
