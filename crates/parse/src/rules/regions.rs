//! Region tables per cloud and the region finder.
//!
//! Three kinds of mention are recognised:
//! - a region code written as one word (`eu-central-1`, `europe-west1`,
//!   `westeurope`, any casing): it names its provider unambiguously;
//! - a code or an Azure display name spread over words (`us east 1`,
//!   `West Europe`, `East US 2`): meaningful only once the cloud is known;
//! - a place (`Frankfurt`, `N. Virginia`, `São Paulo`, `Germany`): mapped per
//!   provider through [`PLACES`]; a place a provider has no single region for
//!   maps to nothing there (Ireland on GCP, Iowa on AWS, Japan anywhere).
//!
//! What it deliberately is not: a guesser. "Europe", "the US" or "Asia" map to
//! nothing, and nothing here decides which mention wins (that is `context`).

use super::text::Doc;
use autodeploy_core::Cloud;
use std::collections::HashMap;
use std::sync::OnceLock;

pub(crate) const AWS_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "us-gov-east-1",
    "us-gov-west-1",
];

pub(crate) const GCP_REGIONS: &[&str] = &[
    "africa-south1",
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast2",
    "asia-northeast3",
    "asia-south1",
    "asia-south2",
    "asia-southeast1",
    "asia-southeast2",
    "australia-southeast1",
    "australia-southeast2",
    "europe-central2",
    "europe-north1",
    "europe-north2",
    "europe-southwest1",
    "europe-west1",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "europe-west8",
    "europe-west9",
    "europe-west10",
    "europe-west12",
    "me-central1",
    "me-central2",
    "me-west1",
    "northamerica-northeast1",
    "northamerica-northeast2",
    "northamerica-south1",
    "southamerica-east1",
    "southamerica-west1",
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-south1",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
];

pub(crate) const AZURE_REGIONS: &[&str] = &[
    "eastus",
    "eastus2",
    "westus",
    "westus2",
    "westus3",
    "centralus",
    "northcentralus",
    "southcentralus",
    "westcentralus",
    "canadacentral",
    "canadaeast",
    "brazilsouth",
    "mexicocentral",
    "northeurope",
    "westeurope",
    "uksouth",
    "ukwest",
    "francecentral",
    "germanywestcentral",
    "switzerlandnorth",
    "norwayeast",
    "swedencentral",
    "polandcentral",
    "italynorth",
    "spaincentral",
    "eastasia",
    "southeastasia",
    "japaneast",
    "japanwest",
    "koreacentral",
    "centralindia",
    "southindia",
    "westindia",
    "australiaeast",
    "australiasoutheast",
    "uaenorth",
    "southafricanorth",
    "qatarcentral",
    "israelcentral",
    "newzealandnorth",
];

type Place = (
    &'static [&'static str],
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

/// Places → (AWS, GCP, Azure) region. `None` where the provider has no region
/// there or more than one (then the text is ambiguous for that provider).
pub(crate) const PLACES: &[Place] = &[
    (
        &["frankfurt", "frankfurt am main", "francfort"],
        Some("eu-central-1"),
        Some("europe-west3"),
        Some("germanywestcentral"),
    ),
    (
        &["germany"],
        Some("eu-central-1"),
        None,
        Some("germanywestcentral"),
    ),
    (
        &["ireland", "dublin"],
        Some("eu-west-1"),
        None,
        Some("northeurope"),
    ),
    (
        &["london"],
        Some("eu-west-2"),
        Some("europe-west2"),
        Some("uksouth"),
    ),
    (
        &["uk", "united kingdom", "britain", "great britain"],
        Some("eu-west-2"),
        Some("europe-west2"),
        None,
    ),
    (
        &["paris"],
        Some("eu-west-3"),
        Some("europe-west9"),
        Some("francecentral"),
    ),
    (
        &["france"],
        Some("eu-west-3"),
        Some("europe-west9"),
        Some("francecentral"),
    ),
    (
        &["stockholm"],
        Some("eu-north-1"),
        None,
        Some("swedencentral"),
    ),
    (&["sweden"], Some("eu-north-1"), None, Some("swedencentral")),
    (
        &["milan", "italy"],
        Some("eu-south-1"),
        Some("europe-west8"),
        Some("italynorth"),
    ),
    (
        &["spain", "madrid"],
        Some("eu-south-2"),
        Some("europe-southwest1"),
        Some("spaincentral"),
    ),
    (
        &["zurich", "switzerland"],
        Some("eu-central-2"),
        Some("europe-west6"),
        Some("switzerlandnorth"),
    ),
    (
        &["netherlands", "amsterdam", "holland", "eemshaven"],
        None,
        Some("europe-west4"),
        Some("westeurope"),
    ),
    (
        &["belgium", "st ghislain"],
        None,
        Some("europe-west1"),
        None,
    ),
    (&["finland", "hamina"], None, Some("europe-north1"), None),
    (
        &["warsaw", "poland"],
        None,
        Some("europe-central2"),
        Some("polandcentral"),
    ),
    (&["norway", "oslo"], None, None, Some("norwayeast")),
    (
        &["israel", "tel aviv"],
        Some("il-central-1"),
        Some("me-west1"),
        Some("israelcentral"),
    ),
    (&["bahrain"], Some("me-south-1"), None, None),
    (
        &["uae", "dubai", "united arab emirates"],
        Some("me-central-1"),
        None,
        Some("uaenorth"),
    ),
    (
        &["qatar", "doha"],
        None,
        Some("me-central1"),
        Some("qatarcentral"),
    ),
    (&["dammam", "saudi arabia"], None, Some("me-central2"), None),
    (&["cape town"], Some("af-south-1"), None, None),
    (
        &["johannesburg"],
        None,
        Some("africa-south1"),
        Some("southafricanorth"),
    ),
    (
        &["hong kong"],
        Some("ap-east-1"),
        Some("asia-east2"),
        Some("eastasia"),
    ),
    (&["taiwan"], None, Some("asia-east1"), None),
    (
        &["singapore"],
        Some("ap-southeast-1"),
        Some("asia-southeast1"),
        Some("southeastasia"),
    ),
    (
        &["jakarta", "indonesia"],
        Some("ap-southeast-3"),
        Some("asia-southeast2"),
        None,
    ),
    (
        &["mumbai", "bombay"],
        Some("ap-south-1"),
        Some("asia-south1"),
        Some("westindia"),
    ),
    (&["delhi"], None, Some("asia-south2"), None),
    (&["hyderabad"], Some("ap-south-2"), None, None),
    (&["pune"], None, None, Some("centralindia")),
    (&["chennai"], None, None, Some("southindia")),
    (
        &["tokyo"],
        Some("ap-northeast-1"),
        Some("asia-northeast1"),
        Some("japaneast"),
    ),
    (
        &["osaka"],
        Some("ap-northeast-3"),
        Some("asia-northeast2"),
        Some("japanwest"),
    ),
    (
        &["seoul"],
        Some("ap-northeast-2"),
        Some("asia-northeast3"),
        Some("koreacentral"),
    ),
    (
        &["sydney"],
        Some("ap-southeast-2"),
        Some("australia-southeast1"),
        Some("australiaeast"),
    ),
    (
        &["melbourne"],
        Some("ap-southeast-4"),
        Some("australia-southeast2"),
        Some("australiasoutheast"),
    ),
    (
        &[
            "virginia",
            "n virginia",
            "northern virginia",
            "north virginia",
            "ashburn",
        ],
        Some("us-east-1"),
        Some("us-east4"),
        Some("eastus"),
    ),
    (
        &["ohio", "columbus"],
        Some("us-east-2"),
        Some("us-east5"),
        None,
    ),
    (
        &["oregon", "the dalles"],
        Some("us-west-2"),
        Some("us-west1"),
        None,
    ),
    (
        &["california"],
        Some("us-west-1"),
        Some("us-west2"),
        Some("westus"),
    ),
    (
        &["n california", "northern california", "north california"],
        Some("us-west-1"),
        None,
        Some("westus"),
    ),
    (&["los angeles"], None, Some("us-west2"), None),
    (&["las vegas", "nevada"], None, Some("us-west4"), None),
    (&["salt lake city", "utah"], None, Some("us-west3"), None),
    (
        &["iowa", "council bluffs"],
        None,
        Some("us-central1"),
        Some("centralus"),
    ),
    (
        &["south carolina", "moncks corner"],
        None,
        Some("us-east1"),
        None,
    ),
    (&["texas"], None, None, Some("southcentralus")),
    (&["dallas"], None, Some("us-south1"), None),
    (
        &["montreal"],
        Some("ca-central-1"),
        Some("northamerica-northeast1"),
        None,
    ),
    (
        &["toronto"],
        None,
        Some("northamerica-northeast2"),
        Some("canadacentral"),
    ),
    (&["quebec"], None, None, Some("canadaeast")),
    (&["calgary"], Some("ca-west-1"), None, None),
    (
        &["sao paulo", "brazil"],
        Some("sa-east-1"),
        Some("southamerica-east1"),
        Some("brazilsouth"),
    ),
    (
        &["santiago", "chile"],
        None,
        Some("southamerica-west1"),
        None,
    ),
    (
        &["mexico", "queretaro"],
        Some("mx-central-1"),
        Some("northamerica-south1"),
        Some("mexicocentral"),
    ),
];

pub(crate) fn cloud_index(c: Cloud) -> Option<usize> {
    match c {
        Cloud::Aws => Some(0),
        Cloud::Gcp => Some(1),
        Cloud::Azure => Some(2),
        Cloud::Local => None,
    }
}

/// The provider a region code belongs to, when `code` is exactly one of the codes.
pub(crate) fn cloud_of(code: &str) -> Option<Cloud> {
    if AWS_REGIONS.contains(&code) {
        Some(Cloud::Aws)
    } else if GCP_REGIONS.contains(&code) {
        Some(Cloud::Gcp)
    } else if AZURE_REGIONS.contains(&code) {
        Some(Cloud::Azure)
    } else {
        None
    }
}

/// One place in the text that names a region.
#[derive(Debug, Clone)]
pub(crate) struct RegionHit {
    /// First and one-past-last word index.
    pub start: usize,
    pub end: usize,
    /// A region code written as one word: it names its provider.
    pub exact: Option<(Cloud, &'static str)>,
    /// The region this mention means on AWS, GCP, Azure.
    pub per_cloud: [Option<&'static str>; 3],
    /// The words as written, for notes.
    pub text: String,
}

impl RegionHit {
    pub fn on(&self, cloud: Cloud) -> Option<&'static str> {
        cloud_index(cloud).and_then(|i| self.per_cloud[i])
    }
}

struct Tables {
    /// joined key (no spaces or dashes) → region per cloud
    keys: HashMap<String, [Option<&'static str>; 3]>,
    /// every prefix of every key, so a scan stops at the first word that cannot continue one
    prefixes: std::collections::HashSet<String>,
    longest: usize,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut keys: HashMap<String, [Option<&'static str>; 3]> = HashMap::new();
        let mut longest = 1;
        for (ci, list) in [AWS_REGIONS, GCP_REGIONS, AZURE_REGIONS].iter().enumerate() {
            for code in *list {
                let k: String = code.chars().filter(|c| *c != '-').collect();
                keys.entry(k).or_default()[ci] = Some(code);
            }
        }
        for (names, aws, gcp, azure) in PLACES {
            for name in *names {
                longest = longest.max(name.split(' ').count());
                let k: String = name.chars().filter(|c| *c != ' ').collect();
                let e = keys.entry(k).or_default();
                for (i, v) in [aws, gcp, azure].into_iter().enumerate() {
                    if e[i].is_none() {
                        e[i] = *v;
                    }
                }
            }
        }
        let prefixes = keys
            .keys()
            .flat_map(|k| {
                (1..=k.len())
                    .filter(|i| k.is_char_boundary(*i))
                    .map(|i| k[..i].to_string())
            })
            .collect();
        Tables {
            keys,
            prefixes,
            longest: longest.max(4),
        }
    })
}

/// Words of place names, so the typo corrector leaves them alone.
pub(crate) fn vocabulary() -> impl Iterator<Item = &'static str> {
    PLACES
        .iter()
        .flat_map(|(names, ..)| names.iter().flat_map(|n| n.split(' ')))
}

/// Every region mention in the text, left to right, longest match first.
pub(crate) fn find(doc: &Doc) -> Vec<RegionHit> {
    let t = tables();
    let words = &doc.words;
    let mut hits = Vec::new();
    let mut key = String::new();
    let mut i = 0;
    while i < words.len() {
        if words[i].span.is_some() || words[i].key.is_empty() {
            i += 1;
            continue;
        }
        let mut matched = None;
        let max = t.longest.min(words.len() - i);
        key.clear();
        for n in 1..=max {
            let w = &words[i + n - 1];
            if w.span.is_some() || w.clause != words[i].clause || w.key.len() > 24 {
                break;
            }
            key.extend(w.key.chars().filter(|c| *c != '-'));
            if !t.prefixes.contains(key.as_str()) {
                break;
            }
            if let Some(per_cloud) = t.keys.get(key.as_str()) {
                matched = Some((n, *per_cloud));
            }
        }
        match matched {
            Some((n, per_cloud)) => {
                let exact = if n == 1 {
                    cloud_of(&words[i].key).and_then(|c| per_cloud[cloud_index(c)?].map(|r| (c, r)))
                } else {
                    None
                };
                // A multi-word match that is only an Azure/AWS/GCP *code* spelled
                // with spaces ("west europe", "us east 1") keeps its per-cloud
                // meaning; a one-word match that is not a code is a place.
                let text = words[i..i + n]
                    .iter()
                    .map(|w| w.key.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                hits.push(RegionHit {
                    start: i,
                    end: i + n,
                    exact,
                    per_cloud,
                    text,
                });
                i += n;
            }
            None => i += 1,
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(t: &str) -> Vec<RegionHit> {
        find(&Doc::new(t))
    }

    #[test]
    fn codes_names_and_places() {
        let h = hits("AWS EKS WESTEUROPE");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].exact, Some((Cloud::Azure, "westeurope")));
        assert_eq!(h[0].on(Cloud::Aws), None);

        let h = hits("Azure West Europe");
        assert_eq!(h[0].exact, None);
        assert_eq!(h[0].on(Cloud::Azure), Some("westeurope"));

        let h = hits("AWS us east 1");
        assert_eq!(h[0].on(Cloud::Aws), Some("us-east-1"));
        assert_eq!(h[0].on(Cloud::Gcp), Some("us-east1"));

        let h = hits("N. Virginia and São Paulo");
        assert_eq!(h[0].on(Cloud::Aws), Some("us-east-1"));
        assert_eq!(h[1].on(Cloud::Aws), Some("sa-east-1"));

        let h = hits("us-east1");
        assert_eq!(h[0].exact, Some((Cloud::Gcp, "us-east1")));
        assert_eq!(h[0].on(Cloud::Aws), Some("us-east-1"));

        assert!(hits("Europe, the US and Asia").is_empty());
    }

    #[test]
    fn every_code_belongs_to_exactly_one_cloud() {
        for list in [AWS_REGIONS, GCP_REGIONS, AZURE_REGIONS] {
            for code in list {
                let n = [AWS_REGIONS, GCP_REGIONS, AZURE_REGIONS]
                    .iter()
                    .filter(|l| l.contains(code))
                    .count();
                assert_eq!(n, 1, "{code}");
            }
        }
        for (_, a, g, z) in PLACES {
            assert!(a.is_none_or(|c| AWS_REGIONS.contains(&c)), "{a:?}");
            assert!(g.is_none_or(|c| GCP_REGIONS.contains(&c)), "{g:?}");
            assert!(z.is_none_or(|c| AZURE_REGIONS.contains(&c)), "{z:?}");
        }
    }
}
