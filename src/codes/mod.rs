//! The lookup core: code -> meaning, category, severity, field action. Pure data + functions.
