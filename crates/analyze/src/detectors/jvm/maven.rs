//! `pom.xml` reading: coordinates, parent, properties (with `${…}`
//! interpolation), dependencies (test scope dropped), build plugins,
//! `finalName`, packaging and `<modules>`.
//!
//! Not here: dependency management, profiles, remote parents (a parent pom
//! that is not in the repository contributes only its coordinates).

use crate::scan::line_of;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dep {
    pub group: String,
    pub artifact: String,
    pub scope: String,
    pub line: u32,
    /// Path of the parent pom it is inherited from (None: this pom).
    pub source: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plugin {
    pub group: String,
    pub artifact: String,
    pub line: u32,
    /// Path of the parent pom it is inherited from (None: this pom).
    pub source: Option<String>,
    /// `<mainClass>` configured anywhere in the plugin.
    pub main_class: bool,
    /// Text of `<descriptorRef>`s (assembly plugin).
    pub descriptor_refs: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pom {
    pub group: Option<String>,
    pub artifact: Option<String>,
    pub version: Option<String>,
    pub packaging: Option<String>,
    pub parent: Option<(String, String, String)>,
    pub parent_line: Option<u32>,
    pub parent_relative_path: Option<String>,
    pub properties: BTreeMap<String, (String, u32)>,
    /// Property → path of the parent pom that defines it.
    pub inherited_properties: BTreeMap<String, String>,
    /// Runtime dependencies (test scope excluded), interpolated.
    pub deps: Vec<Dep>,
    pub plugins: Vec<Plugin>,
    pub final_name: Option<String>,
    pub modules: Vec<String>,
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn text_of(node: roxmltree::Node, name: &str) -> Option<String> {
    child(node, name)
        .and_then(|c| c.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Parse a pom; None when it is not well-formed XML with a `<project>` root.
pub fn parse(text: &str) -> Option<Pom> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let project = doc.root_element();
    if project.tag_name().name() != "project" {
        return None;
    }
    let mut pom = Pom {
        group: text_of(project, "groupId"),
        artifact: text_of(project, "artifactId"),
        version: text_of(project, "version"),
        packaging: text_of(project, "packaging"),
        ..Pom::default()
    };
    if let Some(p) = child(project, "parent") {
        pom.parent = Some((
            text_of(p, "groupId").unwrap_or_default(),
            text_of(p, "artifactId").unwrap_or_default(),
            text_of(p, "version").unwrap_or_default(),
        ));
        pom.parent_line = Some(line_of(text, p.range().start));
        pom.parent_relative_path =
            child(p, "relativePath").map(|r| r.text().unwrap_or("").trim().to_string());
    }
    if let Some(props) = child(project, "properties") {
        for p in props.children().filter(|c| c.is_element()) {
            pom.properties.insert(
                p.tag_name().name().to_string(),
                (
                    p.text().unwrap_or("").trim().to_string(),
                    line_of(text, p.range().start),
                ),
            );
        }
    }
    if let Some(deps) = child(project, "dependencies") {
        for d in deps
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "dependency")
        {
            pom.deps.push(Dep {
                group: text_of(d, "groupId").unwrap_or_default(),
                artifact: text_of(d, "artifactId").unwrap_or_default(),
                scope: text_of(d, "scope").unwrap_or_default(),
                line: line_of(text, d.range().start),
                source: None,
            });
        }
    }
    if let Some(build) = child(project, "build") {
        pom.final_name = text_of(build, "finalName");
        if let Some(plugins) = child(build, "plugins") {
            for p in plugins
                .children()
                .filter(|c| c.is_element() && c.tag_name().name() == "plugin")
            {
                pom.plugins.push(Plugin {
                    group: text_of(p, "groupId")
                        .unwrap_or_else(|| "org.apache.maven.plugins".into()),
                    artifact: text_of(p, "artifactId").unwrap_or_default(),
                    line: line_of(text, p.range().start),
                    source: None,
                    main_class: p.descendants().any(|n| n.tag_name().name() == "mainClass"),
                    descriptor_refs: p
                        .descendants()
                        .filter(|n| n.tag_name().name() == "descriptorRef")
                        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
                        .collect(),
                });
            }
        }
    }
    if let Some(mods) = child(project, "modules") {
        pom.modules = mods
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "module")
            .filter_map(|m| m.text().map(|t| t.trim().trim_end_matches('/').to_string()))
            .collect();
    }
    pom.deps.retain(|d| d.scope != "test");
    Some(pom)
}

impl Pom {
    /// Inherit from a parent pom found in the repository (at `path`): version,
    /// group, properties (the child's win), dependencies and plugins.
    pub fn inherit(&mut self, parent: &Pom, path: &str) {
        if self.version.is_none() {
            self.version = parent.version.clone();
        }
        if self.group.is_none() {
            self.group = parent.group.clone();
        }
        for (k, v) in &parent.properties {
            if !self.properties.contains_key(k) {
                self.properties.insert(k.clone(), v.clone());
                let from = parent
                    .inherited_properties
                    .get(k)
                    .cloned()
                    .unwrap_or_else(|| path.to_string());
                self.inherited_properties.insert(k.clone(), from);
            }
        }
        let src = |s: &Option<String>| Some(s.clone().unwrap_or_else(|| path.to_string()));
        for d in &parent.deps {
            if !self
                .deps
                .iter()
                .any(|x| x.artifact == d.artifact && x.group == d.group)
            {
                self.deps.push(Dep {
                    source: src(&d.source),
                    ..d.clone()
                });
            }
        }
        for p in &parent.plugins {
            if !self.plugins.iter().any(|x| x.artifact == p.artifact) {
                self.plugins.push(Plugin {
                    source: src(&p.source),
                    ..p.clone()
                });
            }
        }
    }

    /// Version, falling back to the parent's coordinates.
    pub fn version(&self) -> Option<String> {
        self.version
            .clone()
            .or_else(|| {
                self.parent
                    .as_ref()
                    .map(|p| p.2.clone())
                    .filter(|v| !v.is_empty())
            })
            .map(|v| self.interpolate(&v))
    }

    /// Replace `${project.version}`, `${project.artifactId}`, `${prop}` …
    pub fn interpolate(&self, value: &str) -> String {
        let mut v = value.to_string();
        for _ in 0..5 {
            let Some(start) = v.find("${") else { break };
            let Some(len) = v[start..].find('}') else {
                break;
            };
            let key = &v[start + 2..start + len];
            let rep = match key {
                "project.version" | "version" | "pom.version" => self
                    .version
                    .clone()
                    .or_else(|| self.parent.as_ref().map(|p| p.2.clone())),
                "project.artifactId" | "artifactId" | "pom.artifactId" => self.artifact.clone(),
                "project.groupId" | "groupId" => self.group.clone(),
                "project.parent.version" | "parent.version" => {
                    self.parent.as_ref().map(|p| p.2.clone())
                }
                other => self.properties.get(other).map(|p| p.0.clone()),
            };
            let Some(rep) = rep.filter(|r| !r.contains(&format!("${{{key}}}"))) else {
                break;
            };
            v.replace_range(start..start + len + 1, &rep);
        }
        v
    }

    /// Interpolate dependency and plugin coordinates.
    pub fn resolve(&mut self) {
        let copy = self.clone();
        for d in &mut self.deps {
            d.group = copy.interpolate(&d.group);
            d.artifact = copy.interpolate(&d.artifact);
        }
        for p in &mut self.plugins {
            p.group = copy.interpolate(&p.group);
            p.artifact = copy.interpolate(&p.artifact);
        }
        if let Some(f) = &self.final_name {
            self.final_name = Some(copy.interpolate(f));
        }
    }

    /// Java version: `java.version`, `maven.compiler.release`, `…source`,
    /// `…target` → (version, line, parent pom path when inherited).
    pub fn java_version(&self) -> Option<(String, u32, Option<String>)> {
        [
            "java.version",
            "maven.compiler.release",
            "maven.compiler.source",
            "maven.compiler.target",
        ]
        .iter()
        .find_map(|k| self.properties.get(*k).map(|v| (k, v)))
        .map(|(k, (v, l))| {
            (
                self.interpolate(v),
                *l,
                self.inherited_properties.get(*k).cloned(),
            )
        })
        .filter(|(v, _, _)| !v.contains("${"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pom_basics() {
        let text = r#"<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <parent><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-parent</artifactId><version>3.2.5</version></parent>
  <artifactId>demo</artifactId>
  <version>${revision}</version>
  <properties><revision>1.4.0</revision><java.version>21</java.version></properties>
  <dependencies>
    <dependency><groupId>org.postgresql</groupId><artifactId>postgresql</artifactId></dependency>
    <dependency><groupId>com.h2database</groupId><artifactId>h2</artifactId><scope>test</scope></dependency>
  </dependencies>
  <build><finalName>${project.artifactId}-app</finalName>
    <plugins><plugin><groupId>org.springframework.boot</groupId><artifactId>spring-boot-maven-plugin</artifactId></plugin></plugins>
  </build>
</project>"#;
        let mut p = parse(text).unwrap();
        p.resolve();
        assert_eq!(p.version().as_deref(), Some("1.4.0"));
        assert_eq!(p.final_name.as_deref(), Some("demo-app"));
        assert_eq!(p.deps.len(), 1);
        assert_eq!(p.deps[0].line, 8);
        assert_eq!(p.java_version(), Some(("21".into(), 6, None)));
        assert_eq!(p.plugins[0].artifact, "spring-boot-maven-plugin");
    }

    #[test]
    fn malformed_pom_is_none() {
        assert!(parse("<project><artifactId>x</project>").is_none());
        assert!(parse("not xml").is_none());
        assert!(parse("<other/>").is_none());
    }

    #[test]
    fn self_referencing_property_stops() {
        let p = parse("<project><properties><a>${a}</a></properties></project>").unwrap();
        assert_eq!(p.interpolate("${a}"), "${a}");
    }
}
