"""The production files in deploy/: the nginx site passes `nginx -t` and, run for real on spare
ports, does what the comments in it promise; the systemd units pass `systemd-analyze verify`;
the container recipe runs the same commands as the units.

nginx is Debian's package (`make test` installs it when run as root, like chromium); without it,
or without systemd-analyze, those tests are skipped with a message."""

import gzip
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from tests.deploy.helpers import REPO, free_port

DEPLOY = REPO / "deploy"
SITE = (DEPLOY / "nginx" / "eldercare.conf").read_text()
UNITS = sorted((DEPLOY / "systemd").iterdir())

needs_nginx = pytest.mark.skipif(not Path("/usr/sbin/nginx").exists() and not shutil.which("nginx"),
                                 reason="nginx missing: run 'sudo apt-get install nginx' (make test does as root)")


def unit_command(name: str, key: str = "ExecStart") -> str:
    text = (DEPLOY / "systemd" / name).read_text()
    return re.search(rf"^{key}=(.*)$", text, re.M).group(1)


def test_upload_limit_lets_the_largest_census_workbook_through_to_django():
    size = re.search(r"client_max_body_size (\d+)m;", SITE).group(1)
    limit = int(size) * 1024 * 1024
    # The multipart envelope must fit, so Django (not nginx) answers a workbook just over the limit.
    assert settings.CENSUS_MAX_UPLOAD_BYTES + 64 * 1024 <= limit <= settings.CENSUS_MAX_UPLOAD_BYTES + 2 * 1024 * 1024


def test_container_recipe_runs_what_the_systemd_units_run():
    dockerfile = (REPO / "Dockerfile").read_text()
    compose = (REPO / "compose.yaml").read_text()
    web = unit_command("eldercare-web.service").replace("/opt/eldercare/venv/bin/", "")
    worker = unit_command("eldercare-worker.service").replace("/opt/eldercare/venv/bin/", "")
    # The container binds all interfaces (nginx reaches it over the compose network); the rest is the same.
    assert web.replace("127.0.0.1:8000", "0.0.0.0:8000").replace(" --access-logfile -", "") in " ".join(
        re.search(r"^CMD \[(.*)\]$", dockerfile, re.M).group(1).replace('"', "").split(", "))
    assert worker in compose
    assert "USER eldercare" in dockerfile and dockerfile.count("\nFROM ") >= 2
    assert "server 127.0.0.1:8000;" in SITE  # the nginx stage rewrites this line for compose


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze missing: the units are not verified")
def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    venv = Path(REPO / ".venv")
    for unit in UNITS:  # verify checks that ExecStart programs exist: point them at this checkout's venv
        (tmp_path / unit.name).write_text(unit.read_text().replace("/opt/eldercare/venv", str(venv)))
    result = subprocess.run(["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.iterdir())],
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    assert "Restart=on-failure" in (DEPLOY / "systemd" / "eldercare-web.service").read_text()
    assert "Restart=on-failure" in (DEPLOY / "systemd" / "eldercare-worker.service").read_text()


class Upstream(BaseHTTPRequestHandler):
    """Stands in for gunicorn: answers with the headers nginx forwarded."""

    def do_GET(self):
        body = "\n".join(f"{key}: {value}" for key, value in self.headers.items()).encode() * 20
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def nginx(tmp_path):
    """The site running under Debian's nginx on spare ports, with a self-signed certificate and
    a stand-in upstream; yields (http port, https port)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl missing: cannot make a test certificate")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=eldercare.example.gov.cn", "-keyout", tmp_path / "privkey.pem", "-out",
                    tmp_path / "fullchain.pem"], check=True, capture_output=True)
    static = tmp_path / "static"
    (static / "eldercare").mkdir(parents=True)
    css = b"body { color: #333; }\n" * 200
    (static / "eldercare" / "site.css").write_bytes(css)
    (static / "eldercare" / "site.css.gz").write_bytes(gzip.compress(css))
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    http_port, https_port = free_port(), free_port()
    site = (SITE.replace("/etc/ssl/eldercare", str(tmp_path)).replace("/var/lib/eldercare/static/", f"{static}/")
            .replace("127.0.0.1:8000", f"127.0.0.1:{upstream.server_port}")
            .replace("listen 80;", f"listen 127.0.0.1:{http_port};").replace("listen [::]:80;", "")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
            .replace("listen [::]:443 ssl http2;", ""))
    (tmp_path / "eldercare.conf").write_text(site)
    # as root, nginx's workers would run as nobody, who cannot enter pytest's private temp folders
    user = "user root;" if os.geteuid() == 0 else ""
    (tmp_path / "nginx.conf").write_text(f"""
        {user} daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;
        events {{ worker_connections 64; }}
        http {{
            include /etc/nginx/mime.types;
            access_log off;
            client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;
            fastcgi_temp_path {tmp_path}/fcgi; uwsgi_temp_path {tmp_path}/uwsgi; scgi_temp_path {tmp_path}/scgi;
            include {tmp_path}/eldercare.conf;
        }}""")
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    command = [nginx_bin, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr and "[warn]" not in checked.stderr, checked.stderr
    server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                threading.Event().wait(0.1)
        yield http_port, https_port
    finally:
        server.terminate()
        server.wait(10)
        upstream.shutdown()


def request(port, raw: bytes, alpn=("http/1.1",)):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(list(alpn))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock, context.wrap_socket(
            sock, server_hostname="eldercare.example.gov.cn") as tls:
        if raw:
            tls.sendall(raw)
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
            return tls.selected_alpn_protocol(), data
        return tls.selected_alpn_protocol(), b""


@needs_nginx
def test_nginx_site_terminates_tls_with_http2_forwards_the_client_and_serves_static_files(nginx):
    http_port, https_port = nginx
    assert request(https_port, b"", alpn=("h2", "http/1.1"))[0] == "h2"

    _, response = request(https_port, b"GET /elders/ HTTP/1.1\r\nHost: eldercare.example.gov.cn\r\n"
                                      b"Connection: close\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 200")
    assert b"X-Real-IP: 127.0.0.1" in response and b"X-Forwarded-Proto: https" in response
    assert b"Host: eldercare.example.gov.cn" in response

    _, response = request(https_port, b"GET /static/eldercare/site.css HTTP/1.1\r\nHost: eldercare.example.gov.cn\r\n"
                                      b"Accept-Encoding: gzip\r\nConnection: close\r\n\r\n")
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"Content-Encoding: gzip" in head and b"Cache-Control: public, max-age=31536000, immutable" in head
    assert gzip.decompress(body) == b"body { color: #333; }\n" * 200

    too_big = settings.CENSUS_MAX_UPLOAD_BYTES + 2 * 1024 * 1024
    _, response = request(https_port, f"POST /census/ HTTP/1.1\r\nHost: eldercare.example.gov.cn\r\n"
                                      f"Content-Length: {too_big}\r\nConnection: close\r\n\r\n".encode())
    assert response.startswith(b"HTTP/1.1 413")

    with socket.create_connection(("127.0.0.1", http_port), timeout=10) as sock:
        sock.sendall(b"GET /login/ HTTP/1.1\r\nHost: eldercare.example.gov.cn\r\nConnection: close\r\n\r\n")
        plain = sock.recv(65536)
    assert plain.startswith(b"HTTP/1.1 301") and b"Location: https://eldercare.example.gov.cn/login/" in plain
