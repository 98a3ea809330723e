//! How start commands name the port they listen on, and pointing them at
//! another: the local runner gives every app a port of its own, and a plan
//! moves an app off a port its non-root process cannot bind.

/// One way a start command names the port it listens on: `before` is the
/// text that precedes the number (a regex with its own left boundary), `any`
/// says whether any number there is the listening port (a port flag), or only
/// the port the analysis found (forms that also name other things:
/// `host:port`, `SOMETHING_PORT=`).
struct PortForm {
    before: &'static str,
    any: bool,
    /// A real-world command of this form, and what it becomes for port 4321
    /// when the analysis found 8000 (the table's test).
    #[cfg_attr(not(test), allow(dead_code))]
    example: (&'static str, &'static str),
}

/// The forms, most specific first. A form's number is replaced once; later
/// forms see the already replaced text.
const PORT_FORMS: &[PortForm] = &[
    // Streamlit, Spring Boot: --server.port 8501 / --server.port=8080 / -Dserver.port=8080.
    PortForm {
        before: r"(?:^|\s)(?:--|-D)(?:server|quarkus\.http|micronaut\.server)\.port[= ]\s*",
        any: true,
        example: (
            "streamlit run app.py --server.port 8501",
            "streamlit run app.py --server.port 4321",
        ),
    },
    // uvicorn, flask, next, vite, chainlit, panel, artisan, hugo, Go flags (-port).
    PortForm {
        before: r"(?:^|\s)--?port[= ]\s*",
        any: true,
        example: (
            "uvicorn main:app --host 0.0.0.0 --port=8001",
            "uvicorn main:app --host 0.0.0.0 --port=4321",
        ),
    },
    // flask run -p, next start -p, rails s -p, puma -p, http-server -p, daphne -p.
    PortForm {
        before: r"\s-p(?:\s+|=)",
        any: true,
        example: (
            "next start -p 3000 -H 0.0.0.0",
            "next start -p 4321 -H 0.0.0.0",
        ),
    },
    // gunicorn/hypercorn --bind host:port, -b host:port, puma -b tcp://host:port,
    // serve -l tcp://host:port, Go -addr :8080 / -listen :8080 / -http :8080,
    // dotnet --urls http://host:port, mkdocs -a host:port, php -S host:port, uwsgi --http.
    PortForm {
        before: r"(?:^|\s)(?:--?(?:bind|listen|addr|address|http|urls|dev-addr)|-[blaS])(?:\s+|=)\S*:",
        any: true,
        example: (
            "gunicorn -w 2 -b 0.0.0.0:5000 app:app",
            "gunicorn -w 2 -b 0.0.0.0:4321 app:app",
        ),
    },
    // serve -l 3000 / --listen 3000 (a port alone).
    PortForm {
        before: r"(?:^|\s)(?:--listen|-l)(?:\s+|=)",
        any: true,
        example: ("serve -s build -l 3000", "serve -s build -l 4321"),
    },
    // python manage.py runserver [0.0.0.0:]8000 (after any flags).
    PortForm {
        before: r"\brunserver(?:\s+-\S+)*\s+(?:\S*:)?",
        any: true,
        example: (
            "python manage.py runserver --noreload 0.0.0.0:8000",
            "python manage.py runserver --noreload 0.0.0.0:4321",
        ),
    },
    // python -m http.server [--bind ADDR] 8000.
    PortForm {
        before: r"\bhttp\.server(?:\s+--?[\w-]+(?:[= ]\S*[^\d\s]\S*)?)*\s+",
        any: true,
        example: (
            "python -m http.server --bind 0.0.0.0 8000",
            "python -m http.server --bind 0.0.0.0 4321",
        ),
    },
    // PORT=3000 node server.js, export PORT=3000; framework variables.
    PortForm {
        before: r"(?:^|[\s;&|(])(?:PORT|STREAMLIT_SERVER_PORT|GRADIO_SERVER_PORT)=",
        any: true,
        example: ("PORT=3000 node server.js", "PORT=4321 node server.js"),
    },
    // Anything else that names the analysed port: host:port, SERVER_PORT=…
    PortForm {
        before: r"(?::|[A-Z_]PORT=)",
        any: false,
        example: (
            "waitress-serve --listen=*:8000 app:app",
            "waitress-serve --listen=*:4321 app:app",
        ),
    },
];

/// Point a start command at `assigned`: every port flag of the forms in
/// [`PORT_FORMS`] (`--server.port 8501`, `-p 3000`, `--bind 0.0.0.0:8000`,
/// `runserver 8000`, `PORT=3000` …) gets the assigned port, whatever number
/// it had — the app listens where its command says — and `host:port` forms
/// get it when they name the port the analysis found. Commands that name no
/// port are returned unchanged: those apps read `PORT`, which the runner
/// always sets.
pub fn retarget_port(command: &str, analysed: Option<u16>, assigned: u16) -> String {
    use std::sync::LazyLock;
    static FORMS: LazyLock<Vec<(regex::Regex, bool)>> = LazyLock::new(|| {
        PORT_FORMS
            .iter()
            .filter_map(|f| {
                // The number must end its word: `0` in `0.0.0.0` is not a port.
                let re = format!(r"({})(\d{{1,5}})([^\w.]|$)", f.before);
                regex::Regex::new(&re).ok().map(|r| (r, f.any))
            })
            .collect()
    });
    let mut out = command.to_string();
    for (re, any) in FORMS.iter() {
        out = re
            .replace_all(&out, |c: &regex::Captures| {
                let n: Option<u16> = c[2].parse().ok();
                if *any || (n.is_some() && n == analysed) {
                    format!("{}{assigned}{}", &c[1], &c[3])
                } else {
                    c[0].to_string()
                }
            })
            .into_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_port_form_follows_the_assigned_port() {
        for f in PORT_FORMS {
            let (cmd, want) = f.example;
            assert_eq!(retarget_port(cmd, Some(8000), 4321), want, "{}", f.before);
        }
    }

    #[test]
    fn start_commands_follow_the_assigned_port() {
        let cases: &[(&str, Option<u16>, &str)] = &[
            ("gunicorn --bind 0.0.0.0:5000 app:app", Some(5000), "gunicorn --bind 0.0.0.0:8123 app:app"),
            ("gunicorn --bind=:5000 app:app", None, "gunicorn --bind=:8123 app:app"),
            // The bound port, even when it only shares digits with the analysed one.
            ("gunicorn --bind :50001 --timeout 5000", Some(5000), "gunicorn --bind :8123 --timeout 5000"),
            ("uvicorn main:app --host 0.0.0.0 --port 8000", Some(8000), "uvicorn main:app --host 0.0.0.0 --port 8123"),
            // The flag wins even when the analysis found another port (or none).
            ("uvicorn main:app --port 8000", Some(5000), "uvicorn main:app --port 8123"),
            ("flask run -p 5000", None, "flask run -p 8123"),
            ("flask run --host=0.0.0.0 --port=5001 --debug", Some(5000), "flask run --host=0.0.0.0 --port=8123 --debug"),
            ("streamlit run app.py --server.port 8501 --server.address 0.0.0.0 --server.headless true", Some(8501), "streamlit run app.py --server.port 8123 --server.address 0.0.0.0 --server.headless true"),
            ("streamlit run app.py --server.port=8501", None, "streamlit run app.py --server.port=8123"),
            ("java -Dserver.port=8080 -jar app.jar", Some(8080), "java -Dserver.port=8123 -jar app.jar"),
            ("java -jar app.jar --server.port=9090", Some(8080), "java -jar app.jar --server.port=8123"),
            ("PORT=3000 node server.js -p 3000", Some(3000), "PORT=8123 node server.js -p 8123"),
            ("export PORT=3000 && npm start", Some(3000), "export PORT=8123 && npm start"),
            ("next start -p 3000", Some(3000), "next start -p 8123"),
            ("npm run start -- --port 4000", Some(3000), "npm run start -- --port 8123"),
            ("bundle exec puma -b tcp://0.0.0.0:3000", Some(3000), "bundle exec puma -b tcp://0.0.0.0:8123"),
            ("bundle exec rails server -b 0.0.0.0 -p 3000", Some(3000), "bundle exec rails server -b 0.0.0.0 -p 8123"),
            ("daphne -b 0.0.0.0 -p 8001 proj.asgi:application", Some(8000), "daphne -b 0.0.0.0 -p 8123 proj.asgi:application"),
            ("hypercorn app:app --bind 0.0.0.0:8000 --workers 2", Some(8000), "hypercorn app:app --bind 0.0.0.0:8123 --workers 2"),
            ("python manage.py runserver 8000", Some(8000), "python manage.py runserver 8123"),
            ("python manage.py runserver 0.0.0.0:8000", None, "python manage.py runserver 0.0.0.0:8123"),
            ("python3 -m http.server 8080", None, "python3 -m http.server 8123"),
            ("php artisan serve --host=0.0.0.0 --port=8000", Some(8000), "php artisan serve --host=0.0.0.0 --port=8123"),
            ("php -S 0.0.0.0:8080 -t public", Some(8080), "php -S 0.0.0.0:8123 -t public"),
            ("./server -addr :8080", Some(8080), "./server -addr :8123"),
            ("./server --listen=0.0.0.0:9000", None, "./server --listen=0.0.0.0:8123"),
            ("dotnet Api.dll --urls http://0.0.0.0:5000", Some(5000), "dotnet Api.dll --urls http://0.0.0.0:8123"),
            ("mkdocs serve -a 0.0.0.0:8000", Some(8000), "mkdocs serve -a 0.0.0.0:8123"),
            ("serve -s build -l tcp://0.0.0.0:3000", Some(3000), "serve -s build -l tcp://0.0.0.0:8123"),
            ("vite preview --port 4173 --host", Some(4173), "vite preview --port 8123 --host"),
            ("STREAMLIT_SERVER_PORT=8501 streamlit run app.py", None, "STREAMLIT_SERVER_PORT=8123 streamlit run app.py"),
        ];
        for (cmd, analysed, want) in cases {
            assert_eq!(retarget_port(cmd, *analysed, 8123), *want, "{cmd}");
        }
    }

    #[test]
    fn numbers_that_are_not_the_listening_port_stay() {
        let same: &[(&str, Option<u16>)] = &[
            // Only contains the port's digits.
            ("gunicorn app:app --timeout 50001", Some(5000)),
            // Another service's port, and a host:port that is not the app's.
            ("REDIS_PORT=6379 gunicorn app:app", Some(8000)),
            ("worker --broker redis://localhost:6379/0", Some(8000)),
            // No number: the app reads PORT.
            ("npm start", Some(3000)),
            ("./bin/app", None),
            ("gunicorn -b 0.0.0.0:$PORT app:app", Some(8000)),
            (
                "streamlit run app.py --server.port ${PORT:-8501}",
                Some(8501),
            ),
            // Flags that take other numbers.
            ("celery -A proj worker -l info -c 4", None),
            ("gunicorn -w 4 -t 120 app:app", Some(8000)),
            ("node -p 'process.version'", None),
            ("gunicorn -b unix:/tmp/app.sock app:app", None),
        ];
        for (cmd, analysed) in same {
            assert_eq!(retarget_port(cmd, *analysed, 8123), *cmd, "{cmd}");
        }
    }
}
