//! An eval run made ready: the file read, each chosen variant's flow built and validated, the
//! mapping checked against the data, the checker built and the baseline found, all before the
//! eval is recorded and before any call.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use weft_batch::{ColumnMapping, DataReader};
use weft_eval::{Checker, EvalFile, Models, RowPass, Variant, apply_variant};
use weft_flow::{FlowDocument, NodeKind};
use weft_store::EvalRecord;

use crate::batch::CachedConnections;
use crate::eval::views::{AS_IS, EvalOrder, EvalStatus};
use crate::resolve::endpoint_for;
use crate::runs::now_ms;
use crate::{AppCore, AppError, StoreConnections};

/// One variant to run: its flow, and per model node the deployment its cost is priced by.
pub(super) struct VariantPlan {
    pub(super) name: String,
    pub(super) document: FlowDocument,
    pub(super) deployments: BTreeMap<String, String>,
}

/// An eval checked and recorded, ready to run.
pub(super) struct EvalPlan {
    pub(super) order: EvalOrder,
    pub(super) name: String,
    pub(super) file: EvalFile,
    pub(super) flow_path: PathBuf,
    pub(super) data_path: PathBuf,
    pub(super) variants: Vec<VariantPlan>,
    pub(super) checker: Arc<Checker>,
    /// The baseline's full id and whether each of its rows passed.
    pub(super) baseline: Option<(String, Vec<RowPass>)>,
    pub(super) started_at_ms: i64,
}

fn invalid(err: impl std::fmt::Display) -> AppError {
    AppError::Invalid(err.to_string())
}

/// The folder an eval file's paths are relative to.
pub(crate) fn base_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// The eval file at `path`, read and parsed; errors name the file.
pub(crate) fn read_eval_file(path: &Path) -> Result<(String, EvalFile), AppError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            AppError::NotFound(format!(
                "there is no eval file {}; check the path",
                path.display()
            ))
        } else {
            AppError::Io {
                what: format!("read the eval file {}", path.display()),
                source,
            }
        }
    })?;
    let file = EvalFile::parse(&text)
        .map_err(|err| AppError::Invalid(format!("{}: {err}", path.display())))?;
    Ok((text, file))
}

/// The variants `order` chose, in the file's order; a file without variants has one, the flow
/// as it is.
fn chosen(file: &EvalFile, wanted: &[String]) -> Result<Vec<Variant>, AppError> {
    let all = if file.variants.is_empty() {
        vec![Variant {
            name: AS_IS.to_owned(),
            set: BTreeMap::new(),
        }]
    } else {
        file.variants.clone()
    };
    if let Some(unknown) = wanted.iter().find(|w| !all.iter().any(|v| &v.name == *w)) {
        let names: Vec<&str> = all.iter().map(|v| v.name.as_str()).collect();
        return Err(AppError::Invalid(format!(
            "the eval file has no variant `{unknown}`; it has {}",
            names.join(", ")
        )));
    }
    Ok(all
        .into_iter()
        .filter(|v| wanted.is_empty() || wanted.contains(&v.name))
        .collect())
}

impl AppCore {
    /// Reads and checks everything the eval needs, then records it as running.
    /// `cancel` stops the judges and evaluator flows too.
    pub(super) fn plan_eval(
        self: &Arc<Self>,
        order: EvalOrder,
        cancel: CancellationToken,
    ) -> Result<EvalPlan, AppError> {
        let (text, file) = read_eval_file(&order.path)?;
        let base = base_dir(&order.path);
        let flow_path = base.join(&file.flow);
        let data_path = base.join(&file.data);
        let document = self.open_flow(&flow_path)?.document;
        file.check_outputs(&document)
            .map_err(|err| AppError::Invalid(format!("{}: {err}", order.path.display())))?;
        let profile = self.active_profile()?;
        let mut variants = Vec::new();
        for variant in chosen(&file, &order.variants)? {
            let document = apply_variant(&document, &variant).map_err(invalid)?;
            // Refused here, naming the variant, rather than when its batch would start.
            crate::runs::ready(self.check_flow(&document, false)?)
                .map_err(|err| AppError::Invalid(format!("variant `{}`: {err}", variant.name)))?;
            let deployments = self.deployments(&document, profile.as_deref());
            variants.push(VariantPlan {
                name: variant.name,
                document,
                deployments,
            });
        }
        let mapping = ColumnMapping::from_map(&file.column_mapping).map_err(invalid)?;
        let reader = DataReader::open(&data_path).map_err(invalid)?;
        mapping
            .check(&document, reader.columns(), reader.format())
            .map_err(invalid)?;
        let models = Models {
            services: self.services_with(order.cassette.as_ref()),
            connections: Arc::new(CachedConnections::new(StoreConnections::new(
                self.clone(),
                profile,
            ))),
            node_timeout: order.node_timeout,
            cancel,
        };
        let checker = Checker::new(&file.assert, &file.prices, &base, Some(models))
            .map_err(|err| AppError::Invalid(format!("{}: {err}", order.path.display())))?;
        let baseline = match &order.baseline {
            Some(id) => Some(self.baseline(id)?),
            None => None,
        };
        let name = file.name.clone().unwrap_or_else(|| {
            order
                .path
                .file_name()
                .map(|n| {
                    n.to_string_lossy()
                        .trim_end_matches(".eval.yaml")
                        .to_owned()
                })
                .unwrap_or_default()
        });
        let started_at_ms = now_ms();
        self.db()?.create_eval(&EvalRecord {
            id: order.eval_id.clone(),
            name: name.clone(),
            eval_path: order.path.display().to_string(),
            eval_text: text,
            status: EvalStatus::Running.as_str().into(),
            message: None,
            started_at_ms,
            finished_at_ms: None,
            updated_at_ms: started_at_ms,
            passed: None,
            report: None,
            cassette: None,
        })?;
        Ok(EvalPlan {
            order,
            name,
            file,
            flow_path,
            data_path,
            variants,
            checker: Arc::new(checker),
            baseline,
            started_at_ms,
        })
    }

    /// The stored eval run `id` (or the one its id starts with) and whether each of its rows
    /// passed.
    fn baseline(&self, id: &str) -> Result<(String, Vec<RowPass>), AppError> {
        let record = self.eval_record(id)?;
        let passes = self
            .db()?
            .eval_passes(&record.id)?
            .into_iter()
            .map(|(variant, row, pass)| RowPass {
                variant,
                row: u64::try_from(row).unwrap_or_default(),
                pass,
            })
            .collect();
        Ok((record.id, passes))
    }

    /// Per model node, the deployment (or model) its calls are priced by: the one its
    /// connection's URL pins (which weft-ai calls whatever the node says), else the node's own.
    /// A node whose deployment comes from a reference has none (its cost is unknown).
    fn deployments(
        &self,
        document: &FlowDocument,
        profile: Option<&str>,
    ) -> BTreeMap<String, String> {
        document
            .nodes
            .iter()
            .filter(|node| matches!(node.kind, NodeKind::ChatCompletion | NodeKind::Embeddings))
            .filter_map(|node| {
                let literal = |key: &str| {
                    node.properties
                        .get(key)?
                        .as_str()
                        .map(str::trim)
                        .filter(|v| !v.is_empty() && !v.contains("${"))
                        .map(str::to_owned)
                };
                let pinned = literal("connection").and_then(|connection| {
                    let effective = self
                        .db()
                        .ok()?
                        .effective_connection(&connection, profile)
                        .ok()?;
                    match endpoint_for(&effective.record).ok()? {
                        weft_ai::Endpoint::AzureOpenAi {
                            deployment: Some(pinned),
                            ..
                        } => Some(pinned),
                        _ => None,
                    }
                });
                Some((node.id.clone(), pinned.or_else(|| literal("deployment"))?))
            })
            .collect()
    }
}
