//! The loaded policies, by name. Replaced as a whole (ArcSwap in the engine),
//! so a cycle in flight keeps the set it started with.

use revops_runtime::LoadedPolicy;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Default, Clone)]
pub struct PolicySet {
    policies: BTreeMap<String, Arc<LoadedPolicy>>,
}

impl PolicySet {
    pub fn insert(&mut self, policy: Arc<LoadedPolicy>) -> Option<Arc<LoadedPolicy>> {
        self.policies.insert(policy.name().to_string(), policy)
    }

    pub fn remove(&mut self, name: &str) -> Option<Arc<LoadedPolicy>> {
        self.policies.remove(name)
    }

    pub fn get(&self, name: &str) -> Option<&Arc<LoadedPolicy>> {
        self.policies.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<LoadedPolicy>> {
        self.policies.values()
    }
}
