//! A drain of several nodes (a pool, `-l`), planned as a whole (pure): the waves of nodes
//! drained at the same time (`--max-unavailable`), whether the pool is cordoned ahead so that
//! no evicted pod lands on a node still to be drained, and each node's plan in its wave.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::journal::{NodeJournal, Options};
use crate::plan::{self, NodePlan, Verdict};
use crate::world::{Index, World};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolPlan {
    /// The nodes in the order they are drained, in waves drained at the same time.
    pub waves: Vec<Vec<String>>,
    /// The pool's nodes not started yet are cordoned (and journaled) before the first eviction:
    /// every pod it moves lands outside the pool, and moves once.
    pub cordon_ahead: bool,
    pub warnings: Vec<String>,
    /// Each node's plan, in the order of `nodes`.
    #[serde(skip)]
    pub plans: Vec<NodePlan>,
}

impl PoolPlan {
    /// The wave `node` is drained in (just itself when it is in none).
    pub fn wave_of(&self, node: &str) -> Vec<String> {
        self.waves
            .iter()
            .find(|w| w.iter().any(|n| n == node))
            .cloned()
            .unwrap_or_else(|| vec![node.to_string()])
    }
}

/// `(namespace, kind, name)` of a workload.
type Key = (String, String, String);

/// What a workload's budget and replicas allow across the nodes of one wave.
struct Facts {
    ready_total: i32,
    allowed: Option<i32>,
}

/// The Ready pods each workload moves off `node` (a workload whose pods there are all
/// unhealthy is there with 0).
fn shares(
    index: &Index<'_>,
    node: &str,
    options: &Options,
    facts: &mut BTreeMap<Key, Facts>,
) -> BTreeMap<Key, i32> {
    let mut here: BTreeMap<Key, i32> = BTreeMap::new();
    for pod in index.pods_on(node) {
        let (verdict, _, _) = plan::pod_verdict(pod, options);
        if !matches!(verdict, Verdict::Evict | Verdict::Delete) {
            continue;
        }
        let Some((kind, name)) = index.workload_of(pod) else {
            continue;
        };
        let key = (pod.namespace.clone(), kind.to_string(), name.to_string());
        *here.entry(key.clone()).or_default() += i32::from(pod.ready);
        facts.entry(key).or_insert_with(|| Facts {
            ready_total: index.pods_alongside(pod).iter().filter(|p| p.ready).count() as i32,
            allowed: plan::budget_allows(index.world(), pod),
        });
    }
    here
}

/// Whether a node joins a wave: every workload it shares with the wave's nodes keeps a Ready
/// replica outside the wave and stays within its budget's disruptions with them together, so
/// nothing needs a pre-scale made for two nodes at once and no eviction waits on another
/// node's.
fn joins(
    wave: &[&BTreeMap<Key, i32>],
    node: &BTreeMap<Key, i32>,
    facts: &BTreeMap<Key, Facts>,
) -> bool {
    node.iter().all(|(key, here)| {
        let others: Vec<i32> = wave.iter().filter_map(|w| w.get(key).copied()).collect();
        if others.is_empty() {
            return true;
        }
        let together = here + others.iter().sum::<i32>();
        let Some(f) = facts.get(key) else {
            return false;
        };
        let one_stays = together == 0 || together < f.ready_total;
        one_stays && f.allowed.is_none_or(|a| together <= a)
    })
}

/// Groups `nodes` into waves of at most `max` nodes (first fit, in the given order): see
/// [`joins`]. With `max` 1, each node is its own wave, in order.
pub fn waves(world: &World, nodes: &[String], options: &Options, max: usize) -> Vec<Vec<String>> {
    let index = Index::new(world);
    let mut facts = BTreeMap::new();
    let per_node: Vec<BTreeMap<Key, i32>> = nodes
        .iter()
        .map(|n| shares(&index, n, options, &mut facts))
        .collect();
    let mut waves: Vec<Vec<usize>> = Vec::new();
    for (i, share) in per_node.iter().enumerate() {
        let slot = waves.iter_mut().find(|w| {
            w.len() < max.max(1) && {
                let members: Vec<&BTreeMap<Key, i32>> = w.iter().map(|j| &per_node[*j]).collect();
                joins(&members, share, &facts)
            }
        });
        match slot {
            Some(w) => w.push(i),
            None => waves.push(vec![i]),
        }
    }
    waves
        .into_iter()
        .map(|w| w.into_iter().map(|i| nodes[i].clone()).collect())
        .collect()
}

/// Plans a drain of `nodes`: the ones with a drain recorded (`recorded`, re-planned by
/// `replan`) go first, each on its own; the others in waves of at most `max`. When every pod
/// they move fits outside the pool at once, the pool is cordoned ahead; otherwise pods may
/// land on nodes still to be drained, and the plan says they will move twice.
pub fn plan_pool(
    world: &World,
    nodes: &[String],
    recorded: &BTreeMap<String, NodeJournal>,
    options: &Options,
    max: usize,
    replan: &dyn Fn(&str, &NodeJournal) -> shared::Result<NodePlan>,
) -> shared::Result<PoolPlan> {
    // A node recorded as queued (cordoned ahead by a run that stopped) is planned afresh.
    let continuing = |n: &String| recorded.get(n).filter(|j| !j.queued());
    let fresh: Vec<String> = nodes
        .iter()
        .filter(|n| continuing(n).is_none())
        .cloned()
        .collect();
    let mut waves: Vec<Vec<String>> = nodes
        .iter()
        .filter(|n| continuing(n).is_some())
        .map(|n| vec![n.clone()])
        .collect();
    let fresh_waves = waves_of(world, &fresh, options, max);
    let wave_of = |n: &str| {
        fresh_waves
            .iter()
            .find(|w| w.iter().any(|m| m == n))
            .cloned()
            .unwrap_or_else(|| vec![n.to_string()])
    };
    let plan_all = |pool_of: &dyn Fn(&str) -> Vec<String>| -> shared::Result<Vec<NodePlan>> {
        nodes
            .iter()
            .map(|n| match continuing(n) {
                Some(journal) => replan(n, journal),
                None => Ok(plan::plan_in_pool(
                    world,
                    n,
                    &wave_of(n),
                    &pool_of(n),
                    options,
                )),
            })
            .collect()
    };
    let mut warnings = Vec::new();
    let mut cordon_ahead = false;
    let mut plans = plan_all(&|_| nodes.to_vec())?;
    let moving = plans
        .iter()
        .filter(|p| fresh.contains(&p.node) && !moves_nothing(p))
        .count();
    if moving > 1 {
        let fresh_plans: Vec<NodePlan> = plans
            .iter()
            .filter(|p| fresh.contains(&p.node))
            .cloned()
            .collect();
        let room = plan::pool_capacity(world, &fresh_plans, nodes);
        if room.fits {
            cordon_ahead = true;
        } else if max > 1 {
            // Nodes drained at once would send their pods to the same few nodes: the plan
            // could not promise they fit.
            let mut one_by_one = plan_pool(world, nodes, recorded, options, 1, replan)?;
            one_by_one.warnings.insert(
                0,
                format!(
                    "--max-unavailable {max}: one node at a time instead, as the nodes outside the pool have no room for all of its pods at once"
                ),
            );
            return Ok(one_by_one);
        } else {
            // Not all at once outside the pool: each wave's pods may use the pool's later
            // nodes, and move again at their turn.
            plans = plan_all(&wave_of)?;
            warnings.push(format!(
                "the nodes outside the pool have no room for all of its pods at once ({}): pods evicted from the first nodes may land on nodes still to be drained and move twice",
                room.detail
            ));
        }
    }
    waves.extend(fresh_waves);
    Ok(PoolPlan {
        waves,
        cordon_ahead,
        warnings,
        plans,
    })
}

/// Nothing to evict and nothing to pre-scale.
pub fn moves_nothing(plan: &NodePlan) -> bool {
    plan.prescale.is_empty() && plan.pods.iter().all(|p| matches!(p.verdict, Verdict::Skip))
}

fn waves_of(world: &World, nodes: &[String], options: &Options, max: usize) -> Vec<Vec<String>> {
    if nodes.is_empty() {
        Vec::new()
    } else {
        waves(world, nodes, options, max)
    }
}

/// The pool's part of the plan as text (nothing for a single node).
pub fn render(pool: &PoolPlan) -> String {
    let count: usize = pool.waves.iter().map(Vec::len).sum();
    if count < 2 {
        return String::new();
    }
    let mut out = format!("Pool of {}:", shared::plural::count(count, "node"));
    if pool.cordon_ahead {
        out.push_str(
            " cordoned together first, so that every pod moves once, to a node outside the pool;",
        );
    }
    let widest = pool.waves.iter().map(Vec::len).max().unwrap_or(1);
    out.push_str(&format!(
        " drained in {} of at most {}, each wave once the workloads the previous one moved are Ready again\n",
        shared::plural::count(pool.waves.len(), "wave"),
        shared::plural::count(widest, "node")
    ));
    for (i, wave) in pool.waves.iter().enumerate() {
        out.push_str(&format!("  wave {}: {}\n", i + 1, wave.join(", ")));
    }
    for w in &pool.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::PodSummary;
    use k8s_openapi::api::core::v1::Node;
    use k8s_openapi::api::policy::v1::PodDisruptionBudget;
    use serde_json::{Value, json};

    fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    fn node(name: &str) -> Node {
        from(
            json!({"metadata": {"name": name, "labels": {"agentpool": "common"}},
            "status": {"allocatable": {"cpu": "8", "memory": "32Gi"},
                       "conditions": [{"type": "Ready", "status": "True"}]}}),
        )
    }

    fn pod(name: &str, owner: &str, node: &str) -> PodSummary {
        from(json!({
            "metadata": {"name": name, "namespace": "apps", "uid": format!("uid-{name}"),
                         "labels": {"app": owner},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet",
                                              "name": owner, "controller": true}]},
            "spec": {"nodeName": node, "containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        }))
    }

    fn budget(app: &str, allowed: i32) -> PodDisruptionBudget {
        from(json!({"metadata": {"name": app, "namespace": "apps"},
            "spec": {"selector": {"matchLabels": {"app": app}}, "maxUnavailable": allowed},
            "status": {"disruptionsAllowed": allowed, "desiredHealthy": 2, "currentHealthy": 3,
                       "expectedPods": 3, "observedGeneration": 1}}))
    }

    /// Nodes a..d in the pool, e outside; `api` has a Ready pod on a, b and c.
    fn world(api_budget: Option<i32>) -> World {
        World {
            nodes: ["a", "b", "c", "d", "e"].iter().map(|n| node(n)).collect(),
            pods: vec![
                pod("api-0", "api", "a"),
                pod("api-1", "api", "b"),
                pod("api-2", "api", "c"),
                pod("db-0", "db", "d"),
            ],
            pdbs: api_budget.map(|a| budget("api", a)).into_iter().collect(),
            ..Default::default()
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn waves_keep_a_ready_replica_outside_and_stay_within_budgets() {
        let pool = names(&["a", "b", "c", "d"]);
        let o = Options::default();
        // One at a time: each node its own wave, in order.
        assert_eq!(
            waves(&world(None), &pool, &o, 1),
            vec![names(&["a"]), names(&["b"]), names(&["c"]), names(&["d"])]
        );
        // No budget: a and b together leave api a Ready replica on c; c cannot join them.
        assert_eq!(
            waves(&world(None), &pool, &o, 4),
            vec![names(&["a", "b", "d"]), names(&["c"])]
        );
        // A budget of one disruption: no two of api's nodes in one wave.
        assert_eq!(
            waves(&world(Some(1)), &pool, &o, 4),
            vec![names(&["a", "d"]), names(&["b"]), names(&["c"])]
        );
        assert_eq!(
            waves(&world(Some(2)), &pool, &o, 2),
            vec![names(&["a", "b"]), names(&["c", "d"])]
        );
    }

    #[test]
    fn without_room_outside_the_pool_it_goes_one_node_at_a_time_and_says_so() {
        let pool = names(&["a", "b", "c", "d"]);
        let mut w = world(None);
        // Room outside the pool for one of its pods at a time, not four.
        w.nodes[4] = from(json!({"metadata": {"name": "e"},
            "status": {"allocatable": {"cpu": "150m", "memory": "1Gi"},
                       "conditions": [{"type": "Ready", "status": "True"}]}}));
        let o = Options::default();
        let planned =
            plan_pool(&w, &pool, &BTreeMap::new(), &o, 3, &|_, _| unreachable!()).unwrap();
        assert!(!planned.cordon_ahead);
        assert!(planned.waves.iter().all(|w| w.len() == 1), "{planned:?}");
        assert!(
            planned.warnings[0].starts_with("--max-unavailable 3: one node at a time"),
            "{planned:?}"
        );
        assert!(planned.warnings[1].contains("move twice"), "{planned:?}");
    }

    #[test]
    fn a_pool_plan_judges_each_reason_against_its_wave_not_the_whole_pool() {
        let pool = names(&["a", "b", "c"]);
        let mut w = world(None);
        w.pods.retain(|p| p.name != "db-0");
        let o = Options {
            force: true,
            prescale: true,
            ..Default::default()
        };
        let planned =
            plan_pool(&w, &pool, &BTreeMap::new(), &o, 1, &|_, _| unreachable!()).unwrap();
        assert!(planned.cordon_ahead, "{planned:?}");
        for p in &planned.plans {
            // api has Ready replicas on the pool's other nodes while this one drains: no
            // claim that they are all here, no warning that it cannot surge.
            assert!(p.warnings.is_empty(), "{}: {:?}", p.node, p.warnings);
            assert!(p.blockers.is_empty(), "{}: {:?}", p.node, p.blockers);
        }
        let text = render(&planned);
        assert!(text.contains("cordoned together first"), "{text}");
        assert!(text.contains("wave 3: c"), "{text}");
    }
}
