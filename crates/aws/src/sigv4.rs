//! AWS Signature Version 4 (header form): canonical request, string to sign,
//! signing key and the `Authorization` header, plus the two encodings it
//! depends on (RFC 3986 "unreserved" percent-encoding and the basic UTC
//! timestamp format).
//!
//! Pure functions over strings and bytes: no I/O, no clock (the caller passes
//! the timestamp), no HTTP types, so the AWS-published test vectors can be
//! checked byte for byte. Deliberately not here: presigned URLs, chunked
//! (`aws-chunked`) uploads, SigV4A, and credential lookup (credentials.rs).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name written into the string to sign and the header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// SHA-256 of the empty payload, hex.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// Hex SHA-256 of a payload.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Percent-encode everything but the RFC 3986 unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`), uppercase hex, byte by byte over UTF-8. `/` is
/// kept only when `keep_slash` (paths), never in query names or values.
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The path sent on the wire for raw (not yet encoded) segments:
/// `["functions", "my fn"]` → `/functions/my%20fn`. A `/` inside a segment is
/// encoded, so a segment stays one segment.
pub fn encode_path<S: AsRef<str>>(segments: &[S]) -> String {
    if segments.is_empty() {
        return "/".into();
    }
    let mut out = String::new();
    for s in segments {
        out.push('/');
        out.push_str(&uri_encode(s.as_ref(), false));
    }
    out
}

/// The canonical URI of an already-encoded wire path.
///
/// S3 signs the wire path as it is (`normalize_and_double_encode = false`).
/// Every other service signs the path with dot segments and empty segments
/// removed and each segment encoded a second time (so `%20` signs as `%2520`).
pub fn canonical_uri(wire_path: &str, normalize_and_double_encode: bool) -> String {
    if !normalize_and_double_encode {
        return if wire_path.is_empty() {
            "/".into()
        } else {
            wire_path.to_string()
        };
    }
    let mut segments: Vec<&str> = Vec::new();
    for seg in wire_path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::from("/");
    out.push_str(
        &segments
            .iter()
            .map(|s| uri_encode(s, false))
            .collect::<Vec<_>>()
            .join("/"),
    );
    if wire_path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// The canonical query string of raw (decoded) name/value pairs: each encoded,
/// sorted by encoded name then encoded value, joined with `&`.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Canonical header block and the signed-header list. Names are lowercased,
/// values trimmed with inner runs of spaces collapsed to one, repeated names
/// joined with `,` in the order given, and the names sorted.
pub fn canonical_headers(headers: &[(String, String)]) -> (String, String) {
    let mut merged: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        match merged.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => merged.push((name, vec![value])),
        }
    }
    merged.sort_by(|a, b| a.0.cmp(&b.0));
    let block: String = merged
        .iter()
        .map(|(n, v)| format!("{n}:{}\n", v.join(",")))
        .collect();
    let signed = merged
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (block, signed)
}

/// Everything that goes into one signature.
#[derive(Debug, Clone)]
pub struct SigningParams<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    /// `YYYYMMDDTHHMMSSZ`, the same value as the request's `x-amz-date`.
    pub amz_date: &'a str,
}

/// The signature and the intermediate strings, kept for tests and debugging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signed_headers: String,
    pub signature: String,
    /// The full `Authorization` header value.
    pub authorization: String,
}

/// Sign one request. `headers` are the headers to sign (at least `host` and
/// `x-amz-date`; also `x-amz-security-token` and `x-amz-content-sha256` when
/// sent); `canonical_uri` comes from [`canonical_uri`]; `payload_hash` is the
/// hex SHA-256 of the body (or `UNSIGNED-PAYLOAD` for S3).
pub fn sign(
    p: &SigningParams<'_>,
    method: &str,
    canonical_uri: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
    payload_hash: &str,
) -> Signature {
    let (header_block, signed_headers) = canonical_headers(headers);
    let canonical_request = format!(
        "{method}\n{canonical_uri}\n{}\n{header_block}\n{signed_headers}\n{payload_hash}",
        canonical_query(query)
    );
    let date = &p.amz_date[..p.amz_date.len().min(8)];
    let scope = format!("{date}/{}/{}/aws4_request", p.region, p.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        p.amz_date,
        sha256_hex(canonical_request.as_bytes())
    );
    let k_date = hmac(
        format!("AWS4{}", p.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac(&k_date, p.region.as_bytes());
    let k_service = hmac(&k_region, p.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex(&hmac(&k_signing, string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        p.access_key_id
    );
    Signature {
        canonical_request,
        string_to_sign,
        signed_headers,
        signature,
        authorization,
    }
}

/// `YYYYMMDDTHHMMSSZ` for seconds since the Unix epoch (UTC).
pub fn amz_date(unix_seconds: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix_seconds as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    //! Expected values are the published ones: the AWS SigV4 test suite
    //! (`aws-sig-v4-test-suite`, credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z,
    //! us-east-1, service "service", host example.amazonaws.com) and the S3
    //! "Signature Calculations for the Authorization Header" examples
    //! (AKIAIOSFODNN7EXAMPLE, 2013-05-24, examplebucket).
    use super::*;

    const SUITE_KEY: &str = "AKIDEXAMPLE";
    const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SUITE_DATE: &str = "20150830T123600Z";

    fn suite() -> SigningParams<'static> {
        SigningParams {
            access_key_id: SUITE_KEY,
            secret_access_key: SUITE_SECRET,
            region: "us-east-1",
            service: "service",
            amz_date: SUITE_DATE,
        }
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn suite_headers(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v = h(&[
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", SUITE_DATE),
        ]);
        v.extend(h(extra));
        v
    }

    fn suite_auth(signed: &str, sig: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders={signed}, Signature={sig}")
    }

    #[test]
    fn get_vanilla() {
        let s = sign(
            &suite(),
            "GET",
            &canonical_uri("/", true),
            &[],
            &suite_headers(&[]),
            EMPTY_SHA256,
        );
        assert_eq!(
            s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
        assert_eq!(
            s.authorization,
            suite_auth(
                "host;x-amz-date",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            )
        );
    }

    #[test]
    fn get_vanilla_query_order_key_case() {
        let q = h(&[("Param2", "value2"), ("Param1", "value1")]);
        let s = sign(&suite(), "GET", "/", &q, &suite_headers(&[]), EMPTY_SHA256);
        assert!(s
            .canonical_request
            .contains("\nParam1=value1&Param2=value2\n"));
        assert_eq!(
            s.signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    #[test]
    fn get_vanilla_query_order_value() {
        let q = h(&[("Param1", "value2"), ("Param1", "value1")]);
        let s = sign(&suite(), "GET", "/", &q, &suite_headers(&[]), EMPTY_SHA256);
        assert_eq!(
            s.signature,
            "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"
        );
    }

    #[test]
    fn get_vanilla_empty_query_key() {
        let q = h(&[("Param1", "value1")]);
        let s = sign(&suite(), "GET", "/", &q, &suite_headers(&[]), EMPTY_SHA256);
        assert_eq!(
            s.signature,
            "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"
        );
    }

    #[test]
    fn get_vanilla_utf8_query() {
        let q = h(&[("\u{1234}", "bar")]);
        let s = sign(&suite(), "GET", "/", &q, &suite_headers(&[]), EMPTY_SHA256);
        assert!(s.canonical_request.contains("\n%E1%88%B4=bar\n"));
        assert_eq!(
            s.signature,
            "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"
        );
    }

    #[test]
    fn get_unreserved() {
        let path = "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let s = sign(
            &suite(),
            "GET",
            &canonical_uri(path, true),
            &[],
            &suite_headers(&[]),
            EMPTY_SHA256,
        );
        assert_eq!(
            s.signature,
            "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"
        );
    }

    #[test]
    fn get_slashes_normalized() {
        let s = sign(
            &suite(),
            "GET",
            &canonical_uri("//example//", true),
            &[],
            &suite_headers(&[]),
            EMPTY_SHA256,
        );
        assert_eq!(
            s.signature,
            "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"
        );
    }

    #[test]
    fn get_utf8_and_space_paths() {
        // The wire path is encoded once; the canonical URI once more.
        assert_eq!(encode_path(&["\u{1234}"]), "/%E1%88%B4");
        assert_eq!(
            canonical_uri(&encode_path(&["\u{1234}"]), true),
            "/%25E1%2588%25B4"
        );
        assert_eq!(encode_path(&["example space", ""]), "/example%20space/");
        assert_eq!(encode_path(&["a/b"]), "/a%2Fb");
        assert_eq!(encode_path::<&str>(&[]), "/");
    }

    #[test]
    fn get_header_value_trim() {
        let s = sign(
            &suite(),
            "GET",
            "/",
            &[],
            &suite_headers(&[("My-Header1", " value1"), ("My-Header2", "\"a   b   c\"")]),
            EMPTY_SHA256,
        );
        assert!(s
            .canonical_request
            .contains("my-header1:value1\nmy-header2:\"a b c\"\n"));
        assert_eq!(
            s.authorization,
            suite_auth(
                "host;my-header1;my-header2;x-amz-date",
                "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
            )
        );
    }

    #[test]
    fn get_header_value_order_and_duplicates() {
        let s = sign(
            &suite(),
            "GET",
            "/",
            &[],
            &suite_headers(&[
                ("My-Header1", "value4"),
                ("My-Header1", "value1"),
                ("My-Header1", "value3"),
                ("My-Header1", "value2"),
            ]),
            EMPTY_SHA256,
        );
        assert_eq!(
            s.signature,
            "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"
        );
        let s = sign(
            &suite(),
            "GET",
            "/",
            &[],
            &suite_headers(&[
                ("My-Header1", "value2"),
                ("My-Header1", "value2"),
                ("My-Header1", "value1"),
            ]),
            EMPTY_SHA256,
        );
        assert_eq!(
            s.signature,
            "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"
        );
    }

    #[test]
    fn post_vanilla() {
        let s = sign(
            &suite(),
            "POST",
            "/",
            &[],
            &suite_headers(&[]),
            EMPTY_SHA256,
        );
        assert_eq!(
            s.authorization,
            suite_auth(
                "host;x-amz-date",
                "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
            )
        );
    }

    #[test]
    fn post_x_www_form_urlencoded() {
        let body = b"Param1=value1";
        let s = sign(
            &suite(),
            "POST",
            "/",
            &[],
            &suite_headers(&[("Content-Type", "application/x-www-form-urlencoded")]),
            &sha256_hex(body),
        );
        assert_eq!(
            s.authorization,
            suite_auth(
                "content-type;host;x-amz-date",
                "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
            )
        );
    }

    fn s3_example() -> SigningParams<'static> {
        SigningParams {
            access_key_id: "AKIAIOSFODNN7EXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "s3",
            amz_date: "20130524T000000Z",
        }
    }

    #[test]
    fn s3_get_object_example() {
        let headers = h(&[
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
        ]);
        let s = sign(
            &s3_example(),
            "GET",
            &canonical_uri(&encode_path(&["test.txt"]), false),
            &[],
            &headers,
            EMPTY_SHA256,
        );
        assert_eq!(
            s.signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn s3_put_object_example() {
        let body = b"Welcome to Amazon S3.";
        let hash = sha256_hex(body);
        assert_eq!(
            hash,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let headers = h(&[
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-content-sha256", &hash),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ]);
        let uri = canonical_uri(&encode_path(&["test$file.text"]), false);
        assert_eq!(uri, "/test%24file.text");
        let s = sign(&s3_example(), "PUT", &uri, &[], &headers, &hash);
        assert_eq!(
            s.signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(amz_date(1_440_938_160), SUITE_DATE);
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(amz_date(1_798_761_599), "20261231T235959Z");
    }
}
