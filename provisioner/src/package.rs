//! Packaging the function: cross-build the `function` crate for Lambda and zip it as
//! `bootstrap`, deterministically.
//!
//! Lambda compares code by `CodeSha256` (base64 of the zip's SHA-256). A zip that embeds build
//! times would change on every build and make every plan show a code change; this one has a
//! fixed timestamp (1980-01-01), fixed mode (0o755), one entry and fixed compression, so the same
//! binary always gives the same bytes and a rebuild from unchanged source plans as no change.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::stack::Architecture;

/// A code zip on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packaged {
    pub path: PathBuf,
    pub size: u64,
    /// base64(SHA-256), Lambda's `CodeSha256`.
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("writing the zip {path}: {source}")]
    Zip {
        path: String,
        #[source]
        source: zip::result::ZipError,
    },
    #[error(
        "the Rust target {target} is not installed; install it with: rustup target add {target}"
    )]
    TargetMissing { target: String },
    #[error(
        "no linker for {target}: install one (apt-get install gcc-aarch64-linux-gnu) and set \
         CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc (or add it to \
         .cargo/config.toml)"
    )]
    LinkerMissing { target: String },
    #[error("`{command}` failed; {output}")]
    Build { command: String, output: String },
    #[error(
        "{path} is a Linux {found} binary, but the zip is for {wanted}: Lambda would fail to \
         start it. Build for {wanted} (`provisioner package --arch {wanted}`), or pass \
         --arch {found} if the environment runs on {found}"
    )]
    WrongArchitecture {
        path: String,
        found: &'static str,
        wanted: &'static str,
    },
}

/// Refuses an ELF executable built for another machine than `arch` (a zip that Lambda could
/// never start). Anything else passes: Lambda also runs a `bootstrap` script.
pub fn check_architecture(binary: &Path, arch: Architecture) -> Result<(), PackageError> {
    let mut header = [0u8; 20];
    let read = std::fs::File::open(binary)
        .and_then(|mut file| std::io::Read::read(&mut file, &mut header))
        .map_err(io_error(binary))?;
    if read < header.len() || &header[..4] != b"\x7fELF" {
        return Ok(());
    }
    // e_machine, little-endian as on both Lambda architectures.
    let found = match u16::from_le_bytes([header[18], header[19]]) {
        62 => Architecture::X86_64,
        183 => Architecture::Arm64,
        _ => return Ok(()),
    };
    if found == arch {
        return Ok(());
    }
    Err(PackageError::WrongArchitecture {
        path: binary.display().to_string(),
        found: found.as_str(),
        wanted: arch.as_str(),
    })
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PackageError + '_ {
    move |source| PackageError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// base64(SHA-256(file)), the format of Lambda's `CodeSha256`. The file is streamed through
/// the hash: reading a zip of megabytes whole would first allocate and fault in as much memory,
/// a millisecond or two of every plan.
pub fn lambda_sha256(path: &Path) -> Result<String, PackageError> {
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    // 256 KiB reads: few system calls, and a buffer that stays in cache.
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut hasher = Sha256::new();
    std::io::copy(&mut reader, &mut hasher).map_err(io_error(path))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(hasher.finalize()))
}

/// Describes an existing zip (a prebuilt package or layer).
pub fn describe(path: &Path) -> Result<Packaged, PackageError> {
    let size = std::fs::metadata(path).map_err(io_error(path))?.len();
    Ok(Packaged {
        path: path.to_path_buf(),
        size,
        sha256: lambda_sha256(path)?,
    })
}

/// Zips `binary` as the single entry `bootstrap` into `zip_path`, deterministically.
pub fn zip_bootstrap(binary: &Path, zip_path: &Path) -> Result<Packaged, PackageError> {
    let content = std::fs::read(binary).map_err(io_error(binary))?;
    if let Some(dir) = zip_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    }
    let zip_error = |source| PackageError::Zip {
        path: zip_path.display().to_string(),
        source,
    };
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut writer = ZipWriter::new(&mut buffer);
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(9))
            .last_modified_time(DateTime::default())
            .unix_permissions(0o755);
        writer.start_file("bootstrap", options).map_err(zip_error)?;
        writer.write_all(&content).map_err(io_error(zip_path))?;
        writer.finish().map_err(zip_error)?;
    }
    let bytes = buffer.into_inner();
    std::fs::write(zip_path, &bytes).map_err(io_error(zip_path))?;
    Ok(Packaged {
        path: zip_path.to_path_buf(),
        size: bytes.len() as u64,
        sha256: base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes)),
    })
}

/// The workspace's target directory.
fn target_dir(workspace: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
}

/// Where `package` puts the zip when no `--out` is given.
pub fn default_out_dir(workspace: &Path) -> PathBuf {
    target_dir(workspace).join("lambda")
}

/// The Cargo profile of the Lambda build (the workspace's `[profile.lambda]`: fat LTO, one
/// codegen unit, stripped).
const LAMBDA_PROFILE: &str = "lambda";

/// Cross-builds the `function` crate with the Lambda profile for `arch`; returns the binary's
/// path.
pub fn build_function(workspace: &Path, arch: Architecture) -> Result<PathBuf, PackageError> {
    let target = arch.rust_target();
    if let Ok(out) = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        && out.status.success()
        && !String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.trim() == target)
    {
        return Err(PackageError::TargetMissing {
            target: target.to_string(),
        });
    }
    let args = [
        "build",
        "--profile",
        LAMBDA_PROFILE,
        "-p",
        "function",
        "--target",
        target,
    ];
    let command = format!("cargo {}", args.join(" "));
    eprintln!("building the function: {command}");
    let stderr = run_streaming(Command::new("cargo").args(args).current_dir(workspace))
        .map_err(io_error(Path::new("cargo")))?;
    if let Err(stderr) = stderr {
        if stderr.contains("can't find crate for `std`")
            || stderr.contains("target may not be installed")
        {
            return Err(PackageError::TargetMissing {
                target: target.to_string(),
            });
        }
        if stderr.contains("linker `") && stderr.contains("not found") {
            return Err(PackageError::LinkerMissing {
                target: target.to_string(),
            });
        }
        return Err(PackageError::Build {
            command,
            output: "its output is above".to_string(),
        });
    }
    Ok(target_dir(workspace)
        .join(target)
        .join(LAMBDA_PROFILE)
        .join("function"))
}

/// Runs `command` with its stderr shown as it comes (a build takes minutes: its progress is the
/// operator's) and kept; `Err` holds that stderr when the command fails.
fn run_streaming(command: &mut Command) -> std::io::Result<Result<(), String>> {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut kept = String::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("  {line}");
            kept.push_str(&line);
            kept.push('\n');
        }
    }
    let status = child.wait()?;
    Ok(if status.success() { Ok(()) } else { Err(kept) })
}

/// Builds and zips the function for `arch` into `out_dir/function-<arch>.zip`.
pub fn package(
    workspace: &Path,
    arch: Architecture,
    out_dir: &Path,
) -> Result<Packaged, PackageError> {
    let binary = build_function(workspace, arch)?;
    zip_bootstrap(
        &binary,
        &out_dir.join(format!("function-{}.zip", arch.as_str())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_binary_same_zip_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("function");
        std::fs::write(
            &binary,
            b"\x7fELF pretend binary contents, long enough to deflate deflate deflate",
        )
        .unwrap();
        let first = zip_bootstrap(&binary, &dir.path().join("a/one.zip")).unwrap();
        // A later build: new modification time on the binary, same content.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        std::fs::write(
            &binary,
            b"\x7fELF pretend binary contents, long enough to deflate deflate deflate",
        )
        .unwrap();
        let second = zip_bootstrap(&binary, &dir.path().join("two.zip")).unwrap();
        assert_eq!(first.sha256, second.sha256);
        assert_eq!(
            std::fs::read(&first.path).unwrap(),
            std::fs::read(&second.path).unwrap()
        );
        assert_eq!(first.sha256, lambda_sha256(&first.path).unwrap());
        assert_eq!(describe(&first.path).unwrap(), first);

        std::fs::write(&binary, b"other").unwrap();
        let third = zip_bootstrap(&binary, &dir.path().join("three.zip")).unwrap();
        assert_ne!(third.sha256, first.sha256);
    }

    #[test]
    fn the_zip_holds_one_executable_bootstrap_from_1980() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("function");
        std::fs::write(&binary, b"binary").unwrap();
        let zipped = zip_bootstrap(&binary, &dir.path().join("f.zip")).unwrap();
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&zipped.path).unwrap()).unwrap();
        assert_eq!(archive.len(), 1);
        let entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "bootstrap");
        assert_eq!(entry.unix_mode().unwrap() & 0o777, 0o755);
        assert_eq!(entry.compression(), CompressionMethod::Deflated);
        let modified = entry.last_modified().unwrap();
        assert_eq!(
            (modified.year(), modified.month(), modified.day()),
            (1980, 1, 1)
        );
    }
}

/// What the code zips are needed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZipsFor {
    /// Deploying: a prebuilt zip is hashed, otherwise the function is built.
    Deploy,
    /// Adopting existing objects: nothing is built; a function still to be built shows as
    /// changed in the plan that remains.
    Adoption,
    /// Destroying: only names matter.
    Destroy,
}

/// True when [`artifacts`] builds the function from source for `purpose` (it takes minutes).
pub fn builds_function(stack: &crate::stack::ResolvedStack, purpose: ZipsFor) -> bool {
    matches!(stack.lambda.code, crate::stack::CodeSource::Build) && purpose == ZipsFor::Deploy
}

/// The zips the stack deploys: a prebuilt package as is, or the function built for the
/// declared architecture (announced on stderr: it takes a while).
pub fn artifacts(
    stack: &crate::stack::ResolvedStack,
    purpose: ZipsFor,
) -> Result<crate::desired::Artifacts, PackageError> {
    use crate::desired::{Artifact, Artifacts};
    use crate::stack::CodeSource;
    let described = |path: &str| -> Result<Artifact, PackageError> {
        let packaged = describe(&stack.path(path))?;
        Ok(Artifact {
            path: packaged.path,
            sha256: packaged.sha256,
        })
    };
    let placeholder = |text: &str| Artifact {
        path: PathBuf::from(text),
        sha256: if purpose == ZipsFor::Destroy {
            String::new()
        } else {
            text.to_string()
        },
    };
    let function = match (&stack.lambda.code, purpose) {
        (CodeSource::Prebuilt(path), _) => described(path)?,
        (CodeSource::Build, ZipsFor::Destroy) => placeholder("(not built for destroy)"),
        (CodeSource::Build, ZipsFor::Adoption) => placeholder("(built at apply)"),
        (CodeSource::Build, ZipsFor::Deploy) => {
            let packaged = package(
                &stack.root,
                stack.lambda.architecture,
                &default_out_dir(&stack.root),
            )?;
            Artifact {
                path: packaged.path,
                sha256: packaged.sha256,
            }
        }
    };
    let layer = stack
        .lambda
        .layer_zip
        .as_deref()
        .map(described)
        .transpose()?;
    Ok(Artifacts { function, layer })
}
