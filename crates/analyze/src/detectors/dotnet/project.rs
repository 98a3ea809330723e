//! MSBuild project files (`*.csproj`, and `Directory.Build.props` above them):
//! the SDK, target framework, assembly name, output type, package and
//! project references — everything the detector needs to tell a web app from
//! a worker, a test project or a library.
//!
//! Deliberately not here: what a package means (databases, test
//! frameworks) — the tables in `mod.rs` say that.

use crate::ctx::Ctx;
use crate::repo::{file_name, join, normalize, parent};

/// One `PackageReference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub line: u32,
}

#[derive(Debug, Default, Clone)]
pub struct Project {
    /// Repo-relative path of the project file.
    pub path: String,
    /// `Microsoft.NET.Sdk.Web`, `Microsoft.NET.Sdk.Worker`… (version suffix removed).
    pub sdks: Vec<String>,
    /// (`net8.0`, file, line)
    pub target: Option<(String, String, u32)>,
    pub assembly_name: Option<String>,
    pub output_type: Option<String>,
    /// Properties set to `true`: IsTestProject, IsAspireHost, UseWPF…
    pub flags: Vec<String>,
    pub packages: Vec<Package>,
    pub framework_refs: Vec<String>,
    /// Referenced projects, repo-relative.
    pub project_refs: Vec<String>,
    /// An old-style (non-SDK) project: .NET Framework.
    pub legacy: bool,
    /// The file is not well-formed XML.
    pub invalid: bool,
}

impl Project {
    pub fn has_sdk(&self, sdk: &str) -> bool {
        self.sdks.iter().any(|s| s.eq_ignore_ascii_case(sdk))
    }
    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f.eq_ignore_ascii_case(name))
    }
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }
    /// The file name the build produces, without `.dll`.
    pub fn assembly(&self) -> String {
        let stem = file_name(&self.path)
            .rsplit_once('.')
            .map(|(s, _)| s)
            .unwrap_or(file_name(&self.path))
            .to_string();
        match &self.assembly_name {
            Some(a) if !a.contains("$(") => a.clone(),
            _ => stem,
        }
    }
}

/// `net8.0` → `8.0`, `netcoreapp3.1` → `3.1`, `net6.0-windows` → `6.0`;
/// `net48` (.NET Framework) → None.
pub fn runtime_of(tfm: &str) -> Option<String> {
    let t = tfm.trim().to_ascii_lowercase();
    let t = t.split('-').next().unwrap_or(&t);
    let v = t
        .strip_prefix("netcoreapp")
        .or_else(|| t.strip_prefix("net"))?;
    if !v.contains('.') {
        return None;
    }
    let mut parts = v.split('.');
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = parts.next()?.parse().ok()?;
    Some(format!("{major}.{minor}"))
}

/// Major version of a runtime string (`8.0` → 8).
pub fn major(runtime: &str) -> Option<u32> {
    runtime.split('.').next()?.parse().ok()
}

fn line_at(doc: &roxmltree::Document, node: roxmltree::Node) -> u32 {
    doc.text_pos_at(node.range().start).row
}

/// Parse a project (or props) file's text.
pub fn parse(path: &str, text: &str) -> Project {
    let mut p = Project {
        path: path.to_string(),
        ..Project::default()
    };
    let text = text.trim_start_matches('\u{feff}');
    let Ok(doc) = roxmltree::Document::parse(text) else {
        p.invalid = true;
        return p;
    };
    let root = doc.root_element();
    let sdk_list = |s: &str| -> Vec<String> {
        s.split(';')
            .map(|x| x.split('/').next().unwrap_or("").trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    };
    if let Some(s) = root.attribute("Sdk") {
        p.sdks.extend(sdk_list(s));
    }
    let dir = parent(path);
    for n in root.descendants().filter(|n| n.is_element()) {
        let name = n.tag_name().name();
        let value = n.text().unwrap_or("").trim();
        match name {
            "Sdk" => p
                .sdks
                .extend(n.attribute("Name").map(sdk_list).unwrap_or_default()),
            "Import" => p
                .sdks
                .extend(n.attribute("Sdk").map(sdk_list).unwrap_or_default()),
            "TargetFramework" | "TargetFrameworks" if p.target.is_none() && !value.is_empty() => {
                let first = value.split(';').next().unwrap_or(value).trim().to_string();
                p.target = Some((first, path.to_string(), line_at(&doc, n)));
            }
            "TargetFrameworkVersion" => p.legacy = true,
            "AssemblyName" if !value.is_empty() => p.assembly_name = Some(value.to_string()),
            "OutputType" if !value.is_empty() => p.output_type = Some(value.to_string()),
            "PackageReference" => {
                if let Some(inc) = n.attribute("Include").or(n.attribute("Update")) {
                    p.packages.push(Package {
                        name: inc.trim().to_string(),
                        line: line_at(&doc, n),
                    });
                }
            }
            "FrameworkReference" => {
                if let Some(inc) = n.attribute("Include") {
                    p.framework_refs.push(inc.trim().to_string());
                }
            }
            "ProjectReference" => {
                if let Some(inc) = n.attribute("Include") {
                    let rel = inc.trim().replace('\\', "/");
                    if let Some(norm) = normalize(&join(dir, &rel)) {
                        p.project_refs.push(norm);
                    }
                }
            }
            _ if value.eq_ignore_ascii_case("true") && n.children().all(|c| !c.is_element()) => {
                p.flags.push(name.to_string());
            }
            _ => {}
        }
    }
    if p.sdks.is_empty() && root.attribute("ToolsVersion").is_some() {
        p.legacy = true;
    }
    p
}

/// Read a project file and fill what it leaves to `Directory.Build.props` files above it.
pub fn read(ctx: &Ctx, path: &str) -> Option<Project> {
    let text = ctx.read_path(path)?;
    let mut p = parse(path, &text);
    let unresolved = |p: &Project| p.target.as_ref().is_none_or(|(t, _, _)| t.contains("$("));
    if unresolved(&p) {
        let mut d = parent(path);
        loop {
            let props = join(d, "Directory.Build.props");
            if let Some(t) = ctx.read_path(&props) {
                let pp = parse(&props, &t);
                if let Some(t) = pp.target.filter(|(t, _, _)| !t.contains("$(")) {
                    p.target = Some(t);
                    break;
                }
            }
            if d.is_empty() {
                break;
            }
            d = parent(d);
        }
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes() {
        assert_eq!(runtime_of("net8.0").as_deref(), Some("8.0"));
        assert_eq!(runtime_of("netcoreapp3.1").as_deref(), Some("3.1"));
        assert_eq!(runtime_of("net6.0-windows").as_deref(), Some("6.0"));
        assert_eq!(runtime_of("net48"), None);
        assert_eq!(runtime_of("netstandard2.0"), None);
        assert_eq!(major("10.0"), Some(10));
    }

    #[test]
    fn sdk_forms_packages_and_refs() {
        let p = parse(
            "src/Api/Api.csproj",
            r#"<Project>
  <Sdk Name="Microsoft.NET.Sdk.Web" Version="8.0.100" />
  <PropertyGroup>
    <TargetFrameworks>net8.0;net9.0</TargetFrameworks>
    <AssemblyName>Acme.Api</AssemblyName>
    <IsPackable>false</IsPackable>
    <InvariantGlobalization>true</InvariantGlobalization>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Npgsql" Version="8.0.0" />
    <ProjectReference Include="..\Data\Data.csproj" />
    <FrameworkReference Include="Microsoft.AspNetCore.App" />
  </ItemGroup>
</Project>"#,
        );
        assert!(p.has_sdk("Microsoft.NET.Sdk.Web"));
        assert_eq!(p.target.as_ref().map(|t| t.0.as_str()), Some("net8.0"));
        assert_eq!(p.assembly(), "Acme.Api");
        assert_eq!(p.package("npgsql").map(|x| x.line), Some(10));
        assert_eq!(p.project_refs, vec!["src/Data/Data.csproj"]);
        assert!(p.flag("InvariantGlobalization") && !p.flag("IsPackable"));
        assert_eq!(p.framework_refs, vec!["Microsoft.AspNetCore.App"]);
    }

    #[test]
    fn legacy_and_broken() {
        let p = parse(
            "Old.csproj",
            r#"<?xml version="1.0" encoding="utf-8"?>
<Project ToolsVersion="15.0" xmlns="http://schemas.microsoft.com/developer/msbuild/2003">
  <PropertyGroup><TargetFrameworkVersion>v4.7.2</TargetFrameworkVersion><OutputType>Library</OutputType></PropertyGroup>
</Project>"#,
        );
        assert!(p.legacy);
        assert_eq!(p.assembly(), "Old");
        assert!(parse("x.csproj", "<Project><PropertyGroup>").invalid);
    }
}
