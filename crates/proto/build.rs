//! Compiles proto/ with protox (pure Rust), so no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "chat/dialog/v1/dialog.proto",
        "chat/contact/v1/contact.proto",
        "chat/events/v1/events.proto",
        "chat/bridge/v1/bridge.proto",
        "chat/notification/v1/notification.proto",
    ];
    let descriptors = protox::compile(files, [&root])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed={}", root.display());
    Ok(())
}
