//! .NET detector tests over in-memory repositories.

use super::*;
use crate::repo::MemRepo;

fn run_in(files: &[(&str, &str)], dir: &str) -> Vec<Draft> {
    let repo = MemRepo::new(files.iter().map(|(p, c)| (p.to_string(), c.to_string())));
    let ctx = Ctx::new(&repo);
    detect(&ctx, dir)
}

fn start(d: &Draft) -> String {
    d.starts
        .first()
        .map(|c| c.value.clone())
        .unwrap_or_default()
}

const WEB6: &str = r#"<Project Sdk="Microsoft.NET.Sdk.Web">
  <PropertyGroup><TargetFramework>net6.0</TargetFramework></PropertyGroup>
  <ItemGroup><ProjectReference Include="..\Infra\Infra.csproj" /></ItemGroup>
</Project>"#;

const INFRA: &str = r#"<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net6.0</TargetFramework></PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Pomelo.EntityFrameworkCore.MySql" Version="6.0.2" />
  </ItemGroup>
</Project>"#;

#[test]
fn loopback_url_in_code_and_referenced_project_databases() {
    let files = [
        ("src/Api/Api.csproj", WEB6),
        ("src/Api/Program.cs", "var builder = WebApplication.CreateBuilder(args);\nvar app = builder.Build();\napp.MapGet(\"/health\", () => \"ok\");\napp.Run(\"http://localhost:5000\");\n"),
        ("src/Infra/Infra.csproj", INFRA),
        ("src/Infra/Db.cs", "class Db {}\n"),
    ];
    let d = run_in(&files, "src/Api");
    assert_eq!(d.len(), 1);
    let d = &d[0];
    assert_eq!(d.framework.as_deref(), Some("aspnet-core"));
    assert_eq!(d.strength, 10.0);
    assert!(d.databases.contains_key(&Database::Mysql));
    assert_eq!(d.health_path.as_deref(), Some("/health"));
    let f = d
        .findings
        .iter()
        .find(|f| f.kind == "binds_localhost")
        .unwrap();
    assert_eq!(f.line, Some(4));
    assert_eq!(f.fix.as_ref().unwrap().find, "://localhost");
    assert!(d
        .ports
        .iter()
        .any(|p| p.value == 5000 && p.trust == Trust::Code));
    assert!(d
        .ports
        .iter()
        .any(|p| p.value == 5000 && p.trust == Trust::Default));
    // The library itself is not a service.
    assert!(run_in(&files, "src/Infra").is_empty());
}

#[test]
fn kestrel_endpoint_listen_localhost_and_dockerfile_ports() {
    let d = run_in(
        &[
            ("App.csproj", "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>"),
            ("Program.cs", "var b = WebApplication.CreateBuilder(args);\nb.WebHost.ConfigureKestrel(o => o.ListenLocalhost(7000));\n"),
            ("appsettings.json", "{\n  // prod endpoint\n  \"Kestrel\": { \"Endpoints\": { \"Http\": { \"Url\": \"http://0.0.0.0:9000\" } } },\n}\n"),
            ("Dockerfile", "FROM mcr.microsoft.com/dotnet/aspnet:8.0\nENV ASPNETCORE_HTTP_PORTS=8081\n"),
        ],
        "",
    );
    let d = &d[0];
    let ports: Vec<(u16, Trust)> = d.ports.iter().map(|p| (p.value, p.trust)).collect();
    assert_eq!(
        ports,
        vec![
            (9000, Trust::Config),
            (8081, Trust::Config),
            (7000, Trust::Code),
            (8080, Trust::Default)
        ]
    );
    let f = d
        .findings
        .iter()
        .find(|f| f.kind == "binds_localhost")
        .unwrap();
    assert_eq!(f.fix.as_ref().unwrap().replace, "ListenAnyIP(");
}

#[test]
fn tests_libraries_desktop_and_console() {
    let test = r#"<Project Sdk="Microsoft.NET.Sdk"><ItemGroup><PackageReference Include="xunit" Version="2.7.0" /></ItemGroup></Project>"#;
    assert!(run_in(&[("T/T.csproj", test)], "T").is_empty());
    let lib = r#"<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>"#;
    assert!(run_in(&[("L.csproj", lib)], "").is_empty());
    let wpf = r#"<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><OutputType>WinExe</OutputType><UseWPF>true</UseWPF></PropertyGroup></Project>"#;
    assert!(run_in(&[("W.csproj", wpf)], "").is_empty());
    let console = r#"<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net8.0</TargetFramework><AssemblyName>$(MSBuildProjectName)</AssemblyName></PropertyGroup></Project>"#;
    let d = run_in(&[("Cli.csproj", console), ("Cli.sln", "")], "");
    assert_eq!(d[0].kind, ServiceKind::Worker);
    assert_eq!(start(&d[0]), "dotnet out/Cli.dll");
    assert_eq!(
        d[0].builds[0].value,
        "dotnet publish Cli.csproj -c Release -o out"
    );
}

#[test]
fn blazor_wasm_is_static_and_props_give_the_target() {
    let d = run_in(
        &[
            ("Directory.Build.props", "<Project><PropertyGroup><TargetFramework>net9.0</TargetFramework></PropertyGroup></Project>"),
            ("client/Client.csproj", "<Project Sdk=\"Microsoft.NET.Sdk.BlazorWebAssembly\"></Project>"),
        ],
        "client",
    );
    assert_eq!(d[0].kind, ServiceKind::Static);
    assert_eq!(d[0].static_dir.as_deref(), Some("out/wwwroot"));
    assert_eq!(d[0].runtime_version.as_deref(), Some("9.0"));
    // Hosted by a server project that references it: part of that server.
    let d = run_in(
        &[
            ("client/Client.csproj", "<Project Sdk=\"Microsoft.NET.Sdk.BlazorWebAssembly\"></Project>"),
            ("server/Server.csproj", "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><ItemGroup><ProjectReference Include=\"..\\client\\Client.csproj\" /></ItemGroup></Project>"),
        ],
        "client",
    );
    assert!(d.is_empty());
}

#[test]
fn configuration_keys_and_connection_strings() {
    let mut d = Draft::new("", Language::Csharp, ServiceKind::Web);
    let docs = vec![settings::parse_jsonc(
        "{\"Smtp\": {\"Host\": \"mail\"}, \"ConnectionStrings\": {\"Db\": \"\"}}",
    )
    .unwrap()];
    scan_env(
        &mut d,
        "P.cs",
        r#"var a = builder.Configuration["Smtp:Host"];
var b = _configuration["Jwt:Key"];
var c = config.GetValue<int>("Workers", 4);
var e = builder.Configuration.GetConnectionString("Db");
var f = Environment.GetEnvironmentVariable("REGION") ?? "eu";
"#,
        &docs,
    );
    let got: Vec<(&str, bool, bool)> = d
        .env
        .iter()
        .map(|e| (e.name.as_str(), e.required, e.secret))
        .collect();
    assert_eq!(
        got,
        vec![
            ("REGION", false, false),
            ("Smtp__Host", false, false),
            ("Jwt__Key", true, true),
            ("Workers", false, false),
            ("ConnectionStrings__Db", true, true),
        ]
    );
}

#[test]
fn legacy_framework_and_broken_xml() {
    let legacy = r#"<Project ToolsVersion="15.0"><PropertyGroup><OutputType>Exe</OutputType><TargetFrameworkVersion>v4.7.2</TargetFrameworkVersion></PropertyGroup></Project>"#;
    let d = run_in(&[("Old.csproj", legacy)], "");
    assert!(d[0].findings.iter().any(|f| f.kind == "dotnet_framework"));
    assert!(run_in(&[("Bad.csproj", "<Project")], "").is_empty());
}
