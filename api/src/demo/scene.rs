//! The scenes by name, loading one, and the summary printed once it is loaded.

use std::fmt::Write as _;

use super::client::DemoClient;
use super::error::DemoError;
use super::{autoscale, canary, genie, incident, quickstart};

/// A scene `clustergenie demo load` can seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scene {
    /// Two clusters, five droplets on three providers; a resize, a power-off, a diagnosis.
    Quickstart,
    /// A payments cluster; a provider fails every call, a provision job retries, the
    /// provider is healed and the job succeeds; a droplet is destroyed.
    Incident,
    /// A checkout cluster's memory climbs past the critical threshold; the health checks
    /// turn it critical, the genie diagnoses it and a recommendation is implemented.
    Genie,
    /// A storefront cluster runs v1; its provider fails every call while a canary of v2
    /// starts, the canary's step fails and the deployment rolls back by itself.
    Canary,
    /// A shop cluster's cpu load ramps up and down; its auto-scaling policy scales it out
    /// to its maximum and back in, each step after the cooldown.
    Autoscale,
}

impl Scene {
    /// Every scene, in the order `demo list` prints them.
    pub const ALL: [Scene; 5] = [
        Scene::Quickstart,
        Scene::Incident,
        Scene::Genie,
        Scene::Canary,
        Scene::Autoscale,
    ];

    /// The name the command line takes.
    pub fn name(self) -> &'static str {
        match self {
            Scene::Quickstart => "quickstart",
            Scene::Incident => "incident",
            Scene::Genie => "genie",
            Scene::Canary => "canary",
            Scene::Autoscale => "autoscale",
        }
    }

    /// One line on what it makes.
    pub fn about(self) -> &'static str {
        match self {
            Scene::Quickstart => {
                "two clusters (fra1 on nimbus, nyc2 on stratus), five droplets on three \
                 providers; then a resize, a power-off and a diagnosis"
            }
            Scene::Incident => {
                "a payments cluster; a provider fails every call while a droplet is \
                 provisioned on it, the job retries, the provider is healed and the job \
                 succeeds; then a droplet is destroyed"
            }
            Scene::Genie => {
                "a checkout cluster sends metrics; its memory spikes, the health checks turn \
                 it critical, the rules engine diagnoses it and its scale-up recommendation \
                 is implemented; then it calms down and turns healthy"
            }
            Scene::Canary => {
                "a storefront cluster runs v1 on four droplets; its provider fails every call \
                 while a canary of v2 starts, the step fails and the deployment rolls back \
                 by itself to v1"
            }
            Scene::Autoscale => {
                "a shop cluster with a metrics policy (1 to 3 droplets); its cpu load ramps \
                 up, the autoscaler scales it out to 3, the load falls and it scales back \
                 in to 1, each step after the cooldown"
            }
        }
    }
}

/// The scenes, one line each.
pub fn list() -> String {
    let mut out = String::new();
    for scene in Scene::ALL {
        let _ = writeln!(out, "{:<11} {}", scene.name(), scene.about());
    }
    out
}

/// Loads `scene` into the server `client` talks to.
pub async fn load(scene: Scene, client: &DemoClient) -> Result<Summary, DemoError> {
    Ok(match scene {
        Scene::Quickstart => quickstart::load(client).await?.summary(),
        Scene::Incident => incident::load(client).await?.summary(),
        Scene::Genie => genie::load(client).await?.summary(),
        Scene::Canary => canary::load(client).await?.summary(),
        Scene::Autoscale => autoscale::load(client).await?.summary(),
    })
}

/// What a scene made, and the console pages that show it.
#[derive(Debug, Clone)]
pub struct Summary {
    pub title: String,
    /// One line per thing made.
    pub made: Vec<String>,
    /// (what it shows, path in the console).
    pub pages: Vec<(String, String)>,
}

impl Summary {
    /// The summary as printed, with the pages under `base` (the server's URL).
    pub fn render(&self, base: &str) -> String {
        let mut out = format!("\n{}\n", self.title);
        for line in &self.made {
            let _ = writeln!(out, "  {line}");
        }
        let _ = writeln!(out, "\nOpen in the console:");
        let width = self.pages.iter().map(|(what, _)| what.len()).max();
        for (what, path) in &self.pages {
            let _ = writeln!(out, "  {what:<w$}  {base}{path}", w = width.unwrap_or(0));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn every_scene_is_listed_under_the_name_the_command_line_takes() {
        let listed = list();
        assert_eq!(listed.lines().count(), Scene::ALL.len());
        for scene in Scene::ALL {
            let parsed = Scene::from_str(scene.name(), false).expect("a scene name");
            assert_eq!(parsed, scene);
            assert!(listed.contains(scene.name()), "{listed}");
        }
    }

    #[test]
    fn the_summary_points_at_the_server_s_console() {
        let summary = Summary {
            title: "loaded".into(),
            made: vec!["cluster web".into()],
            pages: vec![
                ("Dashboard".into(), "/".into()),
                ("Jobs".into(), "/jobs".into()),
            ],
        };
        let out = summary.render("http://127.0.0.1:8080");
        assert!(out.contains("  cluster web\n"), "{out}");
        assert!(out.contains("Dashboard  http://127.0.0.1:8080/\n"), "{out}");
        assert!(
            out.contains("Jobs       http://127.0.0.1:8080/jobs\n"),
            "{out}"
        );
    }
}
