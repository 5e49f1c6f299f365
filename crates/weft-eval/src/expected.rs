//! A row's own assertions, in promptfoo's `__expected` columns.
