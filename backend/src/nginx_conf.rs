//! Render the repository's `nginx.conf` for a local run: the production file with its
//! paths, ports, upstream servers and user replaced. The test suite and the benchmarks
//! run a real nginx with the result (`luojia nginx-conf --help`).

use std::path::Path;

pub struct Local<'a> {
    pub listen_port: u16,
    pub backends: &'a [u16],
    pub frontend: &'a Path,
    pub media: &'a Path,
    pub public: &'a Path,
    /// Where the pid file, logs and the auth cache go.
    pub runtime_dir: &'a Path,
    /// The user nginx workers run as.
    pub user: &'a str,
}

pub fn render(conf: &str, local: &Local) -> String {
    let upstream: String = local
        .backends
        .iter()
        .map(|p| format!("        server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;\n"))
        .collect();
    let mut out = String::new();
    let mut in_upstream = false;
    for line in conf.lines() {
        let t = line.trim();
        if t.starts_with("upstream luojia_backend") {
            in_upstream = true;
            out.push_str(line);
            out.push('\n');
            out.push_str(&upstream);
            continue;
        }
        if in_upstream && t.starts_with("server ") {
            continue;
        }
        if in_upstream && t == "}" {
            in_upstream = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    let d = local.runtime_dir.display();
    out.replace("user www-data;", &format!("user {};", local.user))
        .replace("pid /run/nginx-luojia.pid;", &format!("pid {d}/nginx.pid;"))
        .replace("/var/log/nginx/", &format!("{d}/"))
        .replace("/var/cache/nginx/luojia", &format!("{d}/cache"))
        .replace(
            "listen 8080;",
            &format!("listen 127.0.0.1:{};", local.listen_port),
        )
        .replace(
            "/srv/luojia/frontend",
            &local.frontend.display().to_string(),
        )
        .replace("/srv/luojia/media", &local.media.display().to_string())
        .replace("/srv/luojia/public", &local.public.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_placeholder() {
        let conf = include_str!("../../nginx.conf");
        let out = render(
            conf,
            &Local {
                listen_port: 9999,
                backends: &[1111, 2222],
                frontend: Path::new("/f"),
                media: Path::new("/m"),
                public: Path::new("/p"),
                runtime_dir: Path::new("/r"),
                user: "root",
            },
        );
        for gone in [
            "/srv/luojia",
            "/var/log/nginx",
            "/run/nginx",
            "8081",
            "8082",
            "www-data",
            "listen 8080",
        ] {
            assert!(!out.contains(gone), "{gone} left in the rendered config");
        }
        assert!(out.contains("server 127.0.0.1:1111") && out.contains("server 127.0.0.1:2222"));
        assert!(out.contains("listen 127.0.0.1:9999;"));
    }
}
