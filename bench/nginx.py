"""Debian's nginx with the deployment guide's configuration, on this machine, for CI and bench.

`local_config` turns docs/nginx/ccmtracker.conf (the file docs/deploy.md shows) into one that
runs without root or TLS: only the ports, the upstream address and the cache folder change,
the TLS lines and the plain-HTTP redirect go, and each change is checked to have happened (so
a guide that drifts fails here rather than testing something else). `Nginx` starts it in a
temporary folder of its own (pid, logs, temp files, cache) and stops it.
"""

import os
import pwd
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE_CONF = ROOT / "docs" / "nginx" / "ccmtracker.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def ensure_nginx():
    """Install Debian's nginx-light when nginx is missing (as root, or with sudo)."""
    global NGINX
    if shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"):
        NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
        return
    print("nginx is missing: installing Debian's nginx-light", flush=True)
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*prefix, "apt-get", "update", "-qq"], check=True, env=env)  # noqa: S603
    subprocess.run(  # noqa: S603
        [*prefix, "apt-get", "install", "-y", "-qq", "nginx-light"], check=True, env=env
    )
    NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _replace(text, old, new, count=1, regex=False):
    found = len(re.findall(old, text, re.DOTALL)) if regex else text.count(old)
    if found != count:
        raise SystemExit(f"docs/nginx/ccmtracker.conf changed: {old!r} found {found} times")
    return re.sub(old, new, text, flags=re.DOTALL) if regex else text.replace(old, new)


def local_config(port, upstream_port, cache_dir):
    """The guide's configuration on 127.0.0.1:`port`, plain HTTP, in front of
    127.0.0.1:`upstream_port`, caching under `cache_dir`."""
    text = GUIDE_CONF.read_text()
    text = _replace(text, r"\nserver \{\n    listen 80;.*?\n\}\n", "", regex=True)
    text = _replace(text, "    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{port};\n")
    text = _replace(text, "    listen [::]:443 ssl http2;\n", "")
    text = _replace(text, r"    ssl_[a-z_]+ [^\n]*\n", "", count=4, regex=True)
    text = _replace(text, "server 127.0.0.1:8100;", f"server 127.0.0.1:{upstream_port};")
    text = _replace(text, "/var/cache/nginx/ccmtracker", str(cache_dir))
    text = _replace(text, "server_name ccm.example.org;", "server_name 127.0.0.1;")
    return text


class Nginx:
    """nginx in `workdir` with the guide's configuration (plus `extra` server blocks)."""

    def __init__(self, workdir, upstream_port, port=None, extra="", workers=2):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.cache = self.dir / "cache"
        conf = local_config(self.port, upstream_port, self.cache)
        temp = {
            name: self.dir / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        }
        user = ""
        if os.geteuid() == 0:
            # The workers drop root: they need the folder (a mktemp folder is root's alone).
            user = "user nobody nogroup;"
            nobody = pwd.getpwnam("nobody")
            self.dir.chmod(0o755)
            for folder in [self.cache, *temp.values()]:
                folder.mkdir(parents=True, exist_ok=True)
                os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(
            f"""{user}
worker_processes {workers};
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
{conf}
{extra}
}}
"""
        )
        self.process = None

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603
            [NGINX, "-p", str(self.dir), "-c", str(self.conf), "-e", str(self.dir / "error.log"),
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "nginx.stderr", "w"),  # noqa: SIM115
        )  # fmt: skip
        for _ in range(100):
            if self.process.poll() is not None:
                raise SystemExit(f"nginx did not start:\n{self.errors()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise SystemExit(f"nginx did not listen on {self.port}:\n{self.errors()}")

    def errors(self):
        return "\n".join(
            path.read_text()[-3000:]
            for path in (self.dir / "nginx.stderr", self.dir / "error.log")
            if path.exists()
        )

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def cached_files(self):
        return [path for path in self.cache.rglob("*") if path.is_file()]
