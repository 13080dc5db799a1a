"""The proxies' configuration files. Every proxy gets the same job: route
/bench/ to the upstream with the prefix stripped, keep upstream connections
alive, set the same forwarding headers and a request id. Variants: the
gateway's edge policies, an access log (gateway: its JSON log on stdout;
NGINX: a buffered JSON-ish access_log), and the idle-connection limits
(many connections from one address, long keep-alive timeouts, h2c)."""

import os
import subprocess

# The gateway's access log runs at info on target gateway::access; the rest
# of its logging stays at warn.
GATEWAY_LOG_LEVEL = "warn,gateway::access=info"

# Policies for target "edge" (gateway/examples/edge.toml on /bench/): P2C,
# active health checks, outlier detection, the retry budget, a rate limit
# per client IP too high to refuse anything (its bucket is still consulted
# on every request), CORS, compression (the small responses are under
# min_size; the 64 KiB ones are not compressible types) and a response
# header rule. wrk sends an Origin so CORS does its work.
EDGE_POLICIES = """balance = "p2c"
[upstreams.bench.health_check]
path = "/health"
interval = "5s"
timeout = "1s"
[upstreams.bench.outlier]
consecutive_connect_failures = 3
consecutive_5xx = 5
"""
EDGE_ROUTE = """[routes.retry]
attempts = 1
on_status = [502, 503, 504]
[routes.rate_limit]
rate = "1000000/s"
burst = 1000000
key = "client_ip"
[routes.cors]
allow_origins = ["https://shop.example"]
allow_methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
allow_headers = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "X-Request-Id"]
expose_headers = ["ETag", "Location", "X-Request-Id"]
max_age = "10m"
[routes.compression]
algorithms = ["zstd", "br", "gzip"]
[routes.headers]
response_set = { "X-Content-Type-Options" = "nosniff" }
"""


def gz_route(level):
    """The gateway's /gz/ route (only with the compression scenarios: a
    baseline from before route policies existed could not read it)."""
    return f"""[[routes]]
prefix = "/gz/"
upstream = "bench"
[routes.compression]
algorithms = ["gzip"]
gzip_level = {level}
min_size = 1
"""


def static_route(docroot):
    """The gateway's /static/ route: files under `docroot` (only with the
    static scenarios: a baseline from before the files handler could not
    read it)."""
    return f"""[[routes]]
location = "/static/"
files = {{ root = "{docroot}" }}
"""


def gateway_toml(path, *, public, admin, up_port, tls_port, cert, key, edge=False, gz="", log=False,
                 idle_conns=0, limits=True):
    """Write a gateway route table. All load comes from loopback, one client
    address: `limits.connections_per_client` (default 256) would refuse the
    1,000-connection scenario and the idle ones, so it is raised (`limits`
    False leaves it out, for a baseline built before the key existed). With
    `idle_conns`, idle HTTP/1 connections must outlive the scenario: they
    close at `timeouts.header_read` (15 s by default)."""
    cap = max(20000, idle_conns + 1000)
    limits_section = f"[limits]\nconnections_per_client = {cap}\n" if limits else ""
    timeouts = '[timeouts]\nheader_read = "120s"\n' if idle_conns else ""
    with open(path, "w") as f:
        f.write(f"""
[listen]
public = "127.0.0.1:{public}"
admin = "127.0.0.1:{admin}"
{limits_section}{timeouts}[log]
access = {"true" if log else "false"}
format = "json"
level = "{GATEWAY_LOG_LEVEL if log else "warn"}"
[upstreams.bench]
endpoints = ["http://127.0.0.1:{up_port}"]
{EDGE_POLICIES if edge else ""}[[routes]]
prefix = "/bench/"
upstream = "bench"
{EDGE_ROUTE if edge else ""}{gz}[tls]
listen = "127.0.0.1:{tls_port}"
[[tls.certificates]]
cert = "{cert}"
key = "{key}"
""")


def gateway_accepts(binary, path):
    """Whether `binary check` accepts the route table at `path` (an older
    baseline rejects keys it does not know)."""
    r = subprocess.run([binary, "check", path], capture_output=True, text=True)
    return r.returncode == 0


# What both NGINX locations do to proxy (the gateway's routes do the same).
NGINX_PROXY = """      proxy_pass http://bench/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
"""

# The fields of the gateway's access log line, in NGINX variables.
NGINX_LOG_FORMAT = """  log_format bench escape=json '{"time":"$time_iso8601","request_id":"$request_id",'
    '"client_ip":"$remote_addr","method":"$request_method","path":"$uri",'
    '"upstream":"$upstream_addr","status":$status,"bytes":$body_bytes_sent,'
    '"duration":$request_time}';
"""


def nginx_conf(prefix, *, workers, port, tls_port, up_port, cert, key, gzip_level, access_log=None,
               idle_conns=0, h2_port=None, nofile=65536, docroot=None, proxy_buffers=None):
    """Write `prefix`/nginx.conf (NGINX runs with `-p prefix`). `access_log`:
    a file for the buffered JSON-ish access log (off otherwise). With
    `idle_conns`: enough connections and file descriptors, a long keep-alive
    timeout, and an h2c listener on `h2_port` (`listen PORT http2` without
    ssl speaks HTTP/2 with prior knowledge). `proxy_buffers` (e.g. "8 16k",
    the "nginx-tuned" target): buffers that hold a 64 KiB response in
    memory, as operators serving large responses set them (NGINX's default
    8 x 4k spills it to a temporary file)."""
    for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(prefix, d), exist_ok=True)
    conns = max(8192, idle_conns + 1024)
    log = (NGINX_LOG_FORMAT + f"  access_log {access_log} bench buffer=64k flush=1s;\n"
           if access_log else "  access_log off;\n")
    idle = "  keepalive_timeout 120s;\n" if idle_conns else ""
    if proxy_buffers:
        idle += f"  proxy_buffers {proxy_buffers};\n"
    h2 = f"    listen 127.0.0.1:{h2_port} http2 backlog=4096;\n" if h2_port else ""
    # NGINX's files the way operators tune them: sendfile, tcp_nopush.
    static = (f"    location /static/ {{ root {docroot}; sendfile on; tcp_nopush on; }}\n"
              if docroot else "")
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write(f"""
worker_processes {workers};
worker_rlimit_nofile {min(conns * 2, nofile)};
user root;
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log error;
events {{ worker_connections {conns}; }}
http {{
{log}{idle}  client_body_temp_path {prefix}/client_body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  keepalive_requests 100000;
  upstream bench {{ server 127.0.0.1:{up_port}; keepalive 256; keepalive_requests 100000; }}
  ssl_certificate {cert};
  ssl_certificate_key {key};
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:SSL:10m;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    listen 127.0.0.1:{tls_port} ssl http2 backlog=4096;
{h2}    client_max_body_size 1m;
    client_body_buffer_size 64k;  # keep 16 KiB bodies in memory, as the others do
    location /bench/ {{
{NGINX_PROXY}      proxy_set_header X-Forwarded-Prefix /bench;
      proxy_set_header X-Request-Id $request_id;
      add_header X-Request-Id $request_id;
    }}
    location /gz/ {{
{NGINX_PROXY}      proxy_set_header X-Forwarded-Prefix /gz;
      proxy_set_header X-Request-Id $request_id;
      add_header X-Request-Id $request_id;
      gzip on;
      gzip_comp_level {gzip_level};
      gzip_types application/json;
      gzip_min_length 1;
      gzip_proxied any;
      gzip_vary on;
    }}
{static}  }}
}}
""")
    return path


def haproxy_cfg(path, *, workers, port, tls_port, combined, up_port, idle_conns=0, h2_port=None, nofile=65536):
    """Write an HAProxy configuration. With `idle_conns`: maxconn above it,
    long client and keep-alive timeouts, and an h2c listener (`proto h2`) on
    `h2_port`. HAProxy wants two descriptors per connection (client and
    server side) and by default refuses to start when it cannot raise its
    limit to that; idle connections hold one each, so above `nofile` it
    gets `no strict-limits` (a warning instead, and it runs with `nofile`)."""
    maxconn = max(8000, idle_conns + 100)
    ulimit = "  no strict-limits\n" if 2 * maxconn + 1000 > nofile else ""
    timeout = "120s" if idle_conns else "30s"
    keep_alive = "120s" if idle_conns else "75s"
    h2 = f"  bind 127.0.0.1:{h2_port} proto h2\n" if h2_port else ""
    with open(path, "w") as f:
        f.write(f"""
global
  nbthread {workers}
  maxconn {maxconn}
{ulimit}  log stdout format raw local0 emerg
defaults
  mode http
  timeout connect 2s
  timeout client {timeout}
  timeout server 30s
  timeout http-keep-alive {keep_alive}
  option http-keep-alive
  option forwardfor
  maxconn {maxconn}
frontend fe
  bind 127.0.0.1:{port}
  bind 127.0.0.1:{tls_port} ssl crt {combined} alpn h2,http/1.1 ssl-min-ver TLSv1.2
{h2}  unique-id-format %{{+X}}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
  http-request set-header X-Request-Id %[unique-id]
  http-response set-header X-Request-Id %[unique-id]
  http-request set-header X-Real-IP %[src]
  http-request set-header X-Forwarded-Proto %[ssl_fc,iif(https,http)]
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  http-request set-header X-Forwarded-Prefix /bench
  http-request replace-path ^/bench(/.*) \\1
  default_backend be
backend be
  http-reuse safe
  server s1 127.0.0.1:{up_port}
""")
