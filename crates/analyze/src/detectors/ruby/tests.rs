//! Ruby detector tests over in-memory repositories.

use super::*;
use crate::draft::Trust;
use crate::repo::MemRepo;

fn run(files: &[(&str, &str)]) -> Vec<Draft> {
    let repo = MemRepo::new(files.iter().map(|(p, c)| (p.to_string(), c.to_string())));
    let ctx = Ctx::new(&repo);
    detect(&ctx, "")
}

fn start(d: &Draft) -> String {
    d.starts
        .first()
        .map(|c| c.value.clone())
        .unwrap_or_default()
}

fn kinds(d: &Draft) -> Vec<&str> {
    d.findings.iter().map(|f| f.kind.as_str()).collect()
}

#[test]
fn rack3_without_rackup_uses_the_declared_server() {
    let lock = "GEM\n  remote: https://rubygems.org/\n  specs:\n    puma (6.4.2)\n    rack (3.0.9)\n    roda (3.77.0)\n\nDEPENDENCIES\n  puma\n  roda\n";
    let d = run(&[
        (
            "Gemfile",
            "source 'https://rubygems.org'\ngem 'roda'\ngem 'puma'\n",
        ),
        ("Gemfile.lock", lock),
        ("config.ru", "require_relative 'app'\nrun App.freeze.app\n"),
        (
            "app.rb",
            "require 'roda'\nclass App < Roda\n  route { |r| r.root { 'hi' } }\nend\n",
        ),
    ]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].framework.as_deref(), Some("roda"));
    assert_eq!(d[0].strength, 10.0);
    assert_eq!(start(&d[0]), "bundle exec puma -b tcp://0.0.0.0:{PORT}");
    assert_eq!(d[0].install.as_deref(), Some("bundle install"));
}

#[test]
fn plain_rack_with_old_rack_uses_rackup() {
    let lock = "GEM\n  specs:\n    rack (2.2.8)\n\n";
    let d = run(&[
        ("Gemfile", "gem 'rack'\n"),
        ("Gemfile.lock", lock),
        ("config.ru", "run ->(env) { [200, {}, ['ok']] }\n"),
    ]);
    assert_eq!(d[0].framework.as_deref(), Some("rack"));
    assert_eq!(start(&d[0]), "bundle exec rackup -o 0.0.0.0 -p {PORT}");
    assert_eq!(d[0].ports[0].value, 9292);
    assert_eq!(kinds(&d[0]), vec!["missing_production_server"]);
}

#[test]
fn config_ru_without_gemfile() {
    let d = run(&[("config.ru", "run ->(env) { [200, {}, ['ok']] }\n")]);
    assert_eq!(d[0].framework.as_deref(), Some("rack"));
    assert!(kinds(&d[0]).contains(&"no_manifest"));
    assert!(d[0].install.is_none());
}

#[test]
fn sinatra_with_config_ru_ignores_set_bind() {
    let d = run(&[
        ("Gemfile", "gem 'sinatra'\ngem 'puma'\ngem 'rackup'\n"),
        ("Gemfile.lock", "GEM\n  specs:\n    rackup (2.1.0)\n"),
        ("config.ru", "require './app'\nrun Sinatra::Application\n"),
        (
            "app.rb",
            "require 'sinatra'\nset :bind, 'localhost'\nget('/') { 'hi' }\n",
        ),
    ]);
    assert_eq!(start(&d[0]), "bundle exec rackup -o 0.0.0.0 -p {PORT}");
    assert!(kinds(&d[0]).is_empty(), "{:?}", kinds(&d[0]));
}

#[test]
fn modular_sinatra_without_run_or_config_ru() {
    let d = run(&[
        ("Gemfile", "gem 'sinatra'\ngem 'puma'\n"),
        ("Gemfile.lock", "GEM\n"),
        (
            "lib/api.rb",
            "require 'sinatra/base'\nclass Api < Sinatra::Base\n  get('/') { 'x' }\nend\n",
        ),
    ]);
    assert!(d[0].starts.is_empty());
    assert_eq!(kinds(&d[0]), vec!["start_not_found"]);
    let d = run(&[
        ("Gemfile", "gem 'sinatra'\ngem 'puma'\n"),
        ("Gemfile.lock", "GEM\n"),
        ("server.rb", "require 'sinatra/base'\nclass Api < Sinatra::Base\n  get('/') { 'x' }\n  run! if app_file == $0\nend\n"),
    ]);
    assert_eq!(
        start(&d[0]),
        "bundle exec ruby server.rb -o 0.0.0.0 -p {PORT}"
    );
}

#[test]
fn rails_puma_config_bound_to_loopback_and_without_port() {
    let files = [
        ("Gemfile", "gem 'rails'\ngem 'puma'\ngem 'pg'\n"),
        ("Gemfile.lock", "GEM\n"),
        ("config.ru", "run Rails.application\n"),
        (
            "config/application.rb",
            "module X\n  class Application < Rails::Application\n  end\nend\n",
        ),
        (
            "config/puma.rb",
            "threads 5, 5\nbind 'tcp://127.0.0.1:3000'\n",
        ),
    ];
    let d = run(&files);
    assert_eq!(start(&d[0]), "bundle exec puma -C config/puma.rb");
    let f = d[0]
        .findings
        .iter()
        .find(|f| f.kind == "binds_localhost")
        .unwrap();
    assert_eq!(f.line, Some(2));
    let fix = f.fix.as_ref().unwrap();
    assert_eq!(
        (fix.find.as_str(), fix.replace.as_str()),
        ("://127.0.0.1", "://0.0.0.0")
    );
    // No database.yml and no migrations: no release; no assets: no build.
    assert!(d[0].release.is_none());
    assert!(d[0].builds.is_empty());
    assert!(d[0]
        .env
        .iter()
        .any(|e| e.name == "SECRET_KEY_BASE" && e.required));

    let d = run(&[
        ("Gemfile", "gem 'rails'\ngem 'puma'\n"),
        ("config.ru", "run Rails.application\n"),
        (
            "config/application.rb",
            "class Application < Rails::Application; end\n",
        ),
        ("config/puma.rb", "workers 2\n"),
        ("config/master.key", "0123456789abcdef"),
        ("config/credentials.yml.enc", "abc--def"),
    ]);
    assert_eq!(start(&d[0]), "bundle exec puma -C config/puma.rb -p {PORT}");
    assert!(kinds(&d[0]).contains(&"committed_secret"));
    assert!(d[0].env.iter().any(|e| e.name == "RAILS_MASTER_KEY"));
}

#[test]
fn procfile_sidekiq_line_means_no_second_worker() {
    let files = [
        ("Gemfile", "gem 'rails'\ngem 'puma'\ngem 'sidekiq'\n"),
        (
            "Procfile",
            "web: bundle exec puma -C config/puma.rb\njobs: bundle exec sidekiq -q default\n",
        ),
        (
            "config/application.rb",
            "class Application < Rails::Application; end\n",
        ),
    ];
    let d = run(&files);
    assert_eq!(d.len(), 1);
    assert!(d[0].databases.contains_key(&Database::Redis));
}

#[test]
fn worker_only_folder() {
    let d = run(&[
        ("Gemfile", "gem 'sidekiq'\n"),
        ("Gemfile.lock", "GEM\n"),
        (
            "lib/jobs.rb",
            "class HardJob\n  include Sidekiq::Job\nend\n",
        ),
    ]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, ServiceKind::Worker);
    assert_eq!(d[0].name.as_deref(), Some("worker"));
    assert_eq!(start(&d[0]), "bundle exec sidekiq");
}

#[test]
fn script_and_library() {
    let d = run(&[
        ("Gemfile", "gem 'discordrb'\n"),
        ("Gemfile.lock", "GEM\n"),
        ("bot.rb", "require 'discordrb'\nbot = Discordrb::Bot.new token: ENV.fetch('DISCORD_TOKEN')\nbot.run\n"),
    ]);
    assert_eq!(d[0].kind, ServiceKind::Worker);
    assert_eq!(start(&d[0]), "bundle exec ruby bot.rb");
    assert!(d[0].env[0].required && d[0].env[0].secret);
    // A gem's own Gemfile (`gemspec` only) is a library, not an app.
    let lib = [
        ("Gemfile", "gemspec\n"),
        ("Gemfile.lock", "GEM\n"),
        ("lib/x.rb", "module X; end\n"),
    ];
    assert!(run(&lib).is_empty());
    let d = run(&[("Gemfile", "gem 'nokogiri'\n"), ("Gemfile.lock", "GEM\n")]);
    assert_eq!(d[0].strength, 2.5);
    assert!(d[0].starts.is_empty());
}

#[test]
fn env_forms() {
    let mut d = Draft::new("", Language::Ruby, ServiceKind::Web);
    scan_env(
        &mut d,
        "x.rb",
        r#"a = ENV["REQ"]
b = ENV['OPT'] || "x"
c = ENV.fetch("FETCHED")
e = ENV.fetch("WITH_DEFAULT", 1)
f = ENV.fetch("BLOCK") { 2 }
g = ENV["FLAG"].present?
h = ENV["MODE"] == "on"
i = true if ENV["IFFED"]
j = ENV.key?("CHECKED")
k = x == ENV["COMPARED"]
"#,
        |_| false,
    );
    let req: Vec<(&str, bool)> = d
        .env
        .iter()
        .map(|e| (e.name.as_str(), e.required))
        .collect();
    assert_eq!(
        req,
        vec![
            ("REQ", true),
            ("OPT", false),
            ("FLAG", false),
            ("MODE", false),
            ("IFFED", false),
            ("COMPARED", true),
            ("FETCHED", true),
            ("WITH_DEFAULT", false),
            ("BLOCK", false),
            ("CHECKED", false),
        ]
    );
}

#[test]
fn dev_only_gems_and_dev_sections_are_not_databases() {
    let d = run(&[
        ("Gemfile", "gem 'sinatra'\ngem 'puma'\ngroup :development do\n  gem 'sqlite3'\n  gem 'redis'\nend\n"),
        ("Gemfile.lock", "GEM\n"),
        ("app.rb", "require 'sinatra'\nget('/') { 'x' }\n"),
        ("config/database.yml", "development:\n  adapter: sqlite3\n  url: <%= ENV['DEV_URL'] %>\nproduction:\n  adapter: postgresql\n  url: <%= ENV['DATABASE_URL'] %>\n"),
    ]);
    let dbs: Vec<_> = d[0].databases.keys().copied().collect();
    assert_eq!(dbs, vec![Database::Postgresql]);
    let names: Vec<_> = d[0].env.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, vec!["DATABASE_URL"]);
}

#[test]
fn malformed_input_does_not_panic() {
    let d = run(&[
        ("Gemfile", "end\nend\ngroup do\ngem\ngem '\n\u{0}\u{1}"),
        ("config.ru", ""),
        ("config/puma.rb", "port \nbind 'tcp://:'\n"),
        ("config/database.yml", "production:\n  <<: *nope\n<<: *x\n"),
    ]);
    assert_eq!(d.len(), 1);
}

#[test]
fn worker_keeps_its_own_command_when_the_image_runs_the_web_process() {
    let repo = MemRepo::new([
        ("Gemfile", "gem 'rails'\ngem 'puma'\ngem 'sidekiq'\n"),
        ("Gemfile.lock", "GEM\n"),
        ("config/application.rb", "class Application < Rails::Application; end\n"),
        ("Dockerfile", "FROM ruby:3.3\nENV RAILS_ENV=production\nEXPOSE 3000\nCMD [\"./bin/rails\", \"server\"]\n"),
    ]);
    let services = crate::analyze_repo(&repo, Some("shop")).expect("services");
    let worker = services
        .iter()
        .find(|s| s.name == "worker")
        .expect("worker");
    assert_eq!(worker.start.as_deref(), Some("bundle exec sidekiq"));
    assert!(worker.env.iter().any(|e| e.name == "RAILS_ENV"));
    let web = services.iter().find(|s| s.name == "shop").expect("web");
    assert_eq!(web.start.as_deref(), Some("./bin/rails server"));
}

#[test]
fn tooling_gemfiles_are_not_apps() {
    let d = run(&[(
        "Gemfile",
        "source 'https://rubygems.org'\ngem 'fastlane'\ngem 'cocoapods', '~> 1.15'\n",
    )]);
    assert!(d.is_empty());
    let d = run(&[(
        "Gemfile",
        "gem 'jekyll', '~> 4.3'\ngroup :jekyll_plugins do\n  gem 'jekyll-feed'\nend\n",
    )]);
    assert!(d.is_empty());
}

#[test]
fn root_puma_config_names_port_and_start() {
    let d = run(&[
        ("Gemfile", "gem 'sinatra'\ngem 'puma'\n"),
        ("Gemfile.lock", "GEM\n  specs:\n    rack (3.0.9)\n"),
        ("config.ru", "require './app'\nrun Sinatra::Application\n"),
        ("app.rb", "require 'sinatra'\nget('/') { 'hi' }\n"),
        ("puma.rb", "# Puma\nport ENV.fetch('PORT') { 3100 }\n"),
    ]);
    assert_eq!(start(&d[0]), "bundle exec puma -C puma.rb");
    let p = d[0]
        .ports
        .iter()
        .find(|p| p.trust == Trust::Config)
        .unwrap();
    assert_eq!((p.value, p.evidence.line), (3100, Some(2)));
}
