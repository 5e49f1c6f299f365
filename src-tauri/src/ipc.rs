//! The IPC is declared once: [`commands!`] takes the command table (name, arguments, result and
//! body of each command) and expands it into the `#[tauri::command]` functions, the `handler()`
//! that registers every one of them with Tauri, and (in tests) the table the TypeScript command map
//! `ui/src/ipc/generated/commands.ts` is written from, with each type named by ts-rs. A command
//! added, renamed or retyped here changes the UI's `call()` types, and the browser mock's
//! exhaustive handler map fails to type-check until it follows.
//!
//! Why a `macro_rules!` table and not a library: tauri-specta
//! (<https://docs.rs/tauri-specta>) generates the same typed client, but from `specta::Type`, so
//! every IPC type in weft-core, weft-store, weft-flow and weft-engine would need a second derive
//! beside ts-rs's and the two generated type sets would have to agree; tauri-typegen
//! (<https://docs.rs/tauri-typegen>) scans `#[tauri::command]` signatures in the source text and
//! writes its own interfaces for the types it finds, duplicating (and possibly contradicting) the
//! ts-rs files the UI already imports. The table reuses ts-rs's `TS::name` and dependency lists,
//! so the command map imports the very files the rest of the UI uses.

/// Declares the desktop shell's commands. Each entry reads like a function:
///
/// ```text
/// /// What it does (copied into the TypeScript map).
/// fn name(state, arg: Type, …; events: Channel<Event>) -> Result {
///     body returning Result<Result, IpcError>
/// }
/// ```
///
/// `state` is the caller's name for the `State<CoreState>` every command receives (a macro
/// cannot introduce a name the body sees). A command streaming events names its Tauri channel
/// after a `;`. Every command is async, so none runs on (and blocks) the window's main thread.
macro_rules! commands {
    ($(
        $(#[doc = $doc:literal])*
        fn $name:ident(
            $state:ident $(, $arg:ident: $ty:ty)* $(; $channel:ident: Channel<$event:ty>)?
        ) -> $result:ty $body:block
    )*) => {
        $(
            $(#[doc = $doc])*
            #[tauri::command]
            // The arguments are the fields of the command's IPC message, each named by the UI;
            // grouping them would only add a wrapper type on both sides.
            #[allow(clippy::too_many_arguments)]
            async fn $name(
                $state: tauri::State<'_, $crate::state::CoreState>,
                $($arg: $ty,)*
                $($channel: tauri::ipc::Channel<$event>,)?
            ) -> Result<$result, weft_core::IpcError> $body
        )*

        /// Every command of the table, for `tauri::Builder::invoke_handler`.
        pub fn handler<R: tauri::Runtime>()
        -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        /// The table as the TypeScript generator reads it.
        #[cfg(test)]
        pub(crate) fn table(cfg: &ts_rs::Config) -> Vec<$crate::ipc::bindings::Command> {
            use $crate::ipc::bindings::{Arg, Command, TypeRef};
            vec![$(
                Command {
                    name: stringify!($name),
                    docs: vec![$($doc),*],
                    args: vec![
                        $(Arg { name: stringify!($arg), ty: TypeRef::of::<$ty>(cfg) },)*
                        $(Arg { name: stringify!($channel), ty: TypeRef::channel::<$event>(cfg) },)?
                    ],
                    result: TypeRef::of::<$result>(cfg),
                },
            )*]
        }
    };
}

pub(crate) use commands;

/// Writes the command table as `commands.ts`, next to the ts-rs files it imports.
#[cfg(test)]
pub(crate) mod bindings {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;
    use std::path::PathBuf;

    use ts_rs::{Config, Dependency, TS, TypeVisitor};

    pub struct Command {
        pub name: &'static str,
        pub docs: Vec<&'static str>,
        pub args: Vec<Arg>,
        pub result: TypeRef,
    }

    pub struct Arg {
        pub name: &'static str,
        pub ty: TypeRef,
    }

    /// A type as TypeScript writes it, and the generated files it needs imported.
    pub struct TypeRef {
        pub ts: String,
        /// TypeScript name → file, relative to the export directory.
        pub imports: BTreeMap<String, PathBuf>,
        pub channel: bool,
    }

    impl TypeRef {
        pub fn of<T: TS + 'static>(cfg: &Config) -> Self {
            let mut imports = BTreeMap::new();
            let mut visit = Imports(cfg, &mut imports);
            // The type itself when it has a file, and what it is generic over (`Vec<T>`, `Option<T>`,
            // maps): the names `TS::name` writes. The type's own fields are its file's business.
            visit.visit::<T>();
            T::visit_generics(&mut visit);
            Self {
                ts: T::name(cfg),
                imports,
                channel: false,
            }
        }

        /// `tauri::ipc::Channel<T>`: the UI passes a `Channel` from `@tauri-apps/api/core`.
        pub fn channel<T: TS + 'static>(cfg: &Config) -> Self {
            let event = Self::of::<T>(cfg);
            Self {
                ts: format!("Channel<{}>", event.ts),
                imports: event.imports,
                channel: true,
            }
        }
    }

    struct Imports<'a>(&'a Config, &'a mut BTreeMap<String, PathBuf>);

    impl TypeVisitor for Imports<'_> {
        fn visit<T: TS + 'static + ?Sized>(&mut self) {
            if let Some(dep) = Dependency::from_ty::<T>(self.0) {
                self.1.insert(dep.ts_name, dep.output_path);
            }
        }
    }

    /// Tauri's default for command arguments: `run_id` is sent as `runId`.
    fn camel(name: &str) -> String {
        let mut out = String::with_capacity(name.len());
        let mut upper = false;
        for c in name.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    }

    pub fn render(commands: &[Command]) -> String {
        let mut imports = BTreeMap::new();
        let mut channel = false;
        for command in commands {
            for ty in command.args.iter().map(|a| &a.ty).chain([&command.result]) {
                imports.extend(ty.imports.iter().map(|(k, v)| (k.clone(), v.clone())));
                channel |= ty.channel;
            }
        }
        let mut out = String::from(
            "// Generated from the command table in src-tauri/src/commands.rs by \
             `cargo test -p weft-desktop`; do not edit.\n",
        );
        if channel {
            out.push_str("import type { Channel } from \"@tauri-apps/api/core\";\n\n");
        }
        for (name, path) in &imports {
            let module = path.with_extension("");
            let _ = writeln!(
                out,
                "import type {{ {name} }} from \"./{}\";",
                module.to_string_lossy().replace('\\', "/")
            );
        }
        out.push_str(
            "\n/** Every command the desktop shell registers: the arguments `invoke` sends (camelCase, as \
             Tauri names them)\n * and what the command resolves to (it rejects with an `IpcError`). */\n\
             export type Commands = {\n",
        );
        for command in commands {
            let docs: Vec<&str> = command.docs.iter().map(|d| d.trim()).collect();
            if !docs.is_empty() {
                let _ = writeln!(out, "  /** {} */", docs.join("\n   * "));
            }
            let args: Vec<String> = command
                .args
                .iter()
                .map(|a| format!("{}: {}", camel(a.name), a.ty.ts))
                .collect();
            let args = if args.is_empty() {
                "Record<never, never>".to_owned()
            } else {
                format!("{{ {} }}", args.join("; "))
            };
            let _ = writeln!(
                out,
                "  {}: {{ args: {args}; result: {} }};",
                command.name, command.result.ts
            );
        }
        out.push_str("};\n\nexport type CommandName = keyof Commands;\n\n");
        out.push_str("/** The same names at run time, in the table's order. */\n");
        out.push_str("export const commandNames: readonly CommandName[] = [\n");
        for command in commands {
            let _ = writeln!(out, "  \"{}\",", command.name);
        }
        out.push_str("];\n");
        out
    }

    #[cfg(test)]
    mod tests {
        use std::path::{Path, PathBuf};

        use super::*;

        fn export_dir() -> PathBuf {
            std::env::var_os("TS_RS_EXPORT_DIR").map_or_else(
                || Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/ipc/generated"),
                PathBuf::from,
            )
        }

        #[test]
        fn the_command_map_is_current() {
            let cfg = Config::from_env();
            let path = export_dir().join("commands.ts");
            let fresh = render(&crate::commands::table(&cfg));
            if std::fs::read_to_string(&path).unwrap_or_default() != fresh {
                std::fs::write(&path, &fresh).unwrap();
                panic!(
                    "{} was out of date with the command table; it has been regenerated, commit it",
                    path.display()
                );
            }
        }

        /// An import of a type no crate exports would only fail in `tsc`, far from its cause.
        #[test]
        fn every_type_the_map_imports_has_its_generated_file() {
            let cfg = Config::from_env();
            let dir = export_dir();
            let missing: Vec<String> = crate::commands::table(&cfg)
                .iter()
                .flat_map(|c| c.args.iter().map(|a| &a.ty).chain([&c.result]))
                .flat_map(|ty| ty.imports.values())
                .filter(|file| !dir.join(file).is_file())
                .map(|file| file.display().to_string())
                .collect();
            assert!(
                missing.is_empty(),
                "no generated file for {missing:?}: add #[ts(export)]"
            );
        }

        #[test]
        fn arguments_are_named_as_tauri_sends_them() {
            assert_eq!(camel("run_id"), "runId");
            assert_eq!(camel("document"), "document");
            assert_eq!(camel("a_b_c"), "aBC");
        }

        #[test]
        fn a_channel_argument_is_typed_with_its_event_and_imports_it() {
            let cfg = Config::from_env();
            let table = crate::commands::table(&cfg);
            let run = table.iter().find(|c| c.name == "run_flow").unwrap();
            let events = run.args.iter().find(|a| a.name == "events").unwrap();
            assert_eq!(events.ty.ts, "Channel<RunEvent>");
            assert!(events.ty.imports.contains_key("RunEvent"));
            let text = render(&table);
            assert!(text.contains("import type { Channel } from \"@tauri-apps/api/core\";"));
            assert!(text.contains("events: Channel<RunEvent>"));
        }

        #[test]
        fn generic_results_import_what_they_wrap() {
            let cfg = Config::from_env();
            let vec = TypeRef::of::<Vec<weft_core::ConnectionView>>(&cfg);
            assert_eq!(vec.ts, "Array<ConnectionView>");
            assert!(vec.imports.contains_key("ConnectionView"));
            let unit = TypeRef::of::<()>(&cfg);
            assert_eq!(unit.ts, "null");
            assert!(unit.imports.is_empty());
        }
    }
}
