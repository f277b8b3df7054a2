//! Compressed node status (`workflow/packer/packer.go`, `util/file/fileutil.go`).

use std::io::{Read, Write};

use base64::Engine;
use serde_json::{Map, Value};

/// `packer.DecompressWorkflow`: base64, gunzip, JSON.
pub(crate) fn decompress_nodes(text: &str) -> Option<Map<String, Value>> {
    let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let gz = base64::engine::general_purpose::STANDARD
        .decode(cleaned)
        .ok()?;
    let mut raw = String::new();
    flate2::read::MultiGzDecoder::new(gz.as_slice())
        .read_to_string(&mut raw)
        .ok()?;
    serde_json::from_str(&raw).ok()
}

/// `packer.CompressWorkflow`: JSON, gzip, base64.
pub(crate) fn compress_nodes(nodes: &Map<String, Value>) -> String {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let raw = serde_json::to_vec(nodes).unwrap_or_default();
    let gz = enc
        .write_all(&raw)
        .and_then(|()| enc.finish())
        .unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(gz)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compressed_nodes_round_trip() {
        let mut nodes = Map::new();
        nodes.insert("wf".into(), json!({"id": "wf", "phase": "Running"}));
        assert_eq!(decompress_nodes(&compress_nodes(&nodes)), Some(nodes));
    }
}
