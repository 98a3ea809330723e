//! AWS partitions: which DNS suffix a region's endpoints use and where the
//! global services (IAM, CloudFront) live and sign, per partition. The data
//! is the `partitions.json` the AWS SDKs ship (region patterns and DNS
//! suffixes) plus the documented global endpoints of IAM and CloudFront.
//!
//! Not here: FIPS or dual-stack endpoints (not used by the release steps).

/// One AWS partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`, `aws-iso-e`, `aws-iso-f`, `aws-eusc`.
    pub id: &'static str,
    /// The DNS suffix of its endpoints.
    pub dns_suffix: &'static str,
    /// IAM's one endpoint host and the region its requests are signed for.
    pub iam: (&'static str, &'static str),
    /// CloudFront's control-plane host and signing region, where offered.
    pub cloudfront: Option<(&'static str, &'static str)>,
}

const AWS: Partition = Partition {
    id: "aws",
    dns_suffix: "amazonaws.com",
    iam: ("iam.amazonaws.com", "us-east-1"),
    cloudfront: Some(("cloudfront.amazonaws.com", "us-east-1")),
};

const PARTITIONS: &[(&str, Partition)] = &[
    (
        "cn-",
        Partition {
            id: "aws-cn",
            dns_suffix: "amazonaws.com.cn",
            iam: ("iam.cn-north-1.amazonaws.com.cn", "cn-north-1"),
            cloudfront: Some((
                "cloudfront.cn-northwest-1.amazonaws.com.cn",
                "cn-northwest-1",
            )),
        },
    ),
    (
        "us-gov-",
        Partition {
            id: "aws-us-gov",
            dns_suffix: "amazonaws.com",
            iam: ("iam.us-gov.amazonaws.com", "us-gov-west-1"),
            // GovCloud has no CloudFront of its own.
            cloudfront: None,
        },
    ),
    (
        "us-isob-",
        Partition {
            id: "aws-iso-b",
            dns_suffix: "sc2s.sgov.gov",
            iam: ("iam.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"),
            cloudfront: None,
        },
    ),
    (
        "us-iso-",
        Partition {
            id: "aws-iso",
            dns_suffix: "c2s.ic.gov",
            iam: ("iam.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"),
            cloudfront: None,
        },
    ),
    (
        "eu-isoe-",
        Partition {
            id: "aws-iso-e",
            dns_suffix: "cloud.adc-e.uk",
            iam: ("iam.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1"),
            cloudfront: None,
        },
    ),
    (
        "us-isof-",
        Partition {
            id: "aws-iso-f",
            dns_suffix: "csp.hci.ic.gov",
            iam: ("iam.us-isof-south-1.csp.hci.ic.gov", "us-isof-south-1"),
            cloudfront: None,
        },
    ),
    (
        "eusc-",
        Partition {
            id: "aws-eusc",
            dns_suffix: "amazonaws.eu",
            iam: ("iam.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"),
            cloudfront: None,
        },
    ),
];

/// The partition of `region` (the commercial `aws` partition for any region
/// no other partition claims, as the SDKs do).
pub fn partition_of(region: &str) -> &'static Partition {
    PARTITIONS
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map(|(_, p)| p)
        .unwrap_or(&AWS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_by_region() {
        assert_eq!(partition_of("eu-central-1").id, "aws");
        assert_eq!(partition_of("us-east-1").dns_suffix, "amazonaws.com");
        let cn = partition_of("cn-north-1");
        assert_eq!((cn.id, cn.dns_suffix), ("aws-cn", "amazonaws.com.cn"));
        assert_eq!(
            cn.cloudfront,
            Some((
                "cloudfront.cn-northwest-1.amazonaws.com.cn",
                "cn-northwest-1"
            ))
        );
        let gov = partition_of("us-gov-west-1");
        assert_eq!(gov.id, "aws-us-gov");
        assert_eq!(gov.iam, ("iam.us-gov.amazonaws.com", "us-gov-west-1"));
        assert_eq!(gov.cloudfront, None);
        // `us-isob-` is not `us-iso-`.
        assert_eq!(partition_of("us-isob-east-1").id, "aws-iso-b");
        assert_eq!(partition_of("us-iso-east-1").id, "aws-iso");
    }
}
