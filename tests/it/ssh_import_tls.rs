//! SSH key imports (`coreos_ssh_import_url`, `-github`) go through kindling's one HTTP client,
//! whose TLS verifier takes its roots from the system trust store. The administrator's store is
//! what counts: here a real HTTPS server on 127.0.0.1 presents a certificate signed by a CA made
//! for the test (with the openssl CLI) that is only in the file `SSL_CERT_FILE` names, given to
//! the kindling process alone. With that store the keys arrive; with a store that lacks the CA,
//! the import fails at once with an error naming the URL, and nothing is written.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::common;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBeDVRlfwTCxjtbNPzSD3BN2iK7132OSIJdGuLe1iSVd tls@import";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI (package openssl) makes the test's CA");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA named `name` in `dir` (`NAME.pem`, `NAME.key`).
fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=kindling test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
}

/// A server certificate for 127.0.0.1 signed by the CA `ca` (`server.pem`, `server.key`).
fn make_server_cert(dir: &Path, ca: &str) {
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

/// Serves `body` as JSON over HTTPS on 127.0.0.1 until the test ends; returns the port.
fn serve(dir: &Path, body: &'static str) -> u16 {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let connection = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(connection, stream);
                // A client that refuses the certificate ends the handshake here.
                let mut reader = BufReader::new(&mut tls);
                let mut line = String::new();
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => break,
                        Ok(_) => {}
                    }
                }
                let _ = write!(
                    tls,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    port
}

/// A root with the user `core` (this process's ids, so no privilege is needed) and a config
/// importing core's keys from `url`.
fn root_importing(url: &str) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let (uid, gid) = (nix::unistd::getuid(), nix::unistd::getgid());
    std::fs::create_dir_all(r.join("etc")).unwrap();
    std::fs::create_dir_all(r.join("home/core")).unwrap();
    std::fs::write(
        r.join("etc/passwd"),
        format!("root:x:0:0:root:/root:/bin/sh\ncore:x:{uid}:{gid}:Core:/home/core:/bin/sh\n"),
    )
    .unwrap();
    std::fs::write(r.join("etc/group"), format!("root:x:0:\ncore:x:{gid}:\n")).unwrap();
    let config = r.join("user_data");
    std::fs::write(
        &config,
        format!("#cloud-config\nusers:\n  - name: core\n    coreos_ssh_import_url: {url}\n"),
    )
    .unwrap();
    (root, config)
}

/// `kindling apply --root` with `trust` as the only trust store.
fn apply(root: &Path, config: &Path, trust: &Path) -> Output {
    let mut cmd = common::kindling();
    cmd.args(["apply", "--from-file"])
        .arg(config)
        .arg("--root")
        .arg(root)
        .env("SSL_CERT_FILE", trust)
        .env_remove("SSL_CERT_DIR");
    // The import honours the environment's proxy; 127.0.0.1 must be reached directly.
    for proxy in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(proxy);
    }
    cmd.output().unwrap()
}

#[test]
fn keys_import_over_https_trusting_only_the_store_in_ssl_cert_file() {
    let pki = tempfile::tempdir().unwrap();
    make_ca(pki.path(), "ca");
    make_server_cert(pki.path(), "ca");
    let body: &'static str =
        Box::leak(format!(r#"[{{"id": 7, "key": "{KEY}"}}]"#).into_boxed_str());
    let port = serve(pki.path(), body);
    let url = format!("https://127.0.0.1:{port}/users/core/keys");

    let (root, config) = root_importing(&url);
    let out = apply(root.path(), &config, &pki.path().join("ca.pem"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let keys = root.path().join("home/core/.ssh/authorized_keys");
    assert_eq!(
        std::fs::read_to_string(&keys).unwrap_or_else(|e| panic!("{e}\n{stderr}")),
        format!("{KEY}\n")
    );
    assert_eq!(
        std::fs::read_to_string(
            root.path()
                .join("home/core/.ssh/authorized_keys.d/coreos-cloudinit-core")
        )
        .unwrap(),
        format!("{KEY}\n")
    );
}

#[test]
fn a_store_without_the_ca_fails_the_import_naming_the_url() {
    let pki = tempfile::tempdir().unwrap();
    make_ca(pki.path(), "ca");
    make_ca(pki.path(), "other");
    make_server_cert(pki.path(), "ca");
    let port = serve(pki.path(), "[]");
    let url = format!("https://127.0.0.1:{port}/users/core/keys");

    let (root, config) = root_importing(&url);
    let out = apply(root.path(), &config, &pki.path().join("other.pem"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains(&url))
        .unwrap_or_else(|| panic!("no error names {url}:\n{stderr}"));
    assert!(
        line.contains("the server's certificate is not trusted")
            && line.contains("UnknownIssuer")
            && line.contains("SSL_CERT_FILE"),
        "{line}"
    );
    // A certificate no anchor vouches for stays so: no retries.
    assert!(!stderr.contains("trying again"), "{stderr}");
    assert!(!root.path().join("home/core/.ssh").exists());
}
