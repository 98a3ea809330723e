//! Dockerfile: `EXPOSE`, `ENV PORT`, `CMD`/`ENTRYPOINT` of the final stage,
//! and the base image (which names the language of a Dockerfile-only app).
//!
//! This is a reader, not a builder: autodeploy's own Dockerfiles are rendered
//! elsewhere.

use crate::ctx::Ctx;
use crate::draft::{ev, Draft, Trust};
use autodeploy_core::{Language, ServiceKind, Severity};

/// File names recognised as a service's Dockerfile, in order of preference.
pub const NAMES: &[&str] = &["Dockerfile", "Containerfile", "dockerfile"];

/// What a Dockerfile's final stage says.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DockerInfo {
    pub base_image: Option<(String, u32)>,
    pub expose: Vec<(u16, u32)>,
    pub env_port: Option<(u16, u32)>,
    pub cmd: Option<(String, u32)>,
    /// `ENV` of the final stage: (name, value, line).
    pub env: Vec<(String, String, u32)>,
    /// The stage's `WORKDIR` (absolute), when it sets one.
    pub workdir: Option<String>,
    /// Files the stage copies out of an earlier stage's build, as
    /// (absolute path in this stage, path relative to the build stage's
    /// WORKDIR): `COPY --from=builder /app/target/release/x x`.
    pub artefacts: Vec<(String, String)>,
    /// The command as the image runs it, when `cmd` was moved to where the
    /// build leaves its program in the source tree ([`artefact_command`]).
    pub image_cmd: Option<String>,
    /// What `COPY`/`ADD` take from the build context (not `--from` a
    /// stage), in every stage: (path as written, line). Globs, variables
    /// and URLs are left out.
    pub context_sources: Vec<(String, u32)>,
    /// Some `COPY`/`ADD` of some stage takes files from the build context
    /// (`COPY . .` and globs included; URLs and `--from` excluded): the
    /// image holds the repository's code.
    pub copies_context: bool,
    /// Where this stage copies the whole build context (`COPY . .` under
    /// `WORKDIR /app` → `/app`).
    pub context_root: Option<String>,
    /// Stages some stage copies from (`COPY --from=assets …`), lowercased:
    /// build stages, not images that run.
    pub copied_from: Vec<String>,
    /// Folders of the context this stage copies whole into a place of its
    /// own (`COPY shynet .` under `WORKDIR /usr/src/shynet`): (folder as
    /// written, without `./` or a trailing `/`; where it lands, absolute).
    pub folder_roots: Vec<(String, String)>,
    /// pip installs the stage runs without build isolation before its
    /// dependency install (`poetry run pip install "Cython<3.0"
    /// "pyyaml==5.4.1" --no-build-isolation`): packages whose sdist only
    /// builds with what is already installed. (command, line).
    pub pre_installs: Vec<(String, u32)>,
    /// The stage's npm dependency install (`npm i -P --prefix ..`,
    /// `npm ci --omit=dev`): (production only, line). A Python image that
    /// runs one serves static files out of `node_modules` (django-npm).
    pub npm_install: Option<(bool, u32)>,
    /// The final stage's `ENTRYPOINT` (as `command_text` writes it), when
    /// it has one: what a compose `command:` is given to as arguments.
    pub entrypoint: Option<String>,
}

impl DockerInfo {
    /// The folder of the build context the image's command runs in, when
    /// its final `WORKDIR` is below where it copied the context
    /// (`COPY . .` in `/app`, then `WORKDIR /app/src` → `src`).
    /// A folder copied whole to the WORKDIR or above it counts the same
    /// way (`COPY shynet .` in `/usr/src/shynet` → `shynet`).
    pub fn run_folder(&self) -> Option<String> {
        let wd = self.workdir.as_deref()?;
        let clean = |rel: &str| {
            (!rel.is_empty() && !rel.split('/').any(|p| p == ".." || p == "."))
                .then(|| rel.to_string())
        };
        if let Some(root) = self.context_root.as_deref() {
            return clean(wd.strip_prefix(root)?.strip_prefix('/')?);
        }
        self.folder_roots.iter().rev().find_map(|(folder, dest)| {
            let below = wd.strip_prefix(dest.as_str())?;
            match below {
                "" => clean(folder),
                b => clean(&crate::repo::join(folder, b.strip_prefix('/')?)),
            }
        })
    }
}

/// `npm i`/`npm install`/`npm ci` of the package's dependencies (no
/// package named): whether it leaves out the devDependencies.
fn npm_install(segment: &str) -> Option<bool> {
    let words: Vec<&str> = segment.split_whitespace().collect();
    let (first, rest) = words.split_first()?;
    let (verb, flags) = rest.split_first()?;
    let mut skip_value = false;
    let names_a_package = flags.iter().any(|w| {
        let value = std::mem::replace(&mut skip_value, *w == "--prefix");
        !value && !w.starts_with('-')
    });
    (*first == "npm" && matches!(*verb, "i" | "install" | "ci") && !names_a_package).then(|| {
        flags.iter().any(|w| {
            matches!(
                *w,
                "-P" | "--production" | "--only=prod" | "--only=production" | "--omit=dev"
            )
        })
    })
}

/// A pip install run without build isolation, its packages named on the
/// line (no requirement file, local path or variable): `pip install
/// "Cython<3.0" "pyyaml==5.4.1" --no-build-isolation`, also through
/// `python -m pip` or `poetry run`.
fn pre_install(segment: &str) -> Option<String> {
    let cmd = segment.trim();
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "install")?;
    let runner = words[..at].join(" ");
    let is_pip = matches!(
        runner.as_str(),
        "pip" | "pip3" | "python -m pip" | "python3 -m pip" | "poetry run pip" | "poetry run pip3"
    );
    let args = &words[at + 1..];
    // Quotes close within the segment (a `;` or `&&` inside one split it).
    let balanced =
        cmd.matches('"').count().is_multiple_of(2) && cmd.matches('\'').count().is_multiple_of(2);
    let plain = balanced
        && args.iter().all(|w| {
            !w.contains(['$', '`', '/', '&', '|', ';', '>', '<'].as_slice())
                || (w.starts_with(['"', '\'']) && !w.contains(['$', '`', '/']))
        })
        && !args.iter().any(|w| {
            matches!(
                *w,
                "-r" | "-e" | "-c" | "." | "--requirement" | "--editable"
            )
        });
    (is_pip
        && plain
        && args.contains(&"--no-build-isolation")
        && args.iter().any(|w| !w.starts_with('-')))
    .then(|| cmd.to_string())
}

/// The sources a `COPY`/`ADD` takes from the build context (none for
/// `--from=<stage>`): every argument but the destination, flags dropped,
/// shell or JSON form.
fn context_sources(rest: &str) -> Vec<String> {
    let words: Vec<String> = match serde_json::from_str::<Vec<String>>(
        rest.trim_start_matches(|c: char| c != '[' && !c.is_whitespace() && c != '-')
            .split_once('[')
            .map(|(_, r)| format!("[{r}"))
            .as_deref()
            .unwrap_or(""),
    ) {
        Ok(json) if rest.trim_start().starts_with('[') || rest.contains(" [") => json,
        _ => rest
            .split_whitespace()
            .filter(|w| !w.starts_with("--"))
            .map(str::to_string)
            .collect(),
    };
    if rest.split_whitespace().any(|w| w.starts_with("--from")) || words.len() < 2 {
        return Vec::new();
    }
    words[..words.len() - 1]
        .iter()
        .filter(|w| {
            !w.contains(['*', '?', '[', '$'])
                && !w.contains("://")
                && !matches!(w.trim_end_matches('/'), "." | "./" | "")
        })
        .cloned()
        .collect()
}

/// `path` made absolute against `workdir` (`/` when none), `.` parts dropped.
fn absolute(path: &str, workdir: Option<&str>) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}/{path}", workdir.unwrap_or(""))
    };
    let parts: Vec<&str> = joined
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// `COPY --from=<stage> SRC DEST` of a single file out of a stage with a
/// WORKDIR: (DEST made absolute here, SRC relative to that WORKDIR).
fn artefact(
    rest: &str,
    workdir: Option<&str>,
    stages: &[(String, DockerInfo, Entrypoint)],
) -> Option<(String, String)> {
    let from = rest
        .split_whitespace()
        .find_map(|w| w.strip_prefix("--from="))?
        .to_ascii_lowercase();
    let words: Vec<&str> = rest
        .split_whitespace()
        .filter(|w| !w.starts_with("--"))
        .collect();
    let [src, dest] = words.as_slice() else {
        return None;
    };
    let (_, stage, _) = stages.iter().rev().find(|(n, _, _)| *n == from)?;
    let stage_wd = stage.workdir.as_deref()?;
    let src_abs = absolute(src, Some(stage_wd));
    let rel = src_abs.strip_prefix(&format!("{stage_wd}/"))?.to_string();
    let mut dest_abs = absolute(dest, workdir);
    if dest.ends_with('/') {
        dest_abs = format!("{dest_abs}/{}", src.rsplit('/').next().unwrap_or(src));
    }
    Some((dest_abs, rel))
}

/// A command whose program is a file copied out of a build stage runs that
/// file where the build leaves it in the source tree (`./zero2prod` →
/// `./target/release/zero2prod`): outside the image nothing moved it.
/// A bare program name (`autodeploy serve`) is looked up in the image's
/// PATH folders.
fn artefact_command(cmd: &str, info: &DockerInfo) -> Option<String> {
    let (program, args) = cmd.split_once(' ').unwrap_or((cmd, ""));
    let (_, rel) = if program.starts_with('/') || program.starts_with("./") {
        let abs = absolute(program, info.workdir.as_deref());
        info.artefacts.iter().find(|(dest, _)| *dest == abs)?
    } else if !program.is_empty() && !program.contains('/') && !program.contains('=') {
        info.artefacts.iter().find(|(dest, _)| {
            dest.rsplit_once('/')
                .is_some_and(|(dir, name)| name == program && PATH_DIRS.contains(&dir))
        })?
    } else {
        return None;
    };
    Some(if args.is_empty() {
        format!("./{rel}")
    } else {
        format!("./{rel} {args}")
    })
}

/// A web server's directive that passes requests on (group 1 the host):
/// nginx `proxy_pass http://web:5000` and `server web:5000;` in an
/// `upstream`, Apache `ProxyPass / http://web/`, Caddy `reverse_proxy web:80`.
static PROXY_TO: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    crate::scan::regex(
        r"(?m)(?:^|[;{])\s*(?:proxy_pass\s+https?://|ProxyPass\s+\S+\s+https?://|reverse_proxy\s+(?:https?://)?|server\s+)([A-Za-z_][\w.-]*)(?::\d+)?",
    )
});

/// The folder `dir` only configures a web server (nginx, httpd, Caddy) to
/// pass requests to other services: a one-stage Dockerfile on the server's
/// image in a folder (not the repository root) that holds nothing but the
/// server's configuration — no page, no project whose build it could serve
/// — and a config file there that proxies. Returns the hosts it passes to (compose service
/// names). Every target gives the app its own front (a load balancer, the
/// local front), so such a folder is not a service to deploy.
pub fn reverse_proxy(ctx: &Ctx, dir: &str, dockerfile_text: &str) -> Option<Vec<String>> {
    let info = parse(dockerfile_text);
    let (image, _) = info.base_image.as_ref()?;
    let stages = dockerfile_text
        .lines()
        .filter(|l| l.trim_start().to_ascii_uppercase().starts_with("FROM "))
        .count();
    if language_of_image(image) != Some(Language::Html) || stages != 1 || info.cmd.is_some() {
        return None;
    }
    // Nothing but the server's configuration (no page, no project whose
    // build the image could serve).
    let files: Vec<&str> = ctx.index().files_under(dir).collect();
    let config_only = |f: &str| {
        let name = crate::repo::file_name(f);
        NAMES.contains(&name)
            || name.starts_with("Dockerfile")
            || name.starts_with('.')
            || name == "Caddyfile"
            || [
                ".conf",
                ".template",
                ".caddy",
                ".sh",
                ".md",
                ".txt",
                ".crt",
                ".key",
                ".pem",
                ".htpasswd",
            ]
            .iter()
            .any(|e| name.ends_with(e))
    };
    if dir.is_empty() || !files.iter().all(|f| config_only(f)) {
        return None;
    }
    let mut hosts: Vec<String> = Vec::new();
    for f in files {
        let name = crate::repo::file_name(f);
        let config = name.ends_with(".conf") || name == "Caddyfile" || name.ends_with(".caddy");
        if !config {
            continue;
        }
        let Some(text) = ctx.read_path(f) else {
            continue;
        };
        if !(text.contains("proxy_pass")
            || text.contains("ProxyPass")
            || text.contains("reverse_proxy"))
        {
            continue;
        }
        for c in PROXY_TO.captures_iter(&text) {
            let h = c[1].to_string();
            if !hosts.contains(&h) && !matches!(h.as_str(), "localhost" | "unix") {
                hosts.push(h);
            }
        }
        if hosts.is_empty() {
            // Proxies to a name the pattern does not read: still a proxy.
            hosts.push(String::new());
        }
    }
    (!hosts.is_empty()).then(|| hosts.into_iter().filter(|h| !h.is_empty()).collect())
}

/// The folders of a Debian/Alpine image's default PATH.
const PATH_DIRS: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// `cmd`, run in the image `info` describes, as it runs in the source tree
/// (a program copied out of the build stage → where the build leaves it);
/// None when it does not run such a program.
pub fn in_source_tree(cmd: &str, info: &DockerInfo) -> Option<String> {
    artefact_command(cmd, info)
}

/// An `ENTRYPOINT` and its line.
type Entrypoint = Option<(String, u32)>;

/// Parse a Dockerfile (continuation lines joined; the last `FROM` starts the final stage).
pub fn parse(text: &str) -> DockerInfo {
    let mut info = DockerInfo::default();
    let mut entrypoint: Option<(String, u32)> = None;
    let mut from_context: Vec<(String, u32)> = Vec::new();
    let mut copies_context = false;
    let mut copied_from: Vec<String> = Vec::new();
    // Finished stages: (lowercased name, what it carries, its ENTRYPOINT).
    let mut stages: Vec<(String, DockerInfo, Entrypoint)> = Vec::new();
    let mut stage_name: Option<String> = None;
    let mut logical = String::new();
    let mut start_line = 0u32;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if logical.is_empty() {
            start_line = i as u32 + 1;
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
        }
        if let Some(body) = line.strip_suffix('\\') {
            logical.push_str(body);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let stmt = std::mem::take(&mut logical);
        let (instr, rest) = stmt
            .split_once(char::is_whitespace)
            .unwrap_or((stmt.as_str(), ""));
        let rest = rest.trim();
        match instr.to_ascii_uppercase().as_str() {
            "FROM" => {
                // Close the current stage, then start the next: from scratch, or
                // from an earlier stage it names (`FROM builder AS dev`), whose
                // ENTRYPOINT/CMD/EXPOSE/ENV it inherits.
                if let Some(name) = stage_name.take() {
                    stages.push((name, info.clone(), entrypoint.clone()));
                }
                let words: Vec<&str> = rest
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let image = words.first().copied().unwrap_or("");
                stage_name = match words.get(1) {
                    Some(kw) if kw.eq_ignore_ascii_case("as") => {
                        words.get(2).map(|n| n.to_ascii_lowercase())
                    }
                    _ => Some(String::new()),
                };
                match stages
                    .iter()
                    .rev()
                    .find(|(n, _, _)| !n.is_empty() && n.eq_ignore_ascii_case(image))
                {
                    Some((_, parent, parent_entry)) => {
                        info = parent.clone();
                        entrypoint = parent_entry.clone();
                    }
                    None => {
                        info = DockerInfo {
                            base_image: Some((image.to_string(), start_line)),
                            ..DockerInfo::default()
                        };
                        entrypoint = None;
                    }
                }
            }
            "EXPOSE" => {
                for w in rest.split_whitespace() {
                    if let Ok(p) = w.split('/').next().unwrap_or("").parse::<u16>() {
                        info.expose.push((p, start_line));
                    }
                }
            }
            "ENV" => {
                for (k, v) in env_pairs(rest) {
                    if k == "PORT" {
                        if let Ok(p) = v.parse::<u16>() {
                            info.env_port = Some((p, start_line));
                        }
                    }
                    info.env.push((k, v, start_line));
                }
            }
            "CMD" => info.cmd = Some((command_text(rest), start_line)),
            "ENTRYPOINT" => entrypoint = Some((command_text(rest), start_line)),
            "WORKDIR" => info.workdir = Some(absolute(rest, info.workdir.as_deref())),
            "COPY" | "ADD" => {
                let words: Vec<&str> = rest
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                if let Some(from) = rest
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("--from="))
                {
                    let from = from.to_ascii_lowercase();
                    if !copied_from.contains(&from) {
                        copied_from.push(from);
                    }
                } else if let [src, dest] = words.as_slice() {
                    let folder = src.trim_start_matches("./").trim_end_matches('/');
                    if matches!(*src, "." | "./") {
                        info.context_root = Some(absolute(dest, info.workdir.as_deref()));
                    } else if !folder.is_empty()
                        && !folder.contains(['*', '?', '[', '$', '.'])
                        && !src.contains("://")
                    {
                        let dest = absolute(dest, info.workdir.as_deref());
                        info.folder_roots.push((folder.to_string(), dest));
                    }
                }
                copies_context |= !rest.split_whitespace().any(|w| w.starts_with("--from"))
                    && words.len() >= 2
                    && words[..words.len() - 1]
                        .iter()
                        .any(|w| !w.contains("://") && !w.starts_with("<<"));
                from_context.extend(context_sources(rest).into_iter().map(|s| (s, start_line)));
                if let Some(a) = artefact(rest, info.workdir.as_deref(), &stages) {
                    info.artefacts.push(a);
                }
            }
            "RUN" => {
                let segments = || rest.split("&&").flat_map(|p| p.split(';'));
                info.pre_installs
                    .extend(segments().filter_map(pre_install).map(|c| (c, start_line)));
                if let Some(production) = segments().find_map(npm_install) {
                    info.npm_install.get_or_insert((production, start_line));
                }
            }
            _ => {}
        }
    }
    info.context_sources = from_context;
    info.copies_context = copies_context;
    info.copied_from = copied_from;
    info.entrypoint = entrypoint.as_ref().map(|(e, _)| e.clone());
    // ENTRYPOINT + CMD together form the command; ENTRYPOINT alone is the command.
    info.cmd = match (entrypoint, info.cmd.take()) {
        (Some((e, l)), Some((c, _))) => Some((format!("{e} {c}"), l)),
        (Some(e), None) => Some(e),
        (None, c) => c,
    };
    if let Some((cmd, line)) = &info.cmd {
        if let Some(moved) = artefact_command(cmd, &info) {
            info.image_cmd = Some(cmd.clone());
            info.cmd = Some((moved, *line));
        }
    }
    info
}

/// `ENV A=1 B=2` or legacy `ENV A 1`.
fn env_pairs(rest: &str) -> Vec<(String, String)> {
    if !rest.contains('=')
        || rest
            .split_whitespace()
            .next()
            .is_some_and(|w| !w.contains('='))
    {
        let mut it = rest.splitn(2, char::is_whitespace);
        let k = it.next().unwrap_or("").to_string();
        let v = it.next().unwrap_or("").trim().trim_matches('"').to_string();
        return if k.is_empty() { vec![] } else { vec![(k, v)] };
    }
    rest.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

/// JSON-form `["a","b"]` → `a b`; shell form as written.
fn command_text(rest: &str) -> String {
    if rest.starts_with('[') {
        if let Ok(parts) = serde_json::from_str::<Vec<String>>(rest) {
            // `sh -c "cmd"` → cmd
            if parts.len() == 3 && (parts[0] == "sh" || parts[0] == "/bin/sh") && parts[1] == "-c" {
                return parts[2].clone();
            }
            return parts
                .iter()
                .map(|p| {
                    // exec form: each word as is; in a shell command, a word
                    // with a shell character is quoted (`create_app()`).
                    if p.is_empty()
                        || p.contains(|c: char| {
                            c.is_whitespace() || "()[]{};&|<>$`\\\"'*?#~!".contains(c)
                        })
                    {
                        format!("'{}'", p.replace('\'', "'\\''"))
                    } else {
                        p.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
        }
    }
    rest.to_string()
}

/// `.`, `src`, `.:lib`: folders of the tree, no variable, no absolute path.
fn relative_paths(value: &str) -> bool {
    !value.is_empty()
        && value.split(':').all(|p| {
            !p.is_empty()
                && !p.starts_with('/')
                && !p.contains("..")
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
        })
}

/// Variables that configure the image or its toolchain, not the application.
fn is_image_plumbing(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "PATH",
        "HOME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "SHELL",
        "USER",
        "VIRTUAL_ENV",
        "DEBIAN_FRONTEND",
        "JAVA_HOME",
        "GOPATH",
        "GOBIN",
        "GOROOT",
        "CGO_ENABLED",
        "GOOS",
        "GOARCH",
        "GEM_HOME",
        "APP_HOME",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "DOTNET_ROOT",
        "MIX_HOME",
        "HEX_HOME",
        "LD_LIBRARY_PATH",
    ];
    const PREFIXES: &[&str] = &[
        "LC_",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
        "PYTHONPATH",
        "PYTHONFAULTHANDLER",
        "PIP_",
        "POETRY_",
        "UV_",
        "PIPENV_",
        "PDM_",
        "NPM_CONFIG_",
        "YARN_",
        "PNPM_",
        "COREPACK_",
        "BUNDLE_",
        "BUNDLER_",
        "COMPOSER_",
        "DOTNET_CLI_",
        "DOTNET_NOLOGO",
        "NUGET_",
        "GRADLE_",
        "MAVEN_",
        "NVM_",
        "NODE_VERSION",
        "PYTHON_VERSION",
        "RUBY_VERSION",
        "GOLANG_VERSION",
        "PHP_VERSION",
        "PHPIZE_DEPS",
        "PHP_INI_DIR",
    ];
    EXACT.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Language named by a base image (`python:3.12-slim` → python).
pub fn language_of_image(image: &str) -> Option<Language> {
    let name = image.rsplit('/').next().unwrap_or(image);
    let name = name.split([':', '@']).next().unwrap_or(name);
    let lang = match name {
        n if n.starts_with("python") => Language::Python,
        n if n.starts_with("node") || n == "bun" || n.starts_with("deno") => Language::Javascript,
        "golang" | "go" => Language::Go,
        n if n.starts_with("ruby") => Language::Ruby,
        n if n.starts_with("php") => Language::Php,
        "openjdk" | "eclipse-temurin" | "amazoncorretto" | "maven" | "gradle" | "ibmjava" => {
            Language::Java
        }
        "rust" => Language::Rust,
        "aspnet" | "sdk" | "runtime" if image.contains("dotnet") => Language::Csharp,
        "elixir" => Language::Elixir,
        "nginx" | "httpd" | "caddy" => Language::Html,
        _ => return None,
    };
    Some(lang)
}

/// The runtime version a base image of the draft's own language names, when
/// the project states none elsewhere: `python:3.6` → 3.6, `node:18-slim` → 18.
/// (`python:3-slim`, `node:lts`, `latest` name no usable version.)
/// True when `range` (a manifest's requirement: `^3.11`, `>=3.10,<4`) is a
/// range, not one version, and `exact` (the image's `3.11`) satisfies it.
fn narrows(range: &str, exact: &str, language: Language) -> bool {
    use autodeploy_core::version::{Dialect, Requirement, Version};
    let family = match language {
        Language::Python => "python",
        Language::Javascript | Language::Typescript => "node",
        _ => return false,
    };
    let is_range = range
        .chars()
        .any(|c| matches!(c, '^' | '~' | '>' | '<' | '=' | '*' | ',' | ' ' | '|' | 'x'));
    let (Some(dialect), Some(v)) = (Dialect::of_family(family), Version::parse(exact)) else {
        return false;
    };
    is_range && Requirement::parse(dialect, range).is_ok_and(|r| r.matches(v))
}

fn image_version(image: &str, language: Language) -> Option<String> {
    let lang = language_of_image(image)?;
    let same =
        lang == language || (lang == Language::Javascript && language == Language::Typescript);
    let name = image.rsplit('/').next().unwrap_or(image);
    if !same || !(name.starts_with("python:") || name.starts_with("node:")) {
        return None;
    }
    let tag = name.split_once(':')?.1.split('@').next()?;
    let v = tag.split('-').next()?;
    let parts: Vec<&str> = v.split('.').collect();
    let plain = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let enough = if name.starts_with("python:") {
        parts.len() >= 2
    } else {
        !parts.is_empty()
    };
    (plain && enough).then(|| v.to_string())
}

/// Find the Dockerfile for a draft's folder.
pub fn find(ctx: &Ctx, dir: &str) -> Option<String> {
    ctx.first_of(dir, NAMES).map(|n| crate::repo::join(dir, n))
}

/// Add the Dockerfile's port and start claims to a draft.
pub fn apply(ctx: &Ctx, draft: &mut Draft) {
    let path = match draft.dockerfile.clone().or_else(|| find(ctx, &draft.dir)) {
        Some(p) => p,
        None => return,
    };
    let Some(text) = ctx.read_path(&path) else {
        return;
    };
    draft.dockerfile = Some(path.clone());
    let mut info = parse(&text);
    if let Some((image, line)) = &info.base_image {
        let bare = image.to_ascii_lowercase();
        if bare == "scratch" || bare.contains("distroless") {
            draft.finding(
                "image_without_shell",
                Severity::Info,
                Some(&path),
                Some(*line),
                format!(
                    "{path}'s final stage is FROM {image}: its image has no shell, so a deployment that wraps the start command (settings assembled at start, a release step) builds its own image instead"
                ),
                None,
            );
        }
    }
    // What it copies from its context must be in the repository: a build
    // output (`COPY dist/api api`, gitignored) means it expects a build
    // run before `docker build`, which nothing of a deployment does.
    let context = draft
        .dockerfile_context
        .clone()
        .unwrap_or_else(|| crate::repo::parent(&path).to_string());
    let context = if context == "." {
        String::new()
    } else {
        context
    };
    // The context may be one a compose file names (read later): a path
    // found from the repository's root counts as there too.
    let missing = |base: &str, src: &str| {
        crate::repo::normalize(&crate::repo::join(base, src.trim_start_matches("./"))).is_some_and(
            |rel| {
                !rel.is_empty()
                    && !ctx.index().contains(&rel)
                    && ctx.index().files_under(&rel).next().is_none()
            },
        )
    };
    if let Some((src, line)) = info
        .context_sources
        .iter()
        .find(|(src, _)| missing(&context, src) && missing("", src))
    {
        draft.finding(
            "dockerfile_needs_prebuilt",
            Severity::Info,
            Some(&path),
            Some(*line),
            format!(
                "{path}:{line} copies {src}, which the repository does not hold (a build output made before `docker build`): the deployment builds its image with its own Dockerfile, which runs the build"
            ),
            None,
        );
    }
    if let Some((v, l)) = info
        .base_image
        .as_ref()
        .and_then(|(image, l)| image_version(image, draft.language).map(|v| (v, *l)))
    {
        match draft.runtime_version.as_deref() {
            None => {
                draft.note("runtime_version", ev(&path, Some(l), format!("FROM {v}")));
                draft.runtime_version = Some(v);
            }
            // A range the image's exact version satisfies (`python =
            // "^3.11"` beside `FROM python:3.11`): the project runs 3.11,
            // and a newer line can break its pins (fastapi-boilerplate's
            // greenlet 2.0.2 on 3.12). The range stays the requirement; the
            // image's line is the one to prefer within it.
            Some(range) if narrows(range, &v, draft.language) => {
                draft.note("runtime_version", ev(&path, Some(l), format!("FROM {v}")));
                draft.image_runtime_version = Some(v);
            }
            Some(_) => {}
        }
    }
    // The image's folder of its Django project (its manage.py), where every
    // process of the image runs, workers too.
    let django_folder = info
        .run_folder()
        .filter(|r| ctx.has(&crate::repo::join(&draft.dir, r), "manage.py"));
    // A worker a detector found beside the app (Celery, Sidekiq…) runs its own
    // command: the image's CMD and ports belong to the web process.
    if draft.kind == ServiceKind::Worker && draft.name.is_some() {
        info = DockerInfo {
            env: info.env,
            pre_installs: info.pre_installs,
            ..DockerInfo::default()
        };
    }
    if let Some((p, l)) = info.env_port {
        draft.port(
            p,
            Trust::Config,
            ev(&path, Some(l), format!("ENV PORT={p}")),
        );
    }
    for (p, l) in info.expose.iter().take(1) {
        draft.port(
            *p,
            Trust::Config,
            ev(&path, Some(*l), format!("EXPOSE {p}")),
        );
    }
    // What the image installs without build isolation before its
    // dependency install runs first here too (an sdist that builds only
    // against an old setuptools or Cython: shynet's django-allauth 0.45
    // and pyyaml 5.4.1).
    if draft.language == Language::Python {
        if let (Some(install), false) = (draft.install.clone(), info.pre_installs.is_empty()) {
            let first: Vec<&str> = info.pre_installs.iter().map(|(c, _)| c.as_str()).collect();
            for (c, l) in &info.pre_installs {
                draft.note("install", ev(&path, Some(*l), format!("RUN {c}")));
            }
            draft.install = Some(format!("{} && {install}", first.join(" && ")));
        }
    }
    // Its npm install (a Python image serving files out of `node_modules`):
    // the package's own, before the Python one, where package.json is.
    if let (Language::Python, Some((production, l)), Some(install)) =
        (draft.language, info.npm_install, draft.install.clone())
    {
        let lock = ctx.has(&draft.dir, "package-lock.json");
        // A package that builds its assets is an asset pipeline already
        // (`resolve::absorb` runs its install and build before the backend's).
        let builds_assets = ctx.read(&draft.dir, "package.json").is_some_and(|t| {
            serde_json::from_str::<serde_json::Value>(&t)
                .is_ok_and(|v| v["scripts"]["build"].is_string())
        });
        if ctx.has(&draft.dir, "package.json") && !builds_assets {
            let npm = match (lock, production) {
                (true, true) => "npm ci --omit=dev",
                (true, false) => "npm ci",
                (false, true) => "npm install --omit=dev",
                (false, false) => "npm install",
            };
            draft.note(
                "install",
                ev(
                    &path,
                    Some(l),
                    "the image installs package.json's dependencies with npm",
                ),
            );
            draft.install = Some(format!("{npm} && {install}"));
        }
    }
    let run_folder = info.run_folder();
    // Django's management commands and its Celery app run where the image
    // runs them, in the folder of its manage.py: settings read paths
    // relative to it (django-npm's `NPM_ROOT_PATH = "../"`) and name
    // modules from it (`shynet.settings`, not `shynet.shynet.settings`).
    if let Some(rel) = django_folder.as_deref() {
        let script = format!("python {rel}/manage.py ");
        let app = format!("-A {}.", rel.replace('/', "."));
        let moved = |c: &str| {
            let plain = !c.contains("&&") && !c.starts_with("cd ");
            if plain && c.contains(&script) {
                Some(format!(
                    "cd {rel} && {}",
                    c.replace(&script, "python manage.py ")
                ))
            } else if plain && c.contains(&app) && c.contains("celery") {
                Some(format!("cd {rel} && {}", c.replace(&app, "-A ")))
            } else {
                None
            }
        };
        for c in draft.builds.iter_mut().chain(draft.starts.iter_mut()) {
            if let Some(m) = moved(&c.value) {
                c.value = m;
            }
        }
        if let Some(m) = draft.release.as_deref().and_then(moved) {
            draft.release = Some(m);
        }
    }
    if let Some((cmd, l)) = info.cmd {
        if let Some(p) = super::port_in_command(&cmd) {
            draft.port(p, Trust::Config, ev(&path, Some(l), format!("CMD {cmd}")));
        }
        // `COPY . .` in /app, then `WORKDIR /app/src`: the command runs in src.
        let cmd = match run_folder {
            Some(rel)
                if ctx
                    .index()
                    .names_in(&crate::repo::join(&draft.dir, &rel))
                    .next()
                    .is_some() =>
            {
                let cd = format!("cd {rel} && {cmd}");
                draft.image_folder = Some(rel);
                cd
            }
            _ => cmd,
        };
        draft.start(
            cmd.clone(),
            Trust::Config,
            ev(&path, Some(l), format!("CMD {cmd}")),
        );
        draft.image_start = info.image_cmd.map(|image| (cmd, image));
    }
    // `ENV` is runtime configuration with a value (RAILS_ENV, NODE_ENV…), but
    // the image's own plumbing (PATH, PYTHONUNBUFFERED, PIP_*…) is not the app's.
    for (name, value, line) in info.env {
        // The import path the image runs with (`PYTHONPATH="."`): a
        // migration tool run from the project folder imports the app
        // through it. Relative folders only (the image's own paths are not
        // this tree's).
        if name == "PYTHONPATH" && relative_paths(&value) {
            draft.env_var(&name, false, &path, line);
            if let Some(v) = draft.env.iter_mut().find(|e| e.name == name) {
                v.example = Some(value.clone());
            }
            continue;
        }
        if name != "PORT" && !is_image_plumbing(&name) {
            draft.env_var(&name, true, &path, line);
            draft.image_value(&name, &value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_copy_and_add_take_from_the_context() {
        let text = "FROM node:20 AS build\nCOPY package.json package-lock.json ./\nCOPY --chown=app:app src/ /app/src/\nCOPY . .\nFROM node:20-alpine\nCOPY --from=build /app/dist dist\nCOPY dist/api api\nADD [\"conf/app.ini\", \"/etc/app.ini\"]\nADD https://example.com/x.tgz /x.tgz\nCOPY *.json ./\n";
        let got: Vec<(String, u32)> = parse(text).context_sources;
        let want: Vec<(String, u32)> = [
            ("package.json", 2),
            ("package-lock.json", 2),
            ("src/", 3),
            ("dist/api", 7),
            ("conf/app.ini", 8),
        ]
        .iter()
        .map(|(s, l)| (s.to_string(), *l))
        .collect();
        assert_eq!(got, want);
    }

    /// A Dockerfile that copies a path the repository lacks (a build output)
    /// is said to need one; a path found beside it or from the root is not.
    /// fastapi-boilerplate: `python = "^3.11"` beside `FROM python:3.11`
    /// prefers 3.11 within the range (3.12 broke its greenlet pin); an
    /// exact manifest version, or an image outside the range, is left as
    /// the manifest says.
    #[test]
    fn the_images_exact_version_narrows_the_manifests_range() {
        let run = |manifest: Option<&str>, image: &str| {
            let df = format!("FROM {image}\nCMD [\"uvicorn\", \"app:app\"]\n");
            let repo = crate::repo::MemRepo::new([("Dockerfile".to_string(), df)]);
            let ctx = Ctx::new(&repo);
            let mut d = Draft::new("", Language::Python, ServiceKind::Web);
            d.dockerfile = Some("Dockerfile".into());
            d.runtime_version = manifest.map(str::to_string);
            apply(&ctx, &mut d);
            (d.runtime_version, d.image_runtime_version)
        };
        let s = |x: &str| Some(x.to_string());
        assert_eq!(run(Some("^3.11"), "python:3.11"), (s("^3.11"), s("3.11")));
        assert_eq!(
            run(Some(">=3.10,<4"), "python:3.12-slim"),
            (s(">=3.10,<4"), s("3.12"))
        );
        assert_eq!(run(None, "python:3.11"), (s("3.11"), None));
        assert_eq!(run(Some("3.12"), "python:3.11"), (s("3.12"), None));
        assert_eq!(run(Some("^3.12"), "python:3.11"), (s("^3.12"), None));
    }

    /// A Python image's npm install runs before the Python install, unless
    /// the package builds its assets (an asset pipeline of its own).
    #[test]
    fn a_python_images_npm_install_runs_first_unless_the_package_builds() {
        let df = "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN npm i -P && pip install -r requirements.txt\nCMD gunicorn app:app\n";
        let run = |package: &str| {
            let repo = crate::repo::MemRepo::new(
                [
                    ("Dockerfile", df),
                    ("package.json", package),
                    ("requirements.txt", "flask\n"),
                ]
                .map(|(p, c)| (p.to_string(), c.to_string())),
            );
            let ctx = Ctx::new(&repo);
            let mut d = Draft::new("", Language::Python, ServiceKind::Web);
            d.install = Some("pip install -r requirements.txt".into());
            apply(&ctx, &mut d);
            d.install.unwrap()
        };
        assert_eq!(
            run(r#"{"dependencies": {"a17t": "^0.5.1"}}"#),
            "npm install --omit=dev && pip install -r requirements.txt"
        );
        assert_eq!(
            run(r#"{"scripts": {"build": "tailwindcss -o static/app.css"}}"#),
            "pip install -r requirements.txt"
        );
    }

    #[test]
    fn a_copy_of_a_missing_build_output_is_a_finding() {
        let df = "FROM node:20\nWORKDIR /app\nCOPY package.json ./\nCOPY dist/api api\nCMD [\"node\", \"api\"]\n";
        let run = |files: &[(&str, &str)]| {
            let repo = crate::repo::MemRepo::new(
                files.iter().map(|(p, c)| (p.to_string(), c.to_string())),
            );
            let ctx = Ctx::new(&repo);
            let mut d = Draft::new("svc", Language::Javascript, ServiceKind::Web);
            d.dockerfile = Some("svc/Dockerfile".into());
            apply(&ctx, &mut d);
            d.findings
                .iter()
                .filter(|f| f.kind == "dockerfile_needs_prebuilt")
                .map(|f| f.line)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            run(&[("svc/Dockerfile", df), ("svc/package.json", "{}")]),
            vec![Some(4)]
        );
        assert!(run(&[
            ("svc/Dockerfile", df),
            ("svc/package.json", "{}"),
            ("svc/dist/api/main.js", "")
        ])
        .is_empty());
        // Built from the root by a compose file: found from there.
        assert!(run(&[
            ("svc/Dockerfile", df),
            ("package.json", "{}"),
            ("dist/api/main.js", "")
        ])
        .is_empty());
    }

    /// A folder that only configures nginx/Caddy to pass requests on is a
    /// front; one that serves pages or builds a project is a site.
    #[test]
    fn a_web_server_folder_that_only_proxies_is_a_front() {
        let one = "FROM nginx:1.25\nCOPY nginx.conf /etc/nginx/conf.d\n";
        let conf = "upstream app {\n    server web:5000;\n}\nserver {\n  location / {\n    proxy_pass http://app;\n  }\n  location /api/ { proxy_pass http://api:8000/; }\n}\n";
        let check = |files: &[(&str, &str)], dir: &str| {
            let repo = crate::repo::MemRepo::new(
                files.iter().map(|(p, c)| (p.to_string(), c.to_string())),
            );
            let ctx = Ctx::new(&repo);
            let text = ctx.read_path(&format!("{dir}/Dockerfile")).unwrap();
            reverse_proxy(&ctx, dir, &text)
        };
        assert_eq!(
            check(
                &[("nginx/Dockerfile", one), ("nginx/nginx.conf", conf)],
                "nginx"
            ),
            Some(vec![
                "web".to_string(),
                "app".to_string(),
                "api".to_string()
            ])
        );
        let caddy = "FROM caddy:2\nCOPY Caddyfile /etc/caddy/Caddyfile\n";
        assert_eq!(
            check(
                &[
                    ("proxy/Dockerfile", caddy),
                    (
                        "proxy/Caddyfile",
                        ":80 {\n  reverse_proxy backend:8000\n}\n"
                    )
                ],
                "proxy"
            ),
            Some(vec!["backend".to_string()])
        );
        // Pages of its own, a project to build, two stages, or no proxying: a site.
        for files in [
            vec![("nginx/Dockerfile", one), ("nginx/nginx.conf", conf), ("nginx/index.html", "<p>")],
            vec![("nginx/Dockerfile", one), ("nginx/nginx.conf", conf), ("nginx/package.json", "{}")],
            vec![
                ("nginx/Dockerfile", "FROM node:20 AS b\nRUN npm run build\nFROM nginx\nCOPY --from=b /dist /usr/share/nginx/html\n"),
                ("nginx/nginx.conf", conf),
            ],
            vec![("nginx/Dockerfile", one), ("nginx/nginx.conf", "server { root /srv; }\n")],
        ] {
            assert_eq!(check(&files, "nginx"), None, "{files:?}");
        }
    }

    #[test]
    fn base_images_name_a_version_only_when_it_is_plain() {
        for (image, lang, want) in [
            ("python:3.6", Language::Python, Some("3.6")),
            (
                "python:3.9.10-slim-bullseye",
                Language::Python,
                Some("3.9.10"),
            ),
            ("python:3-slim", Language::Python, None),
            ("python:slim", Language::Python, None),
            ("node:18-slim", Language::Typescript, Some("18")),
            ("node:lts-alpine", Language::Javascript, None),
            ("node:20", Language::Python, None),
            (
                "docker.io/library/python:3.11@sha256:abc",
                Language::Python,
                Some("3.11"),
            ),
        ] {
            assert_eq!(image_version(image, lang).as_deref(), want, "{image}");
        }
    }

    #[test]
    fn a_binary_copied_out_of_the_build_stage_runs_where_the_build_leaves_it() {
        let text = "FROM rust:1.80 AS builder\nWORKDIR /app\nCOPY . .\nRUN cargo build --release --bin zero2prod\n\nFROM debian:bookworm-slim AS runtime\nWORKDIR /app\nCOPY --from=builder /app/target/release/zero2prod zero2prod\nCOPY configuration configuration\nENTRYPOINT [\"./zero2prod\"]\n";
        assert_eq!(
            parse(text).cmd.map(|c| c.0).as_deref(),
            Some("./target/release/zero2prod")
        );
        let text = "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /src/bin/api ./cmd/api\nFROM gcr.io/distroless/base\nCOPY --from=build /src/bin/api /usr/local/bin/\nCMD [\"/usr/local/bin/api\", \"--serve\"]\n";
        assert_eq!(
            parse(text).cmd.map(|c| c.0).as_deref(),
            Some("./bin/api --serve")
        );
        // A program of the base image stays as it is.
        let text = "FROM node:20\nWORKDIR /app\nCOPY . .\nCMD [\"node\", \"server.js\"]\n";
        assert_eq!(
            parse(text).cmd.map(|c| c.0).as_deref(),
            Some("node server.js")
        );
    }

    /// A folder copied whole into the WORKDIR is where the command runs;
    /// pip installs without build isolation are kept, other RUNs are not.
    #[test]
    fn a_folder_copied_into_the_workdir_and_pre_installs() {
        let info = parse(
            "FROM python:alpine3.14\nWORKDIR /usr/src/shynet\nCOPY poetry.lock pyproject.toml ./\nRUN apk add gcc && \\\n  pip install poetry==1.2.2 && \\\n  poetry run pip install \"Cython<3.0\" \"pyyaml==5.4.1\" --no-build-isolation && \\\n  poetry install --no-dev\nRUN pip install -r requirements.txt --no-build-isolation\nCOPY shynet .\nCMD [ \"./entrypoint.sh\" ]\n",
        );
        assert_eq!(info.run_folder().as_deref(), Some("shynet"));
        assert_eq!(
            info.pre_installs,
            vec![(
                "poetry run pip install \"Cython<3.0\" \"pyyaml==5.4.1\" --no-build-isolation"
                    .to_string(),
                4
            )]
        );
        // Copied to a folder above the WORKDIR: the WORKDIR's part of it.
        let info = parse("FROM node:20\nCOPY server /app\nWORKDIR /app/src\nCMD node index.js\n");
        assert_eq!(info.run_folder().as_deref(), Some("server/src"));
        // `COPY . .` says where the whole context lands; a folder copy elsewhere does not count.
        let info = parse(
            "FROM python:3.12\nWORKDIR /app\nCOPY . .\nCOPY conf /etc/app\nCMD gunicorn app:app\n",
        );
        assert_eq!(info.run_folder(), None);
        assert!(info.pre_installs.is_empty());
        // A quote a `;` cut in two is no command of its own.
        let info = parse("FROM python:3.12\nRUN pip install \"x --no-build-isolation ; touch y; echo \"\nCMD gunicorn app:app\n");
        assert!(info.pre_installs.is_empty(), "{:?}", info.pre_installs);
    }

    #[test]
    fn final_stage_wins() {
        let d = parse(
            "FROM node:20 AS build\nEXPOSE 9999\nCMD [\"x\"]\nFROM python:3.12-slim\nENV PORT=8000 \\\n    DEBUG=0\nEXPOSE 8000/tcp\nCMD [\"gunicorn\", \"-b\", \"0.0.0.0:8000\", \"app:app\"]\n",
        );
        assert_eq!(d.base_image, Some(("python:3.12-slim".into(), 4)));
        assert_eq!(d.expose, vec![(8000, 7)]);
        assert_eq!(d.env_port, Some((8000, 5)));
        assert_eq!(d.cmd, Some(("gunicorn -b 0.0.0.0:8000 app:app".into(), 8)));
    }

    #[test]
    fn a_stage_built_from_an_earlier_stage_inherits_its_entrypoint() {
        let d = parse(
            "FROM python:3.7-alpine AS builder\nENTRYPOINT [\"python3\"]\nCMD [\"app.py\"]\nEXPOSE 8000\nFROM builder as dev-envs\nCMD [\"manage.py\", \"runserver\", \"0.0.0.0:8000\"]\n",
        );
        assert_eq!(d.cmd.unwrap().0, "python3 manage.py runserver 0.0.0.0:8000");
        assert_eq!(d.expose, vec![(8000, 4)]);
        assert_eq!(d.base_image.unwrap().0, "python:3.7-alpine");
    }

    #[test]
    fn entrypoint_and_shell_form() {
        let d = parse("FROM x\nENTRYPOINT [\"python\"]\nCMD [\"main.py\"]\n");
        assert_eq!(d.cmd.unwrap().0, "python main.py");
        let d = parse("FROM x\nCMD [\"sh\", \"-c\", \"node server.js\"]\n");
        assert_eq!(d.cmd.unwrap().0, "node server.js");
        let d = parse("FROM x\nENV PORT 3000\nCMD npm start\n");
        assert_eq!(d.env_port.unwrap().0, 3000);
        assert_eq!(d.cmd.unwrap().0, "npm start");
        // Exec form has no shell: a word a shell would read otherwise is quoted.
        let d = parse("FROM x\nCMD [\"gunicorn\", \"-c\", \"python:config.gunicorn\", \"hello.app:create_app()\", \"it's\"]\n");
        assert_eq!(
            d.cmd.unwrap().0,
            "gunicorn -c python:config.gunicorn 'hello.app:create_app()' 'it'\\''s'"
        );
    }

    #[test]
    fn images() {
        assert_eq!(
            language_of_image("python:3.12-slim"),
            Some(Language::Python)
        );
        assert_eq!(
            language_of_image("docker.io/library/node:20-alpine"),
            Some(Language::Javascript)
        );
        assert_eq!(
            language_of_image("mcr.microsoft.com/dotnet/aspnet:8.0"),
            Some(Language::Csharp)
        );
        assert_eq!(language_of_image("scratch"), None);
    }
}
