//! The label keys that say who deployed which instance (configurable: sites name them
//! differently).

use clap::Args;

const DEFAULT_USER_LABEL: &str = "username";
const DEFAULT_INSTANCE_LABEL: &str = "instance_uuid";

#[derive(Args, Debug, Clone)]
pub struct LabelKeys {
    /// The label holding the user who deployed
    #[arg(
        long,
        global = true,
        env = "ARGODEPLOY_USER_LABEL",
        default_value = DEFAULT_USER_LABEL,
        value_parser = shared::validate::label_key
    )]
    pub user_label: String,
    /// The label holding the instance's UUID
    #[arg(
        long,
        global = true,
        env = "ARGODEPLOY_INSTANCE_LABEL",
        default_value = DEFAULT_INSTANCE_LABEL,
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

    /// These keys as command-line flags (each with a leading space) when they differ from
    /// the defaults, so a printed command reads the same workflows when pasted.
    pub fn given_flags(&self) -> String {
        use shared::shell::word;
        let mut out = String::new();
        if self.user_label != DEFAULT_USER_LABEL {
            out.push_str(&format!(" --user-label {}", word(&self.user_label)));
        }
        if self.instance_label != DEFAULT_INSTANCE_LABEL {
            out.push_str(&format!(" --instance-label {}", word(&self.instance_label)));
        }
        if let Some(id) = &self.instanceid {
            out.push_str(&format!(" --instanceid {}", word(id)));
        }
        out
    }
}
