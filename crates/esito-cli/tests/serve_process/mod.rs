//! What the test files of the `esito` binary share: a free port on loopback, and `esito serve`
//! started on it (each file waits for it as its own tests need).

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A port on loopback that nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port()
}

/// `esito serve` on `database` at `127.0.0.1:port`, signing with the key in `signing_key` (made
/// if missing), its vault's master key beside it in `vault.key` unless `extra` names one, then
/// the `extra` arguments; its standard output dropped, its standard error to `stderr`. It may
/// not answer yet.
pub fn spawn_serve(
    database: &str,
    port: u16,
    signing_key: &Path,
    extra: &[&str],
    stderr: Stdio,
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_esito"))
        .args([
            "serve",
            "--database",
            database,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--signing-key")
        .arg(signing_key)
        .args(if extra.contains(&"--vault-key") {
            vec![]
        } else {
            vec![
                std::ffi::OsString::from("--vault-key"),
                signing_key.with_file_name("vault.key").into_os_string(),
            ]
        })
        .args(extra)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("esito serve starts")
}
