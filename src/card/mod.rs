//! The printable code reference card: every operating status, code-87 sub-code and
//! short code with its meaning and field action, grouped by category, for a site.
//!
//! [`content`] decides what the card says (from the lookup core with the site's
//! overrides); [`layout`] draws it on paper with the reusable [`pdf`] helpers, and
//! [`html`] writes the same content as one HTML page. Nothing here reads the clock or
//! the disk: the caller passes the date and writes the bytes.

pub mod content;
pub(crate) mod html;
pub mod layout;
pub mod pdf;
pub mod style;
mod wording;

pub use content::{CardContent, Group, Note, Row, Section};
pub use html::render_html;
pub use layout::{render_pdf, RenderedPdf};
pub use pdf::Paper;

#[cfg(test)]
mod tests;
