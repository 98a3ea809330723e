//! GCP and Azure bundles checked against their providers' schemas.
//!
//! The google and azurerm providers cannot be installed here, so `terraform
//! validate` cannot check those bundles. `scripts/provider_schemas.py` (run
//! by `scripts/setup.sh`) turns the schemas the npm packages
//! `@cdktf/provider-google` and `@cdktf/provider-azurerm` ship into
//! `.venv-tools/provider-schemas/<provider>.json` (or
//! `$AUTODEPLOY_PROVIDER_SCHEMAS/<provider>.json`); every `.tf` file of a
//! bundle is checked against it: unknown resource and data source types,
//! unknown arguments and blocks at any depth (`dynamic` blocks by their
//! content), and required arguments left out. Under `CI=true` a missing
//! schema fails the test; elsewhere it says loudly that it skipped.

use autodeploy_render::Bundle;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::OnceLock;

/// Arguments of one type: name → (required, nested block type).
type Args = BTreeMap<String, (bool, Option<String>)>;

#[derive(serde::Deserialize)]
struct Schema {
    version: Option<String>,
    resources: HashMap<String, String>,
    data: HashMap<String, String>,
    types: HashMap<String, Args>,
}

/// Terraform's own arguments and blocks, valid in every resource.
const META: &[&str] = &[
    "count",
    "for_each",
    "depends_on",
    "provider",
    "lifecycle",
    "provisioner",
    "connection",
];

fn schema_dir() -> PathBuf {
    std::env::var_os("AUTODEPLOY_PROVIDER_SCHEMAS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv-tools/provider-schemas")
        })
}

fn load(provider: &'static str) -> Option<&'static Schema> {
    static CACHE: OnceLock<std::sync::Mutex<HashMap<&'static str, Option<&'static Schema>>>> =
        OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .expect("schema cache");
    *cache.entry(provider).or_insert_with(|| {
        let path = schema_dir().join(format!("{provider}.json"));
        let text = std::fs::read_to_string(&path).ok()?;
        let schema: Schema = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not a provider schema: {e}", path.display()));
        Some(&*Box::leak(Box::new(schema)))
    })
}

/// Check every `.tf` file of `b` against `provider`'s schema; panics with
/// every mistake found.
pub fn check(b: &Bundle, provider: &'static str) {
    let Some(schema) = load(provider) else {
        eprintln!(
            "SKIPPED: no {provider} provider schema in {}; scripts/setup.sh makes it (python3 scripts/provider_schemas.py .venv-tools/provider-schemas)",
            schema_dir().display()
        );
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: the {provider} provider schema must be there (see above)"
        );
        return;
    };
    let mut errors = Vec::new();
    for f in b.files.iter().filter(|f| f.path.ends_with(".tf")) {
        let body: hcl::Body = hcl::from_str(&f.contents)
            .unwrap_or_else(|e| panic!("{} does not parse as HCL: {e}", f.path));
        for block in body.blocks() {
            let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
            let (table, required) = match block.identifier() {
                "resource" => (&schema.resources, true),
                "data" => (&schema.data, true),
                // Ephemeral resources are not in these packages: checked
                // against the data source of the same name, arguments only.
                "ephemeral" => (&schema.data, false),
                _ => continue,
            };
            let Some(kind) = labels.first() else { continue };
            let at = format!("{}: {} {:?}", f.path, block.identifier(), labels);
            match table.get(*kind) {
                Some(t) => check_body(schema, block.body(), t, required, &at, &mut errors),
                None if block.identifier() == "ephemeral" => {}
                // Built into Terraform itself (1.4+), not the provider.
                None if *kind == "terraform_data" => {}
                None => errors.push(format!(
                    "{at}: {kind} is not a {provider} {} {}",
                    schema.version.as_deref().unwrap_or("?"),
                    block.identifier()
                )),
            }
        }
    }
    assert!(
        errors.is_empty(),
        "the bundle does not match the {provider} provider's schema:\n{}",
        errors.join("\n")
    );
}

fn check_body(
    schema: &Schema,
    body: &hcl::Body,
    ty: &str,
    required: bool,
    at: &str,
    errors: &mut Vec<String>,
) {
    let Some(args) = schema.types.get(ty) else {
        errors.push(format!("{at}: type {ty} missing from the schema"));
        return;
    };
    let mut present: Vec<String> = Vec::new();
    let mut dynamic = false;
    for a in body.attributes() {
        let key = a.key();
        present.push(key.to_string());
        if !args.contains_key(key) && !META.contains(&key) {
            errors.push(format!("{at}: unknown argument `{key}`"));
        }
    }
    for blk in body.blocks() {
        let (name, inner) = if blk.identifier() == "dynamic" {
            dynamic = true;
            let Some(name) = blk.labels().first().map(|l| l.as_str().to_string()) else {
                continue;
            };
            let content = blk
                .body()
                .blocks()
                .find(|c| c.identifier() == "content")
                .map(|c| c.body().clone());
            (name, content)
        } else {
            (blk.identifier().to_string(), Some(blk.body().clone()))
        };
        present.push(name.clone());
        if META.contains(&name.as_str()) {
            continue;
        }
        match args.get(&name) {
            None => errors.push(format!("{at}: unknown block `{name}`")),
            Some((_, None)) => errors.push(format!(
                "{at}: `{name}` is an argument (`{name} = …`), not a block"
            )),
            Some((_, Some(child))) => {
                if let Some(inner) = inner {
                    check_body(
                        schema,
                        &inner,
                        child,
                        required,
                        &format!("{at} > {name}"),
                        errors,
                    );
                }
            }
        }
    }
    if required && !dynamic {
        for (name, (req, _)) in args {
            if *req && !present.iter().any(|p| p == name) {
                errors.push(format!("{at}: required argument `{name}` is missing"));
            }
        }
    }
}
