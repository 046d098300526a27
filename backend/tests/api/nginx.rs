//! A real nginx running the repository's `nginx.conf`, rendered with this test's paths
//! and ports. Stopped (SIGTERM to its master, by PID) when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Nginx {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

pub struct Roots<'a> {
    pub frontend: &'a Path,
    pub media: &'a Path,
    pub public: &'a Path,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Substitute the production paths, ports and user in `nginx.conf`.
pub fn render(conf: &str, port: u16, backends: &[u16], roots: &Roots, dir: &Path) -> String {
    luojia::nginx_conf::render(
        conf,
        &luojia::nginx_conf::Local {
            listen_port: port,
            backends,
            frontend: roots.frontend,
            media: roots.media,
            public: roots.public,
            runtime_dir: dir,
            user: "root",
        },
    )
}

fn conf_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../nginx.conf")
}

fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Start nginx in front of `backends`, or `None` (skip) when nginx is not installed and
/// skipping is allowed.
pub fn start(backends: &[u16], roots: &Roots) -> Option<Nginx> {
    let Some(bin) = nginx_binary() else {
        assert!(
            std::env::var("LUOJIA_REQUIRE_ALL_BACKENDS").as_deref() != Ok("1"),
            "nginx is not installed but LUOJIA_REQUIRE_ALL_BACKENDS=1"
        );
        eprintln!("skipping: nginx not installed");
        return None;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let conf = std::fs::read_to_string(conf_path()).expect("nginx.conf");
    let rendered = render(&conf, port, backends, roots, dir.path());
    let conf_file = dir.path().join("nginx.conf");
    std::fs::write(&conf_file, rendered).expect("write conf");
    let test = Command::new(&bin)
        .args(["-t", "-q", "-c"])
        .arg(&conf_file)
        .output()
        .expect("nginx -t");
    assert!(
        test.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&test.stderr)
    );
    let child = Command::new(&bin)
        .arg("-c")
        .arg(&conf_file)
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start nginx");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not start on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Nginx {
        port,
        child,
        _dir: dir,
    })
}

impl Nginx {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
