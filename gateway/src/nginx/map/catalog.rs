//! Directives that need no translation, and those the gateway cannot
//! express yet, with the reason the report gives.

/// Directives with nothing to translate: tuning the gateway does its own
/// way, or behaviour the gateway always has.
pub fn needs_no_translation(name: &str) -> bool {
    const NAMES: &[&str] = &[
        // process and event loop tuning
        "user",
        "pid",
        "daemon",
        "master_process",
        "worker_processes",
        "worker_connections",
        "worker_rlimit_nofile",
        "worker_cpu_affinity",
        "worker_shutdown_timeout",
        "multi_accept",
        "use",
        "accept_mutex",
        "accept_mutex_delay",
        "pcre_jit",
        "thread_pool",
        "timer_resolution",
        "error_log",
        "load_module",
        // I/O tuning
        "sendfile",
        "sendfile_max_chunk",
        "tcp_nopush",
        "tcp_nodelay",
        "aio",
        "directio",
        "output_buffers",
        "postpone_output",
        "open_file_cache",
        "open_file_cache_valid",
        "open_file_cache_min_uses",
        "open_file_cache_errors",
        "reset_timedout_connection",
        "lingering_close",
        "lingering_time",
        "lingering_timeout",
        "keepalive_requests",
        "keepalive_time",
        // hash tables and buffers
        "types_hash_max_size",
        "types_hash_bucket_size",
        "server_names_hash_max_size",
        "server_names_hash_bucket_size",
        "variables_hash_max_size",
        "variables_hash_bucket_size",
        "map_hash_max_size",
        "map_hash_bucket_size",
        "client_body_buffer_size",
        "client_header_buffer_size",
        "client_body_temp_path",
        "proxy_temp_path",
        "fastcgi_temp_path",
        "uwsgi_temp_path",
        "scgi_temp_path",
        "proxy_buffer_size",
        "proxy_buffers",
        "proxy_busy_buffers_size",
        "proxy_max_temp_file_size",
        "proxy_temp_file_write_size",
        // the gateway streams, speaks HTTP/1.1 and h2 upstream-side as it must
        "proxy_buffering",
        "proxy_request_buffering",
        "proxy_http_version",
        "proxy_send_timeout",
        "proxy_socket_keepalive",
        "proxy_ignore_client_abort",
        "http2",
        "http2_push_preload",
        "chunked_transfer_encoding",
        // conditions of a response cache: without `proxy_cache` (itself
        // reported) they do nothing (the Node.js tutorials' WebSocket
        // recipe writes `proxy_cache_bypass $http_upgrade`)
        "proxy_cache_bypass",
        "proxy_no_cache",
        // names are re-resolved by the gateway already
        "resolver",
        "resolver_timeout",
        // rustls chooses ciphers, curves and sessions (TLS 1.2 and 1.3)
        "ssl_protocols",
        "ssl_ciphers",
        "ssl_prefer_server_ciphers",
        "ssl_session_cache",
        "ssl_session_timeout",
        "ssl_session_tickets",
        "ssl_dhparam",
        "ssl_ecdh_curve",
        "ssl_buffer_size",
        "ssl_early_data",
        "ssl_stapling",
        "ssl_stapling_verify",
        "ssl_trusted_certificate",
        "ssl",
        // the gateway sends no version in a Server header, logs its own JSON line
        "server_tokens",
        "log_format",
        "log_not_found",
        "log_subrequest",
        "open_log_file_cache",
        // MIME types: the gateway has its own table
        "types",
        "default_type",
        // gzip details the gateway always applies (Vary, proxied responses)
        "gzip_vary",
        "gzip_proxied",
        "gzip_http_version",
        "gzip_buffers",
        "gzip_disable",
        // request heads: the gateway has its own validation
        "ignore_invalid_headers",
        "underscores_in_headers",
        "merge_slashes",
    ];
    NAMES.contains(&name)
}

/// Why a directive the gateway cannot express yet is not translated.
pub fn why_not(name: &str) -> &'static str {
    match name {
        "if" => "`if` beyond the recognised idioms has no equivalent",
        "set" => "variables set in the configuration have no equivalent",
        "sub_filter" | "sub_filter_once" | "sub_filter_types" => {
            "response body rewriting has no equivalent"
        }
        "stream" => "TCP/UDP proxying (`stream {}`) is not an HTTP gateway's job",
        "mail" => "mail proxying has no equivalent",
        "proxy_cache"
        | "proxy_cache_path"
        | "proxy_cache_valid"
        | "proxy_cache_key"
        | "proxy_cache_use_stale"
        | "proxy_cache_lock"
        | "proxy_cache_methods"
        | "add_header_cache" => "the gateway has no response cache",
        "fastcgi_pass" | "uwsgi_pass" | "scgi_pass" | "grpc_pass" | "memcached_pass" => {
            "the gateway forwards HTTP only"
        }
        "auth_request" | "auth_request_set" => {
            "subrequest authentication has no equivalent (see [routes.auth] for tokens)"
        }
        "limit_except" => "per-method access rules have no equivalent",
        "ssi" | "ssi_types" | "perl" | "js_content" | "js_import" | "njs" => {
            "server-side scripting has no equivalent"
        }
        "split_clients" => "write a `split` on the route instead",
        "geo" | "geoip_country" | "geoip_city" => "address-based variables have no equivalent",
        "more_set_headers" | "more_clear_headers" | "more_set_input_headers" => {
            "headers-more rules: write [routes.headers] by hand"
        }
        "client_body_timeout" => "the gateway has no request-body read timeout",
        "proxy_pass_request_headers"
        | "proxy_pass_request_body"
        | "proxy_method"
        | "proxy_set_body" => "changing the forwarded request this way has no equivalent",
        "proxy_ssl_verify"
        | "proxy_ssl_certificate"
        | "proxy_ssl_server_name"
        | "proxy_ssl_name"
        | "proxy_ssl_trusted_certificate"
        | "proxy_ssl_protocols" => "the gateway forwards to http:// upstreams only",
        "proxy_intercept_errors" | "proxy_next_upstream_timeout" => {
            "upstream error interception has no equivalent"
        }
        "charset" | "source_charset" => "charset conversion has no equivalent",
        "secure_link" | "secure_link_md5" | "secure_link_secret" => {
            "signed links have no equivalent"
        }
        "mirror" | "mirror_request_body" => "request mirroring has no equivalent",
        "proxy_cookie_domain" | "proxy_cookie_path" | "proxy_cookie_flags" => {
            "cookie rewriting has no equivalent"
        }
        "ssl_client_certificate" | "ssl_verify_client" | "ssl_verify_depth" | "ssl_crl" => {
            "client certificates are not checked by the gateway"
        }
        "ssl_password_file" => "encrypted private keys are not supported",
        "location" | "return" | "rewrite" | "try_files" | "alias" | "internal" | "break"
        | "server_name" => {
            "not translated at this level: the importer reads it where NGINX applies it (`server` and `location` blocks)"
        }
        _ if name.contains("_by_lua") || name.starts_with("lua_") => {
            "Lua (OpenResty) has no equivalent"
        }
        _ => "unknown to the importer",
    }
}

/// `proxy_ignore_headers`: the headers NGINX would act on that the gateway
/// never acts on anyway (it has no cache, no per-response buffering or rate
/// switches) need no translation; `X-Accel-Redirect` does (the gateway
/// always follows it on a proxied route).
pub fn ignored_headers(d: &super::super::parse::Directive) -> Result<(), String> {
    const INERT: &[&str] = &[
        "cache-control",
        "expires",
        "set-cookie",
        "vary",
        "x-accel-expires",
        "x-accel-buffering",
        "x-accel-charset",
        "x-accel-limit-rate",
    ];
    match d
        .arg_texts()
        .into_iter()
        .find(|h| !INERT.contains(&h.to_ascii_lowercase().as_str()))
    {
        None => Ok(()),
        Some(h) if h.eq_ignore_ascii_case("x-accel-redirect") => Err(
            "`X-Accel-Redirect` is always followed on a proxied route (strip it at the application)".into(),
        ),
        Some(h) => Err(format!("`{h}` is not a header NGINX acts on")),
    }
}
