// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    #[cfg(target_os = "linux")]
    prefer_shared_memory_rendering();
    weft_desktop::run()
}

/// WebKitGTK's DMA-BUF renderer stops repainting after the first frame where the display cannot
/// share GPU buffers (Xvfb, many VMs, some NVIDIA drivers): the UI looks frozen while it runs.
/// Shared-memory buffers keep compositing and cost nothing visible for a flowchart editor.
/// An explicit WEBKIT_DISABLE_DMABUF_RENDERER (e.g. `=0`) is respected.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn prefer_shared_memory_rendering() {
    const VAR: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";
    if std::env::var_os(VAR).is_none() {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe { std::env::set_var(VAR, "1") };
    }
}
