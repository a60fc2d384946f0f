"""nginx for the end-to-end tests: Debian's binary (installed when missing and possible) and a config on
loopback with its own pid, logs and temp folders in a test's folder."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("nginx is not installed and cannot be installed here (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True, timeout=300)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"],
        check=True,
        env=env,
        capture_output=True,
        timeout=600,
    )
    return shutil.which("nginx") or "/usr/sbin/nginx"


def write_conf(folder: Path, log_format: str, body: str) -> Path:
    """nginx.conf in `folder`: one worker, everything it writes kept in `folder`, access lines in the format
    named `up`, then `body` (upstreams and servers) inside `http`."""
    conf = folder / "nginx.conf"
    conf.write_text(f"""
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {folder}/body;
  proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  log_format up '{log_format}';
{body}
}}
""")
    return conf


def nginx_conf(folder: Path, port: int, upstreams: list[int]) -> Path:
    """One port balancing over `upstreams`, passing the client's Host."""
    servers = "\n".join(f"    server 127.0.0.1:{p};" for p in upstreams)
    return write_conf(
        folder,
        "$upstream_addr $status",
        f"""  upstream replicas {{
{servers}
  }}
  server {{
    listen 127.0.0.1:{port};
    access_log {folder}/access.log up;
    location / {{
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 60s;
    }}
  }}""",
    )
