//! The diagnosis end to end on a real store: the LLM engine against a fake
//! OpenAI-compatible server on 127.0.0.1 (success, malformed JSON, schema violation,
//! timeout, 429 then success, 5xx), each recorded as `diagnosis.completed` through the
//! `Diagnose` command; and implementing recommendations (one append, idempotent,
//! outdated, advice only).

#[path = "../common/mod.rs"]
mod common;
mod fake_llm;

use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::commands::{
    CommandContext, CommandError, CommandErrorKind, CommandService, CreateCluster, CreateDroplet,
    Diagnose, DropletInput as NewDroplet, ImplementRecommendation, Reply,
};
use engine::diagnosis::inputs::{ClusterInput, DiagnosisInputs, DropletInput};
use engine::diagnosis::{Diagnoser, LlmClient, LlmConfig};
use engine::domain::diagnosis::{DiagnosisCompleted, DiagnosisEngine, RecommendedAction};
use engine::domain::ClusterId;
use engine::executor::work::{run_to_end, WorkContext};
use engine::policies::Policies;
use engine::provider::{Providers, SimSpeed};
use engine::store::{EventStore, RecordedEvent};
use fake_llm::{FakeLlm, Scripted};
use serde_json::{json, Value};
use test_support::ScratchDb;

struct Setup {
    service: CommandService,
    store: Arc<dyn EventStore>,
    cluster: ClusterId,
    droplet: String,
    _db: ScratchDb,
}

fn ctx() -> CommandContext {
    CommandContext::new("tester")
}

/// A cluster `web` with one droplet.
async fn setup() -> Setup {
    let (store, db) = common::sqlite_store().await;
    let service = CommandService::new(Arc::clone(&store));
    let create = CreateCluster::parse("web", "nyc1", None).unwrap();
    let cluster = create.id.clone();
    service.execute(&ctx(), &create).await.unwrap();
    let droplet = CreateDroplet::parse(
        NewDroplet {
            cluster_id: cluster.as_str(),
            name: "web-1",
            region: "nyc1",
            size: "s-1vcpu-1gb",
            image: "ubuntu-22-04-x64",
            provider: None,
        },
        "0".repeat(32),
    )
    .unwrap();
    let droplet_id = droplet.id.to_string();
    let job_id = droplet.job_id.to_string();
    service.execute(&ctx(), &droplet).await.unwrap();
    // Provisioned, so that it can be resized.
    let work = WorkContext {
        worker: "diagnosis-test".into(),
        sim_delay: Duration::ZERO,
        providers: Arc::new(Providers::new(SimSpeed::INSTANT, 1)),
        policies: Arc::new(Policies::default()),
    };
    run_to_end(&service, &job_id, &work).await.unwrap();
    Setup {
        service,
        store,
        cluster,
        droplet: droplet_id,
        _db: db,
    }
}

/// A warning cluster with its one droplet.
fn inputs(s: &Setup) -> DiagnosisInputs {
    DiagnosisInputs {
        cluster: ClusterInput {
            id: s.cluster.to_string(),
            name: "web".to_owned(),
            status: "warning".to_owned(),
            droplet_count: 1,
        },
        droplets: vec![DropletInput {
            id: s.droplet.clone(),
            name: "web-1".to_owned(),
            status: "active".to_owned(),
            size: "s-1vcpu-1gb".to_owned(),
            provider: None,
        }],
        ..DiagnosisInputs::default()
    }
}

fn answer(s: &Setup) -> Value {
    json!({
        "health_score": 42,
        "insights": ["cpu is hot"],
        "recommendations": [
            {"title": "Resize web-1", "detail": "more room", "priority": "high",
             "action": {"type": "resize", "droplet_id": s.droplet, "size": "s-2vcpu-4gb"}},
            {"title": "Add one", "detail": "", "priority": "low",
             "action": {"type": "scale_up", "count": 1}}
        ]
    })
}

fn client(server: &FakeLlm, timeout: Duration) -> LlmClient {
    let mut config = LlmConfig::new(
        server.url(),
        "test-model",
        Some("sk-test-secret".to_owned()),
    );
    config.timeout = timeout;
    config.retry_after_cap = Duration::from_secs(2);
    LlmClient::new(config)
}

async fn stream(s: &Setup) -> Vec<RecordedEvent> {
    s.store
        .read_stream("diagnosis", s.cluster.as_str(), None)
        .await
        .unwrap()
}

/// Diagnoses with the LLM behind `script` and returns the `diagnosis.completed` recorded.
async fn diagnose_with(
    s: &Setup,
    script: Vec<Scripted>,
    timeout: Duration,
) -> (DiagnosisCompleted, FakeLlm) {
    let server = FakeLlm::start(script).await;
    let diagnoser = Diagnoser::new(Some(client(&server, timeout)));
    let completed = diagnoser
        .diagnose(s.cluster.clone(), inputs(s), DiagnosisEngine::Llm)
        .await
        .unwrap();
    s.service
        .execute(&ctx(), &Diagnose { completed })
        .await
        .unwrap();
    let last = stream(s).await.pop().expect("a recorded diagnosis");
    assert_eq!(last.event_type, "diagnosis.completed");
    (serde_json::from_value(last.data).unwrap(), server)
}

fn assert_fell_back(recorded: &DiagnosisCompleted, reason: &str) {
    assert_eq!(recorded.engine, DiagnosisEngine::Rules);
    assert_eq!(recorded.requested_engine, DiagnosisEngine::Llm);
    assert_eq!(recorded.fallback_reason.as_deref(), Some(reason));
    assert_eq!(recorded.model, None);
    assert_eq!(recorded.prompt_version, None);
    // The rules engine's answer for a warning cluster of one droplet.
    assert_eq!(recorded.health_score, 65);
    assert_eq!(
        recorded.recommendations[0].title,
        "Add droplets for redundancy"
    );
}

#[tokio::test]
async fn a_valid_answer_is_recorded_as_the_llms() {
    let s = setup().await;
    let (recorded, server) = diagnose_with(
        &s,
        vec![Scripted::answer(&answer(&s))],
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(recorded.engine, DiagnosisEngine::Llm);
    assert_eq!(recorded.requested_engine, DiagnosisEngine::Llm);
    assert_eq!(recorded.model.as_deref(), Some("test-model"));
    assert_eq!(recorded.prompt_version.as_deref(), Some("diagnosis-v1"));
    assert_eq!(recorded.fallback_reason, None);
    assert_eq!(
        (recorded.health_score, recorded.health_label.as_str()),
        (42, "Needs Attention")
    );
    assert_eq!(recorded.insights, ["cpu is hot"]);
    let hex = &recorded.diagnosis_id.as_str()[3..];
    assert_eq!(
        recorded.recommendations[0].id.to_string(),
        format!("rec_{hex}_1")
    );
    assert_eq!(
        recorded.recommendations[1].action,
        RecommendedAction::ScaleUp { count: 1 }
    );
    assert_eq!(recorded.inputs, inputs(&s));
    assert_eq!(
        recorded.inputs_digest,
        engine::diagnosis::digest(&inputs(&s))
    );
    let requests = server.received();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some("Bearer sk-test-secret")
    );
    assert_eq!(requests[0].body["model"], "test-model");
    assert_eq!(requests[0].body["response_format"]["type"], "json_schema");
}

#[tokio::test]
async fn malformed_json_falls_back_to_the_rules() {
    let s = setup().await;
    let script = vec![Scripted::content("Sure! Here is {not json")];
    let (recorded, _) = diagnose_with(&s, script, Duration::from_secs(5)).await;
    assert_fell_back(&recorded, "malformed_json");
}

#[tokio::test]
async fn a_schema_violating_answer_falls_back_naming_where() {
    let s = setup().await;
    let mut bad = answer(&s);
    bad["recommendations"][1]["priority"] = json!("urgent");
    let (recorded, _) =
        diagnose_with(&s, vec![Scripted::answer(&bad)], Duration::from_secs(5)).await;
    assert_fell_back(&recorded, "schema_violation: /recommendations/1/priority");
    let mut bad = answer(&s);
    bad["health_score"] = json!(150);
    let (recorded, _) =
        diagnose_with(&s, vec![Scripted::answer(&bad)], Duration::from_secs(5)).await;
    assert_fell_back(&recorded, "schema_violation: /health_score");
}

#[tokio::test]
async fn an_answer_naming_another_droplet_falls_back() {
    let s = setup().await;
    let mut bad = answer(&s);
    bad["recommendations"][0]["action"]["droplet_id"] = json!(format!("dr_{:032x}", 7));
    let (recorded, _) =
        diagnose_with(&s, vec![Scripted::answer(&bad)], Duration::from_secs(5)).await;
    let reason = recorded.fallback_reason.clone().unwrap();
    assert!(
        reason.starts_with("invalid_answer: recommendations/0"),
        "{reason}"
    );
    assert_eq!(recorded.engine, DiagnosisEngine::Rules);
}

#[tokio::test]
async fn a_slow_endpoint_times_out_without_retrying() {
    let s = setup().await;
    let slow = Scripted::answer(&answer(&s)).after(Duration::from_secs(3));
    let started = Instant::now();
    let (recorded, server) = diagnose_with(&s, vec![slow], Duration::from_millis(300)).await;
    assert_fell_back(&recorded, "timeout");
    assert_eq!(server.received().len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after() {
    let s = setup().await;
    let script = vec![
        Scripted::status(429, Some(1)),
        Scripted::answer(&answer(&s)),
    ];
    let started = Instant::now();
    let (recorded, server) = diagnose_with(&s, script, Duration::from_secs(5)).await;
    assert_eq!(recorded.engine, DiagnosisEngine::Llm);
    assert_eq!(recorded.fallback_reason, None);
    assert_eq!(server.received().len(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn server_errors_are_retried_twice_then_fall_back() {
    let s = setup().await;
    let (recorded, server) = diagnose_with(
        &s,
        vec![Scripted::status(500, Some(0))],
        Duration::from_secs(5),
    )
    .await;
    assert_fell_back(&recorded, "http_status 500");
    assert_eq!(server.received().len(), 3, "one try and two retries");
}

#[tokio::test]
async fn the_llm_engine_unconfigured_is_refused() {
    let s = setup().await;
    let error = Diagnoser::default()
        .diagnose(s.cluster.clone(), inputs(&s), DiagnosisEngine::Llm)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("llm_url"), "{error}");
}

/// A rules diagnosis of the setup's cluster, recorded.
async fn rules_diagnosis(s: &Setup) -> DiagnosisCompleted {
    let completed = Diagnoser::default()
        .diagnose(s.cluster.clone(), inputs(s), DiagnosisEngine::Rules)
        .await
        .unwrap();
    s.service
        .execute(
            &ctx(),
            &Diagnose {
                completed: completed.clone(),
            },
        )
        .await
        .unwrap();
    completed
}

fn implement(s: &Setup, rec: &str) -> ImplementRecommendation {
    ImplementRecommendation::parse(s.cluster.as_str(), rec, "1".repeat(32)).unwrap()
}

#[tokio::test]
async fn implementing_creates_the_job_once_in_one_append() {
    let s = setup().await;
    let diagnosis = rules_diagnosis(&s).await;
    // warning x 1: redundancy (scale_up 1), larger sizes (resize), monitoring, scaling up.
    let resize = &diagnosis.recommendations[1];
    assert_eq!(resize.action.type_str(), "resize");
    let reply = s
        .service
        .execute(&ctx(), &implement(&s, resize.id.as_str()))
        .await
        .unwrap();
    let Reply::Fresh {
        value, position, ..
    } = reply
    else {
        panic!("fresh")
    };
    assert_eq!(value.job.job_type, "resize");
    assert_eq!(value.job.droplet_id.as_deref(), Some(s.droplet.as_str()));
    let implemented = stream(&s).await.pop().unwrap();
    assert_eq!(
        implemented.event_type,
        "diagnosis.recommendation_implemented"
    );
    assert_eq!(implemented.position, position);
    assert_eq!(implemented.data["job_id"], value.job.id);
    let job_events = s
        .store
        .read_stream("job", &value.job.id, None)
        .await
        .unwrap();
    assert_eq!(job_events[0].event_type, "job.created");
    assert_eq!(
        job_events[0].metadata.correlation_id, implemented.metadata.correlation_id,
        "one append, one metadata"
    );
    // Again: the same job, nothing appended.
    let again = s
        .service
        .execute(&ctx(), &implement(&s, resize.id.as_str()))
        .await
        .unwrap();
    let Reply::Fresh { value: same, .. } = again else {
        panic!("fresh")
    };
    assert_eq!(same.job.id, value.job.id);
    assert_eq!(stream(&s).await.len(), 2);
    // A scale-up becomes a cluster job with its count.
    let scale = &diagnosis.recommendations[0];
    let reply = s
        .service
        .execute(&ctx(), &implement(&s, scale.id.as_str()))
        .await
        .unwrap();
    let job = reply.fresh().unwrap().job;
    assert_eq!(
        (job.job_type.as_str(), job.parameters["count"].as_u64()),
        ("scale_up", Some(1))
    );
}

#[tokio::test]
async fn outdated_unknown_and_advice_only_recommendations_are_refused() {
    let s = setup().await;
    let first = rules_diagnosis(&s).await;
    let second = rules_diagnosis(&s).await;
    let kind = |e: CommandError| (e.kind(), e.to_string());
    let error = s
        .service
        .execute(&ctx(), &implement(&s, first.recommendations[0].id.as_str()))
        .await
        .unwrap_err();
    let (k, message) = kind(error);
    assert_eq!(k, CommandErrorKind::Conflict);
    assert!(message.starts_with("outdated diagnosis"), "{message}");
    let unknown = format!("rec_{}_99", &second.diagnosis_id.as_str()[3..]);
    let error = s
        .service
        .execute(&ctx(), &implement(&s, &unknown))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), CommandErrorKind::NotFound);
    // A healthy cluster of five droplets: "configuration looks good", advice only.
    let mut good = inputs(&s);
    good.cluster.status = "healthy".to_owned();
    good.cluster.droplet_count = 5;
    let completed = Diagnoser::default()
        .diagnose(s.cluster.clone(), good, DiagnosisEngine::Rules)
        .await
        .unwrap();
    assert_eq!(
        completed.recommendations[0].action,
        RecommendedAction::None {}
    );
    let rec = completed.recommendations[0].id.to_string();
    s.service
        .execute(&ctx(), &Diagnose { completed })
        .await
        .unwrap();
    let error = s
        .service
        .execute(&ctx(), &implement(&s, &rec))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), CommandErrorKind::Unprocessable);
}
