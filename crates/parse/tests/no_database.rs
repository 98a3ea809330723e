//! "sqlite" / "no database": the request asks for no database server. The
//! flag lives outside the `parse --json` contract (never serialised) and is
//! set only by those words.

use autodeploy_parse::parse;

#[test]
fn sqlite_and_no_database_ask_for_no_server() {
    for text in [
        "run it locally with sqlite",
        "run it locally, no database",
        "deploy to aws without a database",
        "just the app on gcp, we don't need a db",
        "use SQLite, no postgres",
    ] {
        let i = parse(text);
        assert!(i.no_database_server, "{text:?}");
        assert_eq!(i.database, None, "{text:?}");
    }
    for text in [
        "run it locally",
        "deploy on aws with a postgres database",
        "postgres db on azure",
        "run it locally with sqlite and postgres",
        "no sqlite please, postgres on aws",
    ] {
        assert!(!parse(text).no_database_server, "{text:?}");
    }
}

#[test]
fn the_json_contract_is_unchanged() {
    let v = serde_json::to_value(parse("run it locally with sqlite, no database")).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = autodeploy_core::Intent::FIELDS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want);
}
