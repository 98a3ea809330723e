//! Misreadings found after the corpus passed, each pinned with the reading a
//! person would give. Table-driven: (text, expected non-null fields as JSON).

use serde_json::{json, Value};

fn check(text: &str, want: Value) {
    let got = serde_json::to_value(autodeploy_parse::parse(text)).unwrap();
    let got: serde_json::Map<String, Value> = got
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(Value::Object(got), want, "{text:?}");
}

#[test]
fn misreadings_stay_fixed() {
    let cases = [
        // A named group of machines is machines that scale, not containers.
        (
            "deploy on an autoscaling group on AWS",
            json!({"cloud": "aws", "strategy": "vm", "autoscale": true}),
        ),
        (
            "run it on a managed instance group on GCP",
            json!({"cloud": "gcp", "strategy": "vm", "autoscale": true}),
        ),
        (
            "deploy to a VM scale set on Azure",
            json!({"cloud": "azure", "strategy": "vm", "autoscale": true}),
        ),
        // Experience with a technology is not a request for it.
        (
            "I have 5 years of experience with Kubernetes but want a simple VM on GCP",
            json!({"cloud": "gcp", "strategy": "vm"}),
        ),
        // Database replicas are not app instances.
        (
            "the database is Postgres 16 with 2 read replicas, AWS",
            json!({"cloud": "aws", "database": "postgresql"}),
        ),
        // "dev" the person, not the environment; two clouds, neither clearly current → unset.
        (
            "the previous dev deployed this to GCP, I want Azure now",
            json!({}),
        ),
        // "prod-like" means similar to production.
        (
            "prod-like staging env on gcp",
            json!({"cloud": "gcp", "environment": "staging"}),
        ),
        // Kubernetes worker nodes are the app's nodes.
        (
            "EKS with 3 worker nodes",
            json!({"cloud": "aws", "strategy": "kubernetes", "min_instances": 3, "max_instances": 3}),
        ),
        // Numbers that count other things.
        (
            "The app has 3 services and 2 databases, deploy to AWS",
            json!({"cloud": "aws"}),
        ),
        (
            "Deploy on AWS with 99.99% availability across 3 AZs",
            json!({"cloud": "aws"}),
        ),
        (
            "Version 2 of the API, deploy it to Azure",
            json!({"cloud": "azure"}),
        ),
        // Platforms we cannot target set nothing.
        ("Run on port 3000 with 2 workers on Heroku", json!({})),
        ("deploy to fly.io", json!({})),
        // A domain of another site vs the one to deploy on.
        (
            "Our SaaS is at www.example.com, but deploy this admin tool to admin.example.com",
            json!({"domain": "admin.example.com"}),
        ),
        (
            "Use the same setup as production but for staging",
            json!({"environment": "staging"}),
        ),
        (
            "This replaces our Azure Functions app; put it on AWS Lambda",
            json!({"cloud": "aws", "strategy": "serverless"}),
        ),
    ];
    for (text, want) in cases {
        check(text, want);
    }
}
