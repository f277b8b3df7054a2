//! `kubectl airflow platform`: the Astronomer platform's components (houston, commander,
//! registry, prometheus, grafana, nginx, …: everything labelled `tier=astronomer`), shown as
//! `status` shows an Airflow deployment, with the problems and the kubectl command for each.

use clap::Args;
use k8s_openapi::jiff::Timestamp;
use shared::output::{self, OutputFormat};
use shared::{Error, GlobalArgs};

use crate::discovery::{self, PLATFORM_SELECTOR};
use crate::status::{self, Fixes};

#[derive(Args, Debug, Clone)]
pub struct PlatformArgs {
    /// Output format: table, json or yaml
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

pub async fn run(global: &GlobalArgs, args: &PlatformArgs) -> shared::Result<()> {
    args.output.table_json_or_yaml("platform")?;
    let target = shared::kubeconfig::connect(global).await?;
    let inventory = discovery::read_platform(&target.client)
        .await
        .map_err(|e| target.api_error(e))?;
    let platforms = discovery::group(&inventory);
    if platforms.is_empty() {
        return Err(Error::Failed(format!(
            "no Astronomer platform in context {}: nothing is labelled {PLATFORM_SELECTOR}; check --context",
            target.context
        )));
    }
    let reports: Vec<(&discovery::AirflowDeployment, Vec<status::Problem>)> = platforms
        .iter()
        .map(|p| (p, status::problems(p, Fixes::Platform)))
        .collect();
    let json = || {
        serde_json::json!({ "items": reports
            .iter()
            .map(|(p, problems)| serde_json::json!({ "platform": p, "problems": problems }))
            .collect::<Vec<_>>() })
    };
    let text = match args.output {
        OutputFormat::Json => output::to_json(&json())?,
        OutputFormat::Yaml => output::to_yaml(&json())?,
        _ => {
            let now = Timestamp::now();
            reports
                .iter()
                .map(|(p, problems)| status::render_titled("Astronomer platform", p, problems, now))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    output::print_stdout(&text);
    Ok(())
}
