//! Flow files on disk through `AppCore`: which paths are allowed, what an error may show of a
//! file, and how a save replaces a file (its mode, concurrent saves, changes made elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use weft_core::{AppCore, ErrorKind, Replace, Settings};
use weft_store::{DataDir, Keychain};

const KEY: &str = "sk-core-files-7c1e";

fn core(dir: &tempfile::TempDir) -> AppCore {
    let settings = Settings {
        data_dir: DataDir::new(dir.path()),
        keyring_service: "weft-test".into(),
        retention: Default::default(),
    };
    AppCore::open_with_keychain(settings, Keychain::in_memory("weft-test").unwrap()).unwrap()
}

#[test]
fn only_weft_yaml_files_are_opened_or_saved() {
    let dir = tempfile::tempdir().unwrap();
    let core = core(&dir);
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    let notes = files.join("notes.txt");
    std::fs::write(&notes, format!("schema: 1\n# {KEY}\n")).unwrap();
    let err = core.open_flow(&notes).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let message = err.to_string();
    assert!(
        message.contains("only files whose name ends in `.weft.yaml`"),
        "{message}"
    );
    assert!(!message.contains(KEY), "{message}");

    let document = core.sample_flow().unwrap().document;
    let bashrc = files.join(".bashrc");
    std::fs::write(&bashrc, "alias ll='ls -l'\n").unwrap();
    for target in [
        bashrc.clone(),
        files.join("flow.yaml"),
        files.join("flow.weft.yaml.bak"),
        files.join(".weft.yaml"),
    ] {
        let err = core
            .save_flow(&target, &document, &Replace::Any)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{target:?}");
        assert!(err.to_string().contains("`.weft.yaml`"), "{err}");
    }
    assert_eq!(
        std::fs::read_to_string(&bashrc).unwrap(),
        "alias ll='ls -l'\n"
    );
    let mut names: Vec<_> = std::fs::read_dir(&files)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".bashrc", "notes.txt"]);
}

#[test]
fn a_file_that_is_not_a_flow_is_refused_without_quoting_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let core = core(&dir);
    let secret = format!("sk-live-{}", "Zq7Xw2".repeat(8));
    let contents = [
        format!("{secret}\n"),
        format!("schema: {secret}\n"),
        format!("schema: 1\n{secret}: 1\n"),
        format!(
            "schema: 1\nnodes:\n  - id: a\n    type: {secret}\n    position: {{ x: 0, y: 0 }}\n"
        ),
        format!("schema: 1\ntitle: [ \"{secret}\"\n"),
        // Shaped like a field name: a 32-digit hex key.
        "schema: 1\nfZq7Xw2e0123456789abcdef01234567: 1\n".to_owned(),
    ];
    for (i, content) in contents.iter().enumerate() {
        let path = dir.path().join(format!("leak-{i}.weft.yaml"));
        std::fs::write(&path, content).unwrap();
        let err = core.open_flow(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let message = err.to_string();
        assert!(
            message.contains(&format!("leak-{i}.weft.yaml: line ")),
            "{message}"
        );
        // Not even a piece of it: a cropped snippet would still leak part of a key.
        assert!(!message.contains("Zq7Xw2"), "case {i}: {message}");
    }
    // What names the schema, not the file, stays.
    let path = dir.path().join("no-schema.weft.yaml");
    std::fs::write(&path, "title: x\nnodes: []\n").unwrap();
    let message = core.open_flow(&path).unwrap_err().to_string();
    assert!(message.ends_with(": missing field `schema`"), "{message}");
}

#[cfg(unix)]
#[test]
fn a_save_keeps_the_files_mode_and_the_recovery_copy_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    // An existing, world-readable data folder, as WEFT_HOME may point at.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let core = core(&dir);
    let document = core.sample_flow().unwrap().document;

    let private = dir.path().join("private.weft.yaml");
    std::fs::write(&private, "schema: 1\n").unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    core.save_flow(&private, &document, &Replace::Any).unwrap();
    assert_eq!(mode(&private), 0o600);

    let shared = dir.path().join("shared.weft.yaml");
    std::fs::write(&shared, "schema: 1\n").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o664)).unwrap();
    core.save_flow(&shared, &document, &Replace::Any).unwrap();
    assert_eq!(mode(&shared), 0o664);

    // A new flow gets what any new file gets (the umask), not a temporary file's 0600.
    let plain = dir.path().join("plain.txt");
    std::fs::write(&plain, "").unwrap();
    let new = dir.path().join("new.weft.yaml");
    core.save_flow(&new, &document, &Replace::Any).unwrap();
    assert_eq!(mode(&new), mode(&plain));

    core.save_recovery(None, None, document).unwrap();
    assert_eq!(mode(&dir.path().join("recovery.json")), 0o600);
}

#[test]
fn saves_at_the_same_time_never_collide() {
    let dir = tempfile::tempdir().unwrap();
    let core = core(&dir);
    let path = dir.path().join("busy.weft.yaml");
    let writers = 4;
    let barrier = std::sync::Barrier::new(writers);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..writers)
            .map(|writer| {
                let (core, path, barrier) = (&core, &path, &barrier);
                scope.spawn(move || {
                    let mut document = core.sample_flow().unwrap().document;
                    document.title = format!("writer {writer}");
                    // Every round, whatever the last one gave: a writer that stopped early
                    // would leave the others waiting at the barrier for ever.
                    (0..25)
                        .filter_map(|_| {
                            barrier.wait();
                            core.save_flow(path, &document, &Replace::Any).err()
                        })
                        .map(|err| err.to_string())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{failures:?}");
    let title = core.open_flow(&path).unwrap().document.title;
    assert!(title.starts_with("writer "), "{title}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn a_file_changed_on_disk_is_only_overwritten_when_the_user_confirms() {
    let dir = tempfile::tempdir().unwrap();
    let core = core(&dir);
    let path = dir.path().join("shared.weft.yaml");
    let mut document = core.sample_flow().unwrap().document;
    core.save_flow(&path, &document, &Replace::Any).unwrap();
    let opened = core.open_flow(&path).unwrap();
    let seen = opened.version.unwrap();

    // Another editor changes the file, keeping its length.
    let theirs = std::fs::read_to_string(&path)
        .unwrap()
        .replace("Chat", "Talk");
    std::fs::write(&path, &theirs).unwrap();
    document.title = "Mine".into();
    let unchanged = Replace::IfUnchanged {
        version: seen.clone(),
    };
    let err = core.save_flow(&path, &document, &unchanged).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ChangedOnDisk);
    assert!(
        err.to_string()
            .contains("changed on disk since it was opened"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);

    let mine = core.save_flow(&path, &document, &Replace::Any).unwrap();
    assert_ne!(mine, seen);
    let reopened = core.open_flow(&path).unwrap();
    assert_eq!(reopened.document.title, "Mine");
    assert_eq!(reopened.version.as_ref(), Some(&mine));

    // The version a save returns is the one the next save checks against.
    document.title = "Mine again".into();
    let again = core
        .save_flow(&path, &document, &Replace::IfUnchanged { version: mine })
        .unwrap();
    assert_eq!(core.open_flow(&path).unwrap().version, Some(again));
}

#[test]
fn a_missing_flow_file_is_not_found_and_an_unreadable_one_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let core = core(&dir);
    let err = core
        .open_flow(&dir.path().join("gone.weft.yaml"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    // A folder where the file should be: reading it fails, and not because it is missing.
    let folder = dir.path().join("folder.weft.yaml");
    std::fs::create_dir(&folder).unwrap();
    let err = core.open_flow(&folder).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    let message = err.to_string();
    assert!(
        message.starts_with("could not read ") && message.contains("that you may read it"),
        "{message}"
    );
}
