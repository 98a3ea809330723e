//! The Ruby tables: web frameworks, Rack servers, background-job libraries
//! and the gems that name a database. Adding a framework or server = one row.
//!
//! Deliberately not here: how the rows are used (`mod.rs`, `start.rs`).

use autodeploy_core::Database;

/// One web framework.
pub(super) struct Framework {
    pub(super) name: &'static str,
    /// Gems that signal it (any one).
    pub(super) gems: &'static [&'static str],
    /// Finds the app in code.
    pub(super) app: &'static str,
    pub(super) default_port: u16,
    /// Higher wins when several frameworks are declared.
    pub(super) rank: u8,
}

pub(super) const FRAMEWORKS: &[Framework] = &[
    Framework {
        name: "rails",
        gems: &["rails", "railties"],
        app: r"<\s*Rails::Application\b",
        default_port: 3000,
        rank: 10,
    },
    Framework {
        name: "hanami",
        gems: &["hanami"],
        app: r"<\s*Hanami::App(?:lication)?\b",
        default_port: 2300,
        rank: 8,
    },
    Framework {
        name: "sinatra",
        gems: &["sinatra"],
        app: r#"(?m)^[ \t]*require\s*\(?\s*["']sinatra(?:/base)?["']|<\s*Sinatra::(?:Base|Application)\b"#,
        default_port: 4567,
        rank: 6,
    },
    Framework {
        name: "roda",
        gems: &["roda"],
        app: r"<\s*Roda\b",
        default_port: 9292,
        rank: 5,
    },
    Framework {
        name: "grape",
        gems: &["grape"],
        app: r"<\s*Grape::API\b",
        default_port: 9292,
        rank: 4,
    },
];

/// A Rack server gem and how to run a `config.ru` with it on all interfaces.
pub(super) struct Server {
    pub(super) gem: &'static str,
    /// Its own config files (first found wins) and the command that loads one (`{file}`).
    pub(super) config: Option<(&'static [&'static str], &'static str)>,
    /// Command for a `config.ru` without a config file.
    pub(super) cmd: &'static str,
}

/// Where Puma's configuration lives (`config/puma.rb` is also what Puma and
/// `rails server` load by default).
pub(super) const PUMA_CONFIGS: &[&str] = &["config/puma.rb", "puma.rb"];

pub(super) const SERVERS: &[Server] = &[
    Server {
        gem: "puma",
        config: Some((PUMA_CONFIGS, "bundle exec puma -C {file}")),
        cmd: "bundle exec puma -b tcp://0.0.0.0:{PORT}",
    },
    Server {
        gem: "unicorn",
        config: Some((
            &["config/unicorn.rb", "unicorn.rb"],
            "bundle exec unicorn -c {file} -p {PORT}",
        )),
        cmd: "bundle exec unicorn -p {PORT}",
    },
    Server {
        gem: "falcon",
        config: None,
        cmd: "bundle exec falcon serve --bind http://0.0.0.0:{PORT}",
    },
    Server {
        gem: "thin",
        config: None,
        cmd: "bundle exec thin start -a 0.0.0.0 -p {PORT}",
    },
    Server {
        gem: "passenger",
        config: None,
        cmd: "bundle exec passenger start -a 0.0.0.0 -p {PORT}",
    },
];

/// Gems that serve HTTP for a Rack app (any of them makes a production server available).
pub(super) const SERVER_GEMS: &[&str] = &[
    "puma",
    "unicorn",
    "falcon",
    "thin",
    "passenger",
    "iodine",
    "pitchfork",
    "agoo",
    "webrick",
];

/// A background-job library that runs as its own process.
pub(super) struct Worker {
    pub(super) gems: &'static [&'static str],
    pub(super) framework: &'static str,
    pub(super) start: &'static str,
    /// A config file the command should load: (file, flag appended).
    pub(super) config: Option<(&'static str, &'static str)>,
    /// Text of a Procfile command that already runs it.
    pub(super) procfile: &'static str,
}

pub(super) const WORKERS: &[Worker] = &[
    Worker {
        gems: &["sidekiq"],
        framework: "sidekiq",
        start: "bundle exec sidekiq",
        config: Some(("config/sidekiq.yml", " -C config/sidekiq.yml")),
        procfile: "sidekiq",
    },
    Worker {
        gems: &["good_job"],
        framework: "good_job",
        start: "bundle exec good_job start",
        config: None,
        procfile: "good_job",
    },
    Worker {
        gems: &[
            "delayed_job",
            "delayed_job_active_record",
            "delayed_job_mongoid",
        ],
        framework: "delayed_job",
        start: "bundle exec rake jobs:work",
        config: None,
        procfile: "jobs:work",
    },
    Worker {
        gems: &["resque"],
        framework: "resque",
        start: "QUEUE=* bundle exec rake resque:work",
        config: None,
        procfile: "resque",
    },
];

/// Declared gem → database or cache.
pub(super) const DB_GEMS: &[(&str, Database)] = &[
    ("pg", Database::Postgresql),
    ("activerecord-postgis-adapter", Database::Postgresql),
    ("mysql2", Database::Mysql),
    ("trilogy", Database::Mysql),
    ("activerecord-trilogy-adapter", Database::Mysql),
    ("sqlite3", Database::Sqlite),
    ("mongoid", Database::Mongodb),
    ("mongo", Database::Mongodb),
    ("redis", Database::Redis),
    ("redis-client", Database::Redis),
    ("hiredis", Database::Redis),
    ("hiredis-client", Database::Redis),
    ("redis-namespace", Database::Redis),
    ("redis-rails", Database::Redis),
    ("kredis", Database::Redis),
    ("sidekiq", Database::Redis),
    ("resque", Database::Redis),
];

/// Files run as plain scripts when nothing else says how to start.
pub(super) const SCRIPT_NAMES: &[&str] = &[
    "main.rb",
    "app.rb",
    "bot.rb",
    "worker.rb",
    "run.rb",
    "server.rb",
];

/// Gems that install developer or build tools, not an application.
const TOOLING_GEMS: &[&str] = &[
    "fastlane",
    "cocoapods",
    "danger",
    "xcpretty",
    "xcodeproj",
    "slather",
    "jekyll",
    "github-pages",
    "rubocop",
    "rake",
    "bundler",
    "asciidoctor",
    "kramdown",
    "html-proofer",
    "webrick",
    "licensed",
    "overcommit",
];

/// True for a tooling gem (or a plugin of one: `jekyll-feed`, `rubocop-rails`…).
pub(super) fn is_tooling_gem(gem: &str) -> bool {
    TOOLING_GEMS.iter().any(|t| {
        gem == *t
            || gem
                .strip_prefix(t)
                .is_some_and(|rest| rest.starts_with('-') || rest.starts_with('_'))
    })
}
