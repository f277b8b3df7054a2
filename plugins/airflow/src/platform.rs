//! `kubectl airflow platform`: the Astronomer platform's components (houston, commander,
//! registry, prometheus, grafana, nginx, …: everything labelled `tier=astronomer`), shown as
//! `status` shows an Airflow deployment, with the problems and the kubectl command for each.

use clap::Args;
use k8s_openapi::jiff::Timestamp;
use shared::output::{self, ListFormat};
use shared::{Error, GlobalArgs};

use crate::discovery::{self, PLATFORM_SELECTOR};
use crate::status::{self, Fixes};

#[derive(Args, Debug, Clone)]
pub struct PlatformArgs {
    /// Output format: wide adds each pod's workload and node; name prints the workloads as
    /// kind/name
    #[arg(short = 'o', long, value_enum, default_value_t = ListFormat::Table)]
    pub output: ListFormat,
}

/// The platform's workloads as `kind/name`, as `kubectl get -o name` prints them (pure).
fn names(platforms: &[discovery::AirflowDeployment]) -> String {
    let mut names: Vec<String> = platforms
        .iter()
        .flat_map(|p| p.components.values())
        .map(|c| format!("{}/{}\n", c.kind.to_lowercase(), c.workload))
        .collect();
    names.sort();
    names.dedup();
    names.concat()
}

pub async fn run(global: &GlobalArgs, args: &PlatformArgs) -> shared::Result<()> {
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
        .map(|p| {
            (
                p,
                status::problems(p, Fixes::Platform, &target.given_flags, &Default::default()),
            )
        })
        .collect();
    let json = || {
        serde_json::json!({ "items": reports
            .iter()
            .map(|(p, problems)| serde_json::json!({ "platform": p, "problems": problems }))
            .collect::<Vec<_>>() })
    };
    let text = match args.output {
        ListFormat::Json => output::to_json(&json())?,
        ListFormat::Yaml => output::to_yaml(&json())?,
        ListFormat::Name => names(&platforms),
        format @ (ListFormat::Table | ListFormat::Wide) => {
            let now = Timestamp::now();
            let wide = format == ListFormat::Wide;
            reports
                .iter()
                .map(|(p, problems)| {
                    status::render_titled("Astronomer platform", p, problems, wide, now)
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    output::print_stdout(&text);
    Ok(())
}
