//! Reading by profile (in progress).
