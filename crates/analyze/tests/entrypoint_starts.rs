//! A Dockerfile's ENTRYPOINT names a script by its path inside the image
//! (`/src/conf/entrypoint.sh`, `/entrypoint.sh`): outside the image that
//! path does not exist ("exec: …: not found", ihatemoney, djangogirls and
//! django-celery in a sweep of unseen apps). The script is read from the
//! repository: its migrations become the release, a server it starts
//! itself becomes the start; a script that does what only the image can
//! (writes into `/etc`, `eval`s a command it built) gives way to the next
//! start the analysis has.

use autodeploy_analyze::analyze_repo;
use autodeploy_analyze::repo::MemRepo;
use autodeploy_core::Service;

fn web(files: &[(&str, &str)]) -> Service {
    let repo = MemRepo::new(files.iter().copied());
    analyze_repo(&repo, None)
        .expect("analysis")
        .into_iter()
        .find(|s| s.kind == autodeploy_core::ServiceKind::Web)
        .expect("a web service")
}

const FLASK: &[(&str, &str)] = &[
    ("requirements.txt", "flask==3.0.0\ngunicorn==22.0.0\n"),
    (
        "app.py",
        "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return 'ok'\n",
    ),
];

#[test]
fn a_script_that_writes_into_etc_gives_way_to_the_apps_server() {
    let mut files = FLASK.to_vec();
    files.push((
        "Dockerfile",
        "FROM python:3.12-slim\nADD . /src\nWORKDIR /src\nRUN pip install -r requirements.txt\nENTRYPOINT [\"/src/conf/entrypoint.sh\"]\n",
    ));
    files.push((
        "conf/entrypoint.sh",
        "#!/bin/sh\nset -e\ncat <<EOF >/etc/app/app.cfg\nDEBUG = $DEBUG\nEOF\ncmd=\"exec gunicorn app:app -b 0.0.0.0:$PORT $@\"\neval \"$cmd\"\n",
    ));
    let s = web(&files);
    let start = s.start.clone().unwrap_or_default();
    assert!(!start.contains("entrypoint.sh"), "{start}");
    assert!(
        start.contains("gunicorn") || start.contains("flask"),
        "{start}"
    );
    assert!(
        s.findings.iter().any(|f| f.kind == "image_only_start"),
        "{:?}",
        s.findings
    );
}

#[test]
fn a_script_that_starts_the_server_itself_is_split() {
    let files: &[(&str, &str)] = &[
        ("requirements.txt", "django==4.2\n"),
        ("manage.py", "#!/usr/bin/env python\nimport os, sys\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_app.settings')\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n"),
        ("site_app/__init__.py", ""),
        ("site_app/settings.py", "SECRET_KEY = 'x'\nINSTALLED_APPS = []\nROOT_URLCONF = 'site_app.urls'\n"),
        ("site_app/urls.py", "urlpatterns = []\n"),
        ("site_app/wsgi.py", "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n"),
        (
            "Dockerfile",
            "FROM python:3.10-slim\nWORKDIR /var/www/app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY rootfs /\nCOPY . .\nENTRYPOINT [\"/entrypoint.sh\"]\n",
        ),
        (
            "rootfs/entrypoint.sh",
            "#!/bin/sh -e\necho \"Compile messages\"\n./manage.py compilemessages\necho \"Applying database migrations\"\n./manage.py migrate\necho \"Starting application\"\n./manage.py runserver 0.0.0.0:8000\n",
        ),
    ];
    let s = web(files);
    // The script's development server is replaced by the production
    // command for the same app, and the finding says so.
    assert_eq!(
        s.start.as_deref(),
        Some("gunicorn --bind 0.0.0.0:8000 site_app.wsgi:application")
    );
    assert!(
        s.findings.iter().any(|f| f.kind == "dev_server_replaced"
            && f.message.contains("./manage.py runserver 0.0.0.0:8000")),
        "{:?}",
        s.findings
    );
    assert_eq!(s.release.as_deref(), Some("./manage.py migrate"));
    assert!(
        s.build
            .as_deref()
            .is_some_and(|b| b.contains("./manage.py compilemessages")),
        "{:?}",
        s.build
    );
}
