//! A workflow's node status as argo stores it: plain in `status.nodes`, compressed in
//! `status.compressedNodes` (`workflow/packer/packer.go` + `util/file/fileutil.go`:
//! `DecompressWorkflow`, base64 then gzip then JSON), or offloaded to the archive database.

use std::io::Read;

use base64::Engine;
use serde_json::{Map, Value};

/// `status.nodes`; when it is empty and `status.compressedNodes` is set, that decoded as argo's
/// `packer.DecompressWorkflow` does (base64, gunzip, JSON). A node status offloaded to the
/// workflow archive database is not in the Kubernetes API: that is an error.
pub fn decode(wf: &Value) -> Result<Map<String, Value>, String> {
    let name = wf["metadata"]["name"].as_str().unwrap_or("");
    let status = &wf["status"];
    match &status["nodes"] {
        Value::Object(m) if !m.is_empty() => return Ok(m.clone()),
        Value::Object(_) | Value::Null => {}
        other => return Err(format!("status.nodes of {name} is not an object: {other}")),
    }
    if let Some(compressed) = status["compressedNodes"].as_str().filter(|s| !s.is_empty()) {
        return decompress(compressed)
            .map_err(|e| format!("status.compressedNodes of {name}: {e}"));
    }
    if let Some(version) = status["offloadNodeStatusVersion"]
        .as_str()
        .filter(|s| !s.is_empty())
    {
        return Err(format!(
            "node status of {name} is offloaded to the workflow archive database \
             (offloadNodeStatusVersion {version}): kubectl argodeploy reads the Kubernetes API only; \
             use `argo get` with the argo server"
        ));
    }
    Ok(Map::new())
}

fn decompress(text: &str) -> Result<Map<String, Value>, String> {
    // Go's base64.StdEncoding skips '\r' and '\n'.
    let clean: String = text.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    let gz = base64::engine::general_purpose::STANDARD
        .decode(clean.as_bytes())
        .map_err(|e| format!("not base64: {e}"))?;
    let mut json = String::new();
    flate2::read::MultiGzDecoder::new(gz.as_slice())
        .read_to_string(&mut json)
        .map_err(|e| format!("not gzip: {e}"))?;
    match serde_json::from_str::<Value>(&json).map_err(|e| format!("not JSON: {e}"))? {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        other => Err(format!("not a map of nodes: {other}")),
    }
}

/// gzip then base64, as argo's `file.CompressEncodeString` (`packer.CompressWorkflow`): how a
/// changed node status is written back where the workflow keeps it compressed.
pub fn encode(nodes: &Map<String, Value>) -> Result<String, String> {
    use std::io::Write;
    let json = serde_json::to_vec(nodes).map_err(|e| e.to_string())?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json).map_err(|e| e.to_string())?;
    let bytes = gz.finish().map_err(|e| e.to_string())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}
