//! The label keys that say who deployed which instance (configurable: sites name them
//! differently).

use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct LabelKeys {
    /// The label holding the user who deployed
    #[arg(
        long,
        global = true,
        env = "ARGODEPLOY_USER_LABEL",
        default_value = "username",
        value_parser = shared::validate::label_key
    )]
    pub user_label: String,
    /// The label holding the instance's UUID
    #[arg(
        long,
        global = true,
        env = "ARGODEPLOY_INSTANCE_LABEL",
        default_value = "instance_uuid",
        value_parser = shared::validate::label_key
    )]
    pub instance_label: String,
    /// The controller instance ID (as argo's --instanceid): only its workflows are listed
    #[arg(long, global = true, env = "ARGO_INSTANCEID", value_parser = shared::validate::label_value)]
    pub instanceid: Option<String>,
}

impl LabelKeys {
    /// Argo's rule: with an instance ID only its workflows, without one only unlabelled ones.
    pub fn instance_selector(&self) -> String {
        match &self.instanceid {
            Some(id) => format!("{}={id}", crate::workflow::INSTANCE_ID_LABEL),
            None => format!("!{}", crate::workflow::INSTANCE_ID_LABEL),
        }
    }
}
