//! `kubectl argodeploy get WF`: the header and node tree as `argo get` prints them (compressed
//! node status read transparently), or the workflow as JSON/YAML.

use clap::{Args, ValueEnum};

use shared::output;
use shared::{Error, GlobalArgs};

use crate::tree;
use crate::workflow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GetFormat {
    Tree,
    Wide,
    Json,
    Yaml,
}

#[derive(Args, Debug, Clone)]
pub struct GetArgs {
    /// The workflow
    pub workflow: String,
    /// Output: tree (default), wide, json or yaml
    #[arg(short = 'o', long, value_enum, default_value_t = GetFormat::Tree)]
    pub output: GetFormat,
    /// ASCII instead of the tree glyphs and icons
    #[arg(long)]
    pub no_utf8: bool,
}

pub async fn run(global: &GlobalArgs, args: &GetArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let (_, wf) = workflow::get(&target, &args.workflow).await?;
    let value = serde_json::to_value(&wf).map_err(|e| Error::Failed(e.to_string()))?;
    let text = match args.output {
        GetFormat::Json => output::to_json(&value)?,
        GetFormat::Yaml => output::to_yaml(&value)?,
        format => {
            let opts = tree::Options {
                wide: format == GetFormat::Wide,
                utf8: !args.no_utf8,
                now: jiff::Timestamp::now(),
            };
            tree::render(&value, &opts).map_err(Error::Failed)?
        }
    };
    output::print_stdout(&text);
    Ok(())
}
