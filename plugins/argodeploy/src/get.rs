//! `kubectl argodeploy get WF`: the header and node tree as `argo get` prints them (compressed
//! node status read transparently), or the workflow as JSON/YAML, or its name.

use clap::Args;
use kube::ResourceExt;

use shared::output::{self, ListFormat};
use shared::{Error, GlobalArgs};

use crate::labels::LabelKeys;
use crate::tree;
use crate::workflow;

#[derive(Args, Debug, Clone)]
pub struct GetArgs {
    /// The workflow
    #[arg(value_parser = crate::workflow::name_arg)]
    pub workflow: String,
    /// Output format: table is argo get's tree without its TEMPLATE column (wide is argo get's
    /// wide: TEMPLATE, ARTIFACTS, RESOURCESDURATION and NODENAME too), json and yaml the whole
    /// workflow
    #[arg(short = 'o', long, value_enum, default_value_t = ListFormat::Table)]
    pub output: ListFormat,
    /// ASCII instead of the tree glyphs and icons
    #[arg(long)]
    pub no_utf8: bool,
    /// Redraw the tree as the workflow changes until it completes (as `watch`)
    #[arg(short = 'w', long)]
    pub watch: bool,
}

pub async fn run(global: &GlobalArgs, keys: &LabelKeys, args: &GetArgs) -> shared::Result<()> {
    if args.watch {
        let watch = crate::watch::WatchArgs {
            workflow: args.workflow.clone(),
            output: args.output,
            no_utf8: args.no_utf8,
        };
        return crate::watch::run(global, keys, &watch).await;
    }
    let target = shared::kubeconfig::connect(global).await?;
    let (_, wf) = workflow::get(&target, keys, &args.workflow).await?;
    let value = serde_json::to_value(&wf).map_err(|e| Error::Failed(e.to_string()))?;
    let text = match args.output {
        ListFormat::Json => output::to_json(&value)?,
        ListFormat::Yaml => output::to_yaml(&value)?,
        ListFormat::Name => format!("workflow.argoproj.io/{}\n", wf.name_any()),
        format => {
            let opts = tree::Options {
                wide: format == ListFormat::Wide,
                template: false,
                utf8: !args.no_utf8,
                now: jiff::Timestamp::now(),
            };
            tree::render(&value, &opts).map_err(Error::Failed)?
        }
    };
    output::print_stdout(&text);
    Ok(())
}
