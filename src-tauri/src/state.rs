use std::sync::Arc;

use weft_core::{AppCore, AppError, IpcError};

/// The core, or why it could not be opened (reported to every command instead of panicking).
pub struct CoreState(Result<Arc<AppCore>, IpcError>);

impl CoreState {
    pub fn new(core: Result<AppCore, AppError>) -> Self {
        Self(core.map(Arc::new).map_err(IpcError::from))
    }

    pub fn core(&self) -> Result<Arc<AppCore>, IpcError> {
        self.0.clone()
    }
}
