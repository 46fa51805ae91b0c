//! `provisioner package --binary`: the zip of an already built binary is deterministic, and
//! its printed SHA-256 is what Lambda reports as `CodeSha256`.

use crate::common;

use common::Fixture;

#[test]
fn packaging_a_binary_twice_gives_the_same_zip() {
    let f = Fixture::new("");
    let binary = f.dir.path().join("bootstrap-binary");
    let run = |out: &str| {
        f.ok(&[
            "package",
            "--arch",
            "x86_64",
            "--binary",
            binary.to_str().unwrap(),
            "--out",
            out,
        ])
    };
    let first = run("one");
    let second = run("two");
    let sha = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("sha256 "))
            .unwrap()
            .trim()
            .to_string()
    };
    assert_eq!(sha(&first), sha(&second));
    let one = std::fs::read(f.dir.path().join("one/function-x86_64.zip")).unwrap();
    let two = std::fs::read(f.dir.path().join("two/function-x86_64.zip")).unwrap();
    assert_eq!(one, two);
    assert_eq!(
        sha(&first),
        provisioner::package::lambda_sha256(&f.dir.path().join("one/function-x86_64.zip")).unwrap()
    );
}

#[test]
fn a_binary_of_the_wrong_architecture_is_refused() {
    let f = Fixture::new("");
    // The test binary itself is an ELF executable of this machine's architecture.
    let native = std::env::current_exe().expect("the test binary");
    let native = native.to_str().unwrap();
    let (this, other) = match std::env::consts::ARCH {
        "aarch64" => ("arm64", "x86_64"),
        _ => ("x86_64", "arm64"),
    };
    let refused = f.run(&[
        "package", "--arch", other, "--binary", native, "--out", "other",
    ]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    let expected = format!("is a Linux {this} binary, but the zip is for {other}");
    assert!(stderr.contains(&expected), "{stderr}");
    let zip = format!("other/function-{other}.zip");
    assert!(!f.dir.path().join(zip).exists());
    f.ok(&[
        "package", "--arch", this, "--binary", native, "--out", "this",
    ]);
}
