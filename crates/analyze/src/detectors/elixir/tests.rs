//! Elixir detector tests over in-memory repositories.

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

const PLUG_MIX: &str = r#"defmodule Hello.MixProject do
  use Mix.Project
  def project, do: [app: :hello, version: "0.1.0", elixir: "~> 1.14", deps: deps()]
  def application, do: [mod: {Hello.Application, []}, extra_applications: [:logger]]
  defp deps do
    [{:bandit, "~> 1.0"}, {:redix, "~> 1.2"}, {:jason, "~> 1.4"}]
  end
end
"#;

#[test]
fn plug_app_on_loopback_with_code_port() {
    let d = run_in(
        &[
            ("mix.exs", PLUG_MIX),
            ("mix.lock", "%{}\n"),
            (
                "lib/hello/application.ex",
                "defmodule Hello.Application do\n  use Application\n  def start(_t, _a) do\n    children = [\n      {Bandit, plug: Hello.Router, ip: {127, 0, 0, 1}, port: 4001},\n      {Redix, {System.fetch_env!(\"REDIS_URL\"), [name: :redix]}}\n    ]\n    Supervisor.start_link(children, strategy: :one_for_one)\n  end\nend\n",
            ),
            ("lib/hello/router.ex", "defmodule Hello.Router do\n  use Plug.Router\n  plug :match\n  plug :dispatch\n  get \"/healthz\" do\n    send_resp(conn, 200, \"ok\")\n  end\nend\n"),
        ],
        "",
    );
    let d = &d[0];
    assert_eq!(d.framework.as_deref(), Some("plug"));
    assert_eq!(d.strength, 10.0);
    assert_eq!(start(d), "_build/prod/rel/hello/bin/hello start");
    assert_eq!(
        d.builds[0].value,
        "MIX_ENV=prod mix compile && MIX_ENV=prod mix release"
    );
    assert!(d
        .ports
        .iter()
        .any(|p| p.value == 4001 && p.trust == Trust::Code));
    let f = d
        .findings
        .iter()
        .find(|f| f.kind == "binds_localhost")
        .unwrap();
    assert_eq!(f.line, Some(5));
    assert_eq!(f.fix.as_ref().unwrap().find, "{127, 0, 0, 1}");
    assert!(d.databases.contains_key(&Database::Redis));
    assert!(d.env.iter().any(|e| e.name == "REDIS_URL" && e.required));
    assert_eq!(d.health_path.as_deref(), Some("/healthz"));
    assert!(d.release.is_none());
}

#[test]
fn phoenix_without_server_true_and_plain_ecto_migrate() {
    let mix = r#"defmodule Old.MixProject do
  use Mix.Project
  def project, do: [app: :old, deps: deps()]
  def application, do: [mod: {Old.Application, []}]
  defp deps do
    [{:phoenix, "~> 1.5"}, {:ecto_sql, "~> 3.4"}, {:myxql, ">= 0.0.0"}]
  end
end
"#;
    let d = run_in(
        &[
            ("mix.exs", mix),
            ("config/prod.exs", "import Config\nconfig :old, OldWeb.Endpoint,\n  http: [port: 4400]\n# config :old, OldWeb.Endpoint, server: true\n"),
            ("config/runtime.exs", "import Config\nif config_env() == :dev do\n  config :old, OldWeb.Endpoint, http: [ip: {127, 0, 0, 1}]\n  x = System.get_env(\"DEV_ONLY\")\nend\n"),
            ("lib/old_web/endpoint.ex", "defmodule OldWeb.Endpoint do\n  use Phoenix.Endpoint, otp_app: :old\nend\n"),
        ],
        "",
    );
    let d = &d[0];
    assert_eq!(d.framework.as_deref(), Some("phoenix"));
    assert_eq!(d.release.as_deref(), Some("MIX_ENV=prod mix ecto.migrate"));
    assert_eq!(start(d), "_build/prod/rel/old/bin/old start");
    let kinds: Vec<&str> = d.findings.iter().map(|f| f.kind.as_str()).collect();
    assert_eq!(kinds, vec!["no_lockfile", "phoenix_server_disabled"]);
    assert!(d
        .ports
        .iter()
        .any(|p| p.value == 4400 && p.trust == Trust::Config));
    assert!(
        d.env.is_empty(),
        "dev-guarded reads are not production env vars"
    );
    assert!(d.databases.contains_key(&Database::Mysql));
}

#[test]
fn umbrella_children_belong_to_the_root() {
    let root = r#"defmodule Shop.Umbrella.MixProject do
  use Mix.Project
  def project, do: [apps_path: "apps", version: "0.1.0", deps: deps(), releases: [shop: [applications: [shop: :permanent, shop_web: :permanent]]]]
  defp deps, do: []
end
"#;
    let web = r#"defmodule ShopWeb.MixProject do
  use Mix.Project
  def project, do: [app: :shop_web, deps: deps()]
  def application, do: [mod: {ShopWeb.Application, []}]
  defp deps do
    [{:phoenix, "~> 1.7"}, {:shop, in_umbrella: true}]
  end
end
"#;
    let files = [
        ("mix.exs", root),
        ("mix.lock", "%{}"),
        ("apps/shop_web/mix.exs", web),
        ("apps/shop_web/lib/shop_web/endpoint.ex", "defmodule ShopWeb.Endpoint do\n  use Phoenix.Endpoint, otp_app: :shop_web\nend\n"),
        ("apps/shop/mix.exs", "defmodule Shop.MixProject do\n  def project, do: [app: :shop, deps: deps()]\n  defp deps, do: [{:postgrex, \">= 0.0.0\"}]\nend\n"),
        ("config/runtime.exs", "import Config\nconfig :shop_web, ShopWeb.Endpoint, server: true\n"),
    ];
    assert!(run_in(&files, "apps/shop_web").is_empty());
    let d = run_in(&files, "");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].framework.as_deref(), Some("phoenix"));
    assert_eq!(d[0].strength, 10.0);
    assert_eq!(start(&d[0]), "_build/prod/rel/shop/bin/shop start");
    assert!(d[0].databases.contains_key(&Database::Postgresql));
    assert!(d[0].findings.is_empty());
}

#[test]
fn otp_worker_and_library() {
    let mix = "defmodule Bot.MixProject do\n  def project, do: [app: :bot, deps: deps()]\n  def application, do: [mod: {Bot.Application, []}]\n  defp deps, do: [{:nostrum, \"~> 0.8\"}]\nend\n";
    let d = run_in(&[("mix.exs", mix), ("mix.lock", "%{}")], "");
    assert_eq!(d[0].kind, ServiceKind::Worker);
    assert_eq!(start(&d[0]), "_build/prod/rel/bot/bin/bot start");
    let lib = "defmodule Lib.MixProject do\n  def project, do: [app: :lib, deps: []]\nend\n";
    let d = run_in(&[("mix.exs", lib), ("mix.lock", "%{}")], "");
    assert_eq!(d[0].strength, 2.5);
    assert!(d[0].starts.is_empty());
}

#[test]
fn env_forms() {
    let mut d = Draft::new("", Language::Elixir, ServiceKind::Web);
    scan_env(
        &mut d,
        "config/runtime.exs",
        r#"a = System.get_env("PLAIN")
b = System.get_env("WITH_OR") || "x"
c = System.get_env("RAISES") ||
      raise "missing"
e = System.get_env("WITH_ARG", "y")
f = System.fetch_env!("BANG")
g = System.fetch_env("SOFT")
if System.get_env("FLAG") do
h = System.get_env("CMP") == "1"
"#,
        &|_| true,
    );
    let got: Vec<(&str, bool)> = d
        .env
        .iter()
        .map(|e| (e.name.as_str(), e.required))
        .collect();
    assert_eq!(
        got,
        vec![
            ("PLAIN", true),
            ("WITH_OR", false),
            ("RAISES", true),
            ("WITH_ARG", false),
            ("FLAG", false),
            ("CMP", false),
            ("BANG", true),
            ("SOFT", false),
        ]
    );
}

#[test]
fn garbage_does_not_panic() {
    let d = run_in(
        &[
            ("mix.exs", "defp deps do [{:"),
            ("config/runtime.exs", "if config_env() == :dev do\n"),
        ],
        "",
    );
    assert_eq!(d.len(), 1);
}
