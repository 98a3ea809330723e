//! What the text asks for but cannot be used is named back in the notes
//! (#14 point 5), never silently dropped or accepted.

use autodeploy_parse::{parse, parse_with, ParseOptions};

fn notes(text: &str) -> Vec<String> {
    parse_with(text, &ParseOptions::default()).notes
}

#[test]
fn a_region_code_of_no_cloud_is_named() {
    let n = notes("deploy to aws mars-west-9");
    assert!(
        n.iter()
            .any(|n| n.contains("\"mars-west-9\" is not a region of any cloud")),
        "{n:?}"
    );
    assert_eq!(parse("deploy to aws mars-west-9").region, None);
    // A real region is not noted.
    let n = notes("deploy to aws us-west-2");
    assert!(!n.iter().any(|n| n.contains("not a region")), "{n:?}");
    assert_eq!(
        parse("deploy to aws us-west-2").region.as_deref(),
        Some("us-west-2")
    );
}

#[test]
fn a_negative_budget_is_named_and_left_unset() {
    let text = "on AWS for -5 dollars a month";
    assert_eq!(parse(text).budget_usd_month, None);
    let n = notes(text);
    assert!(
        n.iter()
            .any(|n| n.contains("\"-5 dollars\" is not a budget")),
        "{n:?}"
    );
    // A range is not a sign.
    let n = notes("AWS, budget 5-10 dollars a month");
    assert!(!n.iter().any(|n| n.contains("is not a budget")), "{n:?}");
    assert_eq!(parse("budget $50 a month").budget_usd_month, Some(50.0));
}
