//! The site-visit report: what one probe read from one meter, decoded through the
//! lookup core, as a printable PDF or one self-contained HTML page. A "what to do now"
//! box comes first (the actions for every abnormal finding, most severe first, and
//! whether a visit is needed), then the meter's identity and the read settings, the
//! decoded status, every short-code value, the counters, a timeline of the event log,
//! and what could not be read and why.
//!
//! [`content`] decides what the report says ([`VisitReport::build`]); [`render_pdf`]
//! lays it out with the reference card's PDF helpers (`card::pdf`); [`render_html`]
//! writes the same content with an inline SVG chart; [`events`] reads whole event logs
//! for the timeline. Nothing here reads the clock or the disk: the caller passes the
//! time read and writes the bytes.

mod actions;
pub mod content;
pub mod events;
mod explain;
mod html;
mod layout;
pub mod timeline;
mod values;

pub use crate::card::pdf::Paper;
pub use actions::{Action, WhatToDo};
pub use content::{
    CodedValue, CounterRow, Field, ReadSettings, Unread, ValueRow, VisitInput, VisitReport,
};
pub use events::{read_event_logs, EventLog, LogRead, LoggedEvent};
pub use html::render_html;
pub use layout::{render_pdf, MARGIN, MIN_SIZE};
pub use timeline::Timeline;
