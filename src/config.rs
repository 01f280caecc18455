//! Configuration files: loading, validation with file/line/key errors.
