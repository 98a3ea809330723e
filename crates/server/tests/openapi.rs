//! The OpenAPI document (crates/server/src/openapi.json, served at
//! /openapi.json) cannot drift from the service: its operations are exactly
//! the routes the router is built from (`api::routes()`, the web page's
//! excepted), every enum it lists is exactly the serde names of the core type
//! the API reads or answers, and the fields it gives the records the API
//! answers are exactly the fields those records serialise.

use autodeploy_core::{Cloud, DeploymentStatus, LogStream, Phase};
use autodeploy_server::api::{routes, Access};
use serde_json::Value;
use std::collections::BTreeSet;

fn doc() -> Value {
    serde_json::from_str(autodeploy_server::web::OPENAPI_JSON).expect("openapi.json is JSON")
}

/// The serde names of every variant, in order.
fn serde_names<T: serde::Serialize>(all: &[T]) -> Vec<String> {
    all.iter()
        .map(|v| match serde_json::to_value(v).unwrap() {
            Value::String(s) => s,
            other => panic!("{other} is not a string enum"),
        })
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

#[test]
fn the_document_describes_exactly_the_routes_of_the_router() {
    let doc = doc();
    let served: BTreeSet<(String, String)> = routes()
        .iter()
        .filter(|r| r.access != Access::Page)
        .map(|r| (r.path.to_string(), r.method.as_str().to_ascii_lowercase()))
        .collect();
    let methods = ["get", "put", "post", "delete", "patch", "head", "options"];
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|k| methods.contains(&k.as_str()))
                .map(move |m| (path.clone(), m.clone()))
        })
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let not_served: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && not_served.is_empty(),
        "routes missing from openapi.json: {undocumented:?}; documented but not routed: {not_served:?}"
    );
    // Every path parameter of a route is declared by its operation.
    for (path, method) in &served {
        let op = &doc["paths"][path][method];
        let declared: BTreeSet<String> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let in_path: BTreeSet<String> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_string)
            .collect();
        assert_eq!(declared, in_path, "path parameters of {method} {path}");
    }
}

#[test]
fn every_enum_is_the_core_types_serde_names() {
    let doc = doc();
    let schemas = &doc["components"]["schemas"];
    let status = serde_names(&DeploymentStatus::ALL);
    let phase = serde_names(&Phase::ALL);
    let stream = serde_names(&LogStream::ALL);
    let cloud = serde_names(&Cloud::ALL);
    // The lists are complete: every name parses back to its variant, and
    // `as_str` (what the API and the store use) agrees with serde.
    for s in DeploymentStatus::ALL {
        assert_eq!(DeploymentStatus::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    for p in Phase::ALL {
        assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
    }
    for l in LogStream::ALL {
        assert_eq!(serde_json::to_value(l).unwrap(), l.as_str());
    }
    for c in Cloud::ALL {
        assert_eq!(Cloud::parse(c.as_str()), Some(c));
        assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
    }

    let same = |what: &str, documented: &Value, expected: &[String]| {
        let mut got = strings(documented);
        let mut want = expected.to_vec();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{what}: openapi.json vs the core type");
    };
    same("Status", &schemas["Status"]["enum"], &status);
    same("Phase", &schemas["Phase"]["enum"], &phase);
    same(
        "LogLine.stream",
        &schemas["LogLine"]["properties"]["stream"]["enum"],
        &stream,
    );
    same(
        "Options.target",
        &schemas["Options"]["properties"]["target"]["enum"],
        &cloud,
    );
    let list = &doc["paths"]["/v1/deployments"]["get"]["parameters"];
    let param = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("GET /v1/deployments documents no ?{name}="))
            .clone()
    };
    same("?cloud=", &param("cloud")["schema"]["enum"], &cloud);
    assert_eq!(
        param("status")["schema"]["$ref"],
        "#/components/schemas/Status"
    );

    // Every other enum in the document is one of those, by reference, or
    // listed above: a new hand-written enum must be added to this test.
    let mut found = Vec::new();
    fn walk(v: &Value, at: String, found: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if o.contains_key("enum") {
                    found.push(at.clone());
                }
                for (k, v) in o {
                    walk(v, format!("{at}/{k}"), found);
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, format!("{at}/{i}"), found);
                }
            }
            _ => {}
        }
    }
    walk(&doc, String::new(), &mut found);
    found.sort();
    assert_eq!(
        found,
        [
            "/components/schemas/Error/properties/error/properties/code",
            "/components/schemas/LogLine/properties/stream",
            "/components/schemas/Options/properties/target",
            "/components/schemas/Phase",
            "/components/schemas/Status",
            "/paths//v1/deployments/get/parameters/1/schema",
        ],
        "an enum this test does not check"
    );
}

#[test]
fn records_have_exactly_the_documented_fields() {
    let doc = doc();
    let schemas = &doc["components"]["schemas"];
    let d = autodeploy_store::Deployment {
        id: "dep_0123456789abcdef".into(),
        owner: "usr".into(),
        name: "app".into(),
        source: "https://example.com/r.git".into(),
        request: "deploy on aws".into(),
        cloud: None,
        region: None,
        strategy: None,
        commit: None,
        status: DeploymentStatus::Queued,
        phase: None,
        url: None,
        outputs: serde_json::json!({}),
        plan: None,
        last_good_plan: None,
        error: None,
        options: serde_json::json!({}),
        workdir: None,
        created_at: 0,
        updated_at: 0,
    };
    assert_eq!(
        keys(&serde_json::to_value(&d).unwrap()),
        keys(&schemas["Deployment"]["properties"]),
        "Deployment"
    );
    let line = autodeploy_store::LogLine {
        seq: 1,
        at: 0,
        stream: LogStream::System,
        phase: None,
        line: "x".into(),
    };
    assert_eq!(
        keys(&serde_json::to_value(&line).unwrap()),
        keys(&schemas["LogLine"]["properties"]),
        "LogLine"
    );
    // The list answers each record with its owner's name.
    let listed = autodeploy_server::api::ListedDeployment {
        deployment: d.clone(),
        owner_name: "alice".into(),
    };
    let listed_doc = &schemas["ListedDeployment"]["allOf"];
    assert_eq!(listed_doc[0]["$ref"], "#/components/schemas/Deployment");
    let mut documented = keys(&schemas["Deployment"]["properties"]);
    documented.extend(keys(&listed_doc[1]["properties"]));
    assert_eq!(
        keys(&serde_json::to_value(&listed).unwrap()),
        documented,
        "ListedDeployment"
    );
    let page = autodeploy_server::api::ListPage {
        items: vec![],
        next_cursor: None,
    };
    assert_eq!(
        keys(&serde_json::to_value(&page).unwrap()),
        keys(&schemas["Page"]["properties"]),
        "Page"
    );
}

#[test]
fn every_documented_request_field_is_accepted() {
    // The request bodies refuse unknown fields: a field the document lists
    // that the API does not take fails here.
    let doc = doc();
    let schemas = &doc["components"]["schemas"];
    let mut options = serde_json::Map::new();
    for k in keys(&schemas["Options"]["properties"]) {
        let v = match k.as_str() {
            "env" => serde_json::json!({"GREETING": "hi"}),
            "target" => serde_json::json!("local"),
            "rehearse" => serde_json::json!(false),
            _ => serde_json::json!("main"),
        };
        options.insert(k, v);
    }
    let options = Value::Object(options);
    let o: autodeploy_server::preview::RequestOptions =
        serde_json::from_value(options.clone()).expect("every documented option is accepted");
    o.validate().expect("and valid");

    let mut create = serde_json::Map::new();
    for k in keys(&schemas["CreateDeployment"]["properties"]) {
        let v = match k.as_str() {
            "options" => options.clone(),
            "secrets" => serde_json::json!({"API_TOKEN": "s"}),
            _ => serde_json::json!("x"),
        };
        create.insert(k, v);
    }
    serde_json::from_value::<autodeploy_server::api::CreateDeployment>(Value::Object(create))
        .expect("every documented CreateDeployment field is accepted");

    let mut plan = serde_json::Map::new();
    for k in keys(&schemas["PlanRequest"]["properties"]) {
        let v = match k.as_str() {
            "options" => options.clone(),
            _ => serde_json::json!("x"),
        };
        plan.insert(k, v);
    }
    serde_json::from_value::<autodeploy_server::api::PlanBody>(Value::Object(plan))
        .expect("every documented PlanRequest field is accepted");
}

#[test]
fn every_error_code_the_service_answers_is_documented() {
    // Error codes are string literals at the sites that answer them (the
    // `ApiError` constructors): read from the server's own source, so a new
    // code cannot be answered without being documented, nor one documented
    // that nothing answers.
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let patterns = [
        r#"bad_request\(\s*"([a-z_]+)""#,
        r#"code:\s*"([a-z_]+)""#,
        r#"ApiError::\w+(?:\s*\{[^}]*\}|\([^)]*\))?\s*=>\s*"([a-z_]+)""#,
        r#"\\"code\\":\\"([a-z_]+)\\""#,
    ]
    .map(|p| regex::Regex::new(p).unwrap());
    let mut answered = BTreeSet::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for re in &patterns {
                for c in re.captures_iter(&text) {
                    answered.insert(c[1].to_string());
                }
            }
        }
    }
    let doc = doc();
    let documented: BTreeSet<String> = strings(
        &doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"],
    )
    .into_iter()
    .collect();
    assert!(answered.len() > 20, "the scan found {answered:?}");
    assert_eq!(
        answered, documented,
        "error codes answered (left) vs documented in openapi.json (right)"
    );
}
