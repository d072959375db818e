//! # zzz-macros
//!
//! Procedural macros for zzz, used only where a derive is the right tool: they turn Rust type
//! definitions into static data that the `no_std` core reads at run time without allocating.
//! This crate sits beside `zzz-core` and is re-exported by it; applications do not depend on it
//! directly.
//!
//! - `#[derive(JsonSchema)]`: the JSON Schema of a struct or unit-only enum as a constant; see
//!   `zzz_core::schema` for what it produces.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Data, DeriveInput, Error, Expr, Fields, GenericArgument, Lit, LitInt, LitStr, Meta,
    PathArguments, Token, Type,
};

/// Derives `zzz_core::schema::JsonSchema` for a struct with named fields or an enum of unit
/// variants.
///
/// - The schema is `Schema::Named`, named after the type (`#[schema(rename = "...")]` names
///   it otherwise), described by the type's doc comment.
/// - Struct: one property per field, in declaration order, named as serde names it
///   (`#[serde(rename)]`, `#[serde(rename_all)]`), described by the field's doc comment,
///   required unless its type is `Option<_>` or it has `#[serde(default)]`;
///   `#[serde(skip)]` fields are left out. Other properties are not allowed
///   (`additionalProperties: false`): give request types `#[serde(deny_unknown_fields)]`.
/// - Field bounds: `#[schema(min_length = 1, max_length = 80)]` on strings,
///   `#[schema(minimum = 0, maximum = 100)]` on integers, `#[schema(format = "date-time")]` on
///   strings. The generated `validate` checks them (and recurses into every field), so the
///   document and the server enforce the same bounds.
/// - Enum of unit variants: a string enum of the variant names (serde's renames applied).
/// - `#[schema(crate = "zzz::core")]` names the core crate when it is not `zzz_core`.
///
/// Generic type parameters are refused (one component name cannot describe several types);
/// lifetimes are fine.
#[proc_macro_derive(JsonSchema, attributes(schema))]
pub fn derive_json_schema(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// What `#[schema(...)]` says on a container.
struct ContainerAttrs {
    rename: Option<String>,
    krate: Option<syn::Path>,
}

/// What serde's attributes say about naming.
#[derive(Default)]
struct SerdeAttrs {
    rename: Option<String>,
    rename_all: Option<String>,
    skip: bool,
    skip_one_way: bool,
    default: bool,
    flatten: bool,
}

/// What `#[schema(...)]` says on a field.
#[derive(Default)]
struct FieldBounds {
    min_length: Option<u32>,
    max_length: Option<u32>,
    minimum: Option<i64>,
    maximum: Option<i64>,
    format: Option<String>,
}

impl FieldBounds {
    fn is_empty(&self) -> bool {
        self.min_length.is_none()
            && self.max_length.is_none()
            && self.minimum.is_none()
            && self.maximum.is_none()
            && self.format.is_none()
    }
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    if let Some(param) = input.generics.type_params().next() {
        return Err(Error::new(
            param.span(),
            "JsonSchema cannot be derived for a generic type: one component name would describe several types",
        ));
    }
    if let Some(param) = input.generics.const_params().next() {
        return Err(Error::new(
            param.span(),
            "JsonSchema cannot be derived for a type with const parameters",
        ));
    }
    let container = container_attrs(&input.attrs)?;
    let serde = serde_attrs(&input.attrs)?;
    let krate = container
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::zzz_core));
    let name = container
        .rename
        .clone()
        .unwrap_or_else(|| input.ident.to_string());
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(Error::new(
            input.ident.span(),
            "a component name is letters, digits, `.`, `-` and `_`",
        ));
    }
    let description = doc_text(&input.attrs);
    let (body, validate) = match &input.data {
        Data::Struct(data) => {
            let Fields::Named(fields) = &data.fields else {
                return Err(Error::new(
                    input.ident.span(),
                    "JsonSchema is derived for structs with named fields",
                ));
            };
            object(&krate, fields, serde.rename_all.as_deref())?
        }
        Data::Enum(data) => (
            string_enum(&krate, data, serde.rename_all.as_deref())?,
            quote!(),
        ),
        Data::Union(_) => {
            return Err(Error::new(
                input.ident.span(),
                "JsonSchema cannot be derived for a union",
            ));
        }
    };
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics #krate::schema::JsonSchema for #ident #type_generics #where_clause {
            const SCHEMA: &'static #krate::schema::Schema = &#krate::schema::Schema::Named {
                name: #name,
                description: #description,
                schema: &#body,
            };
            #validate
        }
    })
}

fn object(
    krate: &syn::Path,
    fields: &syn::FieldsNamed,
    rename_all: Option<&str>,
) -> syn::Result<(TokenStream2, TokenStream2)> {
    let mut properties = Vec::new();
    let mut checks = Vec::new();
    for field in fields.named.iter() {
        let ident = field.ident.as_ref().expect("named field");
        let serde = serde_attrs(&field.attrs)?;
        if serde.flatten {
            return Err(Error::new(
                field.span(),
                "JsonSchema does not describe `#[serde(flatten)]`",
            ));
        }
        if serde.skip_one_way {
            return Err(Error::new(
                field.span(),
                "JsonSchema cannot describe a field skipped one way only (it would differ between requests and responses)",
            ));
        }
        if serde.skip {
            continue;
        }
        let json_name = match (&serde.rename, rename_all) {
            (Some(name), _) => name.clone(),
            (None, Some(rule)) => apply_rule(rule, &unraw(ident), false, field.span())?,
            (None, None) => unraw(ident),
        };
        let bounds = field_bounds(&field.attrs)?;
        let ty = &field.ty;
        let inner = option_inner(ty);
        let required = inner.is_none() && !serde.default;
        let description = doc_text(&field.attrs);
        let schema = if bounds.is_empty() {
            quote!(<#ty as #krate::schema::JsonSchema>::SCHEMA)
        } else {
            let base = inner.unwrap_or(ty);
            let mut expr = quote!(*<#base as #krate::schema::JsonSchema>::SCHEMA);
            if bounds.min_length.is_some() || bounds.max_length.is_some() {
                let min = opt(bounds.min_length.map(|v| quote!(#v)));
                let max = opt(bounds.max_length.map(|v| quote!(#v)));
                expr = quote!((#expr).with_length(#min, #max));
            }
            if bounds.minimum.is_some() || bounds.maximum.is_some() {
                let min = opt(bounds.minimum.map(|v| quote!(#v)));
                let max = opt(bounds.maximum.map(|v| quote!(#v)));
                expr = quote!((#expr).with_range(#min, #max));
            }
            if let Some(format) = &bounds.format {
                expr = quote!((#expr).with_format(#format));
            }
            if inner.is_some() {
                quote!(&#krate::schema::Schema::Nullable { 0: &#expr })
            } else {
                quote!(&#expr)
            }
        };
        properties.push(quote! {
            #krate::schema::Property {
                name: #json_name,
                schema: #schema,
                required: #required,
                description: #description,
            }
        });
        checks.push(field_checks(krate, ident, &json_name, &bounds, inner));
    }
    let body = quote! {
        #krate::schema::Schema::Object { properties: &[#(#properties),*] }
    };
    let validate = quote! {
        fn validate(&self) -> ::core::result::Result<(), #krate::schema::Violation> {
            #(#checks)*
            ::core::result::Result::Ok(())
        }
    };
    Ok((body, validate))
}

/// The checks of one field's bounds, then the field's own `validate`.
fn field_checks(
    krate: &syn::Path,
    ident: &syn::Ident,
    json_name: &str,
    bounds: &FieldBounds,
    inner: Option<&Type>,
) -> TokenStream2 {
    let violation = |keyword: &str, limit: TokenStream2| {
        quote! {
            return ::core::result::Result::Err(#krate::schema::Violation {
                field: #json_name,
                keyword: #keyword,
                limit: #limit as i64,
            })
        }
    };
    let mut checks = Vec::new();
    if bounds.min_length.is_some() || bounds.max_length.is_some() {
        checks.push(quote! {
            let length = #krate::schema::char_len(::core::convert::AsRef::<str>::as_ref(value));
        });
        if let Some(min) = bounds.min_length {
            let fail = violation("minLength", quote!(#min));
            checks.push(quote! { if length < #min as usize { #fail; } });
        }
        if let Some(max) = bounds.max_length {
            let fail = violation("maxLength", quote!(#max));
            checks.push(quote! { if length > #max as usize { #fail; } });
        }
    }
    if let Some(min) = bounds.minimum {
        let fail = violation("minimum", quote!(#min));
        checks.push(quote! { if (*value as i128) < #min as i128 { #fail; } });
    }
    if let Some(max) = bounds.maximum {
        let fail = violation("maximum", quote!(#max));
        checks.push(quote! { if (*value as i128) > #max as i128 { #fail; } });
    }
    let own = quote! {
        #krate::schema::JsonSchema::validate(&self.#ident)?;
    };
    if checks.is_empty() {
        return own;
    }
    let bounded = if inner.is_some() {
        quote! {
            if let ::core::option::Option::Some(value) = &self.#ident {
                #(#checks)*
            }
        }
    } else {
        quote! {
            {
                let value = &self.#ident;
                #(#checks)*
            }
        }
    };
    quote! { #bounded #own }
}

fn opt(value: Option<TokenStream2>) -> TokenStream2 {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

fn string_enum(
    krate: &syn::Path,
    data: &syn::DataEnum,
    rename_all: Option<&str>,
) -> syn::Result<TokenStream2> {
    let mut names = Vec::new();
    for variant in data.variants.iter() {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(Error::new(
                variant.span(),
                "JsonSchema is derived for enums of unit variants only (a string enum)",
            ));
        }
        let serde = serde_attrs(&variant.attrs)?;
        if serde.skip {
            continue;
        }
        let name = match (&serde.rename, rename_all) {
            (Some(name), _) => name.clone(),
            (None, Some(rule)) => apply_rule(rule, &unraw(&variant.ident), true, variant.span())?,
            (None, None) => unraw(&variant.ident),
        };
        names.push(name);
    }
    Ok(quote!(#krate::schema::Schema::StringEnum(&[#(#names),*])))
}

/// `T` when `ty` is `Option<T>` (by its last path segment).
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(GenericArgument::Type(inner)) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}

fn unraw(ident: &syn::Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// The doc comment as a description: the lines of a paragraph joined by a space, paragraphs
/// by a blank line (the same text in CommonMark), outer blank lines dropped.
fn doc_text(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let Meta::NameValue(nv) = &attr.meta
            && let Expr::Lit(lit) = &nv.value
            && let Lit::Str(s) = &lit.lit
        {
            let value = s.value();
            // `split`, not `lines`: an empty `///` line is a paragraph break.
            for line in value.split('\n') {
                lines.push(line.trim().to_owned());
            }
        }
    }
    let mut text = String::new();
    let mut blank = false;
    for line in lines {
        if line.is_empty() {
            blank = true;
            continue;
        }
        if !text.is_empty() {
            text.push_str(if blank { "\n\n" } else { " " });
        }
        text.push_str(&line);
        blank = false;
    }
    text
}

fn container_attrs(attrs: &[Attribute]) -> syn::Result<ContainerAttrs> {
    let mut out = ContainerAttrs {
        rename: None,
        krate: None,
    };
    for attr in attrs.iter().filter(|a| a.path().is_ident("schema")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                out.rename = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("crate") {
                out.krate = Some(meta.value()?.parse::<LitStr>()?.parse()?);
            } else {
                return Err(meta.error("expected `rename` or `crate`"));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

fn field_bounds(attrs: &[Attribute]) -> syn::Result<FieldBounds> {
    let mut out = FieldBounds::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("schema")) {
        attr.parse_nested_meta(|meta| {
            let signed = |meta: &syn::meta::ParseNestedMeta| -> syn::Result<i64> {
                let input = meta.value()?;
                let negative = input.parse::<Option<Token![-]>>()?.is_some();
                let value: i64 = input.parse::<LitInt>()?.base10_parse()?;
                Ok(if negative { -value } else { value })
            };
            if meta.path.is_ident("min_length") {
                out.min_length = Some(meta.value()?.parse::<LitInt>()?.base10_parse()?);
            } else if meta.path.is_ident("max_length") {
                out.max_length = Some(meta.value()?.parse::<LitInt>()?.base10_parse()?);
            } else if meta.path.is_ident("minimum") {
                out.minimum = Some(signed(&meta)?);
            } else if meta.path.is_ident("maximum") {
                out.maximum = Some(signed(&meta)?);
            } else if meta.path.is_ident("format") {
                out.format = Some(meta.value()?.parse::<LitStr>()?.value());
            } else {
                return Err(meta.error(
                    "expected `min_length`, `max_length`, `minimum`, `maximum` or `format`",
                ));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// Reads the serde attributes that change names and presence; the others are left to serde.
fn serde_attrs(attrs: &[Attribute]) -> syn::Result<SerdeAttrs> {
    let mut out = SerdeAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let items = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)?;
        for item in items {
            let path = item.path();
            let text = |item: &Meta| -> syn::Result<String> {
                match item {
                    Meta::NameValue(nv) => match &nv.value {
                        Expr::Lit(lit) => match &lit.lit {
                            Lit::Str(s) => Ok(s.value()),
                            other => Err(Error::new(other.span(), "expected a string")),
                        },
                        other => Err(Error::new(other.span(), "expected a string")),
                    },
                    other => Err(Error::new(
                        other.span(),
                        "JsonSchema reads only `rename = \"...\"` (not separate serialize and deserialize names)",
                    )),
                }
            };
            if path.is_ident("rename") {
                out.rename = Some(text(&item)?);
            } else if path.is_ident("rename_all") {
                out.rename_all = Some(text(&item)?);
            } else if path.is_ident("skip") {
                out.skip = true;
            } else if path.is_ident("skip_serializing") || path.is_ident("skip_deserializing") {
                out.skip_one_way = true;
            } else if path.is_ident("default") {
                out.default = true;
            } else if path.is_ident("flatten") {
                out.flatten = true;
            }
        }
    }
    Ok(out)
}

/// serde's `rename_all` rules. Fields are snake_case, variants PascalCase.
fn apply_rule(rule: &str, name: &str, variant: bool, span: Span) -> syn::Result<String> {
    let words: Vec<String> = if variant {
        let mut words = Vec::new();
        let mut current = String::new();
        for c in name.chars() {
            if c.is_uppercase() && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            current.push(c);
        }
        if !current.is_empty() {
            words.push(current);
        }
        words.into_iter().map(|w| w.to_lowercase()).collect()
    } else {
        name.split('_').map(str::to_lowercase).collect()
    };
    let capitalized = |w: &String| {
        let mut chars = w.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
            .unwrap_or_default()
    };
    Ok(match rule {
        "lowercase" if !variant => name.to_lowercase(),
        "UPPERCASE" if !variant => name.to_uppercase(),
        "lowercase" => words.concat(),
        "UPPERCASE" => words.concat().to_uppercase(),
        "PascalCase" => words.iter().map(capitalized).collect(),
        "camelCase" => {
            let mut s = words.first().cloned().unwrap_or_default();
            s.extend(words.iter().skip(1).map(capitalized));
            s
        }
        "snake_case" => words.join("_"),
        "SCREAMING_SNAKE_CASE" => words.join("_").to_uppercase(),
        "kebab-case" => words.join("-"),
        "SCREAMING-KEBAB-CASE" => words.join("-").to_uppercase(),
        _ => return Err(Error::new(span, "unknown `rename_all` rule")),
    })
}
