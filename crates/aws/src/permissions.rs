//! Whether the caller may do what a bundle needs, asked before anything is
//! created: IAM's policy simulator (`SimulatePrincipalPolicy`) for the
//! caller's user or role, over the actions that create the bundle's
//! resources (one per Terraform resource type, [`create_actions`]) and the
//! ones the release steps call ([`RELEASE_ACTIONS_ECS`]…).
//!
//! The simulator needs `iam:SimulatePrincipalPolicy` itself and a user or
//! role to simulate (not the root user, not a federated user): when it
//! cannot answer, the caller is told so and goes on — Terraform then names
//! a missing permission at the resource that needs it. Service control
//! policies and permission boundaries are included by IAM in the answer;
//! resource policies and conditions on tags are not.

use crate::client::{AwsClient, Service};
use crate::AwsError;

/// The action that creates one Terraform resource type (the one a policy
/// most often lacks; updating and tagging follow the same grant).
pub fn create_action(resource_type: &str) -> Option<&'static str> {
    Some(match resource_type {
        "aws_instance" => "ec2:RunInstances",
        "aws_launch_template" => "ec2:CreateLaunchTemplate",
        "aws_vpc" => "ec2:CreateVpc",
        "aws_subnet" => "ec2:CreateSubnet",
        "aws_security_group" => "ec2:CreateSecurityGroup",
        "aws_internet_gateway" => "ec2:CreateInternetGateway",
        "aws_nat_gateway" => "ec2:CreateNatGateway",
        "aws_eip" => "ec2:AllocateAddress",
        "aws_route_table" => "ec2:CreateRouteTable",
        "aws_autoscaling_group" => "autoscaling:CreateAutoScalingGroup",
        "aws_autoscaling_policy" => "autoscaling:PutScalingPolicy",
        "aws_iam_role" => "iam:CreateRole",
        "aws_iam_role_policy" => "iam:PutRolePolicy",
        "aws_iam_role_policy_attachment" => "iam:AttachRolePolicy",
        "aws_iam_instance_profile" => "iam:CreateInstanceProfile",
        "aws_s3_bucket" => "s3:CreateBucket",
        "aws_s3_object" => "s3:PutObject",
        "aws_db_instance" => "rds:CreateDBInstance",
        "aws_db_subnet_group" => "rds:CreateDBSubnetGroup",
        "aws_db_parameter_group" => "rds:CreateDBParameterGroup",
        "aws_docdb_cluster" => "rds:CreateDBCluster",
        "aws_elasticache_replication_group" => "elasticache:CreateReplicationGroup",
        "aws_elasticache_subnet_group" => "elasticache:CreateCacheSubnetGroup",
        "aws_secretsmanager_secret" => "secretsmanager:CreateSecret",
        "aws_secretsmanager_secret_version" => "secretsmanager:PutSecretValue",
        "aws_kms_key" => "kms:CreateKey",
        "aws_cloudwatch_log_group" => "logs:CreateLogGroup",
        "aws_ecs_cluster" => "ecs:CreateCluster",
        "aws_ecs_service" => "ecs:CreateService",
        "aws_ecs_task_definition" => "ecs:RegisterTaskDefinition",
        "aws_ecr_repository" => "ecr:CreateRepository",
        "aws_codebuild_project" => "codebuild:CreateProject",
        "aws_lb" => "elasticloadbalancing:CreateLoadBalancer",
        "aws_lb_target_group" => "elasticloadbalancing:CreateTargetGroup",
        "aws_lb_listener" => "elasticloadbalancing:CreateListener",
        "aws_acm_certificate" => "acm:RequestCertificate",
        "aws_route53_record" => "route53:ChangeResourceRecordSets",
        "aws_cloudfront_distribution" => "cloudfront:CreateDistribution",
        "aws_lambda_function" => "lambda:CreateFunction",
        "aws_eks_cluster" => "eks:CreateCluster",
        "aws_eks_node_group" => "eks:CreateNodegroup",
        _ => return None,
    })
}

/// The actions creating these resource types need, each once, in order.
pub fn create_actions<'a>(resource_types: impl IntoIterator<Item = &'a str>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for a in resource_types.into_iter().filter_map(create_action) {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    // Giving an instance or a task its role is a separate permission.
    if out.iter().any(|a| {
        matches!(
            *a,
            "iam:CreateInstanceProfile" | "ecs:RegisterTaskDefinition"
        )
    }) {
        out.push("iam:PassRole");
    }
    out
}

/// What the release of ECS services calls (`release_container`).
pub const RELEASE_ACTIONS_ECS: &[&str] = &[
    "s3:PutObject",
    "codebuild:StartBuild",
    "codebuild:BatchGetBuilds",
    "ecs:RunTask",
    "ecs:DescribeTasks",
    "ecs:UpdateService",
    "ecs:DescribeServices",
    "iam:PassRole",
];

/// The simulator's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every action is allowed.
    Allowed { checked: usize },
    /// These actions are denied (`implicitDeny` or `explicitDeny`), each
    /// with the decision.
    Denied(Vec<(String, String)>),
    /// The simulator could not answer (why); nothing is known.
    Unknown(String),
}

/// The IAM user or role a caller ARN (STS GetCallerIdentity) stands for:
/// `…:user/x` as is, `…:assumed-role/R/session` → `…:role/R`. `None` for the
/// root user and federated users, which the simulator does not take.
pub fn principal_arn(caller: &str) -> Option<String> {
    let mut parts = caller.splitn(6, ':');
    let (arn, partition, service, _region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if arn != "arn" {
        return None;
    }
    match service {
        "iam" if resource.starts_with("user/") || resource.starts_with("role/") => {
            Some(caller.to_string())
        }
        "sts" => {
            let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
            (!role.is_empty()).then(|| format!("arn:{partition}:iam::{account}:role/{role}"))
        }
        _ => None,
    }
}

/// The evaluation results of a `SimulatePrincipalPolicy` answer: (action,
/// decision) for each.
pub fn parse_simulation(xml: &str) -> Result<(Vec<(String, String)>, bool), String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("not XML: {e}"))?;
    let mut out = Vec::new();
    for n in doc
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "EvalActionName")
    {
        let Some(parent) = n.parent() else { continue };
        let decision = parent
            .children()
            .find(|c| c.is_element() && c.tag_name().name() == "EvalDecision")
            .and_then(|c| c.text())
            .unwrap_or("")
            .trim()
            .to_string();
        out.push((n.text().unwrap_or("").trim().to_string(), decision));
    }
    let truncated = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "IsTruncated")
        .and_then(|n| n.text())
        .is_some_and(|t| t.trim() == "true");
    Ok((out, truncated))
}

impl AwsClient {
    /// Ask IAM whether `principal` (a user or role ARN) may do `actions`.
    /// Only what the simulator says is reported; an error of the call
    /// itself (no permission to simulate, an emulator without it) is
    /// [`Verdict::Unknown`], never a failure.
    pub fn simulate(&self, principal: &str, actions: &[&str]) -> Verdict {
        if actions.is_empty() {
            return Verdict::Allowed { checked: 0 };
        }
        let mut params: Vec<(String, String)> = vec![
            ("PolicySourceArn".into(), principal.to_string()),
            ("MaxItems".into(), "1000".into()),
        ];
        for (i, a) in actions.iter().enumerate() {
            params.push((format!("ActionNames.member.{}", i + 1), a.to_string()));
        }
        let refs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let xml =
            match self.query_call(Service::Iam, "SimulatePrincipalPolicy", "2010-05-08", &refs) {
                Ok(x) => x,
                Err(e) => return Verdict::Unknown(unknown_reason(&e)),
            };
        match parse_simulation(&xml) {
            Ok((results, _)) if results.is_empty() => {
                Verdict::Unknown("the simulator answered no results".into())
            }
            Ok((results, _)) => {
                let denied: Vec<(String, String)> = results
                    .into_iter()
                    .filter(|(_, d)| d != "allowed")
                    .collect();
                if denied.is_empty() {
                    Verdict::Allowed {
                        checked: actions.len(),
                    }
                } else {
                    Verdict::Denied(denied)
                }
            }
            Err(e) => Verdict::Unknown(format!("its answer is unreadable ({e})")),
        }
    }
}

fn unknown_reason(e: &AwsError) -> String {
    match e.code() {
        Some("AccessDenied") => {
            "these credentials may not run IAM's policy simulator (iam:SimulatePrincipalPolicy)".into()
        }
        Some("NoSuchEntity") => {
            "IAM does not know the role under that name (a role with a path cannot be named from a session ARN)".into()
        }
        _ => format!("the policy simulator did not answer ({e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_become_the_principal_the_simulator_takes() {
        assert_eq!(
            principal_arn("arn:aws:iam::123456789012:user/deployer").as_deref(),
            Some("arn:aws:iam::123456789012:user/deployer")
        );
        assert_eq!(
            principal_arn("arn:aws:sts::123456789012:assumed-role/Deploy/ci-run-7").as_deref(),
            Some("arn:aws:iam::123456789012:role/Deploy")
        );
        assert_eq!(
            principal_arn("arn:aws-cn:sts::123456789012:assumed-role/Deploy/x").as_deref(),
            Some("arn:aws-cn:iam::123456789012:role/Deploy")
        );
        assert_eq!(principal_arn("arn:aws:iam::123456789012:root"), None);
        assert_eq!(
            principal_arn("arn:aws:sts::123456789012:federated-user/bob"),
            None
        );
        assert_eq!(principal_arn("nonsense"), None);
    }

    #[test]
    fn the_bundles_resource_types_give_their_create_actions_once() {
        let a = create_actions([
            "aws_instance",
            "aws_iam_instance_profile",
            "aws_instance",
            "aws_random_thing",
        ]);
        assert_eq!(
            a,
            [
                "ec2:RunInstances",
                "iam:CreateInstanceProfile",
                "iam:PassRole"
            ]
        );
    }

    #[test]
    fn simulation_answers_are_read_per_action_not_per_statement() {
        let xml = r#"<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <SimulatePrincipalPolicyResult>
    <IsTruncated>false</IsTruncated>
    <EvaluationResults>
      <member>
        <MatchedStatements><member><SourcePolicyId>p</SourcePolicyId></member></MatchedStatements>
        <EvalActionName>ec2:RunInstances</EvalActionName>
        <EvalDecision>allowed</EvalDecision>
      </member>
      <member>
        <EvalActionName>rds:CreateDBInstance</EvalActionName>
        <EvalDecision>implicitDeny</EvalDecision>
      </member>
    </EvaluationResults>
  </SimulatePrincipalPolicyResult>
</SimulatePrincipalPolicyResponse>"#;
        let (r, truncated) = parse_simulation(xml).unwrap();
        assert!(!truncated);
        assert_eq!(
            r,
            vec![
                ("ec2:RunInstances".into(), "allowed".into()),
                ("rds:CreateDBInstance".into(), "implicitDeny".into())
            ]
        );
    }
}
